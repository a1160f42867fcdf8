// Output.encodeLines: the bytes of a write are the UTF-8 of the lines joined, whatever the format,
// the header, the text (controls, bidi overrides, astral characters) and however often the buffer grows.
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Output } from "@rcpt/cli"
import { ResultFormat, Verification } from "@rcpt/verifier"

const fixture = new URL("../../verifier/test/fixtures/result-lines.jsonl", import.meta.url)
const results = readFileSync(fixture, "utf8")
  .split("\n")
  .filter((l) => l.length > 0)
  .map((l) => Verification.decode(JSON.parse(l)))
// A remote server's text with astral characters and a long one: more bytes than UTF-16 units.
const wide = Verification.decode({
  ...Verification.encode(results[1]!),
  detail: `mx answered 550 ${"\u{1F4EC}é\u202e".repeat(3000)}`
})

const decoder = new TextDecoder()
const joined = (format: Output.Format, vs: ReadonlyArray<Verification.Verification>, transcript: boolean) =>
  vs.map((v) => ResultFormat.line(format, v, { transcript })).join("")

describe("Output.encodeLines", () => {
  const cases: ReadonlyArray<
    readonly [string, Output.Format, ReadonlyArray<Verification.Verification>, boolean, string]
  > = [
    ["jsonl with transcripts", "jsonl", results, true, ""],
    ["jsonl without transcripts", "jsonl", results, false, ""],
    ["csv with its header", "csv", results, false, Output.csvHeader],
    ["csv without a header", "csv", results, false, ""],
    ["no results", "jsonl", [], false, ""],
    ["no results, a header", "csv", [], false, Output.csvHeader],
    ["astral text past the first buffer", "jsonl", [wide, ...results, wide], true, ""],
    ["astral text in csv", "csv", [wide, wide], false, Output.csvHeader],
    ["many results: the buffer grows", "jsonl", Array.from({ length: 40 }, () => results).flat(), true, ""]
  ]
  for (const [name, format, vs, transcript, prefix] of cases) {
    it(name, () => {
      const bytes = Output.encodeLines(format, vs, { transcript }, prefix)
      const expected = prefix + joined(format, vs, transcript)
      assert.strictEqual(decoder.decode(bytes), expected)
      assert.strictEqual(bytes.length, new TextEncoder().encode(expected).length)
    })
  }

  it("one scratch buffer for every write in turn: each write's bytes are its own lines", () => {
    const scratch: Output.Scratch = { buffer: Buffer.allocUnsafe(0) }
    const seen = new Set<ArrayBufferLike>()
    for (const [, format, vs, transcript, prefix] of [...cases, ...cases]) {
      const bytes = Output.encodeLines(format, vs, { transcript }, prefix, scratch)
      assert.strictEqual(decoder.decode(bytes), prefix + joined(format, vs, transcript))
      seen.add(bytes.buffer)
    }
    // Grown a few times, then used again: fewer buffers than writes.
    assert.isBelow(seen.size, cases.length)
  })
})
