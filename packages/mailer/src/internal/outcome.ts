/**
 * From a submission session's result for one message to a `SendResult` or the reason it failed.
 * Pure, so the whole mapping is tested as a table.
 *
 * @internal
 */
import { Option, Result } from "effect"
import { Reply, type Submission } from "@rcpt/smtp"
import type { Built } from "../MailMessage.ts"
import * as SendError from "../SendError.ts"
import { queueId, type RecipientStatus, replyInfo, type SendResult } from "../SendResult.ts"

const describe = (reply: Reply.Reply) => `${reply.code} ${Reply.text(reply)}`

const refusal = (reason: Submission.RefusalReason, message: string) =>
  new SendError.InvalidMessage({ why: reason, message })

const statuses = (message: Submission.MessageResult): ReadonlyArray<RecipientStatus> =>
  message.recipients.flatMap((r) =>
    Option.match(r.reply, {
      onNone: () => [],
      onSome: (reply) => [{ address: r.address, accepted: Reply.isPositive(reply), reply: replyInfo(reply) }]
    })
  )

/** Why the session ended before the message was done. */
const ended = (end: Submission.SessionEnd, reused: boolean): SendError.SendErrorReason => {
  switch (end._tag) {
    case "Rejected":
    case "ServiceClosing":
      return new SendError.ServerRejected({
        phase: end.phase,
        reply: replyInfo(end.reply),
        message: `${end._tag === "ServiceClosing" ? "the server closed the session" : "the server refused the session"} in ${end.phase}: ${describe(end.reply)}`
      })
    case "Closed":
    case "TimedOut":
      return new SendError.ConnectionLost({
        phase: end.phase,
        timedOut: end._tag === "TimedOut",
        reused,
        message: end._tag === "TimedOut" ? `no reply in time in ${end.phase}` : `the connection closed in ${end.phase}`
      })
    case "ProtocolError":
      return new SendError.ProtocolError({ phase: end.phase, message: end.error.message })
    case "TlsUnavailable":
      return new SendError.TlsError({
        kind: "Unavailable",
        message: Option.match(end.reply, {
          onNone: () => "TLS is required and the server does not offer STARTTLS",
          onSome: (reply) => `TLS is required and the server refused STARTTLS: ${describe(reply)}`
        })
      })
    case "TlsFailed":
      return new SendError.TlsError({ kind: "Handshake", message: end.message })
    case "AuthUnavailable":
      return new SendError.AuthUnavailable({ why: end.reason, message: end.message })
    case "AuthFailed":
      return new SendError.AuthFailed({
        outcome: end.outcome,
        mechanism: end.mechanism,
        reply: replyInfo(end.reply),
        message: `AUTH ${end.mechanism} failed (${end.outcome}): ${describe(end.reply)}`
      })
    case "Completed":
    case "Held":
      return new SendError.ProtocolError({ phase: "Done", message: "the session ended without sending the message" })
  }
}

/**
 * The first message's fate in a session's result.
 *
 * @internal
 */
export const fromSession = (
  result: Submission.SubmissionResult,
  built: Built,
  context: { readonly reused: boolean; readonly attempts: number }
): Result.Result<SendResult, SendError.SendErrorReason> => {
  const message = result.messages[0]
  if (message === undefined) return Result.fail(ended(result.end, context.reused))
  const recipients = statuses(message)
  const outcome = message.outcome
  switch (outcome._tag) {
    case "Sent":
      return Result.succeed({
        messageId: built.messageId,
        queueId: queueId(outcome.reply),
        envelope: built.envelope,
        accepted: recipients.filter((r) => r.accepted).map((r) => r.address),
        rejected: recipients.filter((r) => !r.accepted),
        recipients,
        reply: replyInfo(outcome.reply),
        attempts: context.attempts,
        reused: context.reused,
        transcript: result.transcript
      })
    case "Refused":
      return Result.fail(refusal(outcome.reason, outcome.message))
    case "MailRejected":
      return Result.fail(
        new SendError.SenderRejected({
          reply: replyInfo(outcome.reply),
          message: `MAIL FROM refused: ${describe(outcome.reply)}`
        })
      )
    case "AllRecipientsRejected":
      return Result.fail(
        new SendError.RecipientsRejected({
          rejected: recipients.map(({ address, reply }) => ({ address, reply })),
          message: `every recipient was refused: ${recipients.map((r) => `${r.address} (${r.reply.code})`).join(", ")}`
        })
      )
    case "DataRejected":
    case "MessageRejected":
      return Result.fail(
        new SendError.MessageRejected({
          stage: outcome._tag === "DataRejected" ? "Data" : "Final",
          reply: replyInfo(outcome.reply),
          message: `${outcome._tag === "DataRejected" ? "DATA" : "the message"} refused: ${describe(outcome.reply)}`
        })
      )
    case "Pending":
      return Result.fail(ended(result.end, context.reused))
  }
}
