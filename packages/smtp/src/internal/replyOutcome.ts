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
import { phrases } from "./replyPhrases.ts"

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

export { phrases } from "./replyPhrases.ts"

/**
 * @category predicates
 * @since 0.1.0
 */
export const says = (reply: Reply.Reply, table: keyof typeof phrases): boolean => matchers[table].test(lowerText(reply))

// Each table as one alternation of its literal phrases: the same substring test as `includes` per phrase, in one
// scan of the text (about 4x faster on a Postfix rejection, read against several tables per recipient).
const literal = (phrase: string): string => phrase.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
const matchers = Object.fromEntries(
  Object.entries(phrases).map(([table, list]: [string, ReadonlyArray<string>]) => [
    table,
    // An empty table matches nothing (an empty alternation would match everything).
    list.length === 0 ? /(?!)/ : new RegExp(list.map(literal).join("|"))
  ])
) as Record<keyof typeof phrases, RegExp>

// A reply is read against several phrase tables, and classified several times (the recipient's
// outcome, the sender check, the catch-all check): its text and outcomes are worked out once per
// reply value. Memos of pure functions, keyed weakly: they go with the reply.
// One entry per reply (a weak map's entries cost the collector more than plain objects): its
// lowered text, its outcome at RCPT (nearly every reply read is one) and at other phases.
interface Read {
  lower: string | undefined
  rcpt: Outcome | undefined
  others: Map<Phase, Outcome> | undefined
}
const reads = new WeakMap<Reply.Reply, Read>()
const readOf = (reply: Reply.Reply): Read => {
  let read = reads.get(reply)
  if (read === undefined) {
    read = { lower: undefined, rcpt: undefined, others: undefined }
    reads.set(reply, read)
  }
  return read
}
const lowerText = (reply: Reply.Reply): string => {
  const read = readOf(reply)
  return (read.lower ??= withoutMailboxes(Reply.text(reply).toLowerCase()))
}

// Servers echo the recipient ("550 5.1.1 <abuse@spamcop.net>: Recipient address rejected: User unknown"):
// its words are the address's, not the server's, and must not read as a phrase ("spamcop", "blacklist",
// "relay"), so mailboxes, in angle brackets or bare, are left out of the text the phrases are matched in.
const bracketed = /<[^<>]*@[^<>]*>/g
// Bare, a dot-atom local part (RFC 5322 atext) at a domain of letters, digits, dots and hyphens: no
// more, so "(user@example.com:blocked)" keeps its ":blocked".
const bare = /[^\s<>()[\]:;@\\,"]+@[\p{L}\p{N}.-]+/gu
const withoutMailboxes = (text: string): string => {
  if (!text.includes("@")) return text
  // Most servers bracket the address they echo: then the bare pattern (slow: Unicode classes,
  // tried at every position) has nothing left to find.
  const unbracketed = text.replace(bracketed, "<>")
  return unbracketed.includes("@") ? unbracketed.replace(bare, "") : unbracketed
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
    if (says(reply, "disabled")) return outcome("undeliverable", "mailbox_disabled")
    // 552 is "exceeded storage allocation": a full mailbox under a misused 5.1.1 (Orange's "Boite pleine").
    if (reply.code === 552 && says(reply, "full")) return outcome("risky", "mailbox_full")
    return outcome("undeliverable", "mailbox_unknown")
  }
  if (e === "5.1.6") return outcome("undeliverable", "mailbox_moved")
  // X.1.7 / X.1.8: the sender's address or system (RFC 3463 §3.2), i.e. our MAIL FROM.
  if (e === "5.1.7" || e === "5.1.8") return outcome("unknown", "sender_rejected")
  if (e === "5.1.2") return outcome("undeliverable", "no_such_domain")
  if (e.endsWith(".6.7")) return outcome("unknown", "smtputf8_unsupported")
  // Microsoft 365 directory-based edge blocking: "550 5.4.1 Recipient address rejected: Access denied".
  if (e === "5.4.1" && lowerText(reply).includes("recipient address rejected")) {
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
  // "Domain does not exist" names the domain, not a mailbox in it: read before "does not exist".
  if (says(reply, "noDomain")) return outcome("undeliverable", "no_such_domain")
  if (says(reply, "unknownUser")) return outcome("undeliverable", "mailbox_unknown")
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
  const read = readOf(reply)
  if (phase === "AwaitRcpt") return (read.rcpt ??= byContent(phase, reply))
  read.others ??= new Map()
  let known = read.others.get(phase)
  if (known === undefined) {
    known = byContent(phase, reply)
    read.others.set(phase, known)
  }
  return known
}

// Replies that differ only in the mailbox they echo (a list of unknown mailboxes at Postfix: "550 5.1.1 <x@example.com>:
// Recipient address rejected: User unknown...") classify alike: an outcome depends on the phase, the code, the enhanced
// code and the text as the phrases are read in (lower case, mailboxes left out), and nothing else. Worked out once
// per such content, in a bounded memo (emptied when full: a bulk run sees a handful of distinct texts per server).
// By text, then by code and phase, then by enhanced code: no key string made per reply.
type ByCode = Map<number, Map<string, Outcome>>
/** By the lowered text without mailboxes. */
const contents = new Map<string, ByCode>()
/** By the text as sent with its bracketed mailboxes left out (see `rawContent`): most replies, lowered only once. */
const rawContents = new Map<string, ByCode>()
const contentsLimit = 4096
let contentsSize = 0
const phases = new Map<string, number>()

/**
 * The reply's text with the mailboxes it echoes in angle brackets left out, not lowered; undefined
 * when a bare mailbox may be left (then the lowered text is the key). It decides the outcome as
 * the lowered text does: lowering changes no "<", ">" or "@", so the brackets are found alike in
 * either case, and lowering the text left gives the lowered text without mailboxes.
 */
const rawContent = (reply: Reply.Reply): string | undefined => {
  const text = Reply.text(reply)
  if (!text.includes("@")) return text
  const unbracketed = text.replace(bracketed, "<>")
  return unbracketed.includes("@") ? undefined : unbracketed
}

const byContent = (phase: Phase, reply: Reply.Reply): Outcome => {
  const raw = rawContent(reply)
  const table = raw === undefined ? contents : rawContents
  const text = raw ?? lowerText(reply)
  let byCode = table.get(text)
  if (byCode === undefined) {
    if (contentsSize >= contentsLimit) {
      contents.clear()
      rawContents.clear()
      contentsSize = 0
    }
    table.set(text, (byCode = new Map()))
  }
  let index = phases.get(phase)
  if (index === undefined) phases.set(phase, (index = phases.size))
  const at = reply.code * 100 + index
  let byEnhanced = byCode.get(at)
  if (byEnhanced === undefined) byCode.set(at, (byEnhanced = new Map()))
  const e = Reply.enhancedCode(reply) ?? "-"
  let known = byEnhanced.get(e)
  if (known === undefined) {
    known = classifyOnce(phase, reply)
    byEnhanced.set(e, known)
    contentsSize++
  }
  return known
}

const classifyOnce = (phase: Phase, reply: Reply.Reply): Outcome => {
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
