// Durability of bulk jobs: a real `rcpt serve --db sqlite:FILE` child process, verifying against
// an in-process mail world, is SIGKILLed at random points of a 3,000-line job and started again
// each time; in the end the job is done and every input line has exactly one result (none lost,
// none twice). Kill points come from a seeded PRNG (set RCPT_TEST_SEED to replay one).
import type { ChildProcess } from "node:child_process"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { MailWorld } from "@rcpt/testing"
import { countDiff, listening, mulberry32, serve, tempDir, worldFlags } from "./helpers.ts"

const seed = Number(process.env["RCPT_TEST_SEED"] ?? Date.now() % 2 ** 31)
// eslint-disable-next-line no-console
console.log(`ServeJobs seed: ${seed} (replay with RCPT_TEST_SEED=${seed})`)

/** 3,000 lines: known and unknown users, a catch-all domain, null MX, NXDOMAIN, duplicates, bad syntax. */
const list = Array.from({ length: 3000 }, (_, i) => {
  switch (i % 8) {
    case 0:
      return `u${i}@alpha.test`
    case 1:
      return ["alice", "bob"][i % 2] + "@alpha.test"
    case 2:
      return `p${i}@catchall.test`
    case 3:
      return `n${i}@implicit.test`
    case 4:
      return `x${i % 30}@nullmx.test`
    case 5:
      return `y${i % 20}@nowhere.test`
    case 6:
      return `u${i - 6}@alpha.test`
    default:
      return i % 16 === 7 ? `bad address ${i}` : `alice@vrfy.test`
  }
})

interface JobView {
  readonly id: string
  readonly state: string
  readonly total: number
  readonly done: number
  readonly counts: Record<string, number>
}

const getJson = <A>(url: string) => Effect.promise(() => fetch(url).then((r) => r.json() as Promise<A>))

const killed = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGKILL")
  })

describe("rcpt serve: bulk jobs survive kill -9", () => {
  it.live(
    "3,000 lines, SIGKILLed 3 times mid-job and restarted: done, every line exactly one result",
    () =>
      Effect.gen(function* () {
        const random = mulberry32(seed)
        const world = yield* MailWorld.start(MailWorld.demo)
        const dir = yield* tempDir
        const args = ["--db", `sqlite:${Path.join(dir, "jobs.db")}`, ...worldFlags(world)]
        let child = yield* serve(args)
        let base = yield* listening(child)
        const created = yield* Effect.promise(() =>
          fetch(`${base}/v1/jobs`, {
            method: "POST",
            headers: { "content-type": "text/plain" },
            body: list.join("\n")
          }).then((r) => r.json() as Promise<JobView>)
        )
        assert.strictEqual(created.state, "queued")
        assert.strictEqual(created.total, list.length)
        const id = created.id
        let lastDone = 0
        let kills = 0
        for (let round = 0; round < 3; round++) {
          // Kill after some progress: between 5% and 25% more of the list than before.
          const target = Math.min(list.length - 1, lastDone + Math.floor(list.length * (0.05 + random() * 0.2)))
          const seen = yield* getJson<JobView>(`${base}/v1/jobs/${id}`).pipe(
            Effect.repeat({
              schedule: Schedule.spaced("20 millis"),
              until: (j) => j.done >= target || j.state === "done"
            }),
            Effect.timeout("60 seconds")
          )
          if (seen.state === "done") break
          yield* killed(child)
          kills++
          child = yield* serve(args)
          base = yield* listening(child)
          const resumed = yield* getJson<JobView>(`${base}/v1/jobs/${id}`)
          assert.isAtLeast(resumed.done, seen.done, "results written before the kill are kept")
          lastDone = resumed.done
        }
        const done = yield* getJson<JobView>(`${base}/v1/jobs/${id}`).pipe(
          Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: (j) => j.state === "done" }),
          Effect.timeout("90 seconds")
        )
        assert.isAtLeast(kills, 1, "the job was killed mid-way at least once")
        assert.strictEqual(done.done, list.length)
        assert.strictEqual(
          Object.values(done.counts).reduce((a, b) => a + b, 0),
          list.length
        )
        const text = yield* Effect.promise(() => fetch(`${base}/v1/jobs/${id}/results`).then((r) => r.text()))
        const results = text
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l) as { address: string; cursor: number })
        assert.strictEqual(results.length, list.length)
        assert.deepStrictEqual(
          results.map((r) => r.cursor),
          Array.from({ length: list.length }, (_, i) => i + 1)
        )
        // The same multiset of lines: nothing lost, nothing twice.
        assert.deepStrictEqual(
          countDiff(
            results.map((r) => r.address),
            list
          ),
          [],
          `seed ${seed}`
        )
      }).pipe(Effect.scoped),
    { timeout: 240_000 }
  )
})
