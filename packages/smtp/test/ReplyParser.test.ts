// ReplyParser as a table of (wire bytes -> replies | error), h11 `tr()` style: every row is fed
// whole, one byte at a time, in every chunk size 1..60 and in random chunkings, and must give the
// same answer each time.
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import type { RemoteProtocolErrorReason } from "../src/ProtocolError.ts"
import * as Reply from "../src/Reply.ts"
import * as ReplyParser from "../src/ReplyParser.ts"

interface Expected {
  readonly code: number
  readonly enhanced: string | undefined
  readonly lines: ReadonlyArray<string>
}

const r = (code: number, enhanced: string | undefined, ...lines: ReadonlyArray<string>): Expected => ({
  code,
  enhanced,
  lines
})

const view = (reply: Reply.Reply): Expected => ({
  code: reply.code,
  enhanced: Reply.enhancedCode(reply),
  lines: [...reply.lines]
})

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const LF = 10
const DASH = 45

type Wire = string | ReadonlyArray<number>
const bytes = (wire: Wire): Uint8Array => (typeof wire === "string" ? encoder.encode(wire) : Uint8Array.from(wire))

// Builders for the rows that are too big to write out.
const line = (code: number, sep: " " | "-", octets: number): string => `${code}${sep}${"a".repeat(octets - 4)}`
const many = (n: number, last: string): string => `${"250-x\r\n".repeat(n - 1)}250 ${last}\r\n`
// 15 lines of 4096 octets and one of 4064: 65536 octets in all, CRLFs included.
const fullReply = (extra: string): string =>
  `${`${line(250, "-", 4096)}\r\n`.repeat(15)}${line(250, " ", 4064)}${extra}\r\n`
const fullReplyLines = [...Array.from({ length: 15 }, () => "a".repeat(4092)), "a".repeat(4060)]

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

const valid: ReadonlyArray<readonly [name: string, wire: Wire, replies: ReadonlyArray<Expected>]> = [
  ["greeting", "220 mx.example.com ESMTP Postfix\r\n", [r(220, undefined, "mx.example.com ESMTP Postfix")]],
  [
    "Exim greeting",
    "220 mx.example.com ESMTP Exim 4.96 Mon, 01 Jan 2024 00:00:00 +0000\r\n",
    [r(220, undefined, "mx.example.com ESMTP Exim 4.96 Mon, 01 Jan 2024 00:00:00 +0000")]
  ],
  ["enhanced code", "250 2.1.5 Ok\r\n", [r(250, "2.1.5", "2.1.5 Ok")]],
  ["enhanced code, no text", "250 2.1.5\r\n", [r(250, "2.1.5", "2.1.5")]],
  ["bare code", "250\r\n", [r(250, undefined, "")]],
  ["code and space only", "250 \r\n", [r(250, undefined, "")]],
  ["3xx", "354 End data with <CR><LF>.<CR><LF>\r\n", [r(354, undefined, "End data with <CR><LF>.<CR><LF>")]],
  ["lowest code", "200 ok\r\n", [r(200, undefined, "ok")]],
  ["highest code", "599 x\r\n", [r(599, undefined, "x")]],
  [
    "Postfix EHLO, multiline",
    "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n" +
      "250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n",
    [
      r(
        250,
        undefined,
        "mx.example.com",
        "PIPELINING",
        "SIZE 10240000",
        "ETRN",
        "ENHANCEDSTATUSCODES",
        "8BITMIME",
        "DSN",
        "SMTPUTF8",
        "CHUNKING"
      )
    ]
  ],
  [
    "Gmail 5.1.1, multiline with enhanced code on every line",
    "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n" +
      "550-5.1.1 double-checking the recipient's email address for typos or\r\n" +
      "550-5.1.1 unnecessary spaces. For more information, go to\r\n" +
      "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1-20020a.1 - gsmtp\r\n",
    [
      r(
        550,
        "5.1.1",
        "5.1.1 The email account that you tried to reach does not exist. Please try",
        "5.1.1 double-checking the recipient's email address for typos or",
        "5.1.1 unnecessary spaces. For more information, go to",
        "5.1.1  https://support.google.com/mail/?p=NoSuchUser a1-20020a.1 - gsmtp"
      )
    ]
  ],
  ["enhanced class differs from the code's: no enhanced code", "550 2.0.0 x\r\n", [r(550, undefined, "2.0.0 x")]],
  ["digits that are not an enhanced code", "250 2address.org\r\n", [r(250, undefined, "2address.org")]],
  ["enhanced code with a leading zero", "250 2.01.5 x\r\n", [r(250, undefined, "2.01.5 x")]],
  [
    "three-digit detail",
    "550 5.7.606 Access denied, banned sending IP\r\n",
    [r(550, "5.7.606", "5.7.606 Access denied, banned sending IP")]
  ],
  [
    "null MX",
    "556 5.1.10 Recipient address has null MX\r\n",
    [r(556, "5.1.10", "5.1.10 Recipient address has null MX")]
  ],
  ["LF-only ending", "250 ok\n", [r(250, undefined, "ok")]],
  ["LF-only multiline", "250-a\n250 b\n", [r(250, undefined, "a", "b")]],
  ["mixed CRLF and LF", "250-a\r\n250-b\n250 c\r\n", [r(250, undefined, "a", "b", "c")]],
  ["bare final line after continuations", "250-first\r\n250\r\n", [r(250, undefined, "first", "")]],
  ["empty continuation lines", "250-\r\n250-\r\n250 end\r\n", [r(250, undefined, "", "", "end")]],
  ["dashes inside text", "250-a-b\r\n250 -c - d\r\n", [r(250, undefined, "a-b", "-c - d")]],
  ["bare CR inside a line is text", "250 a\rb\r\n", [r(250, undefined, "a\rb")]],
  ["UTF-8 text", "250 héllo ✓ 😀\r\n", [r(250, undefined, "héllo ✓ 😀")]],
  // A line is decoded on its own: a byte order mark at its start goes, one in its text stays.
  ["a byte order mark before the code", "\uFEFF250 ok\r\n", [r(250, undefined, "ok")]],
  ["a byte order mark before a bare code", "\uFEFF250\r\n", [r(250, undefined, "")]],
  ["a byte order mark on a continuation line", "250-a\r\n\uFEFF250 b\r\n", [r(250, undefined, "a", "b")]],
  ["a byte order mark in the text", "250 \uFEFFok\r\n", [r(250, undefined, "\uFEFFok")]],
  ["a hyphen ending the line", "250-\r\n250 x\r\n", [r(250, undefined, "", "x")]],
  [
    "invalid UTF-8 becomes replacement characters",
    [0x32, 0x35, 0x30, 0x20, 0xff, 0xfe, 0x20, 0xc3, 0x28, 0x0d, 0x0a],
    [r(250, undefined, "\uFFFD\uFFFD \uFFFD(")]
  ],
  ["a line of exactly 4096 octets", `${line(250, " ", 4096)}\r\n`, [r(250, undefined, "a".repeat(4092))]],
  ["a reply of exactly 64 KiB", fullReply(""), [r(250, undefined, ...fullReplyLines)]],
  ["exactly 1000 lines", many(1000, "y"), [r(250, undefined, ...Array.from({ length: 999 }, () => "x"), "y")]],
  [
    "pipelined MAIL, RCPT, RCPT, DATA replies in one buffer",
    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n" +
      "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table\r\n" +
      "354 End data with <CR><LF>.<CR><LF>\r\n",
    [
      r(250, "2.1.0", "2.1.0 Ok"),
      r(250, "2.1.5", "2.1.5 Ok"),
      r(550, "5.1.1", "5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table"),
      r(354, undefined, "End data with <CR><LF>.<CR><LF>")
    ]
  ],
  [
    "pipelined multiline then single",
    "250-a\r\n250 b\r\n221 2.0.0 Bye\n",
    [r(250, undefined, "a", "b"), r(221, "2.0.0", "2.0.0 Bye")]
  ],
  [
    "same code in consecutive replies",
    "250 one\r\n250-two\r\n250 three\r\n",
    [r(250, undefined, "one"), r(250, undefined, "two", "three")]
  ]
]

const invalid: ReadonlyArray<
  readonly [name: string, wire: Wire, reason: RemoteProtocolErrorReason, before: ReadonlyArray<Expected>]
> = [
  ["not a reply", "hello\r\n", "MalformedLine", []],
  ["two digits", "25\r\n", "MalformedLine", []],
  ["four digits", "2500 x\r\n", "MalformedLine", []],
  ["code 600", "600 x\r\n", "MalformedLine", []],
  ["code 199", "199 x\r\n", "MalformedLine", []],
  ["code 099", "099 x\r\n", "MalformedLine", []],
  ["letter after the code", "250x\r\n", "MalformedLine", []],
  ["tab after the code", "250\tx\r\n", "MalformedLine", []],
  ["leading space", " 250 ok\r\n", "MalformedLine", []],
  ["empty line", "\r\n", "MalformedLine", []],
  ["a byte order mark alone", "\uFEFF\r\n", "MalformedLine", []],
  ["a byte order mark and two digits", "\uFEFF25\r\n", "MalformedLine", []],
  ["two byte order marks", "\uFEFF\uFEFF250 ok\r\n", "MalformedLine", []],
  ["bare LF", "\n", "MalformedLine", []],
  ["invalid UTF-8 in the code", [0xff, 0x35, 0x30, 0x20, 0x0d, 0x0a], "MalformedLine", []],
  ["malformed continuation", "250-a\r\nhello\r\n", "MalformedLine", []],
  ["malformed line after a good reply", "250 ok\r\nhello\r\n", "MalformedLine", [r(250, undefined, "ok")]],
  ["mixed codes", "250-a\r\n251 b\r\n", "MixedCodes", []],
  ["mixed classes", "250-a\r\n550 b\r\n", "MixedCodes", []],
  ["mixed codes on the third line", "450-a\r\n450-b\r\n451 c\r\n", "MixedCodes", []],
  ["4097 octets, no LF yet", line(250, " ", 4097), "LineTooLong", []],
  ["4097 octets then CRLF", `${line(250, " ", 4097)}\r\n`, "LineTooLong", []],
  ["4096 octets, CR, more text, LF", `${line(250, " ", 4096)}\rx\n`, "LineTooLong", []],
  ["5000 octets then LF", `${line(250, " ", 5000)}\n`, "LineTooLong", []],
  ["a reply one octet over 64 KiB", fullReply("a"), "ReplyTooLong", []],
  ["1001 lines", many(1001, "y"), "TooManyLines", []]
]

// Rows whose last bytes are not yet a reply: `next` returns the first reply and leaves the rest.
const remainders: ReadonlyArray<readonly [name: string, wire: string, reply: Expected, rest: string]> = [
  ["a partial line", "250 ok\r\n25", r(250, undefined, "ok"), "25"],
  ["a complete line of an unfinished reply", "250 ok\r\n250-more\r\n", r(250, undefined, "ok"), "250-more\r\n"],
  ["a whole second reply", "250 ok\r\n221 bye\r\n", r(250, undefined, "ok"), "221 bye\r\n"],
  ["a lone CR", "354 go\r\n\r", r(354, undefined, "go"), "\r"],
  ["garbage, not parsed yet", "250 ok\r\nhello\r\n", r(250, undefined, "ok"), "hello\r\n"]
]

// ---------------------------------------------------------------------------------------------
// Drivers
// ---------------------------------------------------------------------------------------------

interface Run {
  readonly replies: ReadonlyArray<Expected>
  readonly error: RemoteProtocolErrorReason | undefined
  /** What the parser holds at the end: unread bytes, and the lines of an unfinished reply. */
  readonly pending: {
    readonly buffer: string
    readonly code: number | undefined
    readonly lines: ReadonlyArray<string>
  }
}

/** Feeds chunks, draining after each one, as a driver would. */
const feedChunks = (chunks: Iterable<Uint8Array>, limits = ReplyParser.defaultLimits): Run => {
  let parser = ReplyParser.make(limits)
  const replies: Array<Expected> = []
  for (const chunk of chunks) {
    const d = ReplyParser.drain(ReplyParser.feed(parser, chunk))
    replies.push(...d.replies.map(view))
    if (d._tag === "Error")
      return { replies, error: d.error.reason, pending: { buffer: "", code: undefined, lines: [] } }
    parser = d.parser
  }
  return {
    replies,
    error: undefined,
    pending: { buffer: decoder.decode(parser.buffer), code: parser.code, lines: [...parser.lines] }
  }
}

function* bySize(wire: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < wire.length; i += size) yield wire.subarray(i, i + size)
}

/** Chunk sizes taken in turn; a 0 feeds an empty chunk. */
function* bySizes(wire: Uint8Array, sizes: ReadonlyArray<number>): Generator<Uint8Array> {
  let i = 0
  for (let k = 0; i < wire.length; k++) {
    const size = sizes[k % sizes.length]!
    yield wire.subarray(i, i + size)
    i += size
  }
}

/** Offsets of the LFs that end a reply (a line whose fourth octet is not "-"). */
const replyEnds = (wire: Uint8Array): ReadonlyArray<number> => {
  const ends: Array<number> = []
  let start = 0
  for (let i = 0; i < wire.length; i++) {
    if (wire[i] !== LF) continue
    if (wire[start + 3] !== DASH) ends.push(i)
    start = i + 1
  }
  return ends
}

/** One byte at a time, with `next`: NeedMoreData except right after the last byte of a reply. */
const byteByByte = (wire: Uint8Array, limits = ReplyParser.defaultLimits) => {
  let parser = ReplyParser.make(limits)
  const replies: Array<Expected> = []
  const at: Array<number> = []
  for (let i = 0; i < wire.length; i++) {
    parser = ReplyParser.feed(parser, wire.subarray(i, i + 1))
    for (;;) {
      const step = ReplyParser.next(parser)
      if (step._tag === "Error") return { replies, at, error: { reason: step.error.reason, at: i } }
      parser = step.parser
      if (step._tag === "NeedMoreData") break
      replies.push(view(step.reply))
      at.push(i)
    }
  }
  return { replies, at, error: undefined }
}

const whole = (wire: Uint8Array) => feedChunks([wire])

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe("ReplyParser", () => {
  describe("valid replies", () => {
    it("has the rows this suite promises", () => {
      assert.isAtLeast(valid.length + invalid.length, 30)
    })

    for (const [name, wire, expected] of valid) {
      const data = bytes(wire)
      describe(`${name}`, () => {
        it("whole", () => {
          const run = whole(data)
          assert.isUndefined(run.error)
          assert.deepStrictEqual(run.replies, expected)
          assert.deepStrictEqual(run.pending, { buffer: "", code: undefined, lines: [] })
        })

        it("one byte at a time: NeedMoreData until the last byte of each reply", () => {
          const run = byteByByte(data)
          assert.isUndefined(run.error)
          assert.deepStrictEqual(run.replies, expected)
          assert.deepStrictEqual(run.at, replyEnds(data))
          assert.strictEqual(run.at.length, expected.length)
        })

        it("every chunk size 1..60", () => {
          for (let size = 1; size <= 60; size++) {
            const run = feedChunks(bySize(data, size))
            assert.isUndefined(run.error, `chunk size ${size}`)
            assert.deepStrictEqual(run.replies, expected, `chunk size ${size}`)
          }
        })
      })
    }

    it("every valid row, concatenated into one stream, whole and in every chunk size 1..60", () => {
      const stream = Uint8Array.from(valid.flatMap(([, wire]) => [...bytes(wire)]))
      const expected = valid.flatMap(([, , replies]) => replies)
      assert.deepStrictEqual(whole(stream).replies, expected)
      for (let size = 1; size <= 60; size++) {
        const run = feedChunks(bySize(stream, size))
        assert.isUndefined(run.error, `chunk size ${size}`)
        assert.strictEqual(run.replies.length, expected.length, `chunk size ${size}`)
        assert.deepStrictEqual(run.replies, expected, `chunk size ${size}`)
      }
    })

    it("any chunking of any valid row gives the same replies (property)", () => {
      fc.assert(
        fc.property(
          fc.nat({ max: valid.length - 1 }),
          fc.array(fc.nat({ max: 80 }), { minLength: 1, maxLength: 30 }),
          (index, rawSizes) => {
            const [name, wire, expected] = valid[index]!
            const sizes = rawSizes.some((s) => s > 0) ? rawSizes : [...rawSizes, 1]
            const run = feedChunks(bySizes(bytes(wire), sizes))
            assert.isUndefined(run.error, name)
            assert.deepStrictEqual(run.replies, expected, name)
            assert.deepStrictEqual(run.pending, { buffer: "", code: undefined, lines: [] }, name)
          }
        ),
        { numRuns: 300 }
      )
    })
  })

  describe("refused input", () => {
    for (const [name, wire, reason, before] of invalid) {
      const data = bytes(wire)
      it(`${name} -> ${reason}, whole, byte by byte and in every chunk size`, () => {
        const run = whole(data)
        assert.strictEqual(run.error, reason)
        assert.deepStrictEqual(run.replies, before)
        const bytewise = byteByByte(data)
        assert.strictEqual(bytewise.error?.reason, reason)
        assert.deepStrictEqual(bytewise.replies, before)
        for (let size = 1; size <= 60; size++) {
          const chunked = feedChunks(bySize(data, size))
          assert.strictEqual(chunked.error, reason, `chunk size ${size}`)
          assert.deepStrictEqual(chunked.replies, before, `chunk size ${size}`)
        }
      })
    }

    it("the error is a RemoteProtocolError with a message", () => {
      const step = ReplyParser.next(ReplyParser.feed(ReplyParser.make(), bytes("hello\r\n")))
      assert.strictEqual(step._tag, "Error")
      if (step._tag !== "Error") return
      assert.strictEqual(step.error._tag, "RemoteProtocolError")
      assert.strictEqual(step.error.reason, "MalformedLine")
      assert.include(step.error.message, '"hello"')
    })

    it("a long line is refused at its 4097th octet, before any LF arrives", () => {
      const data = bytes(line(250, " ", 5000))
      assert.strictEqual(data.indexOf(LF), -1)
      const run = byteByByte(data)
      assert.deepStrictEqual(run.error, { reason: "LineTooLong", at: 4096 })
    })

    it("4096 octets and a CR wait for the LF (the CR is half of CRLF)", () => {
      const parser = ReplyParser.feed(ReplyParser.make(), bytes(`${line(250, " ", 4096)}\r`))
      const step = ReplyParser.next(parser)
      assert.strictEqual(step._tag, "NeedMoreData")
      if (step._tag !== "NeedMoreData") return
      const done = ReplyParser.next(ReplyParser.feed(step.parser, bytes("\n")))
      assert.strictEqual(done._tag, "Reply")
    })

    it("4096 octets without LF wait for more", () => {
      assert.strictEqual(
        ReplyParser.next(ReplyParser.feed(ReplyParser.make(), bytes(line(250, " ", 4096))))._tag,
        "NeedMoreData"
      )
    })
  })

  describe("custom limits, at and just past each boundary", () => {
    const limits: ReplyParser.Limits = { maxLineLength: 10, maxReplyBytes: 30, maxLines: 3 }
    const cases: ReadonlyArray<readonly [wire: string, expected: ReadonlyArray<Expected> | RemoteProtocolErrorReason]> =
      [
        ["250 abcdef\r\n", [r(250, undefined, "abcdef")]],
        ["250 abcdefg\r\n", "LineTooLong"],
        ["250 abcdefg", "LineTooLong"],
        ["250 abcdef\r", []],
        // 3 lines, 30 octets.
        ["250-abcdef\r\n250-abcde\r\n250 a\r\n", [r(250, undefined, "abcdef", "abcde", "a")]],
        ["250-abcdef\r\n250-abcdef\r\n250 a\r\n", "ReplyTooLong"],
        // An unfinished line counts too: 24 octets of lines and 7 pending are over 30 before any line end.
        ["250-abcdef\r\n250-abcdef\r\n250 abc", "ReplyTooLong"],
        ["250-a\r\n250-b\r\n250-c\r\n250 d\r\n", "TooManyLines"],
        // The limits are per reply, not per stream.
        [
          "250-abcdef\r\n250-abcde\r\n250 a\r\n250-abcdef\r\n250-abcde\r\n250 a\r\n",
          [r(250, undefined, "abcdef", "abcde", "a"), r(250, undefined, "abcdef", "abcde", "a")]
        ]
      ]
    for (const [wire, expected] of cases) {
      it(`${JSON.stringify(wire)} -> ${typeof expected === "string" ? expected : `${expected.length} replies`}`, () => {
        const data = bytes(wire)
        const runs = [
          feedChunks([data], limits),
          ...Array.from({ length: 12 }, (_, i) => feedChunks(bySize(data, i + 1), limits))
        ]
        for (const run of runs) {
          if (typeof expected === "string") {
            assert.strictEqual(run.error, expected)
          } else {
            assert.isUndefined(run.error)
            assert.deepStrictEqual(run.replies, expected)
          }
        }
        const bytewise = byteByByte(data, limits)
        assert.strictEqual(bytewise.error?.reason, typeof expected === "string" ? expected : undefined)
      })
    }

    it("the default limits", () => {
      assert.deepStrictEqual(ReplyParser.defaultLimits, { maxLineLength: 4096, maxReplyBytes: 65536, maxLines: 1000 })
      assert.strictEqual(ReplyParser.make().limits, ReplyParser.defaultLimits)
      assert.strictEqual(ReplyParser.make(limits).limits, limits)
    })
  })

  describe("bytes after a complete reply stay in the buffer", () => {
    for (const [name, wire, expected, rest] of remainders) {
      it(`${name}`, () => {
        const step = ReplyParser.next(ReplyParser.feed(ReplyParser.make(), bytes(wire)))
        assert.strictEqual(step._tag, "Reply")
        if (step._tag !== "Reply") return
        assert.deepStrictEqual(view(step.reply), expected)
        assert.strictEqual(decoder.decode(step.parser.buffer), rest)
        assert.isTrue(ReplyParser.hasBufferedData(step.parser))
        assert.isUndefined(step.parser.code)
        assert.deepStrictEqual(step.parser.lines, [])
      })
    }
  })

  describe("drain", () => {
    const cases: ReadonlyArray<
      readonly [
        wire: string,
        expected:
          | {
              readonly replies: ReadonlyArray<Expected>
              readonly buffer: string
              readonly lines: ReadonlyArray<string>
            }
          | { readonly error: RemoteProtocolErrorReason; readonly replies: ReadonlyArray<Expected> }
      ]
    > = [
      ["", { replies: [], buffer: "", lines: [] }],
      ["25", { replies: [], buffer: "25", lines: [] }],
      ["250 a\r\n250 b\r\n", { replies: [r(250, undefined, "a"), r(250, undefined, "b")], buffer: "", lines: [] }],
      ["250 a\r\n250-b\r\n250-c\r\n25", { replies: [r(250, undefined, "a")], buffer: "25", lines: ["b", "c"] }],
      [
        "250 a\r\n251 b\r\nhello\r\n250 c\r\n",
        { error: "MalformedLine", replies: [r(250, undefined, "a"), r(251, undefined, "b")] }
      ]
    ]
    for (const [wire, expected] of cases) {
      it(`drain ${JSON.stringify(wire)}`, () => {
        const d = ReplyParser.drain(ReplyParser.feed(ReplyParser.make(), bytes(wire)))
        assert.deepStrictEqual(d.replies.map(view), expected.replies)
        if ("error" in expected) {
          assert.strictEqual(d._tag, "Error")
          if (d._tag === "Error") assert.strictEqual(d.error.reason, expected.error)
        } else {
          assert.strictEqual(d._tag, "Replies")
          if (d._tag !== "Replies") return
          assert.strictEqual(decoder.decode(d.parser.buffer), expected.buffer)
          assert.deepStrictEqual(d.parser.lines, expected.lines)
          assert.strictEqual(ReplyParser.hasBufferedData(d.parser), expected.buffer !== "" || expected.lines.length > 0)
        }
      })
    }

    it("an unfinished multiline reply resumes where it stopped", () => {
      const first = ReplyParser.drain(ReplyParser.feed(ReplyParser.make(), bytes("250-a\r\n250-b\r\n")))
      assert.strictEqual(first._tag, "Replies")
      if (first._tag !== "Replies") return
      assert.deepStrictEqual(first.replies, [])
      assert.strictEqual(first.parser.code, 250)
      assert.deepStrictEqual(first.parser.lines, ["a", "b"])
      assert.strictEqual(first.parser.replyBytes, 14)
      const second = ReplyParser.drain(ReplyParser.feed(first.parser, bytes("250 c\r\n")))
      assert.deepStrictEqual(second.replies.map(view), [r(250, undefined, "a", "b", "c")])
    })
  })

  describe("feed, reset, hasBufferedData", () => {
    it("feeding nothing changes nothing", () => {
      const parser = ReplyParser.make()
      assert.strictEqual(ReplyParser.feed(parser, new Uint8Array(0)), parser)
      assert.isFalse(ReplyParser.hasBufferedData(parser))
    })

    it("feed appends and does not mutate the previous state", () => {
      const a = ReplyParser.feed(ReplyParser.make(), bytes("250 "))
      const b = ReplyParser.feed(a, bytes("ok\r\n"))
      assert.strictEqual(decoder.decode(a.buffer), "250 ")
      assert.strictEqual(decoder.decode(b.buffer), "250 ok\r\n")
    })

    const buffered: ReadonlyArray<readonly [what: string, wire: string, drained: boolean, expected: boolean]> = [
      ["a new parser", "", false, false],
      ["a partial line", "2", false, true],
      ["a complete reply, not yet read", "250 ok\r\n", false, true],
      ["a complete reply, read", "250 ok\r\n", true, false],
      ["the lines of an unfinished reply, buffer empty", "250-a\r\n", true, true]
    ]
    for (const [what, wire, drained, expected] of buffered) {
      it(`hasBufferedData: ${what} -> ${expected}`, () => {
        const fed = ReplyParser.feed(ReplyParser.make(), bytes(wire))
        const d = ReplyParser.drain(fed)
        assert.strictEqual(d._tag, "Replies")
        if (d._tag !== "Replies") return
        const parser = drained ? d.parser : fed
        if (drained && wire === "250-a\r\n") assert.strictEqual(parser.buffer.length, 0)
        assert.strictEqual(ReplyParser.hasBufferedData(parser), expected)
      })
    }

    it("reset forgets buffered bytes and unfinished lines but keeps the limits", () => {
      const limits: ReplyParser.Limits = { maxLineLength: 100, maxReplyBytes: 1000, maxLines: 5 }
      const d = ReplyParser.drain(ReplyParser.feed(ReplyParser.make(limits), bytes("250-a\r\n250-b\r\n220 injected")))
      assert.strictEqual(d._tag, "Replies")
      if (d._tag !== "Replies") return
      assert.isTrue(ReplyParser.hasBufferedData(d.parser))
      const fresh = ReplyParser.reset(d.parser)
      assert.isFalse(ReplyParser.hasBufferedData(fresh))
      assert.deepStrictEqual(fresh, { limits, buffer: new Uint8Array(0), code: undefined, lines: [], replyBytes: 0 })
      // After a reset the next reply parses on its own (RFC 3207 §6: plaintext before TLS is dropped).
      const after = ReplyParser.drain(ReplyParser.feed(fresh, bytes("250 ok\r\n")))
      assert.deepStrictEqual(after.replies.map(view), [r(250, undefined, "ok")])
    })
  })
})
