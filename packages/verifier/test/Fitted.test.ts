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

describe("outlook: the rejection cap a session keeps its connection for", () => {
  const safe = HostProfile.initial(start)
  const found = { ...safe, found: { ...safe.found, rejections: true } }
  const table: ReadonlyArray<
    readonly [string, HostProfile.HostProfile, Pick<HostProfile.Shaping, "widen">, number, number]
  > = [
    [
      "no limit found: the cap the shaping widens to",
      safe,
      HostProfile.shaping,
      300,
      HostProfile.widestValues.rejectionsPerSession
    ],
    ["a limit found: the session's own cap", found, HostProfile.shaping, 300, 300],
    ["a shaping that never widens: the session's own cap", safe, HostProfile.fixed, 300, 300],
    ["a trying session's cap, already the widest: that one", safe, HostProfile.shaping, 100_000, 100_000]
  ]
  for (const [name, safeValues, shaping, cap, expected] of table) {
    it(name, () => {
      const profile = { ...safeValues, rejectionsPerSession: cap, refusing: true }
      const seen = outlook(safeValues, profile, shaping)
      assert.strictEqual(seen.rejectionsPerSession, expected)
      assert.strictEqual(seen.resetsPerConnection, profile.resetsPerConnection, "RSETs are not widened")
    })
  }
})
