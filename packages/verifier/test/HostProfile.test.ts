import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as HostProfile from "../src/HostProfile.ts"
import * as HostProfiles from "../src/HostProfiles.ts"

const start: HostProfile.Start = {
  recipientsPerSession: 50,
  maxErrorsPerSession: 9,
  maxPipeline: 10,
  pipelining: true,
  perHost: 2
}
const safe = HostProfile.initial(start)
const tried = HostProfile.widen(safe)

const quiet: HostProfile.Observation = {
  rejections: 0,
  accepted: 0,
  postponed: 0,
  completed: true,
  slowAfter: undefined,
  cutAfter: undefined,
  tooManyRecipientsAfter: undefined,
  refusedConnection: false,
  noPipelining: false
}

const pick = (p: HostProfile.HostProfile) => ({
  recipients: p.recipientsPerSession,
  rejections: p.rejectionsPerSession,
  pipeline: p.pipeline,
  pipelining: p.pipelining,
  connections: p.connections,
  resets: p.resetsPerConnection,
  perTransaction: p.recipientsPerTransaction,
  found: Object.entries(p.found)
    .filter(([, v]) => v)
    .map(([k]) => k)
    .join(",")
})

describe("HostProfile.learn", () => {
  it("widen: every value not yet limited at its widest (the trying session ramps up to it)", () => {
    assert.deepStrictEqual(pick(tried), {
      ...pick(safe),
      recipients: HostProfile.widestValues.recipientsPerSession,
      rejections: HostProfile.widestValues.rejectionsPerSession,
      pipeline: HostProfile.widestValues.pipeline,
      resets: HostProfile.widestValues.resetsPerConnection
    })
    assert.isTrue(HostProfile.isSettled(tried))
    assert.isFalse(HostProfile.isSettled(safe))
    const limited = { ...safe, found: { ...safe.found, rejections: true } }
    assert.strictEqual(HostProfile.widen(limited).rejectionsPerSession, 9)
  })

  const rows: ReadonlyArray<readonly [string, HostProfile.Observation, Partial<ReturnType<typeof pick>>]> = [
    // A quiet session: safe as far as it went, the rejections it took and its largest write.
    [
      "quiet, 1250 rejections, writes of up to 300",
      { ...quiet, rejections: 1250, widestWrite: 300 },
      { recipients: 5000, rejections: 1250, pipeline: 300 }
    ],
    // Fewer rejections than the safe cap: proves nothing new.
    [
      "quiet, under the safe cap",
      { ...quiet, rejections: 3 },
      { recipients: 5000, rejections: 9, pipeline: HostProfile.widestValues.pipeline }
    ],
    // Writes no larger than the safe pipeline: the pipeline stays.
    ["quiet, small writes", { ...quiet, rejections: 40, widestWrite: 9 }, { recipients: 5000, rejections: 40 }],
    // Postfix's error sleep: the 11th reply slowed after 10 rejections -> 9, found.
    [
      "replies slowed after 10 rejections",
      { ...quiet, rejections: 11, slowAfter: 10 },
      { rejections: 9, found: "rejections" }
    ],
    // Postfix's hard limit: 421 after 20 rejections -> 19, found.
    [
      "421 after 20 rejections",
      { ...quiet, completed: false, rejections: 20, cutAfter: 20 },
      { rejections: 19, found: "rejections" }
    ],
    [
      "slowed after 10 and cut after 20",
      { ...quiet, completed: false, rejections: 20, slowAfter: 10, cutAfter: 20 },
      { rejections: 9, found: "rejections" }
    ],
    [
      "cut after the first rejection",
      { ...quiet, completed: false, rejections: 1, cutAfter: 1 },
      { rejections: 1, found: "rejections" }
    ],
    // A wider session cut before any rejection: back to the safe batch and pipeline, found.
    [
      "cut before any rejection",
      { ...quiet, completed: false, cutAfter: 0 },
      { recipients: 50, pipeline: 10, found: "recipients,pipeline" }
    ],
    [
      "452 after 1000 accepted",
      { ...quiet, rejections: 0, tooManyRecipientsAfter: 1000 },
      { recipients: 5000, pipeline: HostProfile.widestValues.pipeline, perTransaction: 1000 }
    ],
    [
      "421 at the greeting: one connection fewer",
      { ...quiet, completed: false, refusedConnection: true },
      { connections: 1, found: "connections" }
    ],
    ["no PIPELINING", { ...quiet, noPipelining: true }, { pipelining: false, pipeline: 1, recipients: 5000 }],
    // RSETs per connection: safe as far as the connection went; one fewer than an RSET refused.
    [
      "quiet, 14 RSETs on the connection",
      { ...quiet, rejections: 5, resets: 14 },
      { recipients: 5000, pipeline: HostProfile.widestValues.pipeline, resets: 14 }
    ],
    // What a trying session tells as each of its RSETs is answered (internal/observe.ts): the RSETs,
    // with no rejections and no write told yet, so the pipeline and the cap stay.
    [
      "an RSET's advance: 11 RSETs, nothing else told",
      { ...quiet, rejections: 0, widestWrite: 0, resets: 11 },
      { recipients: 5000, resets: 11 }
    ],
    [
      "quiet, fewer RSETs than the safe count",
      { ...quiet, accepted: 3, resets: 2 },
      { recipients: 5000, pipeline: HostProfile.widestValues.pipeline }
    ],
    [
      "RSET refused as the 12th on the connection (Exim's non-mail limit)",
      { ...quiet, completed: false, cutAtReset: 12 },
      { resets: 11, found: "resets" }
    ]
  ]
  for (const [name, observation, expected] of rows) {
    it(name, () => {
      assert.deepStrictEqual(pick(HostProfile.learn(safe, tried, observation)), { ...pick(safe), ...expected })
    })
  }

  it("transactionSize: what the host showed, else HostProfile.recipientsPerTransaction", () => {
    assert.strictEqual(HostProfile.transactionSize(safe), HostProfile.recipientsPerTransaction)
    assert.strictEqual(HostProfile.transactionSize({ ...safe, recipientsPerTransaction: 5 }), 5)
  })

  it("a session with no answer leaves refusing as it was", () => {
    const refusing = { ...safe, refusing: true }
    assert.isTrue(HostProfile.learn(refusing, tried, { ...quiet, completed: false, cutAtReset: 5 }).refusing)
    assert.isFalse(HostProfile.learn(refusing, tried, { ...quiet, accepted: 1 }).refusing)
  })

  it("an RSET limit found is not widened again, nor raised by a later quiet session", () => {
    const found = HostProfile.learn(safe, tried, { ...quiet, completed: false, cutAtReset: 12 })
    assert.strictEqual(HostProfile.widen(found).resetsPerConnection, 11)
    assert.strictEqual(
      HostProfile.learn(found, HostProfile.widen(found), { ...quiet, resets: 30 }).resetsPerConnection,
      11
    )
  })

  it("a limit found is not widened again, nor raised by a later quiet session", () => {
    const found = HostProfile.learn(safe, tried, { ...quiet, rejections: 11, slowAfter: 10 })
    assert.strictEqual(HostProfile.widen(found).rejectionsPerSession, 9)
    const later = HostProfile.learn(found, HostProfile.widen(found), { ...quiet, rejections: 9, postponed: 40 })
    assert.strictEqual(later.rejectionsPerSession, 9)
    assert.strictEqual(later.recipientsPerSession, 5000)
  })

  const careful: ReadonlyArray<readonly [number, number]> = [
    [1, 1],
    [9, 1],
    [19, 1],
    [20, 5],
    [36, 9],
    [144, 36],
    [576, 144]
  ]
  for (const [cap, expected] of careful) {
    it(`carefulPipeline: a safe cap of ${cap} rejections, ${expected} a write past it`, () => {
      assert.strictEqual(HostProfile.carefulPipeline({ ...safe, rejectionsPerSession: cap }), expected)
    })
  }

  it("careful: past the safe cap, carefulPipeline at once, growing by rampGrowth, steep from steepAfter", () => {
    // From 9: the 10th and 11th alone (Postfix's soft limit slows the 11th), steep from 11 (2 past the cap).
    assert.deepStrictEqual(HostProfile.careful(safe), {
      afterErrors: 9,
      pipeline: 1,
      growth: HostProfile.rampGrowth,
      steepFrom: 2,
      steepGrowth: HostProfile.steepGrowth
    })
    const wide = HostProfile.shaping.careful?.({ ...safe, rejectionsPerSession: 400 })
    assert.deepStrictEqual([wide?.pipeline, wide?.steepFrom], [100, 0])
  })

  it("fixed never learns", () => {
    const p = HostProfile.fixed.initial(start)
    assert.strictEqual(HostProfile.fixed.widen(p), p)
    assert.strictEqual(HostProfile.fixed.learn(p, p, { ...quiet, slowAfter: 1, rejections: 5 }), p)
  })

  it("describe says what was found", () => {
    const found = HostProfile.learn(safe, tried, { ...quiet, rejections: 11, slowAfter: 10 })
    assert.include(HostProfile.describe(found), "rejections/session 9 (limit found)")
    assert.include(HostProfile.describe({ ...found, pipelining: false }), "no pipelining")
  })
})

describe("HostProfiles (in memory)", () => {
  it.effect("one session at a time tries wider values; the others keep the safe ones", () =>
    Effect.gen(function* () {
      const profiles = yield* HostProfiles.makeMemory
      const shaping = HostProfile.shaping
      const a = yield* profiles.lease("127.0.0.2", shaping, start)
      const b = yield* profiles.lease("127.0.0.2", shaping, start)
      assert.isTrue(a.trying)
      assert.strictEqual(a.profile.rejectionsPerSession, HostProfile.widestValues.rejectionsPerSession)
      assert.isFalse(b.trying)
      assert.strictEqual(b.profile.rejectionsPerSession, 9)
      const other = yield* profiles.lease("127.0.0.3", shaping, start)
      assert.isTrue(other.trying)
      const after = yield* profiles.report("127.0.0.2", a, shaping, { ...quiet, rejections: 36 })
      assert.isTrue(after.changed)
      assert.strictEqual(after.profile.rejectionsPerSession, 36)
      const c = yield* profiles.lease("127.0.0.2", shaping, start)
      assert.isTrue(c.trying)
      assert.strictEqual(c.safe.rejectionsPerSession, 36)
      // A session that never talked gives the try back and changes nothing.
      const none = yield* profiles.report("127.0.0.2", c, shaping, undefined)
      assert.isFalse(none.changed)
      assert.isTrue((yield* profiles.lease("127.0.0.2", shaping, start)).trying)
      assert.deepStrictEqual((yield* profiles.all).map(([address]) => address).sort(), ["127.0.0.2", "127.0.0.3"])
    })
  )

  it.effect("a trying session's progress widens the safe values while it runs; its report still decides", () =>
    Effect.gen(function* () {
      const profiles = yield* HostProfiles.makeMemory
      const shaping = HostProfile.shaping
      const a = yield* profiles.lease("127.0.0.2", shaping, start)
      assert.isTrue(a.trying)
      assert.isFunction(a.advance)
      // 40 refused so far, 16 at once at most, nothing seen: another session starts with that.
      a.advance!({ ...quiet, rejections: 40, widestWrite: 16 })
      const b = yield* profiles.lease("127.0.0.2", shaping, start)
      assert.isFalse(b.trying)
      assert.isUndefined(b.advance)
      assert.deepStrictEqual([b.profile.rejectionsPerSession, b.profile.pipeline, b.profile.refusing], [40, 16, true])
      yield* profiles.report("127.0.0.2", b, shaping, { ...quiet, rejections: 40 })
      // The trying session then slowed down after 55: one below that, found, whatever it advanced.
      const after = yield* profiles.report("127.0.0.2", a, shaping, { ...quiet, rejections: 60, slowAfter: 55 })
      assert.strictEqual(after.profile.rejectionsPerSession, 54)
      assert.isTrue(after.profile.found.rejections)
    })
  )

  it.effect("the fixed shaping never tries", () =>
    Effect.gen(function* () {
      const profiles = yield* HostProfiles.makeMemory
      const lease = yield* profiles.lease("127.0.0.2", HostProfile.fixed, start)
      assert.isFalse(lease.trying)
      assert.strictEqual(lease.profile.rejectionsPerSession, 9)
    })
  )
})

describe("HostProfile.sessionRecipients", () => {
  const wide = { ...safe, recipientsPerSession: 5000, rejectionsPerSession: 9 }
  const table: ReadonlyArray<readonly [string, HostProfile.HostProfile, boolean | undefined, number]> = [
    ["a host that accepts: its recipients per session", wide, undefined, 5000],
    ["a refusing host: its rejection cap", { ...wide, refusing: true }, undefined, 9],
    ["refusing as the caller says (the safe values'), not the tried profile's", wide, true, 9],
    ["a cap above the recipients per session changes nothing", { ...wide, rejectionsPerSession: 9000 }, true, 5000]
  ]
  for (const [name, profile, refusing, expected] of table) {
    it(name, () => assert.strictEqual(HostProfile.sessionRecipients(profile, refusing), expected))
  }
})
