/**
 * SMTP AUTH (RFC 4954) with the SASL mechanisms a submission client meets: PLAIN (RFC 4616,
 * with an initial response), LOGIN (the de-facto two-prompt exchange), CRAM-MD5 (RFC 2195) and
 * XOAUTH2 (Google's and Microsoft's bearer-token mechanism), as pure data and functions.
 *
 * **Details**
 *
 * - `choose` picks a mechanism from what EHLO offers, or takes the one the caller forces.
 * - `start` gives the AUTH command; `respond` answers each 334 challenge; `classify` names every
 *   reply (334/235/535/538/534/454/530 and the rest) as an `Outcome`.
 * - CRAM-MD5 needs HMAC-MD5, which this package cannot compute without a crypto library: the
 *   caller passes it in (`node:crypto` in the Effect layer).
 * - Every line that carries a credential is shown as `****` by `Command.redact`.
 *
 * @since 0.1.0
 */
import { Option, Result } from "effect"
import type * as Capabilities from "./Capabilities.ts"
import * as Command from "./Command.ts"
import type * as Reply from "./Reply.ts"

/**
 * @category models
 * @since 0.1.0
 */
export type Mechanism = "PLAIN" | "LOGIN" | "CRAM-MD5" | "XOAUTH2"

/**
 * A password, or an OAuth 2.0 access token (XOAUTH2 only).
 *
 * @category models
 * @since 0.1.0
 */
export type Credentials =
  | { readonly _tag: "Password"; readonly username: string; readonly password: string }
  | { readonly _tag: "AccessToken"; readonly username: string; readonly token: string }

/**
 * HMAC-MD5 (RFC 2104) of `data` under `key`: 16 octets.
 *
 * @category models
 * @since 0.1.0
 */
export type HmacMd5 = (key: Uint8Array, data: Uint8Array) => Uint8Array

/**
 * What a reply inside (or at the end of) an AUTH exchange means.
 *
 * @category models
 * @since 0.1.0
 */
export type Outcome =
  /** 334: the server wants the next response. */
  | "Challenge"
  /** 235 (2.7.0). */
  | "Authenticated"
  /** 535 (5.7.8): wrong user name or password, or a bad token. */
  | "InvalidCredentials"
  /** 538 (5.7.11): this mechanism only over an encrypted channel. */
  | "EncryptionRequired"
  /** 534 (5.7.9): the server's policy wants a stronger mechanism. */
  | "MechanismTooWeak"
  /** 454 (4.7.0) or another 4xx: try again later. */
  | "TemporaryFailure"
  /** 530 (5.7.0): authentication (or STARTTLS first) is required. */
  | "AuthenticationRequired"
  /** Anything else: 500/501 (syntax, cancelled), 502/504 (mechanism unknown). */
  | "Rejected"

/**
 * An exchange in progress: the mechanism and how many challenges were answered.
 *
 * @category models
 * @since 0.1.0
 */
export interface Exchange {
  readonly mechanism: Mechanism
  readonly credentials: Credentials
  readonly hmacMd5: Option.Option<HmacMd5>
  readonly answered: number
}

/**
 * Why no mechanism could be picked.
 *
 * @category models
 * @since 0.1.0
 */
export type ChoiceFailure =
  | { readonly _tag: "NotOffered" }
  | { readonly _tag: "NoCommonMechanism"; readonly offered: ReadonlyArray<string> }
  | { readonly _tag: "Unusable"; readonly mechanism: Mechanism; readonly message: string }

/**
 * Mechanisms in the order they are tried. Over TLS PLAIN is as good as any; in the clear (only when
 * the caller allows it) CRAM-MD5 comes first because it does not reveal the password.
 *
 * @category constants
 * @since 0.1.0
 */
export const preference = {
  secure: ["PLAIN", "LOGIN", "CRAM-MD5"],
  insecure: ["CRAM-MD5", "PLAIN", "LOGIN"]
} as const satisfies Record<string, ReadonlyArray<Mechanism>>

const usable = (mechanism: Mechanism, credentials: Credentials, hmacMd5: boolean): string | undefined => {
  if (credentials._tag === "AccessToken") {
    return mechanism === "XOAUTH2" ? undefined : `${mechanism} needs a password, not an access token`
  }
  if (mechanism === "XOAUTH2") return "XOAUTH2 needs an access token, not a password"
  if (mechanism === "CRAM-MD5" && !hmacMd5) return "CRAM-MD5 needs an HMAC-MD5 function"
  return undefined
}

/**
 * Picks the mechanism: the forced one if given (offered or not), else the first of `preference`
 * the server offers and the credentials can use.
 *
 * @category constructors
 * @since 0.1.0
 */
export const choose = (options: {
  readonly capabilities: Capabilities.Capabilities
  readonly credentials: Credentials
  readonly secure: boolean
  readonly forced: Option.Option<Mechanism>
  readonly hmacMd5: boolean
}): Result.Result<Mechanism, ChoiceFailure> => {
  const { credentials, hmacMd5 } = options
  if (Option.isSome(options.forced)) {
    const mechanism = options.forced.value
    const problem = usable(mechanism, credentials, hmacMd5)
    return problem === undefined
      ? Result.succeed(mechanism)
      : Result.fail({ _tag: "Unusable", mechanism, message: problem })
  }
  const offered = options.capabilities.auth
  if (offered.length === 0) return Result.fail({ _tag: "NotOffered" })
  const candidates: ReadonlyArray<Mechanism> =
    credentials._tag === "AccessToken" ? ["XOAUTH2"] : preference[options.secure ? "secure" : "insecure"]
  const found = candidates.find((m) => offered.includes(m) && usable(m, credentials, hmacMd5) === undefined)
  return found === undefined ? Result.fail({ _tag: "NoCommonMechanism", offered }) : Result.succeed(found)
}

const encoder = new TextEncoder()

/**
 * RFC 4648 base64 of some octets.
 *
 * @category encoding
 * @since 0.1.0
 */
export const toBase64 = (bytes: Uint8Array): string => {
  let binary = ""
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

/**
 * The octets of a base64 text; `None` if it is not base64.
 *
 * @category encoding
 * @since 0.1.0
 */
export const fromBase64 = (text: string): Option.Option<Uint8Array> => {
  const clean = text.trim()
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return Option.none()
  const binary = atob(clean)
  return Option.some(Uint8Array.from(binary, (c) => c.charCodeAt(0)))
}

const base64Text = (text: string) => toBase64(encoder.encode(text))

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

/**
 * The AUTH command that opens an exchange, and the exchange.
 *
 * @category constructors
 * @since 0.1.0
 */
export const start = (
  mechanism: Mechanism,
  credentials: Credentials,
  hmacMd5: Option.Option<HmacMd5> = Option.none()
): { readonly command: Command.Command; readonly exchange: Exchange } => {
  const exchange: Exchange = { mechanism, credentials, hmacMd5, answered: 0 }
  switch (mechanism) {
    case "PLAIN": {
      const password = credentials._tag === "Password" ? credentials.password : ""
      // RFC 4616: authzid NUL authcid NUL passwd; an empty authzid means "act as authcid".
      return { command: Command.auth("PLAIN", base64Text(`\u0000${credentials.username}\u0000${password}`)), exchange }
    }
    case "XOAUTH2": {
      const token = credentials._tag === "AccessToken" ? credentials.token : ""
      const response = base64Text(`user=${credentials.username}\u0001auth=Bearer ${token}\u0001\u0001`)
      return { command: Command.auth("XOAUTH2", response), exchange }
    }
    default:
      return { command: Command.auth(mechanism), exchange }
  }
}

/**
 * Answers a 334 challenge (its text, base64). A challenge the mechanism does not expect is
 * answered with `*`, which cancels the exchange (RFC 4954 §4: the server then replies 501).
 *
 * @category operations
 * @since 0.1.0
 */
export const respond = (
  exchange: Exchange,
  challenge: string
): { readonly command: Command.Command; readonly exchange: Exchange } => {
  const next: Exchange = { ...exchange, answered: exchange.answered + 1 }
  const answer = (text: string) => ({ command: Command.authResponse(text), exchange: next })
  const { credentials } = exchange
  switch (exchange.mechanism) {
    case "LOGIN":
      // The prompts are "Username:" then "Password:" (base64); servers vary the words, not the order.
      if (exchange.answered === 0) return answer(base64Text(credentials.username))
      if (exchange.answered === 1 && credentials._tag === "Password") return answer(base64Text(credentials.password))
      return answer("*")
    case "CRAM-MD5": {
      const data = fromBase64(challenge)
      if (exchange.answered > 0 || Option.isNone(data) || Option.isNone(exchange.hmacMd5)) return answer("*")
      const key = encoder.encode(credentials._tag === "Password" ? credentials.password : "")
      const digest = hex(exchange.hmacMd5.value(key, data.value))
      return answer(base64Text(`${credentials.username} ${digest}`))
    }
    case "XOAUTH2":
      // A 334 here carries the error as base64 JSON; an empty line asks for the final 535/454.
      return answer(exchange.answered === 0 ? "" : "*")
    case "PLAIN":
      // The initial response was sent; a server that still asks gets nothing more.
      return answer("*")
  }
}

/**
 * What a reply means for the exchange.
 *
 * @category classifiers
 * @since 0.1.0
 */
export const classify = (reply: Reply.Reply): Outcome => {
  switch (reply.code) {
    case 334:
      return "Challenge"
    case 235:
      return "Authenticated"
    case 535:
      return "InvalidCredentials"
    case 538:
      return "EncryptionRequired"
    case 534:
      return "MechanismTooWeak"
    case 530:
      return "AuthenticationRequired"
    default:
      if (reply.code >= 200 && reply.code < 300) return "Authenticated"
      return reply.code >= 400 && reply.code < 500 ? "TemporaryFailure" : "Rejected"
  }
}

/**
 * Whether asking again later may succeed.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isTransient = (outcome: Outcome): boolean => outcome === "TemporaryFailure"

/**
 * A 334 challenge as text, for the transcript: XOAUTH2 errors are base64 JSON.
 *
 * @category formatting
 * @since 0.1.0
 */
export const decodeChallenge = (challenge: string): string =>
  Option.match(fromBase64(challenge), {
    onNone: () => challenge,
    onSome: (bytes) => new TextDecoder("utf-8", { fatal: false }).decode(bytes)
  })
