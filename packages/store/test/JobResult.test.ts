// The one builder of a stored result: what a download reads back is the verification itself (the
// same JSON as a line of `rcpt bulk`), plus the runner when one is named.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Bulk, Verification } from "@rcpt/verifier"
import * as JobResult from "../src/JobResult.ts"

describe("JobResult.make", () => {
  it.effect("keeps the position and verdict, and the encoded verification as JSON text", () =>
    Effect.gen(function* () {
      const v = yield* Bulk.syntaxFailure("not an address", "no @")
      const cases: ReadonlyArray<readonly [string | undefined, string | undefined]> = [
        [undefined, undefined],
        ["runner-1", "runner-1"]
      ]
      for (const [runner, expected] of cases) {
        const stored = JobResult.make(7, v, { runner })
        assert.strictEqual(stored.position, 7)
        assert.strictEqual(stored.verdict, v.verdict)
        const json = JSON.parse(stored.data) as Record<string, unknown>
        assert.strictEqual(json["runner"], expected)
        const { runner: _, ...rest } = json
        assert.deepStrictEqual(rest, JSON.parse(JSON.stringify(Verification.encode(v))))
        assert.deepStrictEqual(Verification.decode(rest), v)
      }
      // Without the dialogue: `transcript` is [] (as in rcpt bulk's lines), every other field kept.
      const transcript = [{ direction: "C", text: "RCPT TO:<x@example.org>" }]
      const full = JSON.parse(JSON.stringify(Verification.encode(v))) as Record<string, unknown>
      const withDialogue = { ...full, transcript }
      const compact = JSON.parse(
        JobResult.make(1, Verification.decode(withDialogue), { transcript: false }).data
      ) as Record<string, unknown>
      assert.deepStrictEqual(compact, { ...withDialogue, transcript: [] })
      const kept = JSON.parse(JobResult.make(1, Verification.decode(withDialogue)).data) as Record<string, unknown>
      assert.deepStrictEqual(kept["transcript"], withDialogue.transcript)
    })
  )
})
