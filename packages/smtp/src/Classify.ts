/**
 * From a reply to what it says about a mailbox: a verdict, a reason from a closed set, and
 * whether asking again later may change the answer.
 *
 * The reply code's class and the enhanced status code decide first (RFC 5321 §4.2, RFC 3463);
 * the text is read only when they leave the question open, from the phrase tables below (the one
 * place such phrases live). Rules learnt from other verifiers' mistakes: a 4xx is never
 * "undeliverable"; a 5.7.x policy or blocklist reply is "unknown: blocked", not "mailbox unknown",
 * unless its text clearly says the user does not exist; a full mailbox exists ("risky").
 *
 * @since 0.1.0
 */
import { Option } from "effect"
import type { Phase, SessionEnd, SessionResult } from "./internal/session.ts"
import * as Reply from "./Reply.ts"

/**
 * @category models
 * @since 0.1.0
 */
export type Verdict = "deliverable" | "undeliverable" | "risky" | "unknown"

/**
 * The closed set of reasons a verdict can carry.
 *
 * @category models
 * @since 0.1.0
 */
export const reasons = [
  "accepted",
  "mailbox_unknown",
  "mailbox_disabled",
  "mailbox_full",
  "mailbox_moved",
  "no_such_domain",
  "null_mx",
  "no_mail_hosts",
  "catch_all",
  "accepts_all",
  "greylisted",
  "rate_limited",
  "too_many_recipients",
  "blocked",
  "relay_denied",
  "sender_rejected",
  "service_unavailable",
  "temporary_failure",
  "server_error",
  "cannot_verify",
  "protocol_error",
  "smtputf8_unsupported",
  "tls_required",
  "tls_failed",
  "timeout",
  "connection_failed",
  "connection_closed",
  "dns_failure",
  "syntax"
] as const

/**
 * @category models
 * @since 0.1.0
 */
export type Reason = (typeof reasons)[number]

/**
 * @category models
 * @since 0.1.0
 */
export interface Outcome {
  readonly verdict: Verdict
  readonly reason: Reason
  /** Asking again later may give another answer (4xx, timeouts, dropped connections). */
  readonly retryable: boolean
}

/**
 * Lower-case fragments of reply text, by what they mean. Matched as substrings, in the order the
 * classifier asks; edit here, nowhere else.
 *
 * @category constants
 * @since 0.1.0
 */
export const phrases = {
  unknownUser: [
    "user unknown",
    "unknown user",
    "no such user",
    "no such mailbox",
    "no such recipient",
    "does not exist",
    "doesn't exist",
    "dosn't exist",
    "unknown recipient",
    "recipient unknown",
    "recipient not found",
    "recipientnotfound",
    "invalid recipient",
    "user not found",
    "mailbox not found",
    "invalid mailbox",
    "not a valid mailbox",
    "unknown local part",
    "unrouteable address",
    "no mailbox here",
    "address unknown",
    "utilisateur inconnu",
    "no longer available",
    "not a valid recipient",
    "recipient address rejected: access denied",
    "this user doesn't have"
  ],
  disabled: [
    "disabled",
    "discontinued",
    "inactive",
    "deactivated",
    "suspend",
    "no longer active",
    "account is locked",
    "temporary locked",
    "temporarily locked",
    "frozen",
    "terminated",
    "archived",
    "archivee",
    "expired account",
    "is expired"
  ],
  full: [
    "mailbox full",
    "mailbox is full",
    "quota exceeded",
    "over quota",
    "overquota",
    "out of storage",
    "insufficient storage",
    "exceeded storage",
    "mailbox size limit",
    "too many messages",
    "quota",
    "disk space",
    "diskspace",
    "storage space",
    "enough space",
    "no space left",
    "space has been used up",
    "would exceed",
    "mailfolder is full",
    "full mailbox",
    "pleine",
    "too much mail data"
  ],
  noDomain: [
    "domain does not exist",
    "domain must exist",
    "domain name not found",
    "no such domain",
    "unknown domain",
    "host unknown",
    "unknown host",
    "host or domain name not found",
    "name or service not known",
    "domain mentioned in email address is unknown",
    "domain may not exist",
    "find the recipient domain"
  ],
  // About us, not the mailbox: checked before any mailbox reading of a permanent reply, since a server that names
  // our IP, host, sender, relaying, authentication or rate has not looked the mailbox up (or will not say).
  relay: [
    "relay access denied",
    "relaying denied",
    "relay denied",
    "relay not permitted",
    "relay not allowed",
    "not permitted to relay",
    "not allowed to relay",
    "unable to relay",
    "no relaying",
    "not an open relay",
    "as a relay",
    "relaying mail to",
    "insecure mail relay",
    "not a gateway",
    "allowed rcpthosts",
    "we don't handle mail for",
    "use the smtp relay",
    "not configured to relay",
    "when attempting to send to a non-local"
  ],
  sender: [
    "sender rejected",
    "sender denied",
    "sender address rejected",
    "sender email address rejected",
    "sender was rejected",
    "sender verify failed",
    "sender verification failed",
    "invalid sender",
    "unknown sender",
    "unroutable sender",
    "domain of sender address",
    "sender domain",
    "sender is spammer",
    "sender not pre-approved",
    "null sender",
    "empty envelope sender",
    "bogus mail from",
    "mail from not owned",
    "does not accept mail from",
    "purported responsible address",
    "third-party dsn",
    "unsigned dsn",
    "returned mail not accepted",
    "emetteur invalide",
    "batv",
    "backscatter",
    "senderfilterconfig",
    "sender account",
    "from domain"
  ],
  auth: [
    "authentication required",
    "authentication failure",
    "authentication credentials",
    "unauthenticated",
    "not authorized to send",
    "must authenticate",
    "sender policy framework",
    "spf",
    "dkim",
    "dmarc"
  ],
  tlsRequired: ["starttls", "tls required", "encryption required", "must use tls", "mta-sts"],
  greylist: ["greylist", "graylist", "grey list", "gray list"],
  // "Later" without a reason: greylisting's usual words, unless the server says it is its own trouble.
  later: ["try again later", "try later", "retry later", "please try again"],
  serverTrouble: [
    "busy",
    "temporary system",
    "temporary server",
    "system problem",
    "local problem",
    "insufficient resources"
  ],
  rateLimit: [
    "receiving mail at a rate",
    "rate limit",
    "rate that prevents",
    "too many connections",
    "too many concurrent",
    "too many smtp sessions",
    "too many errors",
    "trop de connexions",
    "connection limit",
    "too many requests",
    "maximum sending rate",
    "mail too quickly",
    "try again slower",
    "unexpected volume",
    "per hour",
    "daily limit",
    "receive limit",
    "too many invalid recipients",
    "exceeded their limit",
    "excessive volume",
    "unusual rate",
    "per connection",
    "quota for sending",
    "exceeded the max",
    "sending quota",
    "submission quota",
    "sending limit",
    "relay limit",
    "thread limit",
    "throttl"
  ],
  tooManyRecipients: ["too many recipients", "recipient limit"],
  blocklist: [
    "blacklist",
    "black list",
    "blocklist",
    "block list",
    "blocked using",
    "spamhaus",
    "spamcop",
    "sorbs",
    "barracudacentral",
    "invaluement",
    "dnsbl",
    "is listed",
    "listed at",
    "listed on",
    "listed by",
    "client host rejected",
    "reverse dns",
    "reverse hostname",
    "reverse lookup",
    "forward dns",
    "ptr record",
    "ptr resource record",
    "dns ptr",
    "your hostname",
    "resolve your address",
    "your ip",
    "your host",
    "your server",
    "your remotehost",
    "sending ip",
    "sender ip",
    "from ip",
    "dynamic ip",
    "open proxy",
    "helo command rejected",
    "bad helo",
    "reputation",
    "spammer",
    "sending spam",
    "spams from",
    "not accepting connections",
    "not allowed to connect",
    "your access to",
    "your isp",
    "ip address",
    "not currently accepting mail from",
    "bad ip",
    "ip profile"
  ],
  // Weaker wording of a refusal: read only when no mailbox wording matched.
  policy: [
    "policy",
    "prohibited",
    "prohibition",
    "not authorized",
    "not authorised",
    "not permitted",
    "denied",
    "refused",
    "rejected by",
    "rejected due to",
    "banned",
    "blocked",
    "spam",
    "unsolicited",
    "spoofing",
    "mailing list",
    "members-only",
    "not subscribed",
    "mass mailer",
    "go away",
    "not pre-approved",
    "list of senders",
    "attachment",
    "organizational settings",
    "not verified",
    "verification failure",
    "not passed validation"
  ],
  nullMx: ["null mx"]
} as const satisfies Record<string, ReadonlyArray<string>>

/**
 * @category predicates
 * @since 0.1.0
 */
export const says = (reply: Reply.Reply, table: keyof typeof phrases): boolean => {
  const text = Reply.text(reply).toLowerCase()
  return phrases[table].some((p) => text.includes(p))
}

const outcome = (verdict: Verdict, reason: Reason, retryable = false): Outcome => ({ verdict, reason, retryable })

const enhanced = (reply: Reply.Reply): string => Reply.enhancedCode(reply) ?? ""

/**
 * 452 means two things: "too many recipients" (4.5.3: try the rest in a new transaction) and
 * "insufficient storage" (4.2.2 / 4.3.1). Only the first is a limit of the session.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isTooManyRecipients = (reply: Reply.Reply): boolean =>
  reply.code === 452 || reply.code === 451
    ? enhanced(reply) === "4.5.3" || (Option.isNone(reply.enhanced) && says(reply, "tooManyRecipients"))
    : false

const isSyntaxError = (reply: Reply.Reply): boolean => (reply.code >= 500 && reply.code <= 504) || reply.code === 555

// A reply that names us (our IP, host, sender, relaying, authentication, rate) as the reason, whatever its code.
const aboutUs = (reply: Reply.Reply, retryable: boolean): Outcome | undefined => {
  if (says(reply, "relay")) return outcome("unknown", "relay_denied", retryable)
  if (says(reply, "sender")) return outcome("unknown", "sender_rejected", retryable)
  if (says(reply, "rateLimit")) return outcome("unknown", "rate_limited", retryable)
  if (says(reply, "tlsRequired")) return outcome("unknown", "tls_required", retryable)
  if (says(reply, "tooManyRecipients")) return outcome("unknown", "too_many_recipients", retryable)
  if (says(reply, "blocklist") || says(reply, "auth")) return outcome("unknown", "blocked", retryable)
  return undefined
}

const permanentRcpt = (reply: Reply.Reply): Outcome => {
  const e = enhanced(reply)
  // X.1.10 is RFC 7505's null MX, but Microsoft 365 sends "550 5.1.10 RESOLVER.ADR.RecipientNotFound" for a user.
  if (e === "5.1.10" || says(reply, "nullMx")) {
    return says(reply, "unknownUser")
      ? outcome("undeliverable", "mailbox_unknown")
      : outcome("undeliverable", "null_mx")
  }
  // A server that names us has not answered about the mailbox, whatever code it chose (5.1.1 and 5.2.1 are misused
  // for blocklist refusals, e.g. "550 5.2.1 Mailbox unavailable. Your IP address ... is blacklisted").
  const us = aboutUs(reply, false)
  if (us !== undefined) return us
  // 500-504 and 555 are command and syntax errors (RFC 5321 §4.2.3), whatever enhanced code rides along.
  if (isSyntaxError(reply)) return outcome("unknown", "protocol_error")
  // Enhanced codes next: they are the server's own classification.
  if (e === "5.2.2") return outcome("risky", "mailbox_full")
  if (e === "5.2.1") return outcome("undeliverable", "mailbox_disabled")
  if (e === "5.1.1" || e === "5.1.0" || e === "5.1.3") {
    return says(reply, "disabled")
      ? outcome("undeliverable", "mailbox_disabled")
      : outcome("undeliverable", "mailbox_unknown")
  }
  if (e === "5.1.6") return outcome("undeliverable", "mailbox_moved")
  // X.1.7 / X.1.8: the sender's address or system (RFC 3463 §3.2), i.e. our MAIL FROM.
  if (e === "5.1.7" || e === "5.1.8") return outcome("unknown", "sender_rejected")
  if (e === "5.1.2") return outcome("undeliverable", "no_such_domain")
  if (e.endsWith(".6.7")) return outcome("unknown", "smtputf8_unsupported")
  // Microsoft 365 directory-based edge blocking: "550 5.4.1 Recipient address rejected: Access denied".
  if (e === "5.4.1" && Reply.text(reply).toLowerCase().includes("recipient address rejected")) {
    return outcome("undeliverable", "mailbox_unknown")
  }
  if (e.startsWith("5.7.")) {
    // Wording about us was read above: "PTR record does not exist" is about us, not the mailbox.
    if (says(reply, "unknownUser")) return outcome("undeliverable", "mailbox_unknown")
    if (says(reply, "full")) return outcome("risky", "mailbox_full")
    return outcome("unknown", "blocked")
  }
  // X.5.0 is "other or undefined protocol status": Outlook.com's unknown user is "550 5.5.0 ... mailbox unavailable".
  if (e.startsWith("5.5.") && e !== "5.5.0") return outcome("unknown", "protocol_error")
  if (e.startsWith("5.3.") || e.startsWith("5.4.")) return outcome("unknown", "server_error")
  // No enhanced code, or one that settles nothing (5.0.0): the text, then the code.
  if (says(reply, "disabled")) return outcome("undeliverable", "mailbox_disabled")
  if (says(reply, "full")) return outcome("risky", "mailbox_full")
  if (says(reply, "unknownUser")) return outcome("undeliverable", "mailbox_unknown")
  if (says(reply, "noDomain")) return outcome("undeliverable", "no_such_domain")
  if (says(reply, "policy")) return outcome("unknown", "blocked")
  // An enhanced code that names something other than the mailbox's existence (X.1.4 ambiguous, X.1.5 valid, X.2.0,
  // X.2.4 list expansion, X.6.x media...) is not "mailbox unknown", whatever the reply code.
  if (e !== "" && e !== "5.0.0" && e !== "5.5.0") return outcome("unknown", "server_error")
  switch (reply.code) {
    case 550:
    case 553:
      // "mailbox unavailable" / "mailbox name not allowed": at RCPT, the mailbox is the subject.
      return outcome("undeliverable", "mailbox_unknown")
    case 551:
      return outcome("undeliverable", "mailbox_moved")
    case 552:
      return outcome("risky", "mailbox_full")
    default:
      return outcome("unknown", "blocked")
  }
}

const transient = (reply: Reply.Reply, phase: Phase): Outcome => {
  const e = enhanced(reply)
  // 421: the service is closing the channel (RFC 5321 §3.8), whatever it says about why.
  if (reply.code === 421) return outcome("unknown", "service_unavailable", true)
  if (isTooManyRecipients(reply)) return outcome("unknown", "too_many_recipients", true)
  if (e === "4.2.2" || says(reply, "full")) return outcome("risky", "mailbox_full", true)
  if (says(reply, "greylist")) return outcome("unknown", "greylisted", true)
  if (e === "4.2.1") return outcome("unknown", "rate_limited", true)
  if (e === "4.1.7" || e === "4.1.8") return outcome("unknown", "sender_rejected", true)
  const us = aboutUs(reply, true)
  if (us !== undefined) return us
  if (says(reply, "serverTrouble")) return outcome("unknown", "temporary_failure", true)
  if (says(reply, "later")) return outcome("unknown", "greylisted", true)
  // 4.7.x at MAIL or RCPT: a temporary security or policy refusal (RFC 3463 §3.8), e.g. Postfix's 450 4.7.1 for a
  // client without PTR. Elsewhere (454 4.7.0 to STARTTLS) it is the server's own trouble.
  const envelope = phase === "AwaitMail" || phase === "AwaitRcpt" || phase === "AwaitProbe"
  if (envelope && (e.startsWith("4.7.") || says(reply, "policy"))) return outcome("unknown", "blocked", true)
  return outcome("unknown", "temporary_failure", true)
}

/**
 * What a reply in a given phase says about the recipient(s).
 *
 * @category classification
 * @since 0.1.0
 */
export const classify = (phase: Phase, reply: Reply.Reply): Outcome => {
  const isRcpt = phase === "AwaitRcpt" || phase === "AwaitProbe"
  if (isRcpt || phase === "AwaitVrfy") {
    if (reply.code === 250 || reply.code === 251) return outcome("deliverable", "accepted")
    // 252: "cannot VRFY user, but will accept message and attempt delivery" proves nothing.
    if (Reply.isPositive(reply)) return outcome("unknown", "cannot_verify")
    if (reply.code < 400) return outcome("unknown", "protocol_error")
    if (Reply.isTransient(reply)) return transient(reply, phase)
    if (phase === "AwaitVrfy" && (reply.code === 500 || reply.code === 502 || reply.code === 504)) {
      return outcome("unknown", "cannot_verify")
    }
    return permanentRcpt(reply)
  }
  // Replies before RCPT say nothing about the mailbox: at best why we could not ask.
  if (Reply.isPositive(reply) || reply.code < 400) return outcome("unknown", "protocol_error")
  if (Reply.isTransient(reply)) return transient(reply, phase)
  if (reply.code === 530 || says(reply, "tlsRequired")) return outcome("unknown", "tls_required")
  if (says(reply, "blocklist") || enhanced(reply).startsWith("5.7.") || reply.code === 554) {
    return outcome("unknown", "blocked")
  }
  if (phase === "AwaitMail") return outcome("unknown", "sender_rejected")
  return outcome("unknown", "protocol_error")
}

/**
 * Whether an RCPT reply settled nothing that VRFY might settle.
 *
 * @category predicates
 * @since 0.1.0
 */
export const needsVrfy = (reply: Reply.Reply): boolean => {
  const { reason } = classify("AwaitRcpt", reply)
  return reason === "cannot_verify" || reason === "blocked"
}

/**
 * Why the session could not ask about a recipient, from how it ended.
 *
 * @category classification
 * @since 0.1.0
 */
export const fromEnd = (end: SessionEnd): Outcome => {
  switch (end._tag) {
    case "Rejected":
      return classify(end.phase, end.reply)
    case "ServiceClosing":
      return outcome("unknown", "service_unavailable", true)
    case "Closed":
      return outcome("unknown", "connection_closed", true)
    case "TimedOut":
      return outcome("unknown", "timeout", true)
    case "ProtocolError":
      return outcome("unknown", "protocol_error", true)
    case "TlsUnavailable":
      return outcome("unknown", "tls_required")
    case "TlsFailed":
      return outcome("unknown", "tls_failed", true)
    case "Completed":
      // A completed session that never asked about a recipient: nothing to go on.
      return outcome("unknown", "protocol_error")
  }
}

/**
 * Everything the session learnt about recipient `index`, as one outcome: the RCPT reply, else
 * VRFY's when it settles what RCPT left open, else why it was never asked.
 *
 * @category classification
 * @since 0.1.0
 */
export const recipient = (result: SessionResult, index: number): Outcome => {
  const r = result.recipients[index]
  if (r === undefined) return outcome("unknown", "protocol_error")
  const vrfy = Option.map(r.vrfy, (v) => classify("AwaitVrfy", v)).pipe(
    Option.filter((o) => o.verdict === "deliverable" || o.verdict === "undeliverable")
  )
  if (Option.isSome(r.rcpt)) {
    const rcpt = classify("AwaitRcpt", r.rcpt.value)
    return needsVrfy(r.rcpt.value) && Option.isSome(vrfy) ? vrfy.value : rcpt
  }
  if (Option.isSome(vrfy)) return vrfy.value
  if (Option.isSome(r.skipped)) {
    switch (r.skipped.value) {
      case "SmtpUtf8Unsupported":
        return outcome("unknown", "smtputf8_unsupported")
      case "TooManyRecipients":
        return outcome("unknown", "too_many_recipients", true)
      case "Postponed":
        return outcome("unknown", "temporary_failure", true)
      case "MailRejected":
        return fromEnd(result.end)
    }
  }
  return fromEnd(result.end)
}
