/**
 * Why a message was not sent: one error, `SendError`, with a `reason` for each way it can fail,
 * each knowing whether another try may succeed (`isRetryable`). Handle one with
 * `Effect.catchReason("SendError", "AuthFailed", ...)`.
 *
 * **Details**
 *
 * - A 4xx is retryable, a 5xx is not; connection trouble is, our own refusals are not.
 * - Trouble after the body went out and before the final reply (a timeout, a closed connection)
 *   is not retryable: the server may have taken the message, and a retry could deliver it twice.
 * - Every reason has a `message`; the error carries the transcript so far, credentials masked.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * A server reply, as errors carry it.
 *
 * @category models
 * @since 0.1.0
 */
export const ReplyInfo = Schema.Struct({
  code: Schema.Number,
  enhanced: Schema.optional(Schema.String),
  text: Schema.String
})

/**
 * @category models
 * @since 0.1.0
 */
export type ReplyInfo = typeof ReplyInfo.Type

const transient = (reply: ReplyInfo) => reply.code >= 400 && reply.code < 500

/**
 * The connection could not be opened (or implicit TLS failed on it).
 *
 * @category errors
 * @since 0.1.0
 */
export class ConnectError extends Schema.TaggedError<ConnectError>()("ConnectError", {
  transportReason: Schema.String,
  message: Schema.String
}) {
  get isRetryable(): boolean {
    return this.transportReason !== "TlsHandshake"
  }
}

/**
 * TLS was required and the server did not offer or allow it, or the handshake failed.
 *
 * @category errors
 * @since 0.1.0
 */
export class TlsError extends Schema.TaggedError<TlsError>()("TlsError", {
  kind: Schema.Literals(["Unavailable", "Handshake"]),
  message: Schema.String
}) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The server refused the credentials (535), wants TLS for them (538), a stronger mechanism
 * (534), or cannot check them now (454, retryable).
 *
 * @category errors
 * @since 0.1.0
 */
export class AuthFailed extends Schema.TaggedError<AuthFailed>()("AuthFailed", {
  outcome: Schema.String,
  mechanism: Schema.String,
  reply: ReplyInfo,
  message: Schema.String
}) {
  get isRetryable(): boolean {
    return transient(this.reply)
  }
}

/**
 * We did not authenticate: no mechanism in common, AUTH not offered, or no TLS to send
 * credentials over.
 *
 * @category errors
 * @since 0.1.0
 */
export class AuthUnavailable extends Schema.TaggedError<AuthUnavailable>()("AuthUnavailable", {
  why: Schema.String,
  message: Schema.String
}) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * MAIL FROM refused (e.g. 530 authentication required, 553 sender not owned).
 *
 * @category errors
 * @since 0.1.0
 */
export class SenderRejected extends Schema.TaggedError<SenderRejected>()("SenderRejected", {
  reply: ReplyInfo,
  message: Schema.String
}) {
  get isRetryable(): boolean {
    return transient(this.reply)
  }
}

/**
 * Every recipient was refused; DATA was not sent.
 *
 * @category errors
 * @since 0.1.0
 */
export class RecipientsRejected extends Schema.TaggedError<RecipientsRejected>()("RecipientsRejected", {
  rejected: Schema.Array(Schema.Struct({ address: Schema.String, reply: ReplyInfo })),
  message: Schema.String
}) {
  /** Only when every refusal was temporary: a retry goes to every recipient again. */
  get isRetryable(): boolean {
    return this.rejected.length > 0 && this.rejected.every((r) => transient(r.reply))
  }
}

/**
 * DATA or the message itself refused (the final reply, e.g. 554 spam, 452 storage).
 *
 * @category errors
 * @since 0.1.0
 */
export class MessageRejected extends Schema.TaggedError<MessageRejected>()("MessageRejected", {
  stage: Schema.Literals(["Data", "Final"]),
  reply: ReplyInfo,
  message: Schema.String
}) {
  get isRetryable(): boolean {
    return transient(this.reply)
  }
}

/**
 * The server refused the session (a 554 greeting, EHLO refused) or closed it (421).
 *
 * @category errors
 * @since 0.1.0
 */
export class ServerRejected extends Schema.TaggedError<ServerRejected>()("ServerRejected", {
  phase: Schema.String,
  reply: ReplyInfo,
  message: Schema.String
}) {
  get isRetryable(): boolean {
    return transient(this.reply)
  }
}

/**
 * The connection closed, or a reply did not come in time (`phase` "Message": the whole try took
 * longer than allowed).
 *
 * @category errors
 * @since 0.1.0
 */
export class ConnectionLost extends Schema.TaggedError<ConnectionLost>()("ConnectionLost", {
  phase: Schema.String,
  timedOut: Schema.Boolean,
  /** The connection came from the pool and had served a message before. */
  reused: Schema.Boolean,
  message: Schema.String
}) {
  /** Not after the body (may have) gone out: the message may have been taken. */
  get isRetryable(): boolean {
    return this.phase !== "AwaitDataEnd" && this.phase !== "Message"
  }
}

/**
 * The server sent something that is not SMTP.
 *
 * @category errors
 * @since 0.1.0
 */
export class ProtocolError extends Schema.TaggedError<ProtocolError>()("ProtocolError", {
  phase: Schema.String,
  message: Schema.String
}) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The message cannot be sent as it is: it could not be composed, has no sender or recipient, or
 * the server cannot take it (no SMTPUTF8 for a UTF-8 address, no 8BITMIME, over SIZE, a long line).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidMessage extends Schema.TaggedError<InvalidMessage>()("InvalidMessage", {
  why: Schema.String,
  message: Schema.String
}) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * @category models
 * @since 0.1.0
 */
export const SendErrorReason = Schema.Union([
  ConnectError,
  TlsError,
  AuthFailed,
  AuthUnavailable,
  SenderRejected,
  RecipientsRejected,
  MessageRejected,
  ServerRejected,
  ConnectionLost,
  ProtocolError,
  InvalidMessage
])

/**
 * @category models
 * @since 0.1.0
 */
export type SendErrorReason = typeof SendErrorReason.Type

/**
 * A transcript line, as errors and results carry it.
 *
 * @category models
 * @since 0.1.0
 */
export const TranscriptEntry = Schema.Struct({
  direction: Schema.Literals(["C", "S", "*"]),
  text: Schema.String,
  recipient: Schema.optional(Schema.Number)
})

/**
 * A message that was not sent, and why.
 *
 * @category errors
 * @since 0.1.0
 */
export class SendError extends Schema.TaggedError<SendError>()("SendError", {
  reason: SendErrorReason,
  transcript: Schema.Array(TranscriptEntry)
}) {
  get isRetryable(): boolean {
    return this.reason.isRetryable
  }

  override get message(): string {
    return `${this.reason._tag}: ${this.reason.message}`
  }
}

/**
 * Whether another try may succeed.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isRetryable = (error: SendError): boolean => error.isRetryable
