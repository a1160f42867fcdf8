// A job's verifier options survive a restart, on SQLite and on PostgreSQL (started here on
// 127.0.0.1; skipped with a message without its binaries when not root, as CI installs them): a
// job stored with options by a server that stopped before running it is taken up by the next
// server, which runs it with those options, not its own defaults.
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Redacted, Schema, Scope } from "effect"
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Database, JobStore } from "@rcpt/store"
import { Postgres } from "@rcpt/testing"
import { afterAll } from "vitest"
import * as JobOptions from "../src/JobOptions.ts"
import * as Jobs from "../src/Jobs.ts"
import * as JobsApi from "../src/JobsApi.ts"
import { finished, withService } from "./jobsHarness.ts"

const scope = Effect.runSync(Scope.make())
const dir = mkdtempSync(join(tmpdir(), "rcpt-job-options-"))
afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  rmSync(dir, { recursive: true, force: true })
})
const pg = await Effect.runPromise(Effect.result(Scope.provide(scope)(Postgres.start)))
const root = process.getuid?.() === 0
if (pg._tag === "Failure" && !root) console.warn(`PostgreSQL restart test skipped: ${pg.failure.reason}`)

/** What a server that accepted the job and stopped before running it leaves in the store. */
const stored = (target: Database.Target, id: string, overrides: JobOptions.Overrides) =>
  Effect.gen(function* () {
    const store = yield* JobStore.JobStore
    const now = yield* Clock.currentTimeMillis
    yield* store.create({ id, owner: "anyone", options: JobOptions.write(undefined, overrides), now })
    yield* store.appendInputs(id, 1, ["someone@catchall.test", "nobody@alpha.test"])
    yield* store.seal(id, 2, now)
  }).pipe(Effect.provide(Database.layerStore(target)))

const targets: ReadonlyArray<readonly [string, () => Database.Target | undefined]> = [
  ["SQLite", () => ({ _tag: "Sqlite", filename: join(dir, "jobs.db") })],
  ["PostgreSQL", () => (pg._tag === "Success" ? { _tag: "Postgres", url: Redacted.make(pg.success.url) } : undefined)]
]

describe("a job's verifier options after a restart", () => {
  for (const [name, targetOf] of targets) {
    it.live.skipIf(name === "PostgreSQL" && pg._tag === "Failure" && !root)(
      `${name}: the next server runs the stored job with its options`,
      () =>
        Effect.gen(function* () {
          const target = targetOf()
          if (target === undefined)
            return assert.fail(`PostgreSQL unavailable: ${pg._tag === "Failure" ? pg.failure.reason : ""}`)
          const id = randomUUID()
          yield* stored(target, id, { catchAllProbe: false })
          yield* withService(
            (service) =>
              Effect.gen(function* () {
                const done = yield* finished(service, id)
                assert.strictEqual(done.state, "done")
                assert.deepStrictEqual(done.options, { catchAllProbe: false })
                const results = (yield* service.request(`/v1/jobs/${id}/results`)).text
                  .split("\n")
                  .filter((l) => l !== "")
                  .map((l) => JSON.parse(l) as { address: string; verdict: string })
                // Probing (the server's default) would have found the catch-all: risky.
                assert.deepStrictEqual(results.map((r) => [r.address, r.verdict]).sort(), [
                  ["nobody@alpha.test", "undeliverable"],
                  ["someone@catchall.test", "deliverable"]
                ])
                const shown = Schema.decodeUnknownSync(JobsApi.Job)(
                  JSON.parse((yield* service.request(`/v1/jobs/${id}`)).text)
                )
                assert.deepStrictEqual(shown.options, { catchAllProbe: false })
              }),
            Jobs.layer({ db: target })
          )
        }),
      60_000
    )
  }
})
