// DataEncoder as a table of (body -> wire bytes), h11 `tr()` style: each row is fed whole, in
// EVERY chunking (every way of cutting it, exhaustively, for the short rows), in every chunk size
// and in random chunkings, and must give the same bytes each time.
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as DataEncoder from "../src/DataEncoder.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Feeds the chunks in order; the wire text, or the line that was too long. */
const feed = (chunks: ReadonlyArray<Uint8Array>, maxLineLength?: number): string | { readonly tooLong: number } => {
  let state = DataEncoder.make(maxLineLength === undefined ? {} : { maxLineLength })
  let out = ""
  for (const chunk of chunks) {
    const r = DataEncoder.encode(state, chunk)
    if (r._tag === "LineTooLong") return { tooLong: r.line }
    state = r.encoder
    out += decoder.decode(r.bytes, { stream: true })
  }
  return out + decoder.decode(DataEncoder.end(state))
}

/** Every way to cut `bytes` into non-empty consecutive chunks (2^(n-1) of them). */
const everyChunking = function* (bytes: Uint8Array): Generator<ReadonlyArray<Uint8Array>> {
  const n = bytes.length
  if (n === 0) {
    yield []
    return
  }
  for (let mask = 0; mask < 1 << (n - 1); mask++) {
    const chunks: Array<Uint8Array> = []
    let start = 0
    for (let i = 1; i < n; i++) {
      if (mask & (1 << (i - 1))) {
        chunks.push(bytes.subarray(start, i))
        start = i
      }
    }
    chunks.push(bytes.subarray(start))
    yield chunks
  }
}

const bySize = (bytes: Uint8Array, size: number): ReadonlyArray<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size))
  return chunks
}

const rows: ReadonlyArray<readonly [name: string, body: string, wire: string]> = [
  ["empty body", "", ".\r\n"],
  ["one line without an end", "a", "a\r\n.\r\n"],
  ["CRLF stays", "a\r\n", "a\r\n.\r\n"],
  ["bare LF becomes CRLF", "a\n", "a\r\n.\r\n"],
  ["bare CR becomes CRLF", "a\r", "a\r\n.\r\n"],
  ["bare CR inside a line", "a\rb", "a\r\nb\r\n.\r\n"],
  ["LF CR is two line ends", "a\n\rb", "a\r\n\r\nb\r\n.\r\n"],
  ["CR CR LF is two line ends", "a\r\r\nb", "a\r\n\r\nb\r\n.\r\n"],
  ["empty lines", "\n\n", "\r\n\r\n.\r\n"],
  ["only CRLF", "\r\n", "\r\n.\r\n"],
  ["a leading dot is doubled", ".a", "..a\r\n.\r\n"],
  ["a dot after a line end is doubled", "a\n.b", "a\r\n..b\r\n.\r\n"],
  ["a dot inside a line is not", "a.b.", "a.b.\r\n.\r\n"],
  ["two dots", "..", "...\r\n.\r\n"],
  ["a lone dot line", "a\r\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n"],
  ["smuggling with LF.LF", "a\n.\nb", "a\r\n..\r\nb\r\n.\r\n"],
  ["smuggling with CR.CR", "a\r.\rb", "a\r\n..\r\nb\r\n.\r\n"],
  ["smuggling with LF.CRLF", "a\n.\r\nMAIL", "a\r\n..\r\nMAIL\r\n.\r\n"],
  ["smuggling with CRLF.LF", "a\r\n.\nMAIL", "a\r\n..\r\nMAIL\r\n.\r\n"],
  ["a dot after a bare CR", "x\r.y", "x\r\n..y\r\n.\r\n"],
  ["UTF-8 passes through", "h\u00e9\n\u00e9", "h\u00e9\r\n\u00e9\r\n.\r\n"]
]

describe("DataEncoder", () => {
  describe("CRLF normalisation and dot-stuffing, fed in every chunking", () => {
    for (const [name, body, wire] of rows) {
      it(name, () => {
        const bytes = encoder.encode(body)
        assert.strictEqual(feed([bytes]), wire, "whole")
        let count = 0
        for (const chunks of everyChunking(bytes)) {
          assert.strictEqual(feed(chunks), wire, `chunks ${JSON.stringify(chunks.map((c) => decoder.decode(c)))}`)
          count++
        }
        assert.strictEqual(count, bytes.length === 0 ? 1 : 2 ** (bytes.length - 1))
        // Empty chunks change nothing.
        assert.strictEqual(feed([new Uint8Array(0), bytes, new Uint8Array(0)]), wire)
      })
    }
  })

  it("any chunking of any body gives the same bytes as the whole", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 20 }), (bytes, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
        const chunks = [0, ...points].map((p, i, all) => bytes.subarray(p, all[i + 1] ?? bytes.length))
        assert.strictEqual(feed(chunks, 10_000), feed([bytes], 10_000))
      })
    )
  })

  it("the wire never holds a bare CR or LF, nor a lone dot line before the end", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a.\r\n]{0,60}$/), (body) => {
        const wire = feed([encoder.encode(body)]) as string
        assert.notMatch(wire, /\r(?!\n)|(?<!\r)\n/)
        assert.isTrue(wire.endsWith("\r\n.\r\n") || wire === ".\r\n")
        const lines = wire.split("\r\n").slice(0, -2)
        assert.isFalse(lines.includes("."), "a lone dot line inside the body")
        // Un-stuffing gives the body back with CRLF line ends.
        const unstuffed = lines.map((l) => (l.startsWith(".") ? l.slice(1) : l)).join("\r\n")
        const normalised = body.replace(/\r\n|\r|\n/g, "\r\n").replace(/\r\n$/, "")
        assert.strictEqual(unstuffed, normalised)
      })
    )
  })

  it("every chunk size of a long body", () => {
    const body = encoder.encode(`${"x".repeat(50)}\n.${"y".repeat(30)}\r\n\r\n.\r.\n..\r\nend`)
    const whole = feed([body])
    for (let size = 1; size <= body.length; size++) assert.strictEqual(feed(bySize(body, size)), whole, `size ${size}`)
  })

  describe("line length", () => {
    const rows: ReadonlyArray<readonly [name: string, body: string, result: string | { readonly tooLong: number }]> = [
      ["998 octets pass", "a".repeat(998), `${"a".repeat(998)}\r\n.\r\n`],
      ["999 octets are refused", "a".repeat(999), { tooLong: 1 }],
      ["the stuffed dot counts", `.${"a".repeat(997)}`, { tooLong: 1 }],
      [
        "a CR ends the count",
        `${"a".repeat(998)}\r${"b".repeat(998)}`,
        `${"a".repeat(998)}\r\n${"b".repeat(998)}\r\n.\r\n`
      ],
      ["the line number is reported", `a\nb\n${"c".repeat(999)}`, { tooLong: 3 }]
    ]
    for (const [name, body, result] of rows) {
      it(name, () => {
        const bytes = encoder.encode(body)
        assert.deepStrictEqual(feed([bytes]), result)
        for (const size of [1, 7, 500, 997, 998, 999]) assert.deepStrictEqual(feed(bySize(bytes, size)), result)
      })
    }

    it("a custom limit", () => {
      assert.deepStrictEqual(feed([encoder.encode("abcd")], 3), { tooLong: 1 })
    })
  })

  describe("inspect", () => {
    const rows: ReadonlyArray<readonly [body: string, expected: DataEncoder.Inspection]> = [
      ["", { size: 0, eightBit: false, longestLine: 0, lineTooLong: undefined }],
      ["a\nb", { size: 6, eightBit: false, longestLine: 1, lineTooLong: undefined }],
      ["a\r\nbb\r\n", { size: 7, eightBit: false, longestLine: 2, lineTooLong: undefined }],
      [".a\n", { size: 4, eightBit: false, longestLine: 3, lineTooLong: undefined }],
      ["h\u00e9", { size: 5, eightBit: true, longestLine: 3, lineTooLong: undefined }],
      [`x\n${"a".repeat(999)}`, { size: 0, eightBit: false, longestLine: 0, lineTooLong: 2 }]
    ]
    for (const [body, expected] of rows) {
      it(JSON.stringify(body.slice(0, 12)), () => {
        assert.deepStrictEqual(DataEncoder.inspect(encoder.encode(body)), expected)
      })
    }
  })

  describe("encodeAll", () => {
    it("cuts the wire in chunks and puts the terminator in the last", () => {
      const body = encoder.encode("ab\n.cd\nef")
      const r = DataEncoder.encodeAll(body, { chunkSize: 3 })
      assert.strictEqual(r._tag, "Encoded")
      if (r._tag !== "Encoded") return
      assert.deepStrictEqual(
        r.chunks.map((c) => decoder.decode(c)),
        ["ab\r\n", "..cd", "\r\nef\r\n.\r\n"]
      )
      assert.deepStrictEqual(r.inspection, DataEncoder.inspect(body))
    })

    it("an empty body is the terminator alone", () => {
      const r = DataEncoder.encodeAll(new Uint8Array(0))
      assert.deepStrictEqual(r._tag === "Encoded" ? r.chunks.map((c) => decoder.decode(c)) : r, [".\r\n"])
    })

    it("refuses a long line", () => {
      assert.deepStrictEqual(DataEncoder.encodeAll(encoder.encode(`a\n${"b".repeat(1000)}`)), {
        _tag: "LineTooLong",
        line: 2
      })
    })
  })
})
