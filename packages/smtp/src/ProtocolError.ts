/**
 * The two ways a conversation can go wrong that are nobody's reply.
 *
 * A `RemoteProtocolError` is the server's fault: bytes that are not SMTP, or more of them than a
 * reply may hold. A `LocalProtocolError` is ours: a command we were asked to build that must never
 * reach a socket (CR/LF injection) or a step the state machine does not allow. As in h11, the first
 * is data the caller reports; the second is a bug or a refused argument.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * Why a server's bytes were refused.
 *
 * @category models
 * @since 0.1.0
 */
export type RemoteProtocolErrorReason =
  "MalformedLine" | "MixedCodes" | "LineTooLong" | "ReplyTooLong" | "TooManyLines" | "UnexpectedReply"

/**
 * The server sent something that is not a well-formed SMTP reply, or too much of it.
 *
 * @category errors
 * @since 0.1.0
 */
export class RemoteProtocolError extends Data.TaggedError("RemoteProtocolError")<{
  readonly reason: RemoteProtocolErrorReason
  readonly message: string
}> {}

/**
 * Why a local request was refused.
 *
 * @category models
 * @since 0.1.0
 */
export type LocalProtocolErrorReason = "ForbiddenCharacter" | "InvalidArgument" | "InvalidConfig"

/**
 * We were asked to send something that must never be sent, e.g. an argument carrying CR, LF or NUL.
 *
 * @category errors
 * @since 0.1.0
 */
export class LocalProtocolError extends Data.TaggedError("LocalProtocolError")<{
  readonly reason: LocalProtocolErrorReason
  readonly message: string
}> {}
