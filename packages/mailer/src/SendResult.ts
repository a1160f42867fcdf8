/**
 * What `Mailer.send` gives for a message the server took: its queue id, which recipients were
 * accepted and which refused, the final reply and the transcript (credentials masked).
 *
 * @since 0.1.0
 */
import { Option } from "effect"
import { Reply, type Submission } from "@rcpt/smtp"
import type { ReplyInfo } from "./SendError.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface RecipientStatus {
  readonly address: string
  readonly accepted: boolean
  readonly reply: ReplyInfo
}

/**
 * @category models
 * @since 0.1.0
 */
export interface SendResult {
  /** The Message-ID header, when the message was composed here or carried one. */
  readonly messageId: Option.Option<string>
  /** The server's id for the message, read from the final reply (`250 2.0.0 Ok: queued as 4Xq1Zb`). */
  readonly queueId: Option.Option<string>
  readonly envelope: Submission.Envelope
  readonly accepted: ReadonlyArray<string>
  /** Recipients refused while others were accepted: the message went to the rest. */
  readonly rejected: ReadonlyArray<RecipientStatus>
  readonly recipients: ReadonlyArray<RecipientStatus>
  /** The final reply after the body. */
  readonly reply: ReplyInfo
  /** Tries it took, the successful one included. */
  readonly attempts: number
  /** Whether the connection had served a message before. */
  readonly reused: boolean
  readonly transcript: ReadonlyArray<Submission.TranscriptEntry>
}

/**
 * A reply as errors and results carry it.
 *
 * @category constructors
 * @since 0.1.0
 */
export const replyInfo = (reply: Reply.Reply): ReplyInfo => {
  const enhanced = Reply.enhancedCode(reply)
  return enhanced === undefined
    ? { code: reply.code, text: Reply.text(reply) }
    : { code: reply.code, enhanced, text: Reply.text(reply) }
}

// How servers name the message in their final reply, most specific first.
const queueIdPatterns: ReadonlyArray<RegExp> = [
  // Postfix "Ok: queued as 4Xq1Zb2Lz3", smtp-server "OK: queued as ...", qmail "ok 1700000000 qp 1234"
  /\bqueued as\s+<?([A-Za-z0-9][A-Za-z0-9._@:-]*)>?/i,
  // Exim "OK id=1rXyZa-0001Ab-Cd"
  /\bid=([A-Za-z0-9][A-Za-z0-9._-]*)/i,
  // Exchange "Queued mail for delivery ... [InternalId=123456789, Hostname=...]"
  /\bInternalId=(\d+)/i,
  // Gmail "OK  1700000000 a1-20020a170902b58100b001 - gsmtp"
  /^OK\s+\d+\s+(\S+)\s+-\s+gsmtp/i,
  // Sendmail "x8JFkY1a012345 Message accepted for delivery"
  /^([A-Za-z0-9]{8,})\s+Message accepted for delivery/i,
  // Amazon SES "Ok 0100018b...-000000"
  /^Ok\s+([0-9a-f]{16,}-[0-9a-f-]+)/i
]

/**
 * The queue id in a final reply's text, when the server names one in a form we know.
 *
 * @category getters
 * @since 0.1.0
 */
export const queueId = (reply: Reply.Reply): Option.Option<string> => {
  const text = Reply.text(reply)
  for (const pattern of queueIdPatterns) {
    const m = pattern.exec(text)
    if (m?.[1] !== undefined) return Option.some(m[1])
  }
  return Option.none()
}
