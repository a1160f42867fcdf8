// The fuzzing properties of fuzz/properties.ts, briefly: 10,000 cases in all, shared by weight,
// with a fresh seed each run (fast-check prints it with any counterexample, and
// `npm run fuzz -- <cases> <seed>` replays it). `npm run fuzz` runs the same for a million cases.
import { assert, describe, it } from "@effect/vitest"
import { properties } from "../../../fuzz/properties.ts"

const total = 10_000
const weights = properties.reduce((n, p) => n + p.weight, 0)

describe("fuzz (10,000 cases)", () => {
  it("every property has a share of the cases", () => {
    assert.isAtLeast(properties.length, 6)
    for (const p of properties) assert.isAbove(p.weight, 0, p.name)
  })

  for (const property of properties) {
    const numRuns = Math.max(1, Math.round((total * property.weight) / weights))
    it(`${property.name} (${numRuns} cases)`, () => {
      const outcome = property.check(numRuns)
      assert.isFalse(outcome.failed, outcome.report)
      assert.strictEqual(outcome.numRuns, numRuns)
    })
  }
})
