import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import * as fc from "fast-check"
import * as Reply from "../src/Reply.ts"

const status = (c: 2 | 4 | 5, subject: number, detail: number): Reply.EnhancedStatus => ({ class: c, subject, detail })

describe("Reply", () => {
  describe("parseEnhanced", () => {
    const cases: ReadonlyArray<readonly [text: string, expected: Reply.EnhancedStatus | undefined]> = [
      ["2.1.5 Ok", status(2, 1, 5)],
      ["2.1.5", status(2, 1, 5)],
      ["5.1.1 <x@d>: Recipient address rejected", status(5, 1, 1)],
      ["4.7.1 Please try again later", status(4, 7, 1)],
      ["5.1.10 Recipient address has null MX", status(5, 1, 10)],
      ["5.7.606 Access denied", status(5, 7, 606)],
      ["5.999.999 x", status(5, 999, 999)],
      ["5.0.0 x", status(5, 0, 0)],
      ["4.5.3  two spaces", status(4, 5, 3)],
      // Not enhanced codes.
      ["", undefined],
      ["Ok", undefined],
      ["2address.org", undefined],
      ["3.1.1 class 3 does not exist", undefined],
      ["1.1.1 x", undefined],
      ["6.0.0 x", undefined],
      ["5.01.1 leading zero in subject", undefined],
      ["5.1.01 leading zero in detail", undefined],
      ["5.1000.1 four-digit subject", undefined],
      ["5.7.1000 four-digit detail", undefined],
      ["5.1.1x", undefined],
      ["5.1.1.2 x", undefined],
      ["5.1.1: x", undefined],
      ["5.1.1\tx", undefined],
      [" 5.1.1 leading space", undefined],
      ["5.1 x", undefined],
      ["5..1 x", undefined],
      ["x 5.1.1", undefined]
    ]
    for (const [text, expected] of cases) {
      it(`${JSON.stringify(text)} -> ${expected === undefined ? "none" : `${expected.class}.${expected.subject}.${expected.detail}`}`, () => {
        assert.deepStrictEqual(Reply.parseEnhanced(text), Option.fromUndefinedOr(expected))
      })
    }
    // The grammar as a regular expression (what parseEnhanced ran before it read the characters itself).
    const pattern = /^([245])\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})(?= |$)/
    it("reads what the RFC 3463 pattern matches, on any text of digits, dots and blanks", () => {
      fc.assert(
        fc.property(
          fc
            .tuple(
              fc.constantFrom("2", "4", "5", "3", "x", ""),
              fc.constantFrom(".", "", ".."),
              fc.constantFrom("0", "1", "01", "10", "999", "1000", ""),
              fc.constantFrom(".", "", " "),
              fc.constantFrom("0", "1", "01", "10", "606", "999", "1000", ""),
              fc.constantFrom("", " ", "  x", "x", ".", "\t", ":")
            )
            .map((parts) => parts.join("")),
          (text) => {
            const m = pattern.exec(text)
            const want = m === null ? undefined : status(Number(m[1]) as 2 | 4 | 5, Number(m[2]), Number(m[3]))
            assert.deepStrictEqual(Reply.parseEnhanced(text), Option.fromUndefinedOr(want))
          }
        ),
        { numRuns: 20_000 }
      )
    })
  })

  describe("make", () => {
    const cases: ReadonlyArray<
      readonly [code: number, lines: ReadonlyArray<string>, enhanced: Reply.EnhancedStatus | undefined]
    > = [
      [250, ["2.1.5 Ok"], status(2, 1, 5)],
      [550, ["5.1.1 a", "5.1.1 b"], status(5, 1, 1)],
      [451, ["4.7.1 Please try again later"], status(4, 7, 1)],
      // The class must agree with the code's first digit.
      [550, ["2.0.0 x"], undefined],
      [250, ["5.1.1 x"], undefined],
      [450, ["5.7.1 x"], undefined],
      [354, ["2.0.0 go ahead"], undefined],
      // Only the first line is read.
      [550, ["mx.example.com", "5.1.1 second line"], undefined],
      [250, ["2address.org"], undefined],
      [250, [""], undefined],
      [250, [], undefined]
    ]
    for (const [code, lines, enhanced] of cases) {
      it(`${code} ${JSON.stringify(lines)}`, () => {
        const reply = Reply.make(code, lines)
        assert.strictEqual(reply.code, code)
        assert.deepStrictEqual(reply.lines, lines)
        assert.deepStrictEqual(reply.enhanced, Option.fromUndefinedOr(enhanced))
      })
    }
  })

  describe("severity and predicates", () => {
    const cases: ReadonlyArray<
      readonly [code: number, severity: Reply.Severity, positive: boolean, transient: boolean, permanent: boolean]
    > = [
      [200, "PositiveCompletion", true, false, false],
      [220, "PositiveCompletion", true, false, false],
      [250, "PositiveCompletion", true, false, false],
      [252, "PositiveCompletion", true, false, false],
      [299, "PositiveCompletion", true, false, false],
      [334, "PositiveIntermediate", false, false, false],
      [354, "PositiveIntermediate", false, false, false],
      [399, "PositiveIntermediate", false, false, false],
      [400, "TransientNegative", false, true, false],
      [421, "TransientNegative", false, true, false],
      [450, "TransientNegative", false, true, false],
      [499, "TransientNegative", false, true, false],
      [500, "PermanentNegative", false, false, true],
      [550, "PermanentNegative", false, false, true],
      [554, "PermanentNegative", false, false, true],
      [599, "PermanentNegative", false, false, true]
    ]
    for (const [code, severity, positive, transient, permanent] of cases) {
      it(`${code} -> ${severity}`, () => {
        const reply = Reply.make(code, ["x"])
        assert.strictEqual(Reply.severity(reply), severity)
        assert.strictEqual(Reply.isPositive(reply), positive)
        assert.strictEqual(Reply.isTransient(reply), transient)
        assert.strictEqual(Reply.isPermanent(reply), permanent)
      })
    }
  })

  describe("enhancedCode, text, format", () => {
    const cases: ReadonlyArray<
      readonly [code: number, lines: ReadonlyArray<string>, enhanced: string | undefined, text: string, format: string]
    > = [
      [250, ["2.1.5 Ok"], "2.1.5", "Ok", "250 2.1.5 Ok"],
      [250, ["2.1.5"], "2.1.5", "", "250 2.1.5"],
      [250, ["Accepted"], undefined, "Accepted", "250 Accepted"],
      [250, [""], undefined, "", "250 "],
      [250, [], undefined, "", ""],
      [
        556,
        ["5.1.10 Recipient address has null MX"],
        "5.1.10",
        "Recipient address has null MX",
        "556 5.1.10 Recipient address has null MX"
      ],
      [
        550,
        [
          "5.1.1 The email account that you tried to reach does not exist. Please try",
          "5.1.1 double-checking the recipient's email address for typos or",
          "5.1.1  https://support.google.com/mail/?p=NoSuchUser"
        ],
        "5.1.1",
        "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or https://support.google.com/mail/?p=NoSuchUser",
        "550-5.1.1 The email account that you tried to reach does not exist. Please try\n" +
          "550-5.1.1 double-checking the recipient's email address for typos or\n" +
          "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser"
      ],
      // Continuation lines without the code keep their text.
      [
        550,
        ["5.7.1 Service unavailable;", "blocked using zen.spamhaus.org"],
        "5.7.1",
        "Service unavailable; blocked using zen.spamhaus.org",
        "550-5.7.1 Service unavailable;\n550 blocked using zen.spamhaus.org"
      ],
      // A code of the wrong class is text.
      [550, ["2.0.0 x"], undefined, "2.0.0 x", "550 2.0.0 x"],
      [250, ["2address.org"], undefined, "2address.org", "250 2address.org"],
      [
        250,
        ["mx.example.com", "PIPELINING", "SIZE 10240000"],
        undefined,
        "mx.example.com PIPELINING SIZE 10240000",
        "250-mx.example.com\n250-PIPELINING\n250 SIZE 10240000"
      ],
      [250, ["  padded  "], undefined, "padded", "250   padded  "]
    ]
    for (const [code, lines, enhanced, text, format] of cases) {
      it(`${code} ${JSON.stringify(lines)}`, () => {
        const reply = Reply.make(code, lines)
        assert.strictEqual(Reply.enhancedCode(reply), enhanced)
        assert.strictEqual(Reply.text(reply), text)
        assert.strictEqual(Reply.format(reply), format)
      })
    }

    // Codes made by hand, past what the parser reads (3 digits), are written out as they are.
    const byHand: ReadonlyArray<readonly [Reply.EnhancedStatus, string]> = [
      [{ class: 5, subject: 1000, detail: 0 }, "5.1000.0"],
      [{ class: 5, subject: 0, detail: 1_000_000 }, "5.0.1000000"],
      [{ class: 4, subject: 999, detail: 999 }, "4.999.999"],
      [{ class: 2, subject: 1.5, detail: 0 }, "2.1.5.0"]
    ]
    for (const [status, text] of byHand) {
      it(`enhancedCode of ${text}, twice`, () => {
        const reply: Reply.Reply = { code: 550, enhanced: Option.some(status), lines: ["x"] }
        assert.strictEqual(Reply.enhancedCode(reply), text)
        assert.strictEqual(Reply.enhancedCode(reply), text)
      })
    }
  })
})
