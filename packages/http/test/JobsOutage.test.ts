// A database outage in the middle of a job, on PostgreSQL (started here on 127.0.0.1): the API
// answers 503 problems while it is down, the running job pauses, and once the database is back
// the job finishes with exactly one result per input line. Skipped with a message without the
// PostgreSQL binaries when not root (CI, as root, installs them).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Redacted, Schedule, Schema, Scope } from "effect"
import { Postgres } from "@rcpt/testing"
import { afterAll } from "vitest"
import * as Jobs from "../src/Jobs.ts"
import * as JobsApi from "../src/JobsApi.ts"
import { withService } from "./jobsHarness.ts"

const scope = Effect.runSync(Scope.make())
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))
const server = await Effect.runPromise(Effect.result(Scope.provide(scope)(Postgres.start)))
const root = process.getuid?.() === 0
if (server._tag === "Failure" && !root) console.warn(`outage test skipped: ${server.failure.reason}`)

const list = Array.from({ length: 1500 }, (_, i) =>
  i % 3 === 0 ? `u${i}@alpha.test` : i % 3 === 1 ? `p${i}@catchall.test` : `x${i % 40}@nullmx.test`
)

describe.skipIf(server._tag === "Failure" && !root)("a database outage mid-job (PostgreSQL)", () => {
  it.live(
    "503 while down, the job pauses, then finishes with every line exactly once",
    () => {
      if (server._tag === "Failure") return Effect.sync(() => assert.fail(server.failure.reason))
      const pg = server.success
      const jobs = Jobs.layer({ db: { _tag: "Postgres", url: Redacted.make(pg.url) } })
      return withService(
        (service) =>
          Effect.gen(function* () {
            const job = (text: string) => Schema.decodeUnknownSync(JobsApi.Job)(JSON.parse(text))
            const created = yield* service.upload(list.join("\n"), "text/plain")
            assert.strictEqual(created.status, 202, created.text)
            const id = job(created.text).id
            yield* service.request(`/v1/jobs/${id}`).pipe(
              Effect.map((r) => job(r.text)),
              Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (j) => j.done > 0 }),
              Effect.timeout("60 seconds")
            )
            yield* pg.stop
            const down = yield* service.request(`/v1/jobs/${id}`)
            assert.strictEqual(down.status, 503, down.text)
            assert.include(down.contentType ?? "", "application/problem+json")
            yield* Effect.sleep("1500 millis")
            yield* pg.restart
            const done = yield* service.request(`/v1/jobs/${id}`).pipe(
              Effect.map((r) => (r.status === 200 ? job(r.text) : undefined)),
              Effect.repeat({ schedule: Schedule.spaced("200 millis"), until: (j) => j?.state === "done" }),
              Effect.timeout("90 seconds")
            )
            assert.strictEqual(done?.done, list.length)
            const lines = (yield* service.request(`/v1/jobs/${id}/results`)).text.split("\n").filter((l) => l !== "")
            assert.strictEqual(lines.length, list.length)
            const addresses = lines.map((l) => JSON.parse(l).address as string).sort()
            assert.deepStrictEqual(addresses, [...list].sort())
          }),
        jobs
      )
    },
    { timeout: 180_000 }
  )
})
