/**
 * What a reply says about a mailbox, from the reply alone: the verdicts, the closed set of
 * reasons, the phrase tables and `classify`. The session machine consults it (VRFY fallback,
 * "too many recipients"); `Classify` re-exports it and adds what needs a session's result.
 *
 * @internal
 */
import { Option } from "effect"
import type { Phase } from "./phase.ts"
import * as Reply from "../Reply.ts"

/**
 * @category models
 * @since 0.1.0
 */
export type Verdict = "deliverable" | "undeliverable" | "risky" | "unknown"

/**
 * The closed set of reasons a reply, or how a session ended, can give. The verifier adds its
 * own (DNS, syntax, connection, the judge's) in `Verification.Reason`.
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
  "connection_closed"
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
    "no longer available"
  ],
  disabled: ["disabled", "discontinued", "inactive", "deactivated", "suspended", "no longer active"],
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
    "too many messages"
  ],
  relay: ["relay access denied", "relaying denied", "relay not permitted", "not permitted to relay", "unable to relay"],
  tlsRequired: ["starttls", "tls required", "encryption required", "must use tls"],
  greylist: ["greylist", "graylist", "grey list", "gray list", "try again later", "try later", "retry later"],
  rateLimit: ["receiving mail at a rate", "rate limit", "too many connections", "too many requests"],
  tooManyRecipients: ["too many recipients", "recipient limit"],
  blocklist: [
    "blacklist",
    "black list",
    "blocklist",
    "block list",
    "blocked",
    "spamhaus",
    "spamcop",
    "dnsbl",
    "banned",
    "access denied",
    "reputation",
    "listed at",
    "listed in",
    "client host rejected",
    "reverse dns",
    "reverse hostname",
    "ptr record"
  ],
  nullMx: ["null mx"],
  /** About our MAIL FROM, not the mailbox: Postfix's "Sender address rejected", refusals of `<>`. */
  sender: [
    "sender address rejected",
    "sender rejected",
    "sender not accepted",
    "sender refused",
    "null sender",
    "empty sender",
    "sender verify failed",
    "bounce address"
  ]
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

/**
 * Whether a reply refuses the reverse path (MAIL FROM) rather than the recipient: sender
 * wording or the sender's enhanced codes (5.1.7, 5.1.8), unless it names a blocklist (then the
 * client is refused, whatever the sender). Asking again with another sender may help.
 */
export const refusesSender = (reply: Reply.Reply): boolean => {
  const e = enhanced(reply)
  if (!(e.endsWith(".1.7") || e.endsWith(".1.8") || says(reply, "sender"))) return false
  // "Access denied" is Postfix's stock text for any REJECT: about the sender here.
  const text = Reply.text(reply).toLowerCase()
  return !phrases.blocklist.some((p) => p !== "access denied" && text.includes(p))
}

const permanentRcpt = (reply: Reply.Reply): Outcome => {
  const e = enhanced(reply)
  // Enhanced codes first: they are the server's own classification.
  if (e === "5.1.10" || says(reply, "nullMx")) return outcome("undeliverable", "null_mx")
  // "550 5.7.1 <>: Sender address rejected": our MAIL FROM was refused (at RCPT, as Postfix delays
  // rejections), not the mailbox. 5.1.7 / 5.1.8 are the sender's own codes.
  if (refusesSender(reply)) return outcome("unknown", "sender_rejected")
  if (e === "5.2.2") return outcome("risky", "mailbox_full")
  if (e === "5.2.1") return outcome("undeliverable", "mailbox_disabled")
  if (e === "5.1.1" || e === "5.1.0" || e === "5.1.3") {
    return says(reply, "disabled")
      ? outcome("undeliverable", "mailbox_disabled")
      : outcome("undeliverable", "mailbox_unknown")
  }
  if (e === "5.1.6") return outcome("undeliverable", "mailbox_moved")
  if (e === "5.1.2") return outcome("undeliverable", "no_such_domain")
  if (e.endsWith(".6.7")) return outcome("unknown", "smtputf8_unsupported")
  // Microsoft 365 directory-based edge blocking: "550 5.4.1 Recipient address rejected: Access denied".
  if (e === "5.4.1" && Reply.text(reply).toLowerCase().includes("recipient address rejected")) {
    return outcome("undeliverable", "mailbox_unknown")
  }
  if (e.startsWith("5.7.")) {
    if (says(reply, "relay")) return outcome("unknown", "relay_denied")
    // Blocklist wording before user wording: "PTR record does not exist" is about us, not the mailbox.
    if (says(reply, "blocklist")) return outcome("unknown", "blocked")
    if (says(reply, "unknownUser")) return outcome("undeliverable", "mailbox_unknown")
    if (says(reply, "tlsRequired")) return outcome("unknown", "tls_required")
    return outcome("unknown", "blocked")
  }
  if (e.startsWith("5.5.")) return outcome("unknown", "protocol_error")
  if (e.startsWith("5.3.") || e.startsWith("5.4.")) return outcome("unknown", "server_error")
  // No enhanced code, or one that settles nothing (5.0.0): the text, then the code.
  if (says(reply, "disabled")) return outcome("undeliverable", "mailbox_disabled")
  if (says(reply, "full")) return outcome("risky", "mailbox_full")
  if (says(reply, "unknownUser")) return outcome("undeliverable", "mailbox_unknown")
  if (says(reply, "relay")) return outcome("unknown", "relay_denied")
  if (says(reply, "tlsRequired")) return outcome("unknown", "tls_required")
  if (says(reply, "blocklist")) return outcome("unknown", "blocked")
  switch (reply.code) {
    case 550:
    case 553:
      // "mailbox unavailable" / "mailbox name not allowed": at RCPT, the mailbox is the subject.
      return outcome("undeliverable", "mailbox_unknown")
    case 551:
      return outcome("undeliverable", "mailbox_moved")
    case 552:
      return outcome("risky", "mailbox_full")
    case 500:
    case 501:
    case 502:
    case 503:
    case 504:
    case 555:
      return outcome("unknown", "protocol_error")
    default:
      return outcome("unknown", "blocked")
  }
}

const transient = (reply: Reply.Reply): Outcome => {
  const e = enhanced(reply)
  if (reply.code === 421) return outcome("unknown", "service_unavailable", true)
  if (isTooManyRecipients(reply)) return outcome("unknown", "too_many_recipients", true)
  if (e === "4.2.2" || says(reply, "full")) return outcome("risky", "mailbox_full", true)
  if (says(reply, "greylist")) return outcome("unknown", "greylisted", true)
  if (refusesSender(reply)) return outcome("unknown", "sender_rejected", true)
  if (e === "4.2.1" || says(reply, "rateLimit")) return outcome("unknown", "rate_limited", true)
  if (says(reply, "blocklist")) return outcome("unknown", "blocked", true)
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
    if (Reply.isTransient(reply)) return transient(reply)
    if (phase === "AwaitVrfy" && (reply.code === 500 || reply.code === 502 || reply.code === 504)) {
      return outcome("unknown", "cannot_verify")
    }
    return permanentRcpt(reply)
  }
  // Replies before RCPT say nothing about the mailbox: at best why we could not ask.
  if (Reply.isPositive(reply) || reply.code < 400) return outcome("unknown", "protocol_error")
  if (Reply.isTransient(reply)) return transient(reply)
  if (reply.code === 530 || says(reply, "tlsRequired")) return outcome("unknown", "tls_required")
  if (phase === "AwaitMail" && refusesSender(reply)) return outcome("unknown", "sender_rejected")
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
