// How many recipients a session takes when its lane kept a connection (internal/check.ts
// `fitted`): what the connection has left (refusals under the cap on a host that refuses
// everything, RSETs elsewhere), when that is at least half of what it would take; else all of it,
// on a new connection.
import { assert, describe, it } from "@effect/vitest"
import * as HostProfile from "../src/HostProfile.ts"
import { fitted, outlook } from "../src/internal/check.ts"

const start: HostProfile.Start = {
  recipientsPerSession: 200,
  maxErrorsPerSession: 300,
  maxPipeline: 10,
  pipelining: true,
  perHost: 1
}
const refusing = { ...HostProfile.initial(start), refusing: true }
// A host that accepts: 100 recipients a transaction, 9 RSETs a connection.
const accepting = { ...HostProfile.initial(start), recipientsPerTransaction: 100, resetsPerConnection: 9 }

describe("fitted: a session and the refusals or RSETs its connection has left", () => {
  const parked = (rejected: number, resets = 0) => ({ rejected, resets })
  const table: ReadonlyArray<
    readonly [string, HostProfile.HostProfile, { rejected: number; resets: number } | undefined, number, number]
  > = [
    ["no connection to take over: all of it", refusing, undefined, 200, 200],
    ["room for all of it", refusing, parked(50), 200, 200],
    ["room for half or more: that much", refusing, parked(200), 200, 100],
    ["room for exactly the share", refusing, parked(100), 200, 200],
    ["room for less than half: all of it, on a new connection", refusing, parked(250), 200, 200],
    ["no room at all: all of it, on a new connection", refusing, parked(300), 200, 200],
    ["one wanted, one left: one", refusing, parked(299), 1, 1],
    ["a refusing host: its RSETs do not count", refusing, parked(0, 9), 200, 200],
    ["an accepting host: its refusals do not count", accepting, parked(250), 200, 200],
    ["RSETs for all of its transactions", accepting, parked(0, 7), 200, 200],
    ["RSETs for one transaction of two: that one", accepting, parked(0, 8), 200, 100],
    ["RSETs for two transactions of three: those two", accepting, parked(0, 7), 300, 200],
    ["RSETs for one transaction of three: all of it, on a new connection", accepting, parked(0, 8), 300, 300],
    ["no RSET left: all of it, on a new connection", accepting, parked(0, 9), 200, 200]
  ]
  for (const [name, profile, carried, wanted, expected] of table) {
    it(name, () => {
      assert.strictEqual(fitted(profile, carried, wanted), expected)
    })
  }
})

describe("outlook: the values a session keeps its connection for", () => {
  const safe = HostProfile.initial(start)
  const found = (rejections: boolean, resets: boolean) => ({ ...safe, found: { ...safe.found, rejections, resets } })
  const widest = HostProfile.widestValues
  const table: ReadonlyArray<
    readonly [string, HostProfile.HostProfile, Pick<HostProfile.Shaping, "widen">, readonly [number, number]]
  > = [
    [
      "no limit found: the cap and the RSETs the shaping widens to",
      safe,
      HostProfile.shaping,
      [widest.rejectionsPerSession, widest.resetsPerConnection]
    ],
    [
      "the rejection limit found: that cap, the RSETs widened",
      found(true, false),
      HostProfile.shaping,
      [300, widest.resetsPerConnection]
    ],
    [
      "the RSET limit found: those RSETs, the cap widened",
      found(false, true),
      HostProfile.shaping,
      [widest.rejectionsPerSession, 9]
    ],
    ["both found: the session's own values", found(true, true), HostProfile.shaping, [300, 9]],
    ["a shaping that never widens: the session's own values", safe, HostProfile.fixed, [300, 9]]
  ]
  for (const [name, safeValues, shaping, [rejections, resets]] of table) {
    it(name, () => {
      const profile = { ...safeValues, refusing: true }
      const seen = outlook(safeValues, profile, shaping)
      assert.deepStrictEqual([seen.rejectionsPerSession, seen.resetsPerConnection], [rejections, resets])
      assert.strictEqual(seen.pipeline, profile.pipeline, "nothing else is widened")
    })
  }
})
