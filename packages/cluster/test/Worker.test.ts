// The MX host entity on effect/cluster's in-memory test runner: the real handler, a real job store
// (node:sqlite in memory) and the real verifier against the in-process mail world on loopback.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option, Schedule } from "effect"
import { MessageStorage, RunnerHealth, Runners, RunnerStorage, Sharding, ShardingConfig } from "effect/cluster"
import { JobStore } from "@rcpt/store"
import { Database } from "@rcpt/store"
import { MailWorld } from "@rcpt/testing"
import { Policy } from "@rcpt/verifier"
import { Batch, MxHost } from "../src/MxHost.ts"
import * as Runner from "../src/Runner.ts"
import * as Worker from "../src/Worker.ts"

// effect/cluster's TestRunner.layer (in memory), with storage polled every 200 ms instead of 10 s,
// so a delayed batch arrives soon after its time.
const testRunner = Sharding.layer.pipe(
  Layer.provideMerge(Runners.layerNoop),
  Layer.provideMerge(MessageStorage.layerMemory),
  Layer.provide([RunnerStorage.layerMemory, RunnerHealth.layerNoop]),
  Layer.provide(ShardingConfig.layer({ entityMessagePollInterval: "200 millis" }))
)

const greylistRetry = Schedule.spaced("200 millis").pipe(Schedule.upTo({ times: 3 }))

const withEntity = <A, E>(f: (world: MailWorld.World) => Effect.Effect<A, E, JobStore.JobStore | MxHostClient>) =>
  Effect.gen(function* () {
    const world = yield* MailWorld.start(MailWorld.demo)
    const layer = Worker.layer({ concurrency: 2, runner: "runner-a" }).pipe(
      Layer.provideMerge(testRunner),
      Layer.provideMerge(Database.layerMemory),
      Layer.provide(
        Runner.layerVerifier({
          helo: "verifier.rcpt.test",
          allowSpecialUse: ["test"],
          // The world is on loopback, which the target policy refuses unless opened.
          allowTargets: ["127.0.0.0/8"],
          port: world.smtpPort,
          dnsServers: [world.dns],
          timeout: "10 seconds"
        })
      ),
      Layer.provide(Layer.succeed(Policy.Policy, { ...Policy.defaults, greylistRetry }))
    )
    return yield* f(world).pipe(Effect.provide(layer))
  }).pipe(Effect.scoped)

type MxHostClient = Effect.Services<typeof MxHost.client>

const job = (addresses: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const store = yield* JobStore.JobStore
    const id = `job-${Math.random().toString(36).slice(2)}`
    yield* store.create({ id, owner: "t", options: "{}", now: 0 })
    yield* store.appendInputs(id, 0, addresses)
    yield* store.seal(id, addresses.length, 0)
    yield* store.transition(id, ["queued"], "running", 0)
    return id
  })

const batchOf = (jobId: string, addresses: ReadonlyArray<string>, batch = "0-0-0") =>
  new Batch({
    jobId,
    batch,
    attempt: 0,
    notBefore: 0,
    inputs: addresses.map((address, position) => ({ position, address }))
  })

const resultsOf = (id: string) =>
  Effect.gen(function* () {
    const rows = yield* (yield* JobStore.JobStore).results(id, { after: 0, limit: 100 })
    return new Map(
      rows.map((r) => [r.position, JSON.parse(r.data) as { verdict: string; reason: string; runner: string }])
    )
  })

describe("MxHost entity", () => {
  it.live("a batch writes one result per input, with the runner named; the same batch again writes none", () =>
    withEntity(() =>
      Effect.gen(function* () {
        const addresses = ["alice@alpha.test", "nobody@alpha.test", "not an address"]
        const id = yield* job(addresses)
        const client = (yield* MxHost.client)("mx1.alpha.test")
        const first = yield* client.VerifyBatch(batchOf(id, addresses))
        assert.deepStrictEqual(first, { written: 3, deferred: 0 })
        const again = yield* client.VerifyBatch(batchOf(id, addresses, "0-0-1"))
        assert.deepStrictEqual(again, { written: 0, deferred: 0 })
        const results = yield* resultsOf(id)
        assert.strictEqual(results.size, 3)
        assert.strictEqual(`${results.get(0)!.verdict}/${results.get(0)!.reason}`, "deliverable/accepted")
        assert.strictEqual(`${results.get(1)!.verdict}/${results.get(1)!.reason}`, "undeliverable/mailbox_unknown")
        assert.strictEqual(`${results.get(2)!.verdict}/${results.get(2)!.reason}`, "undeliverable/syntax")
        assert.strictEqual(results.get(0)!.runner, "runner-a")
        const stored = yield* (yield* JobStore.JobStore).get(id)
        assert.strictEqual(Option.getOrThrow(stored).done, 3)
      })
    )
  )

  it.live(
    "a greylisted address goes back as a delayed batch and is answered later, not held",
    () =>
      withEntity(() =>
        Effect.gen(function* () {
          const id = yield* job(["alice@greylist.test"])
          const client = (yield* MxHost.client)("mx.greylist.test")
          const first = yield* client.VerifyBatch(batchOf(id, ["alice@greylist.test"]))
          assert.deepStrictEqual(first, { written: 0, deferred: 1 })
          const store = yield* JobStore.JobStore
          const done = yield* store.get(id).pipe(
            Effect.map((j) => Option.getOrThrow(j).done),
            Effect.repeat({ until: (n) => n === 1, schedule: Schedule.spaced("100 millis") }),
            Effect.timeout("15 seconds")
          )
          assert.strictEqual(done, 1)
          const results = yield* resultsOf(id)
          assert.strictEqual(`${results.get(0)!.verdict}/${results.get(0)!.reason}`, "deliverable/accepted")
        })
      ),
    30_000
  )

  it.live("a cancelled job's batches verify nothing", () =>
    withEntity((world) =>
      Effect.gen(function* () {
        const id = yield* job(["alice@alpha.test"])
        yield* (yield* JobStore.JobStore).transition(id, [], "cancelled", 1)
        const before = (yield* world.stats).connections["127.0.0.2"] ?? 0
        const client = (yield* MxHost.client)("mx1.alpha.test")
        assert.deepStrictEqual(yield* client.VerifyBatch(batchOf(id, ["alice@alpha.test"])), {
          written: 0,
          deferred: 0
        })
        assert.strictEqual((yield* world.stats).connections["127.0.0.2"] ?? 0, before)
      })
    )
  )
})

describe("retryDelay", () => {
  it.effect("steps the greylisting schedule; none once it is done", () =>
    Effect.gen(function* () {
      const delays = yield* Effect.forEach([0, 1, 2, 3], (n) => Worker.retryDelay(greylistRetry, n))
      assert.deepStrictEqual(
        delays.map((d) => Option.map(d, Duration.toMillis)),
        [Option.some(200), Option.some(200), Option.some(200), Option.none()]
      )
    })
  )
})
