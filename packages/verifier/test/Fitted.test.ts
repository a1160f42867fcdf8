// How many recipients a session on a refusing host takes when its lane kept a connection
// (internal/check.ts `fitted`): what the connection's refusals have left under the cap, when that is
// at least half of what it would take; else all of it, on a new connection.
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

describe("fitted: a refusing host's session and the refusals its connection has left", () => {
  const table: ReadonlyArray<readonly [string, HostProfile.HostProfile, number | undefined, number, number]> = [
    ["no connection to take over: all of it", refusing, undefined, 200, 200],
    ["a host that does not refuse everything: all of it", HostProfile.initial(start), 250, 200, 200],
    ["room for all of it", refusing, 50, 200, 200],
    ["room for half or more: that much", refusing, 200, 200, 100],
    ["room for exactly the share", refusing, 100, 200, 200],
    ["room for less than half: all of it, on a new connection", refusing, 250, 200, 200],
    ["no room at all: all of it, on a new connection", refusing, 300, 200, 200],
    ["one wanted, one left: one", refusing, 299, 1, 1]
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
