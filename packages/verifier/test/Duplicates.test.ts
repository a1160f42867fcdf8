// The bulk engine's duplicate bookkeeping (internal/duplicates.ts), as tables of steps.
import { assert, describe, it } from "@effect/vitest"
import { Duplicates } from "../src/internal/duplicates.ts"

type Step =
  | { readonly claim: string; readonly input: string; readonly fresh: boolean; readonly out: ReadonlyArray<string> }
  | { readonly settle: string; readonly result: string; readonly out: ReadonlyArray<string> }

// Results are strings "<result> for <input>"; a copy for another input keeps the result.
const copy = (v: string, input: string) => `${v.split(" for ")[0]} for ${input}`

const cases: ReadonlyArray<{ readonly name: string; readonly capacity: number; readonly steps: ReadonlyArray<Step> }> =
  [
    {
      name: "a first input is verified; its result goes out alone",
      capacity: 2,
      steps: [
        { claim: "a", input: "a", fresh: true, out: [] },
        { settle: "a", result: "ra for a", out: ["ra for a"] }
      ]
    },
    {
      name: "inputs read while the first is pending wait for it, then each gets a copy",
      capacity: 2,
      steps: [
        { claim: "a", input: "a", fresh: true, out: [] },
        { claim: "a", input: "A", fresh: false, out: [] },
        { claim: "a", input: " a", fresh: false, out: [] },
        { settle: "a", result: "ra for a", out: ["ra for a", "ra for A", "ra for  a"] }
      ]
    },
    {
      name: "after the result, the done cache answers at once",
      capacity: 2,
      steps: [
        { claim: "a", input: "a", fresh: true, out: [] },
        { settle: "a", result: "ra for a", out: ["ra for a"] },
        { claim: "a", input: "a2", fresh: false, out: ["ra for a2"] }
      ]
    },
    {
      name: "the cache is bounded: the oldest result is forgotten and its address asked again",
      capacity: 2,
      steps: [
        { claim: "a", input: "a", fresh: true, out: [] },
        { settle: "a", result: "ra for a", out: ["ra for a"] },
        { claim: "b", input: "b", fresh: true, out: [] },
        { settle: "b", result: "rb for b", out: ["rb for b"] },
        { claim: "c", input: "c", fresh: true, out: [] },
        { settle: "c", result: "rc for c", out: ["rc for c"] },
        { claim: "b", input: "b", fresh: false, out: ["rb for b"] },
        { claim: "a", input: "a", fresh: true, out: [] }
      ]
    },
    {
      name: "the oldest goes first round after round (the keys are kept in a ring)",
      capacity: 2,
      steps: [
        ...["a", "b", "c", "d", "e"].flatMap((k): ReadonlyArray<Step> => [
          { claim: k, input: k, fresh: true, out: [] },
          { settle: k, result: `r${k} for ${k}`, out: [`r${k} for ${k}`] }
        ]),
        { claim: "d", input: "d2", fresh: false, out: ["rd for d2"] },
        { claim: "e", input: "e2", fresh: false, out: ["re for e2"] },
        { claim: "c", input: "c", fresh: true, out: [] },
        { settle: "c", result: "rc2 for c", out: ["rc2 for c"] },
        { claim: "e", input: "e3", fresh: false, out: ["re for e3"] },
        { claim: "c", input: "c2", fresh: false, out: ["rc2 for c2"] },
        { claim: "d", input: "d", fresh: true, out: [] }
      ]
    },
    {
      name: "a cache of no results keeps none",
      capacity: 0,
      steps: [
        { claim: "a", input: "a", fresh: true, out: [] },
        { settle: "a", result: "ra for a", out: ["ra for a"] },
        { claim: "a", input: "a", fresh: true, out: [] }
      ]
    }
  ]

describe("Duplicates", () => {
  for (const c of cases) {
    it(c.name, () => {
      const d = new Duplicates<string>(c.capacity, copy)
      for (const step of c.steps) {
        const out: Array<string> = []
        if ("claim" in step) assert.strictEqual(d.claim(step.claim, step.input, out), step.fresh, step.input)
        else d.settle(step.settle, step.result, out)
        assert.deepStrictEqual(out, step.out)
      }
      assert.isAtMost(d.sizes.done, c.capacity)
    })
  }

  it("nothing stays pending once settled", () => {
    const d = new Duplicates<string>(10, copy)
    d.claim("a", "a", [])
    d.claim("a", "a'", [])
    d.settle("a", "r", [])
    assert.deepStrictEqual(d.sizes, { pending: 0, done: 1 })
  })
})
