/**
 * An SMTP reply (RFC 5321 §4.2) with its enhanced status code (RFC 3463) when the server sent one.
 *
 * A 4xx or 5xx is a `Reply`, not an error: for a verifier "550 no such user" is the answer.
 *
 * @since 0.1.0
 */
import { Option } from "effect"

/**
 * RFC 3463 `class.subject.detail`, e.g. 5.1.1.
 *
 * @category models
 * @since 0.1.0
 */
export interface EnhancedStatus {
  readonly class: 2 | 4 | 5
  readonly subject: number
  readonly detail: number
}

/**
 * A complete reply: one code, one or more lines of text (the part after `250-` / `250 `).
 *
 * @category models
 * @since 0.1.0
 */
export interface Reply {
  readonly code: number
  readonly enhanced: Option.Option<EnhancedStatus>
  readonly lines: ReadonlyArray<string>
}

/**
 * The first digit of the code (RFC 5321 §4.2.1).
 *
 * @category models
 * @since 0.1.0
 */
export type Severity = "PositiveCompletion" | "PositiveIntermediate" | "TransientNegative" | "PermanentNegative"

// RFC 3463 §2: class is 2, 4 or 5; subject and detail are 1-3 digits without leading zeros, the
// detail followed by a space or the end: `^([245])\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})(?= |$)`, read
// from the characters (no match array, no substrings: this runs for every reply of a bulk run).

/** Where the number {@link numberAt} read last ends. */
let numberEnd = 0

/** `0` or `[1-9]\d{0,2}` at `at` (as many digits as there are, up to 3), or -1. */
const numberAt = (text: string, at: number): number => {
  const first = text.charCodeAt(at) - 48
  if (!(first >= 0 && first <= 9)) return -1
  let value = first
  let i = at + 1
  // A leading 0 is the whole number; a digit after it makes the code invalid (the caller sees it).
  if (first !== 0) {
    for (; i < at + 3; i++) {
      const d = text.charCodeAt(i) - 48
      if (!(d >= 0 && d <= 9)) break
      value = value * 10 + d
    }
  }
  numberEnd = i
  return value
}

// A list's replies share a few codes: each code's `Option` and text are made once and shared
// (values are never changed), by this key (subject and detail have at most 3 digits).
const codeKey = (cls: number, subject: number, detail: number): number => cls * 1_000_000 + subject * 1000 + detail
const statuses = new Map<number, Option.Option<EnhancedStatus>>()
const enhancedTexts = new Map<number, string>()

/**
 * Reads an enhanced status code at the start of a reply line's text.
 *
 * @category parsing
 * @since 0.1.0
 */
export const parseEnhanced = (text: string): Option.Option<EnhancedStatus> => {
  const c = text.charCodeAt(0)
  if ((c !== 50 && c !== 52 && c !== 53) || text.charCodeAt(1) !== 46) return Option.none()
  const subject = numberAt(text, 2)
  if (subject < 0 || text.charCodeAt(numberEnd) !== 46) return Option.none()
  const detail = numberAt(text, numberEnd + 1)
  if (detail < 0 || (numberEnd < text.length && text.charCodeAt(numberEnd) !== 32)) return Option.none()
  const key = codeKey(c - 48, subject, detail)
  let status = statuses.get(key)
  if (status === undefined) {
    status = Option.some({ class: (c - 48) as 2 | 4 | 5, subject, detail })
    if (statuses.size < 4096) statuses.set(key, status)
  }
  return status
}

/**
 * Builds a reply; the enhanced code is read from the first line when its class matches the code's.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (code: number, lines: ReadonlyArray<string>): Reply => {
  const first = lines[0] ?? ""
  // Once per reply: a line that cannot start with one (most of a greeting's or EHLO's) is not matched.
  const parsed = first.length >= 5 && first.charCodeAt(1) === 46 ? parseEnhanced(first) : Option.none()
  // "250 2.1.5 Ok" carries one; "550 2.0.0" would be a lie, so the text keeps it.
  const enhanced = Option.isSome(parsed) && parsed.value.class === Math.floor(code / 100) ? parsed : Option.none()
  return { code, enhanced, lines }
}

/**
 * @category getters
 * @since 0.1.0
 */
export const severity = (reply: Reply): Severity => {
  switch (Math.floor(reply.code / 100)) {
    case 2:
      return "PositiveCompletion"
    case 3:
      return "PositiveIntermediate"
    case 4:
      return "TransientNegative"
    default:
      return "PermanentNegative"
  }
}

/**
 * 2xx.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isPositive = (reply: Reply): boolean => reply.code >= 200 && reply.code < 300

/**
 * 4xx: the same command may succeed later.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isTransient = (reply: Reply): boolean => reply.code >= 400 && reply.code < 500

/**
 * 5xx.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isPermanent = (reply: Reply): boolean => reply.code >= 500

/**
 * `5.1.1`, or undefined when the server sent none.
 *
 * @category getters
 * @since 0.1.0
 */
export const enhancedCode = (reply: Reply): string | undefined => {
  if (Option.isNone(reply.enhanced)) return undefined
  const e = reply.enhanced.value
  // Read several times per reply (its text, its outcome, its evidence): each code's text is made
  // once. A status made by hand may be outside what the key can tell apart: not kept then.
  const parsed = Number.isInteger(e.subject) && Number.isInteger(e.detail) && e.subject < 1000 && e.detail < 1000
  const key = codeKey(e.class, e.subject, e.detail)
  let code = parsed ? enhancedTexts.get(key) : undefined
  if (code === undefined) {
    code = `${e.class}.${e.subject}.${e.detail}`
    if (parsed && enhancedTexts.size < 4096) enhancedTexts.set(key, code)
  }
  return code
}

/**
 * The human text: lines joined by a space, the enhanced code taken off each line.
 *
 * @category getters
 * @since 0.1.0
 */
export const text = (reply: Reply): string => {
  const code = enhancedCode(reply)
  if (reply.lines.length === 1) {
    const line = reply.lines[0]!
    return (code !== undefined && line.startsWith(code) ? line.slice(code.length) : line).trim()
  }
  return reply.lines
    .map((line) => (code !== undefined && line.startsWith(code) ? line.slice(code.length).trimStart() : line))
    .join(" ")
    .trim()
}

/**
 * The reply as it was on the wire, without the final CRLF: `250-a\n250 b`.
 *
 * @category formatting
 * @since 0.1.0
 */
export const format = (reply: Reply): string =>
  reply.lines.length === 1
    ? `${reply.code} ${reply.lines[0]}`
    : reply.lines.map((line, i) => `${reply.code}${i === reply.lines.length - 1 ? " " : "-"}${line}`).join("\n")
