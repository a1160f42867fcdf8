/**
 * A resumable parser from bytes to `Reply` values with hard size limits.
 *
 * Bytes go in with `feed`, replies come out of `next` one at a time; whatever follows a complete
 * reply stays in the parser for the next call, so pipelined replies arriving in one packet, or a
 * reply split over a hundred packets, come out the same. Memory stays bounded whatever the server
 * sends: a line longer than `maxLineLength`, a reply longer than `maxReplyBytes` or with more than
 * `maxLines` lines is a `RemoteProtocolError`.
 *
 * @since 0.1.0
 */
import { RemoteProtocolError } from "./ProtocolError.ts"
import * as Reply from "./Reply.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface Limits {
  /** Octets in one line, CRLF excluded. RFC 5321 §4.5.3.1.5 says 512; real servers send more. */
  readonly maxLineLength: number
  /** Octets in one reply, all lines together. */
  readonly maxReplyBytes: number
  readonly maxLines: number
}

/**
 * @category constants
 * @since 0.1.0
 */
export const defaultLimits: Limits = { maxLineLength: 4096, maxReplyBytes: 64 * 1024, maxLines: 1000 }

/**
 * The parser's whole state: unread bytes and the lines of a reply not yet complete.
 *
 * @category models
 * @since 0.1.0
 */
export interface ReplyParser {
  readonly limits: Limits
  readonly buffer: Uint8Array
  readonly code: number | undefined
  readonly lines: ReadonlyArray<string>
  readonly replyBytes: number
}

/**
 * What `next` found.
 *
 * @category models
 * @since 0.1.0
 */
export type ParseResult =
  | { readonly _tag: "Reply"; readonly reply: Reply.Reply; readonly parser: ReplyParser }
  | { readonly _tag: "NeedMoreData"; readonly parser: ReplyParser }
  | { readonly _tag: "Error"; readonly error: RemoteProtocolError }

/**
 * @category constructors
 * @since 0.1.0
 */
export const make = (limits: Limits = defaultLimits): ReplyParser => ({
  limits,
  buffer: new Uint8Array(0),
  code: undefined,
  lines: [],
  replyBytes: 0
})

/**
 * Appends bytes. Never fails: limits are checked by `next`.
 *
 * @category operations
 * @since 0.1.0
 */
export const feed = (parser: ReplyParser, bytes: Uint8Array): ReplyParser => {
  if (bytes.length === 0) return parser
  const buffer = new Uint8Array(parser.buffer.length + bytes.length)
  buffer.set(parser.buffer, 0)
  buffer.set(bytes, parser.buffer.length)
  return { ...parser, buffer }
}

/**
 * Forgets everything buffered, e.g. the plaintext that arrived before a TLS handshake (RFC 3207 §6).
 *
 * @category operations
 * @since 0.1.0
 */
export const reset = (parser: ReplyParser): ReplyParser => make(parser.limits)

/**
 * Whether bytes are waiting that do not yet form a reply.
 *
 * @category getters
 * @since 0.1.0
 */
export const hasBufferedData = (parser: ReplyParser): boolean => parser.buffer.length > 0 || parser.lines.length > 0

const LF = 10
const CR = 13
const SP = 32
const HYPHEN = 45
const decoder = new TextDecoder("utf-8", { fatal: false })
// A line's text after its code: a byte order mark there is text (the line's own decoder only drops one at its start).
const textDecoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true })
const noLines: ReadonlyArray<string> = []

const isDigit = (b: number | undefined, low = 48): boolean => b !== undefined && b >= low && b <= 57

/**
 * Where the reply code of a line of `end` octets starts (after a byte order mark, which a line
 * decoded as a whole would have lost), or -1 if the line does not start with one: `[2-5]\d\d`
 * followed by a space, a hyphen or the end of the line. Read from the bytes: no string, no match.
 */
const codeAt = (buffer: Uint8Array, end: number): number => {
  const at = end >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0
  if (!isDigit(buffer[at], 50) || buffer[at]! > 53 || !isDigit(buffer[at + 1]) || !isDigit(buffer[at + 2])) return -1
  if (at + 3 > end) return -1
  const separator = at + 3 === end ? undefined : buffer[at + 3]
  return separator === undefined || separator === SP || separator === HYPHEN ? at : -1
}

const fail = (reason: RemoteProtocolError["reason"], message: string): ParseResult => ({
  _tag: "Error",
  error: new RemoteProtocolError({ reason, message })
})

// `length` octets of the current line are in (its CRLF not counted). The line limit and the reply limit are crossed
// at fixed lengths, so whichever comes first is the error, however the bytes were split: a server that never ends its
// line is stopped by the reply limit when that is the lower one (aiosmtplib's MAX_RESPONSE_LENGTH case).
const overLimit = (state: ReplyParser, length: number): ParseResult | undefined => {
  const lineAt = state.limits.maxLineLength + 1
  const replyAt = state.limits.maxReplyBytes - state.replyBytes + 1
  if (length < Math.min(lineAt, replyAt)) return undefined
  return lineAt <= replyAt
    ? fail("LineTooLong", `a reply line exceeds ${state.limits.maxLineLength} octets`)
    : fail("ReplyTooLong", `a reply exceeds ${state.limits.maxReplyBytes} octets`)
}

/**
 * Takes the next complete reply out of the buffer, if there is one.
 *
 * @category operations
 * @since 0.1.0
 */
export const next = (parser: ReplyParser): ParseResult => {
  let state = parser
  for (;;) {
    const lf = state.buffer.indexOf(LF)
    if (lf === -1) {
      // A trailing CR may be the first half of the CRLF ending a line of exactly maxLineLength octets.
      const pending = state.buffer.length - (state.buffer[state.buffer.length - 1] === CR ? 1 : 0)
      const over = overLimit(state, pending)
      if (over !== undefined) return over
      return { _tag: "NeedMoreData", parser: state }
    }
    // Servers end lines with CRLF; a bare LF is tolerated, never required.
    const end = lf > 0 && state.buffer[lf - 1] === CR ? lf - 1 : lf
    const over = overLimit(state, end)
    if (over !== undefined) return over
    const buffer = state.buffer
    const at = codeAt(buffer, end)
    if (at === -1) {
      const line = decoder.decode(buffer.subarray(0, end))
      return fail("MalformedLine", `not a reply line: ${JSON.stringify(line.slice(0, 80))}`)
    }
    const code = (buffer[at]! - 48) * 100 + (buffer[at + 1]! - 48) * 10 + (buffer[at + 2]! - 48)
    const rest = buffer.subarray(lf + 1)
    if (state.code !== undefined && state.code !== code) {
      return fail("MixedCodes", `a multiline reply mixes codes ${state.code} and ${code}`)
    }
    const replyBytes = state.replyBytes + lf + 1
    if (replyBytes > state.limits.maxReplyBytes) {
      return fail("ReplyTooLong", `a reply exceeds ${state.limits.maxReplyBytes} octets`)
    }
    if (state.lines.length + 1 > state.limits.maxLines) {
      return fail("TooManyLines", `a reply exceeds ${state.limits.maxLines} lines`)
    }
    const text = at + 4 <= end ? textDecoder.decode(buffer.subarray(at + 4, end)) : ""
    const lines = state.lines.length === 0 ? [text] : [...state.lines, text]
    if (buffer[at + 3] !== HYPHEN || at + 3 === end) {
      return {
        _tag: "Reply",
        reply: Reply.make(code, lines),
        parser: { limits: state.limits, buffer: rest, code: undefined, lines: noLines, replyBytes: 0 }
      }
    }
    state = { limits: state.limits, buffer: rest, code, lines, replyBytes }
  }
}

/**
 * Every complete reply in the buffer, in order.
 *
 * @category operations
 * @since 0.1.0
 */
export const drain = (
  parser: ReplyParser
):
  | { readonly _tag: "Replies"; readonly replies: ReadonlyArray<Reply.Reply>; readonly parser: ReplyParser }
  | { readonly _tag: "Error"; readonly error: RemoteProtocolError; readonly replies: ReadonlyArray<Reply.Reply> } => {
  const replies: Array<Reply.Reply> = []
  let state = parser
  for (;;) {
    const r = next(state)
    if (r._tag === "Error") return { _tag: "Error", error: r.error, replies }
    if (r._tag === "NeedMoreData") return { _tag: "Replies", replies, parser: r.parser }
    replies.push(r.reply)
    state = r.parser
  }
}
