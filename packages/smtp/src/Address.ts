/**
 * RFC 5321 mailbox parsing for the `MAIL FROM` / `RCPT TO` paths, with IDN (UTS #46)
 * and SMTPUTF8 (RFC 6531) awareness.
 *
 * The parser is strict on purpose: an accepted address is written verbatim between
 * `<` and `>` in an SMTP command, so anything that could break out of that path
 * (control characters, line breaks, angle brackets, unbalanced quotes) is refused,
 * with the position of the offending character. Domains are normalised to the
 * lower-case A-label form that goes on the wire.
 *
 * Non-ASCII text (RFC 6531) must also look like what it is, since an address is shown in logs,
 * tables and CSV files: a local part is refused when it holds an invisible character (format
 * characters such as U+200B ZERO WIDTH SPACE, other default-ignorable code points, non-ASCII
 * spaces), a bidi override or isolate (U+202A-U+202E, U+2066-U+2069), a private-use, unassigned
 * or non-character code point, a combining mark with nothing of its own to attach to (first, or
 * after a dot), or when it is not in Unicode NFC (`me.\u037E` becomes `me.;` under NFC). Each has
 * its own reason. A domain goes through UTS #46, which maps case and width and silently drops
 * default-ignorable code points (U+200B, U+00AD SOFT HYPHEN, U+2060, U+FEFF, variation
 * selectors...): `exa\u200Bmple.com` would become `example.com`. Such input is refused as
 * `InvisibleCharacter` rather than verified under a name the user cannot see; ZWNJ and ZWJ are
 * left to UTS #46's joiner rules (they are kept, not dropped, where IDNA 2008 allows them).
 *
 * @since 0.1.0
 */
// Pulls the tr46 typings into any program that type-checks this file, not only this package's.
// oxlint-disable-next-line typescript/triple-slash-reference
/// <reference path="./internal/tr46.d.ts" />
import { Data, Result } from "effect"
import { toASCII, toUnicode } from "tr46"

/**
 * A domain as it goes on the wire: a DNS name (A-label form plus a U-label form for
 * display) or an address literal.
 *
 * @category models
 * @since 0.1.0
 */
export type Domain =
  | { readonly _tag: "DomainName"; readonly ascii: string; readonly unicode: string }
  | {
      readonly _tag: "AddressLiteral"
      readonly family: "IPv4" | "IPv6"
      readonly ip: string
      readonly text: string
    }

/**
 * A validated mailbox. `address` is the exact text to put between `<` and `>`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Mailbox {
  /** As written: a quoted local part keeps its quotes and backslashes. */
  readonly localPart: string
  readonly domain: Domain
  /** The local part has non-ASCII text (RFC 6531). An IDN domain alone does not count: it goes out as an A-label. */
  readonly needsSmtpUtf8: boolean
  /** Wire form: `localPart@` followed by the A-label domain or the literal text. */
  readonly address: string
}

/**
 * Why an input was refused.
 *
 * @category errors
 * @since 0.1.0
 */
export type AddressErrorReason =
  | "Empty"
  | "ForbiddenCharacter"
  | "MissingAt"
  | "EmptyLocalPart"
  | "LocalPartTooLong"
  | "InvalidLocalPart"
  | "UnterminatedQuote"
  | "EmptyDomain"
  | "DomainTooLong"
  | "LabelTooLong"
  | "InvalidDomain"
  | "InvalidAddressLiteral"
  | "AddressTooLong"
  | "InvisibleCharacter"
  | "BidiControl"
  | "PrivateUseCharacter"
  | "UnassignedCharacter"
  | "LeadingCombiningMark"
  | "NotNormalized"

/**
 * An address or domain that cannot be used. `position` is the 0-based index (a
 * JavaScript string index) in `input` of the offending character, when there is one.
 *
 * @category errors
 * @since 0.1.0
 */
export class AddressError extends Data.TaggedError("AddressError")<{
  readonly reason: AddressErrorReason
  readonly input: string
  readonly position?: number
  readonly message: string
}> {}

// The UTS #46 profile for host names: non-transitional, STD3 (LDH only), with the bidi,
// joiner and hyphen checks of IDNA 2008.
const IDNA = {
  checkBidi: true,
  checkHyphens: true,
  checkJoiners: true,
  useSTD3ASCIIRules: true,
  transitionalProcessing: false
} as const
const STRICT = { ...IDNA, verifyDNSLength: true } as const
// Used only to explain a strict refusal: without the length and hyphen checks tr46 still
// yields the A-label form, in which `checkShape` can name the exact rule that failed.
const DIAGNOSE = { ...IDNA, checkHyphens: false, verifyDNSLength: false } as const

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]$/
// ATEXT for each ASCII code, read once per character of every local part parsed (a regex test per
// character was most of a bulk run's parsing).
const isAtext: ReadonlyArray<boolean> = Array.from({ length: 0x80 }, (_, c) => ATEXT.test(String.fromCharCode(c)))
const LDH_OR_DOT = /^[A-Za-z0-9.-]$/
const LDH_STR = /^[A-Za-z0-9-]*[A-Za-z0-9]$/
const NON_ASCII = /[\u0080-\uffff]/
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/
// No leading zeros: "010" reads as octal to inet_aton, so the literal would be ambiguous.
const OCTET = /^(?:0|[1-9][0-9]{0,2})$/
const ESCAPES: Record<number, string> = { 0: "\\0", 9: "\\t", 10: "\\n", 13: "\\r" }
const ANGLE_HINT = " (angle brackets belong to the SMTP command, not to the address)"

// Unicode classes the local part and the domain are checked against (general categories and
// binary properties, as Node's ICU knows them).
const BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/
const IGNORABLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Z}]/u
const JOINER = /[\u200C\u200D]/
const PRIVATE_USE = /\p{Co}/u
const UNASSIGNED = /\p{Cn}/u
const NONCHARACTER = /\p{Noncharacter_Code_Point}/u
const MARK = /\p{M}/u

// UTF-8 length, counted: TextEncoder would build the bytes only to measure them (once per address
// parsed, hot in bulk). A lone surrogate never gets here (`findForbidden`); it would count 3, as
// TextEncoder's U+FFFD does.
const octets = (text: string): number => {
  let n = text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) n += 1
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A pair: two UTF-16 units, four octets.
      n += 2
      i++
    } else n += 2
  }
  return n
}

// The mailboxes `parse` made: their `address` is known to be well-formed, so `Command.rcptTo`
// need not parse it again for every RCPT. A mailbox built by hand (or copied) is checked as a path.
const parsed = new WeakSet<Mailbox>()

/**
 * Whether `parse` made this mailbox (and its `address` is therefore a valid path).
 *
 * @internal
 */
export const wasParsed = (mailbox: Mailbox): boolean => parsed.has(mailbox)

const error = (input: string, reason: AddressErrorReason, message: string, position?: number): AddressError =>
  position === undefined
    ? new AddressError({ reason, input, message })
    : new AddressError({ reason, input, message: `${message} at position ${position}`, position })

const fail = (input: string, reason: AddressErrorReason, message: string, position?: number) =>
  Result.fail(error(input, reason, message, position))

// C0, DEL, C1 (NEL is a line break to some software), U+2028/U+2029 (line breaks to
// others) and lone surrogates (they have no UTF-8 encoding) never belong in an address.
const isInvisible = (c: number): boolean =>
  c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || (c >= 0xd800 && c <= 0xdfff)

const show = (input: string, i: number): string => {
  const c = input.codePointAt(i)!
  return `"${isInvisible(c) ? (ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, "0")}`) : String.fromCodePoint(c)}"`
}

const badCharacter = (input: string, i: number, where: string): string =>
  `bad character ${show(input, i)}${where}${input[i] === "<" || input[i] === ">" ? ANGLE_HINT : ""}`

const findForbidden = (input: string): number => {
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = input.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++
        continue
      }
      return i
    }
    if (isInvisible(c)) return i
  }
  return -1
}

// The last "@" outside a quoted string; `quote` is the start of a quote left open.
const findAt = (input: string): { readonly at: number; readonly quote: number } => {
  let at = -1
  let quote = -1
  for (let i = 0; i < input.length; i++) {
    const c = input[i]
    if (quote >= 0) {
      if (c === "\\") i++
      else if (c === '"') quote = -1
    } else if (c === '"') quote = i
    else if (c === "@") at = i
  }
  return { at, quote }
}

const codePointName = (c: number): string => `U+${c.toString(16).toUpperCase().padStart(4, "0")}`

// What makes a non-ASCII code point of a local part unsafe to show, if anything. `first` is true
// when nothing of the address's own precedes it to combine with (start of the text, or a dot).
const unsafeInLocalPart = (
  ch: string,
  first: boolean
): { readonly reason: AddressErrorReason; readonly what: string } | undefined => {
  if (BIDI_CONTROL.test(ch)) return { reason: "BidiControl", what: "bidi control" }
  if (IGNORABLE.test(ch)) return { reason: "InvisibleCharacter", what: "invisible or blank character" }
  if (PRIVATE_USE.test(ch)) return { reason: "PrivateUseCharacter", what: "private-use character" }
  if (UNASSIGNED.test(ch)) {
    const what = NONCHARACTER.test(ch) ? "non-character" : "unassigned code point"
    return { reason: "UnassignedCharacter", what }
  }
  if (first && MARK.test(ch)) return { reason: "LeadingCombiningMark", what: "combining mark with no base character" }
  return undefined
}

// Non-ASCII text of the local part: every code point must be visible, assigned and public, and
// the whole in NFC, so what is shown is what is sent.
const checkUnicode = (input: string, local: string): AddressError | undefined => {
  if (!NON_ASCII.test(local)) return undefined
  const start = local.startsWith('"') ? 1 : 0
  for (let i = start; i < local.length; i++) {
    const c = local.codePointAt(i)!
    if (c < 0x80) continue
    const ch = String.fromCodePoint(c)
    const unsafe = unsafeInLocalPart(ch, i === start || local[i - 1] === ".")
    if (unsafe !== undefined) {
      return error(input, unsafe.reason, `${unsafe.what} ${codePointName(c)} in the local part`, i)
    }
    if (c > 0xffff) i++
  }
  const nfc = local.normalize("NFC")
  if (nfc === local) return undefined
  let i = 0
  while (nfc[i] === local[i]) i++
  return error(
    input,
    "NotNormalized",
    `the local part is not in Unicode NFC (NFC would write it ${JSON.stringify(nfc)})`,
    i
  )
}

// UTS #46 drops default-ignorable code points from a domain without a word; the name verified
// would not be the name shown. ZWNJ/ZWJ are kept where IDNA 2008's joiner rules allow them.
const checkDomainUnicode = (input: string, start: number): AddressError | undefined => {
  for (let i = start; i < input.length; i++) {
    const c = input.codePointAt(i)!
    if (c < 0x80) continue
    const ch = String.fromCodePoint(c)
    if (BIDI_CONTROL.test(ch)) {
      return error(input, "BidiControl", `bidi control ${codePointName(c)} in the domain`, i)
    }
    if (IGNORABLE.test(ch) && !JOINER.test(ch)) {
      const message = `invisible or blank character ${codePointName(c)} in the domain (UTS #46 would drop or refuse it)`
      return error(input, "InvisibleCharacter", message, i)
    }
    if (c > 0xffff) i++
  }
  return undefined
}

const checkDotAtom = (input: string, local: string): AddressError | undefined => {
  for (let i = 0; i < local.length; i++) {
    if (local[i] === ".") {
      if (i === 0) return error(input, "InvalidLocalPart", "the local part starts with a dot", i)
      if (i === local.length - 1) return error(input, "InvalidLocalPart", "the local part ends with a dot", i)
      if (local[i - 1] === ".") return error(input, "InvalidLocalPart", "the local part has two dots in a row", i)
    } else if (local.charCodeAt(i) < 0x80 && !isAtext[local.charCodeAt(i)]) {
      return error(input, "InvalidLocalPart", badCharacter(input, i, " in the local part"), i)
    }
  }
  return undefined
}

// `findAt` guarantees the opening quote closes before the "@" with the same escape rules,
// so only the interior needs a look: an inner unescaped quote means text follows the string.
const checkQuoted = (input: string, local: string): AddressError | undefined => {
  for (let i = 1; i < local.length - 1; i++) {
    if (local[i] === "\\") {
      // quoted-pairSMTP escapes printable ASCII only; RFC 6531 allows UTF-8 in qtext, not here.
      if (local.charCodeAt(++i) > 0x7e) {
        return error(input, "InvalidLocalPart", `${show(input, i)} cannot be escaped with a backslash`, i)
      }
    } else if (local[i] === '"') {
      return error(input, "InvalidLocalPart", "unexpected text after the quoted local part", i + 1)
    }
  }
  return undefined
}

const checkLocalPart = (input: string, local: string): AddressError | undefined => {
  if (local.length === 0) return error(input, "EmptyLocalPart", 'the local part before "@" is empty', 0)
  const invalid =
    (local.startsWith('"') ? checkQuoted(input, local) : checkDotAtom(input, local)) ?? checkUnicode(input, local)
  if (invalid !== undefined) return invalid
  const size = octets(local)
  return size > 64 ? error(input, "LocalPartTooLong", `local part is ${size} octets, the limit is 64`) : undefined
}

const isIPv4 = (text: string): boolean => {
  const parts = text.split(".")
  return parts.length === 4 && parts.every((part) => OCTET.test(part) && Number(part) <= 255)
}

// RFC 5321 IPv6-addr: full (8 groups), compressed ("::" plus at most 6 groups), and both
// with a trailing IPv4 address, which stands for the last 2 groups.
const isIPv6 = (text: string): boolean => {
  const colon = text.lastIndexOf(":")
  const tail = text.slice(colon + 1)
  let hex = text
  if (tail.includes(".")) {
    if (!isIPv4(tail)) return false
    hex = `${text.slice(0, colon + 1)}0:0`
  }
  const halves = hex.split("::")
  if (halves.length > 2) return false
  if (halves.length === 1) {
    const groups = hex.split(":")
    return groups.length === 8 && groups.every((group) => HEX_GROUP.test(group))
  }
  const groups = halves.flatMap((half) => (half === "" ? [] : half.split(":")))
  return groups.length <= 6 && groups.every((group) => HEX_GROUP.test(group))
}

const literalAt = (input: string, start: number): Result.Result<Domain, AddressError> => {
  const text = input.slice(start)
  if (!text.endsWith("]")) return fail(input, "InvalidAddressLiteral", `address literal "${text}" has no closing "]"`)
  const inner = text.slice(1, -1)
  if (isIPv4(inner)) return Result.succeed({ _tag: "AddressLiteral", family: "IPv4", ip: inner, text })
  const colon = inner.indexOf(":")
  if (colon > 0) {
    const tag = inner.slice(0, colon)
    const ip = inner.slice(colon + 1)
    if (tag.toLowerCase() === "ipv6") {
      return isIPv6(ip)
        ? Result.succeed({ _tag: "AddressLiteral", family: "IPv6", ip, text })
        : fail(input, "InvalidAddressLiteral", `"${ip}" is not a valid IPv6 address`)
    }
    if (LDH_STR.test(tag)) {
      return fail(input, "InvalidAddressLiteral", `general address literals ("${tag}:") are unsupported`)
    }
  }
  return fail(input, "InvalidAddressLiteral", `"${text}" is neither an IPv4 nor an IPv6 address literal`)
}

// Structural DNS rules on the A-label form. `offset` maps an index in `name` back to
// `input`, known only when UTS #46 mapping left the text as written (modulo case).
const checkShape = (input: string, name: string, offset: number | undefined): AddressError | undefined => {
  const at = (i: number) => (offset === undefined ? undefined : offset + i)
  if (name.endsWith(".")) return error(input, "InvalidDomain", "the domain ends with a dot", at(name.length - 1))
  const labels = name.split(".")
  let i = 0
  for (const label of labels) {
    if (label.length === 0) return error(input, "InvalidDomain", "the domain has an empty label", at(i))
    if (label.length > 63) {
      return error(input, "LabelTooLong", `domain label is ${label.length} octets, the limit is 63`)
    }
    const hyphen = label.startsWith("-") ? i : label.endsWith("-") ? i + label.length - 1 : -1
    if (hyphen >= 0) {
      const side = hyphen === i ? "starts" : "ends"
      return error(input, "InvalidDomain", `domain label "${label}" ${side} with a hyphen`, at(hyphen))
    }
    i += label.length + 1
  }
  if (name.length > 253) return error(input, "DomainTooLong", `domain is ${name.length} octets, the limit is 253`)
  const last = labels.at(-1)!
  return /^[0-9]+$/.test(last)
    ? error(
        input,
        "InvalidDomain",
        "the top-level label is all digits (write an IPv4 address as a literal, e.g. [192.0.2.1])",
        at(name.length - last.length)
      )
    : undefined
}

// tr46 reports errors as `null` and should never throw; the catch keeps `parse` total anyway.
const idna = (
  name: string
): { readonly strict: string | null; readonly form: string | null; readonly unicode: string } => {
  try {
    const strict = toASCII(name, STRICT)
    return {
      strict,
      form: strict ?? toASCII(name, DIAGNOSE),
      unicode: strict === null ? "" : toUnicode(strict, IDNA).domain
    }
  } catch {
    return { strict: null, form: null, unicode: "" }
  }
}

// Valid names already parsed, by the text as written: a list holds thousands of addresses of
// one domain, and UTS #46 (tr46) is most of the cost of parsing one. Only successes are kept (an
// error names its place in the whole input); a result depends on the name alone, so this is a
// memo, not state. Bounded: emptied when full.
const validNames = new Map<string, Domain>()
const validNamesMax = 4096

const domainNameAt = (input: string, start: number): Result.Result<Domain, AddressError> => {
  const name = input.slice(start)
  const known = validNames.get(name)
  if (known !== undefined) return Result.succeed(known)
  // Pinpoint stray ASCII (">", " ", "_"...) before tr46, which would only say "invalid".
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) < 0x80 && !LDH_OR_DOT.test(name[i]!)) {
      return fail(input, "InvalidDomain", badCharacter(input, start + i, " in the domain"), start + i)
    }
  }
  const invisible = checkDomainUnicode(input, start)
  if (invisible !== undefined) return Result.fail(invisible)
  const { strict, form, unicode } = idna(name)
  const refused = `"${name}" is not a valid domain name (UTS #46)`
  if (form === null) return fail(input, "InvalidDomain", refused)
  const shape = checkShape(input, form, form === name.toLowerCase() ? start : undefined)
  if (shape !== undefined) return Result.fail(shape)
  // Refused for a rule `checkShape` does not cover, e.g. "--" in the 3rd and 4th position.
  if (strict === null) return fail(input, "InvalidDomain", refused)
  const domain: Domain = { _tag: "DomainName", ascii: strict.toLowerCase(), unicode }
  if (validNames.size >= validNamesMax) validNames.clear()
  validNames.set(name, domain)
  return Result.succeed(domain)
}

const domainAt = (input: string, start: number): Result.Result<Domain, AddressError> =>
  start === input.length
    ? fail(input, "EmptyDomain", "the domain is empty")
    : input[start] === "["
      ? literalAt(input, start)
      : domainNameAt(input, start)

const wire = (domain: Domain): string => ("ascii" in domain ? domain.ascii : domain.text)

/**
 * Parses an RFC 5321 mailbox (`local-part@domain`), taken exactly as given: no
 * trimming, no angle brackets. Never throws.
 *
 * @example
 * ```ts
 * import * as Address from "@rcpt/smtp/Address"
 *
 * Address.parse("user@Bücher.de") // Success: address "user@xn--bcher-kva.de"
 * Address.parse("a@b.example>\r\nDATA") // Failure: ForbiddenCharacter at position 12
 * ```
 *
 * @category parsing
 * @since 0.1.0
 */
export const parse = (input: string): Result.Result<Mailbox, AddressError> => {
  if (input.length === 0) return fail(input, "Empty", "the address is empty")
  const forbidden = findForbidden(input)
  if (forbidden >= 0) return fail(input, "ForbiddenCharacter", badCharacter(input, forbidden, ""), forbidden)
  const { at, quote } = findAt(input)
  if (at < 0) {
    return quote >= 0
      ? fail(input, "UnterminatedQuote", "the quoted local part is never closed", quote)
      : fail(input, "MissingAt", 'there is no "@" between local part and domain')
  }
  const localPart = input.slice(0, at)
  const invalid = checkLocalPart(input, localPart)
  if (invalid !== undefined) return Result.fail(invalid)
  const domain = domainAt(input, at + 1)
  if (Result.isFailure(domain)) return Result.fail(domain.failure)
  const domainWire = wire(domain.success)
  // Written with its domain in wire form already (lower-case A-labels, a literal as it is): the
  // input is the address, no new string (a bulk run parses every address of its list).
  const address =
    input.length === at + 1 + domainWire.length && input.endsWith(domainWire) ? input : `${localPart}@${domainWire}`
  const size = octets(address)
  if (size > 254) return fail(input, "AddressTooLong", `the address is ${size} octets, the limit is 254`)
  const mailbox: Mailbox = { localPart, domain: domain.success, needsSmtpUtf8: NON_ASCII.test(localPart), address }
  parsed.add(mailbox)
  return Result.succeed(mailbox)
}

/**
 * Parses a bare domain or address literal, as used for the `EHLO` name. Never throws.
 *
 * @category parsing
 * @since 0.1.0
 */
export const parseDomain = (input: string): Result.Result<Domain, AddressError> => {
  const forbidden = findForbidden(input)
  return forbidden >= 0
    ? fail(input, "ForbiddenCharacter", badCharacter(input, forbidden, ""), forbidden)
    : domainAt(input, 0)
}

/**
 * A domain as it goes on the wire: the A-label form of a name, or an address literal's text.
 *
 * @category getters
 * @since 0.1.0
 */
export const domainText = (domain: Domain): string => (domain._tag === "DomainName" ? domain.ascii : domain.text)

/**
 * Whether `parse` accepts the input.
 *
 * @category guards
 * @since 0.1.0
 */
export const isMailbox = (input: string): boolean => Result.isSuccess(parse(input))
