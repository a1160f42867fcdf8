/**
 * The EHLO reply (RFC 5321 §4.1.1.1), parsed once into a typed record.
 *
 * The first line is the server's name and greeting; each further line is an extension keyword
 * with optional parameters. Keywords are case-insensitive. `AUTH=LOGIN PLAIN` is the pre-RFC 2554
 * spelling some servers still send beside `AUTH LOGIN PLAIN`; both count.
 *
 * @since 0.1.0
 */
import { Option } from "effect"
import type { Reply } from "./Reply.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface Capabilities {
  /** The server's name from the first line (may be empty after HELO). */
  readonly domain: string
  readonly starttls: boolean
  readonly pipelining: boolean
  readonly smtpUtf8: boolean
  readonly eightBitMime: boolean
  readonly enhancedStatusCodes: boolean
  readonly chunking: boolean
  readonly dsn: boolean
  readonly vrfy: boolean
  /** SIZE's declared maximum; `Some(0)` means "no fixed limit". */
  readonly size: Option.Option<number>
  /** SASL mechanisms, upper-cased, without duplicates. */
  readonly auth: ReadonlyArray<string>
  /** Every other keyword, upper-cased, with its parameters as sent. */
  readonly unknown: ReadonlyArray<{ readonly keyword: string; readonly params: ReadonlyArray<string> }>
}

/**
 * What a HELO-only server offers: nothing.
 *
 * @category constants
 * @since 0.1.0
 */
export const none: Capabilities = {
  domain: "",
  starttls: false,
  pipelining: false,
  smtpUtf8: false,
  eightBitMime: false,
  enhancedStatusCodes: false,
  chunking: false,
  dsn: false,
  vrfy: false,
  size: Option.none(),
  auth: [],
  unknown: []
}

const flags = {
  STARTTLS: "starttls",
  PIPELINING: "pipelining",
  SMTPUTF8: "smtpUtf8",
  "8BITMIME": "eightBitMime",
  ENHANCEDSTATUSCODES: "enhancedStatusCodes",
  CHUNKING: "chunking",
  DSN: "dsn",
  VRFY: "vrfy"
} as const satisfies Record<string, keyof Capabilities>

const isFlag = (keyword: string): keyword is keyof typeof flags => Object.hasOwn(flags, keyword)

/**
 * Parses a positive EHLO reply.
 *
 * @category parsing
 * @since 0.1.0
 */
export const fromEhloReply = (reply: Reply): Capabilities => {
  const [first = "", ...rest] = reply.lines
  const mutable: { -readonly [K in keyof Capabilities]: Capabilities[K] } = {
    ...none,
    domain: first.trim().split(/\s+/)[0] ?? ""
  }
  const auth = new Set<string>()
  const unknown: Array<{ keyword: string; params: ReadonlyArray<string> }> = []
  for (const line of rest) {
    const words = line
      .trim()
      .split(/[\s]+/)
      .filter((w) => w.length > 0)
    const head = words[0]
    if (head === undefined) continue
    // "AUTH=LOGIN PLAIN": keyword and first mechanism joined by "=".
    const eq = head.indexOf("=")
    const keyword = (eq === -1 ? head : head.slice(0, eq)).toUpperCase()
    const params = eq === -1 ? words.slice(1) : [head.slice(eq + 1), ...words.slice(1)].filter((w) => w.length > 0)
    if (isFlag(keyword)) {
      mutable[flags[keyword]] = true
    } else if (keyword === "AUTH") {
      for (const p of params) auth.add(p.toUpperCase())
    } else if (keyword === "SIZE") {
      const n = params[0] === undefined ? 0 : Number(params[0])
      mutable.size = Number.isSafeInteger(n) && n >= 0 ? Option.some(n) : Option.some(0)
    } else {
      unknown.push({ keyword, params })
    }
  }
  mutable.auth = [...auth]
  mutable.unknown = unknown
  return mutable
}

/**
 * Whether the server offers an extension keyword, known or not.
 *
 * @category predicates
 * @since 0.1.0
 */
export const has = (capabilities: Capabilities, keyword: string): boolean => {
  const k = keyword.toUpperCase()
  if (isFlag(k)) return capabilities[flags[k]]
  if (k === "AUTH") return capabilities.auth.length > 0
  if (k === "SIZE") return Option.isSome(capabilities.size)
  return capabilities.unknown.some((u) => u.keyword === k)
}
