// Source pools: the three selections as tables, per-source limits (the next address with room,
// then waiting), and EHLO names from PTR.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import * as SourcePool from "../src/SourcePool.ts"

const sources = (...addresses: ReadonlyArray<string>): ReadonlyArray<SourcePool.Source> =>
  addresses.map((address) => ({ address }))

describe("SourcePool selections", () => {
  it("roundRobin: each in turn", () => {
    const pool = sources("127.0.0.2", "127.0.0.3", "127.0.0.4")
    const picks = [0, 1, 2, 3, 4].map((turn) => SourcePool.roundRobin(pool, { mxHost: "mx.test", turn }))
    assert.deepStrictEqual(picks, [0, 1, 2, 0, 1])
  })

  it("sticky: the same host gets the same address whatever the turn, case and trailing dot aside", () => {
    const pool = sources("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
    const hosts = ["mx1.a.test", "mx2.a.test", "mx.b.test", "aspmx.l.google.com", "x.test"]
    for (const host of hosts) {
      const picks = [0, 1, 7].map((turn) => SourcePool.sticky(pool, { mxHost: host, turn }))
      assert.deepStrictEqual(new Set(picks).size, 1, host)
      assert.strictEqual(SourcePool.sticky(pool, { mxHost: `${host.toUpperCase()}.`, turn: 3 }), picks[0], host)
    }
    const spread = new Set(hosts.map((host) => SourcePool.sticky(pool, { mxHost: host, turn: 0 })))
    assert.isAbove(spread.size, 1, "different hosts spread over the pool")
  })

  const cycles: ReadonlyArray<readonly [ReadonlyArray<number>, ReadonlyArray<number>]> = [
    [[1], [0]],
    [
      [1, 1],
      [0, 1]
    ],
    [
      [2, 1],
      [0, 1, 0]
    ],
    [
      [5, 1, 1],
      [0, 0, 1, 0, 2, 0, 0]
    ],
    [
      [3, 3, 1],
      [0, 1, 2, 0, 1, 0, 1]
    ]
  ]
  for (const [weights, cycle] of cycles) {
    it(`weightedCycle ${JSON.stringify(weights)}: shares by weight, spread out`, () => {
      assert.deepStrictEqual(SourcePool.weightedCycle(weights), cycle)
    })
  }

  it("weighted: follows the cycle turn by turn", () => {
    const pool = [{ address: "127.0.0.2", weight: 2 }, { address: "127.0.0.3" }]
    const picks = [0, 1, 2, 3, 4, 5].map((turn) => SourcePool.weighted(pool, { mxHost: "mx.test", turn }))
    assert.deepStrictEqual(picks, [0, 1, 0, 0, 1, 0])
  })

  const invalid: ReadonlyArray<readonly [SourcePool.Source, RegExp | undefined]> = [
    [{ address: "127.0.0.2" }, undefined],
    [{ address: "::1" }, undefined],
    [{ address: "mail.example.com" }, /not an IP address/],
    [{ address: "127.0.0.2", weight: 0 }, /weight/],
    [{ address: "127.0.0.2", weight: 1.5 }, /weight/],
    [{ address: "127.0.0.2", maxConnections: 0 }, /maxConnections/]
  ]
  for (const [source, problem] of invalid) {
    it(`validate ${JSON.stringify(source)}`, () => {
      const found = SourcePool.validate(source)
      if (problem === undefined) assert.isUndefined(found)
      else assert.match(found ?? "", problem)
    })
  }
})

describe("SourcePool", () => {
  it.effect("an empty pool gives None: the system's address", () =>
    Effect.gen(function* () {
      const pool = yield* SourcePool.make([])
      assert.isTrue(Option.isNone(yield* pool.acquire("mx.test")))
    }).pipe(Effect.scoped)
  )

  it.effect("the selection is consulted: sticky and round robin pick differently for one host", () =>
    Effect.gen(function* () {
      const addresses = sources("127.0.0.2", "127.0.0.3")
      const pick = (selection: SourcePool.Selection) =>
        Effect.gen(function* () {
          const pool = yield* SourcePool.make(addresses, { selection })
          const got: Array<string> = []
          for (let i = 0; i < 4; i++) {
            got.push(Option.getOrThrow(yield* Effect.scoped(pool.acquire("mx.test"))).address)
          }
          return got
        })
      assert.deepStrictEqual(yield* pick(SourcePool.roundRobin), ["127.0.0.2", "127.0.0.3", "127.0.0.2", "127.0.0.3"])
      const stuck = yield* pick(SourcePool.sticky)
      assert.strictEqual(new Set(stuck).size, 1)
    })
  )

  it.effect("a source at its limit passes the turn on; with all full, acquire waits for a release", () =>
    Effect.gen(function* () {
      const pool = yield* SourcePool.make(
        [
          { address: "127.0.0.2", maxConnections: 1 },
          { address: "127.0.0.3", maxConnections: 1 }
        ],
        { selection: SourcePool.sticky }
      )
      const hold = Effect.scoped(Effect.andThen(pool.acquire("mx.test"), Effect.never))
      const first = yield* Effect.forkChild(hold)
      yield* Effect.yieldNow
      const sticky = Object.entries(yield* pool.inUse).find(([, n]) => n === 1)![0]
      const second = yield* Effect.forkChild(hold)
      yield* Effect.yieldNow
      assert.deepStrictEqual(yield* pool.inUse, { "127.0.0.2": 1, "127.0.0.3": 1 }, "the other address took it")
      const third = yield* Effect.forkChild(Effect.scoped(pool.acquire("mx.test")))
      yield* Effect.yieldNow
      assert.isUndefined(third.pollUnsafe(), "waits while both are in use")
      yield* Fiber.interrupt(first)
      const got = yield* Fiber.join(third)
      assert.strictEqual(Option.getOrThrow(got).address, sticky)
      yield* Fiber.interrupt(second)
      assert.deepStrictEqual(yield* pool.inUse, { "127.0.0.2": 0, "127.0.0.3": 0 })
    })
  )

  it.effect("EHLO names: given ones kept, missing ones from PTR, none when there is no PTR", () =>
    Effect.gen(function* () {
      const ptr: Record<string, string> = { "127.0.0.3": "out3.example.test" }
      const pool = yield* SourcePool.make(
        [{ address: "127.0.0.2", helo: "given.example.test" }, { address: "127.0.0.3" }, { address: "127.0.0.4" }],
        { reverse: (address) => Effect.succeed(Option.fromNullishOr(ptr[address])) }
      )
      const helos: Array<Option.Option<string>> = []
      for (let i = 0; i < 3; i++) helos.push(Option.getOrThrow(yield* Effect.scoped(pool.acquire("mx.test"))).helo)
      assert.deepStrictEqual(helos, [
        Option.some("given.example.test"),
        Option.some("out3.example.test"),
        Option.none()
      ])
    })
  )
})
