/**
 * The submission session's model and the helpers every transition uses. Public names are
 * re-exported by `Submission.ts`; this file exists so that the transition table can import them
 * without a cycle.
 *
 * @internal
 */
import { Data, Option } from "effect"
import type * as Capabilities from "../Capabilities.ts"
import * as Command from "../Command.ts"
import type * as Reply from "../Reply.ts"
import type * as ReplyParser from "../ReplyParser.ts"
import type * as Sasl from "../Sasl.ts"
import * as conversation from "./conversation.ts"
import * as dialogue from "./dialogue.ts"
import { phaseOf, type TranscriptEntry } from "./dialogue.ts"
import * as Log from "./log.ts"
import type { TlsStatus as SessionTlsStatus } from "./dialogue.ts"

/**
 * `required`: STARTTLS or nothing (the default). `opportunistic`: STARTTLS when offered.
 * `implicit`: the transport connected with TLS (port 465), so no STARTTLS. `off`: never TLS.
 *
 * @category models
 * @since 0.1.0
 */
export type TlsMode = "required" | "opportunistic" | "implicit" | "off"

/**
 * The verification session's TLS status, plus TLS set up by the transport before the greeting.
 *
 * @category models
 * @since 0.1.0
 */
export type TlsStatus = SessionTlsStatus | { readonly _tag: "Implicit" }

/**
 * @category models
 * @since 0.1.0
 */
export interface Config {
  /** EHLO name: an FQDN or address literal the caller owns. */
  readonly clientName: string
  /** The server's host name, for TLS SNI and certificate checks. */
  readonly servername: string
  readonly tls: TlsMode
  readonly auth: Option.Option<Sasl.Credentials>
  /** Use this mechanism whatever EHLO says. */
  readonly mechanism: Option.Option<Sasl.Mechanism>
  /** Send credentials over a channel without TLS (e.g. to a relay on loopback). Off by default. */
  readonly allowInsecureAuth: boolean
  /** For CRAM-MD5, supplied by the platform. */
  readonly hmacMd5: Option.Option<Sasl.HmacMd5>
  /** Send MAIL, every RCPT and DATA in one write when PIPELINING is offered (RFC 2920). */
  readonly pipelining: boolean
  /** After the last message, finish without QUIT: the connection stays open for `resume`. */
  readonly keepOpen: boolean
  /** Body octets per write. */
  readonly chunkSize: number
}

/**
 * @category constants
 * @since 0.1.0
 */
export const defaults = {
  tls: "required",
  auth: Option.none<Sasl.Credentials>(),
  mechanism: Option.none<Sasl.Mechanism>(),
  allowInsecureAuth: false,
  hmacMd5: Option.none<Sasl.HmacMd5>(),
  pipelining: true,
  keepOpen: false,
  chunkSize: 64 * 1024
} as const

/**
 * Delivery status notification requests (RFC 3461), sent only to servers that offer DSN.
 *
 * @category models
 * @since 0.1.0
 */
export interface Dsn {
  readonly ret?: "FULL" | "HDRS" | undefined
  readonly envid?: string | undefined
  readonly notify?: "NEVER" | ReadonlyArray<"SUCCESS" | "FAILURE" | "DELAY"> | undefined
  /** Send each recipient's address as ORCPT. */
  readonly orcpt?: boolean | undefined
}

/**
 * The SMTP envelope: who the message is from (the bounce address) and to.
 *
 * @category models
 * @since 0.1.0
 */
export interface Envelope {
  /** Reverse path; `""` is the null path `<>`. */
  readonly mailFrom: string
  /** Forward paths, one RCPT each, in order. */
  readonly recipients: ReadonlyArray<string>
  readonly dsn?: Dsn | undefined
}

/**
 * A message to send: the envelope and the RFC 5322 message (headers and body). Line ends are
 * made CRLF and dots stuffed on the way out.
 *
 * @category models
 * @since 0.1.0
 */
export interface Message {
  readonly envelope: Envelope
  readonly body: Uint8Array
}

/**
 * What the machine waits for, named after the reply it expects.
 *
 * @category models
 * @since 0.1.0
 */
export type Phase = dialogue.DialoguePhase | "AwaitAuth" | "AwaitData" | "AwaitDataEnd"

/**
 * One reply the machine waits for; pipelined commands queue several.
 *
 * @category models
 * @since 0.1.0
 */
export type Awaiting =
  | { readonly phase: Exclude<Phase, "AwaitRcpt" | "AwaitTlsHandshake" | "Done"> }
  | { readonly phase: "AwaitRcpt"; readonly recipient: number }

/**
 * Why a message was not offered to the server at all: our own checks, before MAIL FROM.
 *
 * @category models
 * @since 0.1.0
 */
export type RefusalReason =
  "InvalidAddress" | "NoRecipients" | "SmtpUtf8Unsupported" | "EightBitUnsupported" | "MessageTooLarge" | "LineTooLong"

/**
 * What became of one message.
 *
 * @category models
 * @since 0.1.0
 */
export type MessageOutcome =
  /** Not (or not completely) attempted: the session ended first. */
  | { readonly _tag: "Pending" }
  /** The final reply after the body was positive; some recipients may have been refused. */
  | { readonly _tag: "Sent"; readonly reply: Reply.Reply }
  | { readonly _tag: "Refused"; readonly reason: RefusalReason; readonly message: string }
  | { readonly _tag: "MailRejected"; readonly reply: Reply.Reply }
  /** Every RCPT was refused: DATA was not sent (or, if pipelined, the body was not). */
  | { readonly _tag: "AllRecipientsRejected" }
  | { readonly _tag: "DataRejected"; readonly reply: Reply.Reply }
  /** The final reply after the body was negative. */
  | { readonly _tag: "MessageRejected"; readonly reply: Reply.Reply }

/**
 * @category models
 * @since 0.1.0
 */
export interface RecipientResult {
  readonly address: string
  readonly reply: Option.Option<Reply.Reply>
}

/**
 * @category models
 * @since 0.1.0
 */
export interface MessageResult {
  readonly outcome: MessageOutcome
  readonly mail: Option.Option<Reply.Reply>
  readonly recipients: ReadonlyArray<RecipientResult>
  readonly data: Option.Option<Reply.Reply>
}

/**
 * How the session ended.
 *
 * @category models
 * @since 0.1.0
 */
export type SessionEnd =
  | dialogue.ConversationEnd<Phase>
  /** Finished with the connection open and ready for another message (`keepOpen`). */
  | { readonly _tag: "Held" }
  /** We did not authenticate: nothing usable offered, or no TLS and cleartext not allowed. */
  | {
      readonly _tag: "AuthUnavailable"
      readonly reason: "NotOffered" | "NoCommonMechanism" | "Unusable" | "Cleartext"
      readonly message: string
    }
  | {
      readonly _tag: "AuthFailed"
      readonly outcome: Sasl.Outcome
      readonly mechanism: Sasl.Mechanism
      readonly reply: Reply.Reply
    }

/**
 * What a connection that is still open knows: enough to `resume` on it.
 *
 * @category models
 * @since 0.1.0
 */
export interface Ready {
  readonly greeting: Option.Option<Reply.Reply>
  readonly capabilities: Capabilities.Capabilities
  readonly tls: TlsStatus
  readonly authenticated: Option.Option<Sasl.Mechanism>
  /** A transaction was begun since the last RSET: the next message starts with RSET. */
  readonly dirty: boolean
}

/**
 * @category models
 * @since 0.1.0
 */
export interface SubmissionResult {
  readonly messages: ReadonlyArray<MessageResult>
  readonly end: SessionEnd
  readonly greeting: Option.Option<Reply.Reply>
  readonly capabilities: Option.Option<Capabilities.Capabilities>
  readonly tls: TlsStatus
  readonly authenticated: Option.Option<Sasl.Mechanism>
  /** `Some` when the session was held open (`end` is `Held`). */
  readonly ready: Option.Option<Ready>
  readonly transcript: ReadonlyArray<TranscriptEntry>
}

/**
 * What the driver tells the machine: the verification session's inputs.
 *
 * @category models
 * @since 0.1.0
 */
export type { Input } from "./session.ts"

/**
 * What the machine asks the driver to do, in order. A body chunk is a `Send` without commands.
 *
 * @category models
 * @since 0.1.0
 */
export type Action = dialogue.Action<SubmissionResult>

/**
 * @category constructors
 * @since 0.1.0
 */
export const Action = Data.taggedEnum<Action>()

/**
 * The commands and body of the transaction under way.
 *
 * @category models
 * @since 0.1.0
 */
export interface Transaction {
  readonly rcpts: ReadonlyArray<Command.Command>
  /** The body on the wire: CRLF, dot-stuffed, terminated. */
  readonly chunks: ReadonlyArray<Uint8Array>
  readonly pipelined: boolean
}

/**
 * The whole state. Only `step` makes new ones.
 *
 * @category models
 * @since 0.1.0
 */
export interface Submission {
  readonly config: Config
  readonly parser: ReplyParser.ReplyParser
  readonly pending: Log.Queue<Awaiting>
  readonly handshaking: boolean
  /** Started by `resume` on an open connection: no greeting to wait for. */
  readonly resumed: boolean
  readonly greeting: Option.Option<Reply.Reply>
  readonly capabilities: Option.Option<Capabilities.Capabilities>
  readonly tls: TlsStatus
  readonly sasl: Option.Option<Sasl.Exchange>
  readonly authenticated: Option.Option<Sasl.Mechanism>
  readonly messages: ReadonlyArray<Message>
  readonly results: ReadonlyArray<MessageResult>
  /** The message being sent (or next to be). */
  readonly current: number
  readonly dirty: boolean
  readonly transaction: Option.Option<Transaction>
  /** The current transaction failed: its remaining pipelined replies are read and ignored. */
  readonly abandoned: boolean
  readonly end: Option.Option<SessionEnd>
  readonly transcript: Log.Log<TranscriptEntry>
  readonly done: boolean
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Step {
  readonly state: Submission
  readonly actions: ReadonlyArray<Action>
}

/**
 * What the machine waits for now; the driver picks the timeout from it.
 *
 * @category getters
 * @since 0.1.0
 */
export const phase = (state: Submission): Phase => phaseOf(state)

/**
 * Whether the channel is encrypted, by STARTTLS or by the transport.
 *
 * @category getters
 * @since 0.1.0
 */
export const isSecure = (state: { readonly tls: TlsStatus }): boolean =>
  state.tls._tag === "Established" || state.tls._tag === "Implicit"

const readyOf = (state: Submission): Option.Option<Ready> =>
  Option.map(state.capabilities, (capabilities) => ({
    greeting: state.greeting,
    capabilities,
    tls: state.tls,
    authenticated: state.authenticated,
    dirty: state.dirty
  }))

/**
 * The result so far, as `Finished` would carry it.
 *
 * @category getters
 * @since 0.1.0
 */
export const result = (state: Submission): SubmissionResult => {
  const end = Option.getOrElse(state.end, (): SessionEnd => ({ _tag: "Completed" }))
  return {
    messages: state.results,
    end,
    greeting: state.greeting,
    capabilities: state.capabilities,
    tls: state.tls,
    authenticated: state.authenticated,
    ready: end._tag === "Held" ? readyOf(state) : Option.none(),
    transcript: Log.toArray(state.transcript)
  }
}

/**
 * Sends commands and queues the replies they will bring; AUTH lines are logged redacted.
 *
 * @internal
 */
export const send = (
  state: Submission,
  commands: ReadonlyArray<Command.Command>,
  awaiting: ReadonlyArray<Awaiting>
): Step => dialogue.send(state, commands, awaiting)

/**
 * Ends the session: with QUIT first when the channel is still sound, else at once. `end`
 * undefined keeps the end already recorded (or Completed).
 *
 * @internal
 */
export const finish = (
  state: Submission,
  end: SessionEnd | undefined,
  options: conversation.FinishOptions = {}
): Step => conversation.finish<Submission, Awaiting, SessionEnd, SubmissionResult>(state, end, options, result)

/**
 * Finishes with the connection open: no QUIT, no Close.
 *
 * @internal
 */
export const hold = (state: Submission): Step => {
  const done: Submission = { ...state, end: Option.some({ _tag: "Held" }), pending: Log.emptyQueue(), done: true }
  return { state: done, actions: [Action.Finished({ result: result(done) })] }
}
