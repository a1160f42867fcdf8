// The JobStore suite on PostgreSQL (@effect/sql-pg), against a real server this file starts on
// 127.0.0.1 (Debian's `postgresql`; .ci/run installs it). Without the binaries the suite is
// skipped with a message when not root, and fails when root (CI must run it).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted, Scope } from "effect"
import { PgClient } from "@effect/sql-pg"
import { Postgres } from "@rcpt/testing"
import { afterAll } from "vitest"
import { JobStore } from "../src/index.ts"
import { suite } from "./suite.ts"

const scope = Effect.runSync(Scope.make())
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))
const server = await Effect.runPromise(Effect.result(Scope.provide(scope)(Postgres.start)))

if (server._tag === "Success") {
  suite("postgres", JobStore.layer.pipe(Layer.provideMerge(PgClient.layer({ url: Redacted.make(server.success.url) }))))
} else if (process.getuid?.() === 0) {
  describe("postgres", () => {
    it("starts (root can install it: apt-get install -y postgresql)", () => {
      assert.fail(`PostgreSQL unavailable: ${server.failure.reason}`)
    })
  })
} else {
  console.warn(`postgres suite skipped: ${server.failure.reason}`)
  describe.skip(`postgres (skipped: ${server.failure.reason})`, () => {
    it("runs the JobStore suite", () => {})
  })
}
