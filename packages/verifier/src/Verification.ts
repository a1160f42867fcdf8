/**
 * The answer to "can this address receive mail?", with its evidence: the result schema of
 * every verification, in the library, the CLI's JSON lines and the HTTP API alike.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { Classify } from "@rcpt/smtp"

/**
 * `deliverable`: the mailbox's own server accepted it. `undeliverable`: it said the mailbox or
 * domain does not exist. `risky`: it exists but mail may not arrive or the answer proves little
 * (catch-all, full). `unknown`: no answer to be had now (4xx, blocks, timeouts): retry later.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Verdict = Schema.Literals(["deliverable", "undeliverable", "risky", "unknown"]).annotate({
  description:
    "deliverable: the mailbox's server accepted it; undeliverable: it cannot receive mail; risky: it exists but mail may not arrive or the acceptance proves little; unknown: no answer now, retry later"
})

/**
 * @category models
 * @since 0.1.0
 */
export type Verdict = typeof Verdict.Type

/**
 * Reasons the verifier finds itself, beside those of a reply (`Classify.reasons` in
 * @rcpt/smtp): from DNS, the syntax check, a connection that never opened (the proxy's
 * failures apart: wrong credentials, refused by its rules, host unreachable from it, the rest), a target the
 * `TargetPolicy` refused to dial (`target_refused`: a special-purpose range).
 *
 * @category constants
 * @since 0.2.0
 */
export const findingReasons = [
  "no_mail_hosts",
  "dns_failure",
  "syntax",
  "connection_failed",
  "proxy_auth_failed",
  "proxy_refused",
  "proxy_unreachable",
  "proxy_failed",
  // Decided before any SMTP (issue 18): DNS strictness and the caller's rules.
  "no_mail",
  "special_use",
  "not_checked",
  "allowed",
  "denied",
  "target_refused"
] as const

/**
 * Reasons only a judge gives (see `Judgement`): what the catch-all probe and the risk signals
 * make of an acceptance.
 *
 * @category constants
 * @since 0.2.0
 */
export const judgeReasons = ["catch_all", "accepts_all", "provider", "disposable", "role_account"] as const

/**
 * The closed set of reasons: a reply's (`Classify.reasons`), the verifier's own findings, and the
 * judge's.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Reason = Schema.Literals([...Classify.reasons, ...findingReasons, ...judgeReasons]).annotate({
  description:
    "Why the verdict: the SMTP, DNS or syntax finding, or the judge's rule (catch_all, accepts_all, provider, disposable, role_account)"
})

/**
 * @category models
 * @since 0.1.0
 */
export type Reason = typeof Reason.Type

/**
 * What the mail servers, DNS or the syntax check said about an address, before the judge: a
 * reply's outcome (`Classify.Outcome`) or one of the verifier's own findings.
 *
 * @category models
 * @since 0.2.0
 */
export interface Outcome {
  readonly verdict: Verdict
  readonly reason: Classify.Reason | (typeof findingReasons)[number]
  /** Asking again later may give another answer. */
  readonly retryable: boolean
}

/**
 * A server reply as evidence.
 *
 * @category schemas
 * @since 0.1.0
 */
export const ReplyEvidence = Schema.Struct({
  code: Schema.Int.check(Schema.isBetween({ minimum: 200, maximum: 599 })),
  enhanced: Schema.NullOr(Schema.String),
  text: Schema.String
})

/**
 * @category models
 * @since 0.1.0
 */
export type ReplyEvidence = typeof ReplyEvidence.Type

/**
 * The MX host that answered (or was last tried).
 *
 * @category schemas
 * @since 0.1.0
 */
export const MxEvidence = Schema.Struct({
  host: Schema.String,
  preference: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 })),
  address: Schema.String,
  port: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 })),
  /** True when the domain has no MX and its own address was used (RFC 5321 §5.1). */
  implicit: Schema.Boolean
})

/**
 * @category models
 * @since 0.1.0
 */
export type MxEvidence = typeof MxEvidence.Type

/**
 * @category schemas
 * @since 0.1.0
 */
export const TlsEvidence = Schema.Struct({
  status: Schema.Literals(["none", "established", "failed"]),
  protocol: Schema.NullOr(Schema.String),
  cipher: Schema.NullOr(Schema.String),
  /** Whether the certificate verified; opportunistic TLS goes on either way. */
  authorized: Schema.NullOr(Schema.Boolean),
  error: Schema.NullOr(Schema.String)
})

/**
 * @category models
 * @since 0.1.0
 */
export type TlsEvidence = typeof TlsEvidence.Type

/**
 * One connection tried on the way to the answer.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Attempt = Schema.Struct({
  host: Schema.String,
  address: Schema.String,
  outcome: Reason,
  detail: Schema.String
})

/**
 * @category models
 * @since 0.1.0
 */
export type Attempt = typeof Attempt.Type

/**
 * @category schemas
 * @since 0.1.0
 */
export const TranscriptLine = Schema.Struct({
  direction: Schema.Literals(["C", "S", "*"]),
  text: Schema.String
})

/**
 * @category models
 * @since 0.1.0
 */
export type TranscriptLine = typeof TranscriptLine.Type

/**
 * Risk signals that do not come from SMTP (see @rcpt/signals).
 *
 * @category schemas
 * @since 0.1.0
 */
export const Signals = Schema.Struct({
  disposable: Schema.Boolean.annotate({ description: "The domain is a disposable-address service" }),
  roleAccount: Schema.Boolean.annotate({ description: "The local part names a role (info, admin, noreply...)" }),
  freeProvider: Schema.Boolean.annotate({ description: "The domain is a free mailbox provider" }),
  /** A likely intended domain, e.g. gmail.com for gmial.com. */
  suggestion: Schema.NullOr(Schema.String).annotate({
    description: "A likely intended domain, e.g. gmail.com for gmial.com"
  }),
  /** A provider known to accept every RCPT, by MX host. */
  acceptsAllProvider: Schema.NullOr(Schema.String).annotate({
    description: "The provider known to accept every RCPT whose MX host answered, e.g. Microsoft 365"
  })
})

/**
 * @category models
 * @since 0.1.0
 */
export type Signals = typeof Signals.Type

/**
 * The mailbox provider or security gateway recognised from the domain's MX host names (the table
 * of @rcpt/signals' `Providers`, which users extend through `Signals.make({ providers })`): the
 * host that answered first, else the first of the MX plan that names one.
 *
 * @category schemas
 * @since 0.2.0
 */
export const ProviderEvidence = Schema.Struct({
  id: Schema.String.annotate({
    description: "Stable identifier from the provider table, e.g. microsoft-365, proofpoint"
  }),
  name: Schema.String.annotate({ description: "For people, e.g. Microsoft 365 (Exchange Online Protection)" }),
  kind: Schema.Literals(["mailbox-provider", "security-gateway"]).annotate({
    description: "mailbox-provider: hosts the mailboxes; security-gateway: filters mail and passes it on to them"
  }),
  acceptsAll: Schema.Boolean.annotate({
    description: "Its MX answers 250 to every RCPT, so an accepted RCPT proves little about the mailbox"
  }),
  mxHost: Schema.String.annotate({ description: "The MX host whose name matched" })
})

/**
 * @category models
 * @since 0.2.0
 */
export type ProviderEvidence = typeof ProviderEvidence.Type

/**
 * What the catch-all probe (a made-up mailbox at the same domain) found: `not_checked` (probing
 * off, no session, or nothing to probe), `accepted` (the domain takes any local part), `refused`
 * (it rejects unknown mailboxes), `inconclusive` (a 4xx, a block, or no answer to the probe).
 *
 * @category schemas
 * @since 0.1.0
 */
export const CatchAllProbe = Schema.Literals(["not_checked", "accepted", "refused", "inconclusive"]).annotate({
  description:
    "The catch-all probe: not_checked, accepted (any local part is taken), refused (unknown mailboxes are rejected), inconclusive (4xx, block or no answer)"
})

/**
 * @category models
 * @since 0.1.0
 */
export type CatchAllProbe = typeof CatchAllProbe.Type

/**
 * The reverse path (MAIL FROM) that got the answer. Some servers refuse the null sender `<>`:
 * then the transaction is asked again with a real sender (`fallbackSender`).
 *
 * @category schemas
 * @since 0.1.0
 */
export const SenderEvidence = Schema.Struct({
  /** The server refused `MAIL FROM:<>` (at MAIL or at RCPT). */
  nullRefused: Schema.Boolean.annotate({ description: "The server refused the null sender <> (at MAIL or at RCPT)" }),
  /** The reverse path of the transaction that gave the answer; "" is `<>`. */
  used: Schema.String.annotate({ description: 'The reverse path of the answering transaction; "" is <>' })
})

/**
 * @category models
 * @since 0.1.0
 */
export type SenderEvidence = typeof SenderEvidence.Type

const Millis = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * Where the time went (on request: `VerifierConfig.timing`). Connection figures add up over
 * every connection used for this address; a connection shared by many addresses counts fully
 * for each.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Timing = Schema.Struct({
  /** Resolving the MX plan (0 when it came from the cache). */
  dnsMs: Millis,
  connectMs: Millis,
  tlsMs: Millis,
  /** Waiting for replies, per session phase (AwaitGreeting, AwaitEhlo, AwaitMail, AwaitRcpt, ...). */
  smtpMs: Schema.Record(Schema.String, Millis),
  /** SMTP connections opened for this address. */
  connections: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
})

/**
 * @category models
 * @since 0.1.0
 */
export type Timing = typeof Timing.Type

/**
 * The result of verifying one address.
 *
 * @category schemas
 * @since 0.1.0
 */
export class Verification extends Schema.Class<Verification>("@rcpt/verifier/Verification")({
  /** As given. */
  address: Schema.String,
  /** The wire form (A-label domain), or null when the syntax is invalid. */
  normalized: Schema.NullOr(Schema.String),
  domain: Schema.NullOr(Schema.String),
  verdict: Verdict,
  reason: Reason,
  /** Asking again later may give another answer. */
  retryable: Schema.Boolean,
  /** 0-100: how likely mail to this address is delivered. */
  score: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 100 })).annotate({
    description: "0-100: how likely mail to this address is delivered"
  }),
  /** A sentence for people. */
  detail: Schema.String,
  mx: Schema.NullOr(MxEvidence),
  rcpt: Schema.NullOr(ReplyEvidence),
  vrfy: Schema.NullOr(ReplyEvidence),
  tls: TlsEvidence,
  /** null: not tested. */
  catchAll: Schema.NullOr(Schema.Boolean).annotate({
    description: "true: the domain accepted a made-up mailbox too; false: it refused one; null: not tested"
  }),
  /** The four-valued catch-all finding (`catchAll` above is its boolean summary). */
  catchAllProbe: CatchAllProbe,
  signals: Signals,
  /** Who receives the domain's mail, recognised from its MX host names; null: no MX host, or none known. */
  provider: Schema.NullOr(ProviderEvidence),
  /** The reverse path that got the answer, and whether the null sender was refused. */
  sender: SenderEvidence,
  /** When asking again may give an answer (ISO 8601), for `unknown` results worth retrying; else null. */
  retryAfter: Schema.NullOr(Schema.String).annotate({
    description: "ISO 8601 time after which asking again may give an answer (unknown, retryable results); else null"
  }),
  /** Where the time went; null unless asked for (`timing` in the config). */
  timing: Schema.NullOr(Timing),
  attempts: Schema.Array(Attempt),
  startedAt: Schema.String,
  durationMs: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  transcript: Schema.Array(TranscriptLine)
}) {}

/**
 * The JSON shape of a `Verification` (what `--json` and the HTTP API print).
 *
 * @category models
 * @since 0.1.0
 */
export type Encoded = typeof Verification.Encoded

/**
 * @category encoding
 * @since 0.1.0
 */
export const encode = (v: Verification): Encoded => ({ ...v })

// `encode` is a copy because every field's encoded form is its type (strings, numbers, booleans,
// null, literals, and arrays, records and structs of them), and the constructor builds each
// struct in the schema's key order: `Schema.encodeSync` would re-check every field of a value the
// constructor checked, at ~10x the cost of printing it (a bulk run encodes every result). This
// fails to compile when a field's encoded form stops being its type (a Date, an Option...):
// then encode with `Schema.encodeSync(Verification)` again. A test holds `encode` against it.
type Fields = { readonly [K in keyof typeof Verification.fields]: (typeof Verification.fields)[K]["Type"] }
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const encodedIsType: Same<Encoded, Fields> = true
void encodedIsType

/**
 * @category decoding
 * @since 0.1.0
 */
export const decode = Schema.decodeUnknownSync(Verification)
