// The per-MX-address tables of a run (HostPermits, HostProfiles) are bounded: the least recently
// used idle entry is forgotten past the capacity, and an entry in use (a held permit, a running
// session's lease) never is, so per-address limits and trials hold however long the run.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import * as HostPermits from "../src/HostPermits.ts"
import * as HostProfile from "../src/HostProfile.ts"
import * as HostProfiles from "../src/HostProfiles.ts"
import * as VerifierConfig from "../src/VerifierConfig.ts"
import { startOf } from "../src/internal/check.ts"
import * as Lru from "../src/internal/lru.ts"

describe("Lru: least recently used idle entry forgotten past the capacity", () => {
  // Each step uses a key; a key in `busy` is in use. The keys left, oldest first.
  const table: ReadonlyArray<
    readonly [string, number, ReadonlyArray<string>, ReadonlyArray<string>, ReadonlyArray<string>]
  > = [
    ["under the capacity: all kept", 3, ["a", "b", "c"], [], ["a", "b", "c"]],
    ["past it: the oldest goes", 2, ["a", "b", "c"], [], ["b", "c"]],
    ["a use makes a key the newest", 2, ["a", "b", "a", "c"], [], ["a", "c"]],
    ["a busy oldest is kept, the next idle one goes", 2, ["a", "b", "c"], ["a"], ["a", "c"]],
    ["all busy: the table grows past the capacity", 2, ["a", "b", "c"], ["a", "b"], ["a", "b", "c"]],
    ["capacity below 1 counts as 1", 0, ["a", "b"], [], ["b"]]
  ]
  for (const [name, capacity, uses, busy, left] of table) {
    it(name, () => {
      const lru = Lru.make<string>(capacity, (v) => !busy.includes(v))
      for (const key of uses) lru.use(key, () => key)
      assert.deepStrictEqual(
        Array.from(lru.entries(), ([k]) => k),
        left
      )
      assert.strictEqual(lru.size(), left.length)
    })
  }
})

describe("HostPermits (in memory), bounded", () => {
  it.live("an address whose permit is held is not forgotten: its limit holds after many others", () =>
    Effect.gen(function* () {
      const permits = yield* HostPermits.makeMemory({ concurrency: 10, perHost: 1, perHostRate: 0 }, 2)
      const release = yield* Deferred.make<void>()
      const holding = yield* Deferred.make<void>()
      const holder = yield* permits
        .withPermit("127.0.0.2")(Deferred.succeed(holding, undefined).pipe(Effect.andThen(Deferred.await(release))))
        .pipe(Effect.forkChild)
      yield* Deferred.await(holding)
      // Far more addresses than the capacity come and go meanwhile.
      for (let i = 3; i < 20; i++) yield* permits.withPermit(`127.0.0.${i}`)(Effect.void)
      const second = yield* permits.withPermit("127.0.0.2")(Effect.succeed("in")).pipe(Effect.forkChild)
      yield* Effect.yieldNow
      yield* Effect.sleep("20 millis")
      assert.isUndefined(second.pollUnsafe(), "perHost 1: the second waits for the held permit")
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      assert.strictEqual(yield* Fiber.join(second), "in")
    })
  )
})

describe("HostProfiles (in memory), bounded", () => {
  // Where a host starts with the default config.
  const start = startOf({ ...VerifierConfig.defaults, helo: "verifier.rcpt.test" })
  const shaping = HostProfile.shaping
  const session = (profiles: HostProfiles.Shape, address: string) =>
    Effect.flatMap(profiles.lease(address, shaping, start), (lease) =>
      profiles.report(address, lease, shaping, undefined)
    )
  const addresses = (profiles: HostProfiles.Shape) => Effect.map(profiles.all, (all) => all.map(([address]) => address))

  it.effect("past the capacity the least recently used address is forgotten", () =>
    Effect.gen(function* () {
      const profiles = yield* HostProfiles.makeBounded(2)
      for (const a of ["127.0.0.2", "127.0.0.3", "127.0.0.2", "127.0.0.4"]) yield* session(profiles, a)
      assert.deepStrictEqual(yield* addresses(profiles), ["127.0.0.2", "127.0.0.4"])
    })
  )

  it.effect("an address with a session running on its lease is kept, and its trial with it", () =>
    Effect.gen(function* () {
      const profiles = yield* HostProfiles.makeBounded(2)
      const trial = yield* profiles.lease("127.0.0.2", shaping, start)
      assert.isTrue(trial.trying)
      for (let i = 3; i < 10; i++) yield* session(profiles, `127.0.0.${i}`)
      assert.include(yield* addresses(profiles), "127.0.0.2")
      // Forgotten, a second session would start a second trial at once.
      assert.isFalse((yield* profiles.lease("127.0.0.2", shaping, start)).trying)
    })
  )
})
