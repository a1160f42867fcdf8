// The JobStore contract, run against each backend (SQLite file, SQLite :memory:, PostgreSQL):
// one suite, so the two implementations cannot drift apart.
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { JobStore } from "../src/index.ts"

let counter = 0
/** Ids unique across the suite: the backends may be shared between tests. */
const fresh = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++counter}`

const verdictOf = (i: number) => JobStore.verdicts[i % 4]!

/** A job with `n` inputs `a<i>@example.test`, sealed (queued). */
const seeded = (n: number, owner = fresh("owner")) =>
  Effect.gen(function* () {
    const store = yield* JobStore.JobStore
    const id = fresh("job")
    yield* store.create({ id, owner, options: "{}", now: 1_000 })
    const addresses = Array.from({ length: n }, (_, i) => `a${i + 1}@example.test`)
    for (let from = 0; from < n; from += 250) yield* store.appendInputs(id, from + 1, addresses.slice(from, from + 250))
    yield* store.seal(id, n, 2_000)
    return { store, id, owner }
  })

const resultFor = (position: number) => ({
  position,
  verdict: verdictOf(position),
  data: JSON.stringify({ address: `a${position}@example.test`, verdict: verdictOf(position) })
})

export const suite = (name: string, store: Layer.Layer<JobStore.JobStore | SqlClient.SqlClient, unknown>) =>
  describe(name, () => {
    layer(store, { timeout: "60 seconds" })((it) => {
      it.effect("a job is received, sealed and read back; only its owner sees it", () =>
        Effect.gen(function* () {
          const { store, id, owner } = yield* seeded(600)
          const job = Option.getOrThrow(yield* store.get(id, owner))
          assert.strictEqual(job.state, "queued")
          assert.strictEqual(job.total, 600)
          assert.strictEqual(job.done, 0)
          assert.deepStrictEqual(job.counts, { deliverable: 0, undeliverable: 0, risky: 0, unknown: 0 })
          assert.strictEqual(job.createdAt, 1_000)
          assert.isNull(job.webhook)
          assert.isTrue(Option.isNone(yield* store.get(id, "someone-else")))
          assert.isTrue(Option.isSome(yield* store.get(id)))
          assert.deepStrictEqual(
            (yield* store.list(owner, 10)).map((j) => j.id),
            [id]
          )
          assert.deepStrictEqual(yield* store.list("someone-else", 10), [])
        })
      )

      it.effect("appending the same positions twice stores them once", () =>
        Effect.gen(function* () {
          const { store, id } = yield* seeded(10)
          yield* store.appendInputs(id, 1, ["changed@example.test"])
          const pending = yield* store.pending(id, 0, 100)
          assert.strictEqual(pending.length, 10)
          assert.deepStrictEqual(pending[0], { position: 1, address: "a1@example.test" })
        })
      )

      it.effect("results are written once per position; counters and seq follow the rows written", () =>
        Effect.gen(function* () {
          const { store, id } = yield* seeded(100)
          assert.strictEqual(yield* store.record(id, [1, 2, 3, 4].map(resultFor), 3_000), 4)
          // A batch redone after a crash: the old rows are ignored, the new ones counted.
          assert.strictEqual(yield* store.record(id, [3, 4, 5].map(resultFor), 3_001), 1)
          assert.strictEqual(yield* store.record(id, [5, 5, 6].map(resultFor), 3_002), 1)
          const job = Option.getOrThrow(yield* store.get(id))
          assert.strictEqual(job.done, 6)
          assert.deepStrictEqual(job.counts, { deliverable: 1, undeliverable: 2, risky: 2, unknown: 1 })
          const stored = yield* store.results(id, { after: 0, limit: 100 })
          assert.deepStrictEqual(
            stored.map((r) => [r.seq, r.position]),
            [
              [1, 1],
              [2, 2],
              [3, 3],
              [4, 4],
              [5, 5],
              [6, 6]
            ]
          )
          assert.deepStrictEqual(
            (yield* store.pending(id, 0, 3)).map((i) => i.position),
            [7, 8, 9]
          )
          assert.deepStrictEqual(
            (yield* store.pending(id, 50, 2)).map((i) => i.position),
            [51, 52]
          )
        })
      )

      it.effect("concurrent writers of overlapping batches: exactly one result per input, seq dense", () =>
        Effect.gen(function* () {
          const n = 400
          const { store, id } = yield* seeded(n)
          // Eight writers, each writing every position in batches of 25 in its own order.
          yield* Effect.forEach(
            Array.from({ length: 8 }, (_, w) => w),
            (w) =>
              Effect.forEach(
                Array.from({ length: n / 25 }, (_, b) => ((b + w * 3) % (n / 25)) * 25),
                (start) =>
                  store.record(
                    id,
                    Array.from({ length: 25 }, (_, k) => resultFor(start + k + 1)),
                    4_000
                  ),
                { discard: true }
              ),
            { concurrency: "unbounded", discard: true }
          )
          const job = Option.getOrThrow(yield* store.get(id))
          assert.strictEqual(job.done, n)
          assert.strictEqual(
            JobStore.verdicts.reduce((sum, v) => sum + job.counts[v], 0),
            n
          )
          const stored = yield* store.results(id, { after: 0, limit: 10 * n })
          assert.strictEqual(stored.length, n)
          assert.strictEqual(new Set(stored.map((r) => r.position)).size, n)
          assert.deepStrictEqual(
            stored.map((r) => r.seq),
            Array.from({ length: n }, (_, i) => i + 1)
          )
          assert.deepStrictEqual(yield* store.pending(id, 0, 10), [])
        })
      )

      it.effect("results page by seq and filter by verdict", () =>
        Effect.gen(function* () {
          const { store, id } = yield* seeded(40)
          yield* store.record(
            id,
            Array.from({ length: 40 }, (_, i) => resultFor(40 - i)),
            5_000
          )
          const page1 = yield* store.results(id, { after: 0, limit: 15 })
          const page2 = yield* store.results(id, { after: page1.at(-1)!.seq, limit: 100 })
          assert.strictEqual(page1.length + page2.length, 40)
          assert.strictEqual(page2[0]!.seq, 16)
          const risky = yield* store.results(id, { after: 0, limit: 100, verdicts: ["risky"] })
          assert.strictEqual(risky.length, 10)
          assert.isTrue(risky.every((r) => r.verdict === "risky" && JSON.parse(r.data).verdict === "risky"))
          const two = yield* store.results(id, { after: 20, limit: 100, verdicts: ["risky", "unknown"] })
          assert.isTrue(two.every((r) => r.seq > 20 && (r.verdict === "risky" || r.verdict === "unknown")))
          assert.strictEqual(two.length, 10)
        })
      )

      it.effect("state transitions are guarded; running sets startedAt once, final states finishedAt", () =>
        Effect.gen(function* () {
          const { store, id } = yield* seeded(3)
          assert.isTrue(yield* store.transition(id, ["queued"], "running", 10_000))
          assert.isFalse(yield* store.transition(id, ["queued"], "running", 11_000))
          assert.isTrue(yield* store.transition(id, ["running"], "queued", 12_000))
          assert.isTrue(yield* store.transition(id, ["queued"], "running", 13_000))
          let job = Option.getOrThrow(yield* store.get(id))
          assert.strictEqual(job.startedAt, 10_000)
          assert.isNull(job.finishedAt)
          const running = (yield* store.inStates(["running"])).map((j) => j.id)
          assert.include(running, id)
          assert.isTrue(yield* store.transition(id, ["queued", "running"], "cancelled", 14_000))
          assert.isFalse(yield* store.transition(id, ["queued", "running"], "done", 15_000))
          job = Option.getOrThrow(yield* store.get(id))
          assert.strictEqual(job.state, "cancelled")
          assert.strictEqual(job.finishedAt, 14_000)
          assert.isTrue(yield* store.transition(id, [], "failed", 16_000, "why"))
          assert.strictEqual(Option.getOrThrow(yield* store.get(id)).error, "why")
        })
      )

      it.effect("a discarded job is gone with its inputs and results", () =>
        Effect.gen(function* () {
          const { store, id } = yield* seeded(5)
          yield* store.record(id, [resultFor(1)], 1)
          yield* store.discard(id)
          assert.isTrue(Option.isNone(yield* store.get(id)))
          assert.deepStrictEqual(yield* store.pending(id, 0, 10), [])
          assert.deepStrictEqual(yield* store.results(id, { after: 0, limit: 10 }), [])
        })
      )

      it.effect("the webhook and its delivery state are kept with the job", () =>
        Effect.gen(function* () {
          const store = yield* JobStore.JobStore
          const id = fresh("hook")
          yield* store.create({
            id,
            owner: "o",
            options: '{"a":1}',
            now: 1,
            webhook: { url: "http://127.0.0.1:9/hook", secret: "s3cret", perResult: true }
          })
          yield* store.webhookState(id, { state: "pending", attempts: 2, error: "503", sent: 7, dropped: 1 })
          const job = Option.getOrThrow(yield* store.get(id))
          assert.strictEqual(job.state, "receiving")
          assert.strictEqual(job.options, '{"a":1}')
          assert.deepStrictEqual(job.webhook, {
            url: "http://127.0.0.1:9/hook",
            secret: "s3cret",
            perResult: true,
            state: "pending",
            attempts: 2,
            error: "503",
            sent: 7,
            dropped: 1
          })
          yield* store.webhookState(id, { state: "delivered", error: null })
          assert.strictEqual(Option.getOrThrow(yield* store.get(id)).webhook?.error, null)
        })
      )

      it.effect("the migrations run again are a no-op, and the data stays", () =>
        Effect.gen(function* () {
          const { id } = yield* seeded(2)
          const again = yield* JobStore.make
          assert.strictEqual(Option.getOrThrow(yield* again.get(id)).total, 2)
        })
      )

      it.effect("addresses are stored as given (quotes, Unicode, SQL metacharacters)", () =>
        Effect.gen(function* () {
          const store = yield* JobStore.JobStore
          const id = fresh("odd")
          yield* store.create({ id, owner: "o", options: "{}", now: 1 })
          const odd = ["o'brien@example.test", "用户@例子.测试", "x'); DROP TABLE rcpt_jobs;--@e.test", '"q"@e.test']
          yield* store.appendInputs(id, 1, odd)
          assert.deepStrictEqual(
            (yield* store.pending(id, 0, 10)).map((i) => i.address),
            odd
          )
        })
      )
    })
  })
