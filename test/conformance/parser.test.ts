// Reply and EHLO parsing against stalwart smtp-proto's and aiosmtplib's parser cases (test/fixtures/), including
// legacy `AUTH=`, replies split at every byte, lines and replies over the limits, and plaintext left over before TLS.
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { Capabilities, Reply, ReplyParser } from "@rcpt/smtp"
import { fixture, report } from "./agreement.ts"

interface ExpectedReply {
  readonly code: number
  readonly enhanced: string | null
  readonly text: ReadonlyArray<string>
}

interface ExpectedEhlo {
  readonly domain?: string
  readonly size?: number
  readonly auth?: ReadonlyArray<string>
  readonly has?: ReadonlyArray<string>
  readonly hasNot?: ReadonlyArray<string>
  readonly unknown?: number
  readonly [flag: string]: unknown
}

interface Case {
  readonly case: string
  readonly wire: string
  readonly limits?: Partial<ReplyParser.Limits>
  readonly chunks?: ReadonlyArray<string>
  readonly replies?: ReadonlyArray<ExpectedReply>
  readonly ehlo?: ExpectedEhlo
  readonly ehloRefused?: boolean
  readonly error?: string
  readonly buffered?: boolean
  readonly firstOnly?: boolean
  readonly resetClears?: boolean
  /** Where rcpt differs from the suite on purpose: the suite's own expectation, and the rule that decides. */
  readonly differs?: { readonly rule: string; readonly why: string }
}

interface Suite {
  readonly suite: string
  readonly cases: ReadonlyArray<Case>
}

const encoder = new TextEncoder()
const flags = ["starttls", "pipelining", "smtpUtf8", "eightBitMime", "enhancedStatusCodes", "chunking", "dsn", "vrfy"]

// The text of each line with the enhanced code (when rcpt read one) and one space taken off, as smtp-proto gives it.
const textLines = (reply: Reply.Reply): ReadonlyArray<string> => {
  const code = Reply.enhancedCode(reply)
  return reply.lines.map((line) =>
    code !== undefined && line.startsWith(code) ? line.slice(code.length).replace(/^ /, "") : line
  )
}

const shape = (reply: Reply.Reply): ExpectedReply => ({
  code: reply.code,
  enhanced: Reply.enhancedCode(reply) ?? null,
  text: textLines(reply)
})

interface Run {
  readonly replies: ReadonlyArray<Reply.Reply>
  readonly error?: string
  readonly parser?: ReplyParser.ReplyParser
}

// Feeds the chunks one after another, taking every reply out as soon as it is whole.
const run = (
  chunks: ReadonlyArray<string>,
  limits: Partial<ReplyParser.Limits> | undefined,
  firstOnly = false
): Run => {
  let parser = ReplyParser.make({ ...ReplyParser.defaultLimits, ...limits })
  const replies: Array<Reply.Reply> = []
  for (const chunk of chunks) {
    parser = ReplyParser.feed(parser, encoder.encode(chunk))
    // With `firstOnly`, what follows the first reply is only buffered (as before a TLS handshake), never parsed.
    while (!(firstOnly && replies.length === 1)) {
      const r = ReplyParser.next(parser)
      if (r._tag === "Error") return { replies, error: r.error.reason }
      if (r._tag === "NeedMoreData") {
        parser = r.parser
        break
      }
      replies.push(r.reply)
      parser = r.parser
    }
  }
  return { replies, parser }
}

const bytes = (text: string): ReadonlyArray<string> => Array.from(text)
const every = (text: string, size: number): ReadonlyArray<string> =>
  Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size))

const checkEhlo = (reply: Reply.Reply, expected: ExpectedEhlo): void => {
  const caps = Capabilities.fromEhloReply(reply)
  if (expected.domain !== undefined) assert.strictEqual(caps.domain, expected.domain)
  if (expected.size !== undefined) assert.deepStrictEqual(caps.size, Option.some(expected.size))
  if (expected.auth !== undefined) assert.deepStrictEqual(caps.auth, expected.auth)
  if (expected.unknown !== undefined) assert.strictEqual(caps.unknown.length, expected.unknown)
  for (const flag of flags) {
    if (expected[flag] !== undefined)
      assert.strictEqual(caps[flag as keyof Capabilities.Capabilities], expected[flag], flag)
  }
  for (const keyword of expected.has ?? []) assert.isTrue(Capabilities.has(caps, keyword), keyword)
  for (const keyword of expected.hasNot ?? []) assert.isFalse(Capabilities.has(caps, keyword), keyword)
}

// One case, whole and split at every byte (and as the suite split it): the same replies, error or leftover each way.
const check = (c: Case): void => {
  const splits = [[c.wire], bytes(c.wire), ...(c.chunks === undefined ? [] : [c.chunks])]
  for (const chunks of splits) {
    const got = run(chunks, c.limits, c.firstOnly)
    if (c.error !== undefined) {
      assert.strictEqual(got.error, c.error, `${c.case} (${chunks.length} chunks)`)
      continue
    }
    assert.isUndefined(got.error, c.case)
    if (c.replies !== undefined) assert.deepStrictEqual(got.replies.map(shape), c.replies, c.case)
    if (c.ehlo !== undefined) {
      assert.strictEqual(got.replies.length, 1, c.case)
      checkEhlo(got.replies[0]!, c.ehlo)
    }
    if (c.ehloRefused === true) assert.isFalse(Reply.isPositive(got.replies[0]!), c.case)
    if (c.buffered !== undefined) assert.strictEqual(ReplyParser.hasBufferedData(got.parser!), c.buffered, c.case)
    if (c.resetClears === true) assert.isFalse(ReplyParser.hasBufferedData(ReplyParser.reset(got.parser!)), c.case)
  }
}

const suites: ReadonlyArray<Suite> = [
  fixture<Suite>("smtp-proto/parser.json"),
  fixture<Suite>("aiosmtplib/parser.json")
]

for (const suite of suites) {
  describe(`reply and EHLO parsing: ${suite.suite}`, () => {
    for (const c of suite.cases) it(c.case, () => check(c))

    it("agreement: every case but those where rcpt differs on purpose (with the RFC rule that decides)", () => {
      let agree = 0
      for (const c of suite.cases) {
        if (c.differs !== undefined) {
          assert.match(c.differs.rule, /RFC \d+/, c.case)
          continue
        }
        try {
          check(c)
          agree++
        } catch {
          // counted as a disagreement; the case's own test names it
        }
      }
      const differing = suite.cases.filter((c) => c.differs !== undefined).length
      report(suite.suite, agree, suite.cases.length, {
        agree: suite.cases.length - differing,
        total: suite.cases.length
      })
    })
  })
}

describe("reply parsing: smtp-proto's chunked stream", () => {
  it("every response row concatenated, fed in every chunk size 1..60, gives the same replies", () => {
    const rows = fixture<Suite>("smtp-proto/parser.json").cases.filter(
      (c) => c.ehlo === undefined && c.ehloRefused !== true
    )
    const stream = rows.map((c) => c.wire).join("")
    const expected = rows.flatMap((c) => c.replies ?? [])
    for (let size = 1; size <= 60; size++) {
      const got = run(every(stream, size), undefined)
      assert.isUndefined(got.error, `chunk size ${size}`)
      assert.deepStrictEqual(got.replies.map(shape), expected, `chunk size ${size}`)
    }
  })
})
