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
import { classify, needsVrfy, type Outcome, type Reason, type Verdict } from "./internal/replyOutcome.ts"
import type { SessionEnd, SessionResult } from "./internal/session.ts"

export {
  classify,
  isTooManyRecipients,
  needsVrfy,
  type Outcome,
  phrases,
  type Reason,
  reasons,
  says,
  type Verdict
} from "./internal/replyOutcome.ts"

const outcome = (verdict: Verdict, reason: Reason, retryable = false): Outcome => ({ verdict, reason, retryable })

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
  // Once per recipient of every session: plain branches, no Option pipeline.
  const vrfyOutcome = Option.isSome(r.vrfy) ? classify("AwaitVrfy", r.vrfy.value) : undefined
  const vrfy =
    vrfyOutcome !== undefined && (vrfyOutcome.verdict === "deliverable" || vrfyOutcome.verdict === "undeliverable")
      ? vrfyOutcome
      : undefined
  if (Option.isSome(r.rcpt)) {
    const rcpt = classify("AwaitRcpt", r.rcpt.value)
    return vrfy !== undefined && needsVrfy(r.rcpt.value) ? vrfy : rcpt
  }
  if (vrfy !== undefined) return vrfy
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
