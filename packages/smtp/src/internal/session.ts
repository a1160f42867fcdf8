/**
 * The session's model and the small helpers every transition uses. Public names are re-exported
 * by `Session.ts`; this file exists so that the transition table can import them without a cycle.
 *
 * @internal
 */
import { Data, Option } from "effect"
import { domainText, type Mailbox } from "../Address.ts"
import * as Capabilities from "../Capabilities.ts"
import * as Command from "../Command.ts"
import * as Reply from "../Reply.ts"
import * as ReplyParser from "../ReplyParser.ts"
import * as dialogue from "./dialogue.ts"
import * as Log from "./log.ts"
import type { Phase } from "./phase.ts"
import { needsVrfy } from "./replyOutcome.ts"
import { phaseOf, type TlsStatus, type TranscriptEntry } from "./dialogue.ts"

export { log, note, type TranscriptEntry } from "./dialogue.ts"
export { finish, recipients, result } from "./ending.ts"
export type { Phase } from "./phase.ts"

/**
 * `opportunistic`: STARTTLS when offered, a bad certificate is recorded, never fatal.
 * `required`: no TLS, no transaction. `off`: never STARTTLS.
 *
 * @category models
 * @since 0.1.0
 */
export type TlsMode = "opportunistic" | "required" | "off"

/**
 * @category models
 * @since 0.1.0
 */
export interface Config {
  /** EHLO name: an FQDN or address literal the caller owns. */
  readonly clientName: string
  /** Reverse path; `""` is the null path `<>`. */
  readonly mailFrom: string
  readonly recipients: ReadonlyArray<Mailbox>
  /**
   * Made-up addresses, at most one per domain, sent after the real recipients to detect catch-all.
   * A domain's probe goes out only if a real recipient of that domain was accepted.
   */
  readonly probes: ReadonlyArray<Mailbox>
  readonly tls: TlsMode
  /** The MX host name, for TLS SNI and certificate checks. */
  readonly servername: string
  /** `fallback`: VRFY the recipients whose RCPT reply settled nothing (see `Classify.needsVrfy`). */
  readonly vrfy: "off" | "fallback"
  /** Use PIPELINING when offered. */
  readonly pipelining: boolean
  /** RCPT commands in flight (sent, not answered) at most when pipelining. */
  readonly maxPipeline: number
  /** VRFY commands per session: servers count them as junk (Exim cuts off after 10). */
  readonly maxVrfy: number
  /**
   * Rejected RCPTs after which no more are sent in this session: the rest are `Postponed` for a
   * new one. Postfix slows every reply after 10 errors and hangs up after 20; undefined: no limit.
   */
  readonly maxErrors?: number | undefined
  /**
   * Past `afterErrors` rejected RCPTs, at most `pipeline` RCPTs unanswered at once: how the server
   * takes each further rejection (a slowdown, a 421) is seen before many more are sent. For a
   * client that is finding out where a server's error limits are. `growth` (default 0): the RCPTs
   * unanswered may also reach that share of the rejections taken so far past `afterErrors`, so a
   * session that meets no limit ramps up geometrically (1: doubling every round trip). From
   * `steepFrom` rejections taken quietly past `afterErrors` on, `steepGrowth` instead (for a client
   * that knows of no limit beyond a point; 3: four times as many every round trip).
   */
  readonly careful?:
    | {
        readonly afterErrors: number
        readonly pipeline: number
        readonly growth?: number | undefined
        readonly steepFrom?: number | undefined
        readonly steepGrowth?: number | undefined
      }
    | undefined
  /**
   * With PIPELINING, send QUIT in the same write as an RCPT group after which, were the whole
   * group refused, nothing would follow: the group ends the queue or reaches `maxErrors`, no probe
   * is pending, nothing was accepted yet, no VRFY. Saves a round trip per session. If the guess
   * fails (one of the group is accepted), the recipients not yet sent are `Postponed`.
   */
  readonly quitEarly?: boolean | undefined
  /**
   * RCPTs per transaction, at most: past it, RSET and a new transaction in the same session, so
   * a server's per-message limit (Postfix and OpenSMTPD: 1000) is not met with a burst of 452s,
   * which Postfix counts as errors. Undefined: no limit but the server's.
   */
  readonly maxRecipientsPerTransaction?: number | undefined
  /**
   * Leave the connection open when the session ends normally: no QUIT, the driver may hand the
   * connection to another session (`resume`). Off by default.
   */
  readonly keepOpen?: boolean | undefined
  /**
   * Keep the dialogue's lines (`SessionResult.transcript`). `false`: the result's transcript is
   * empty and no line is made (a bulk run that writes none: a string or two per RCPT less), while
   * the session still counts them (`Session.transcript.length`, a driver's measure of progress).
   * Default: kept.
   */
  readonly transcript?: boolean | undefined
}

/**
 * @category constants
 * @since 0.1.0
 */
export const defaults = {
  tls: "opportunistic",
  vrfy: "off",
  pipelining: true,
  maxPipeline: 10,
  maxVrfy: 5,
  maxErrors: 9,
  probes: [] as ReadonlyArray<Mailbox>
} as const

export { Input, type TlsInfo, type TlsStatus } from "./dialogue.ts"

/**
 * What the machine asks the driver to do, in order.
 *
 * @category models
 * @since 0.1.0
 */
export type Action = dialogue.Action<SessionResult>

/**
 * @category constructors
 * @since 0.1.0
 */
export const Action = Data.taggedEnum<Action>()

/**
 * One reply the machine waits for; pipelined commands queue several.
 *
 * @category models
 * @since 0.1.0
 */
export type Awaiting =
  | { readonly phase: "AwaitGreeting" | "AwaitEhlo" | "AwaitHelo" | "AwaitStartTls" | "AwaitMail" }
  | { readonly phase: "AwaitRset" | "AwaitQuit" }
  | { readonly phase: "AwaitRcpt" | "AwaitVrfy"; readonly recipient: number }
  /** `probe`: the index in `Config.probes`. */
  | { readonly phase: "AwaitProbe"; readonly probe: number }

/**
 * How the session ended.
 *
 * @category models
 * @since 0.1.0
 */
export type SessionEnd = dialogue.ConversationEnd<Phase>

/**
 * Why a recipient has no RCPT reply of its own although the session got that far.
 *
 * @category models
 * @since 0.1.0
 */
export type SkipReason =
  | "SmtpUtf8Unsupported"
  | "TooManyRecipients"
  | "MailRejected"
  /** Not asked: the session reached `maxErrors`; ask again in a new one. */
  | "Postponed"

/**
 * The evidence gathered for one recipient.
 *
 * @category models
 * @since 0.1.0
 */
export interface RecipientResult {
  readonly mailbox: Mailbox
  readonly rcpt: Option.Option<Reply.Reply>
  readonly vrfy: Option.Option<Reply.Reply>
  readonly skipped: Option.Option<SkipReason>
}

/**
 * @category models
 * @since 0.1.0
 */
export type ProbeResult =
  /** No real recipient of the probe's domain was accepted, so no probe was needed. */
  | { readonly _tag: "NotNeeded" }
  /** `afterRset`: the first try met a full transaction and goes again in a new one. */
  | { readonly _tag: "Pending"; readonly afterRset?: boolean }
  /**
   * Not asked: the session had taken the refusals its cap (`Config.maxErrors`) allows, and a
   * refused probe is one more error to the server. Another session asks it.
   */
  | { readonly _tag: "Postponed" }
  | { readonly _tag: "Answered"; readonly reply: Reply.Reply }

/**
 * @category models
 * @since 0.1.0
 */
export interface ProbeOutcome {
  readonly mailbox: Mailbox
  readonly result: ProbeResult
}

/**
 * A connection a session left open (`Config.keepOpen`), as the next session on it starts from.
 *
 * @category models
 * @since 0.3.0
 */
export interface Parked {
  readonly greeting: Option.Option<Reply.Reply>
  readonly capabilities: Capabilities.Capabilities
  readonly tls: TlsStatus
  /** RCPTs refused (probes' too) / real recipients accepted on this connection so far, over all its sessions. */
  readonly rejected: number
  readonly accepted: number
  /** Sessions run on this connection so far (1 after the first). */
  readonly sessions: number
  /** RSETs written on this connection so far, over all its sessions (see `Session.resets`). */
  readonly resets: number
}

/**
 * @category models
 * @since 0.1.0
 */
export interface SessionResult {
  readonly recipients: ReadonlyArray<RecipientResult>
  /** One per `Config.probes`, in the same order. */
  readonly probes: ReadonlyArray<ProbeOutcome>
  readonly greeting: Option.Option<Reply.Reply>
  readonly capabilities: Option.Option<Capabilities.Capabilities>
  readonly tls: TlsStatus
  readonly end: SessionEnd
  readonly transcript: ReadonlyArray<TranscriptEntry>
  /** keepOpen and a normal end: what a later session on this connection starts from. */
  readonly parked: Option.Option<Parked>
  /** RSETs written on this connection, the sessions before this one on it included. */
  readonly resets: number
}

/**
 * What one reply (or skip) changed in a recipient's result; `recipients` applies them in order.
 *
 * @category models
 * @since 0.2.0
 */
export interface RecipientUpdate {
  /** The recipient's index in `Config.recipients`. */
  readonly recipient: number
  readonly rcpt?: Reply.Reply
  readonly vrfy?: Reply.Reply
  readonly skipped?: SkipReason
}

/**
 * The whole state. Only `step` makes new ones. What grows with the session (the transcript, the
 * recipients' updates, the replies awaited) is held in persistent logs and queues, so that a step
 * costs the same in a session of 5,000 recipients as in one of 5; `result` gives arrays.
 *
 * @category models
 * @since 0.1.0
 */
export interface Session {
  readonly config: Config
  readonly parser: ReplyParser.ReplyParser
  readonly pending: Log.Queue<Awaiting>
  readonly handshaking: boolean
  readonly greeting: Option.Option<Reply.Reply>
  readonly capabilities: Option.Option<Capabilities.Capabilities>
  readonly tls: TlsStatus
  /** Every change to a recipient's result, in order (see `recipients`). */
  readonly updates: Log.Log<RecipientUpdate>
  /**
   * RCPTs refused so far on this connection (any reply but 2xx/3xx and "too many recipients"),
   * real recipients' and catch-all probes', counting the sessions before this one on it
   * (`resume`): servers count errors per connection, a refused probe as any other.
   */
  readonly rejected: number
  /** Real recipients' RCPTs accepted so far on this connection. */
  readonly accepted: number
  /** Recipients not yet sent in any transaction. */
  readonly queue: Log.Queue<number>
  /** Recipients refused with "too many recipients" in this transaction. */
  readonly deferred: Log.Log<number>
  readonly mailAccepted: boolean
  /** RCPTs of this transaction answered with something other than "too many recipients". */
  readonly answeredInTransaction: number
  /**
   * Places taken in this transaction: RCPTs sent, less those refused (a server's recipient limit
   * counts the recipients of the message, RFC 5321 §4.5.3.1.8; Postfix and Exim count accepted
   * ones only). A list of unknown mailboxes is then never cut into transactions.
   */
  readonly sentInTransaction?: number
  /** Real recipients' RCPTs sent and not answered yet (several groups may be in flight). */
  readonly inFlight: number
  /**
   * Of `inFlight`, the RCPTs of the transaction before this one, still to be answered: a full
   * transaction's next one went out pipelined behind them (RSET, MAIL, RCPTs), so their replies
   * come first, and count for that transaction, not this one. Absent: none.
   */
  readonly closing?: number
  /** Recipients of that transaction accepted. */
  readonly closingAccepted?: number
  /**
   * Recipients its transaction had accepted when the session's first "too many recipients" came:
   * the server's recipient limit, as seen (refused ones take no place: RFC 5321 §4.5.3.1.8, and
   * Postfix and Exim count accepted ones only). Absent: none came.
   */
  readonly limitedAfter?: number
  /** One per `Config.probes`. */
  readonly probes: ReadonlyArray<ProbeResult>
  readonly vrfyQueue: ReadonlyArray<number>
  readonly vrfySent: number
  readonly end: Option.Option<SessionEnd>
  readonly transcript: Log.Log<TranscriptEntry>
  readonly done: boolean
  /** QUIT went out pipelined with the last RCPT group (`Config.quitEarly`); its reply is awaited. */
  readonly quitSent?: boolean
  /** Sessions on this connection, this one included. */
  readonly sessions: number
  /**
   * RSETs written on this connection, the sessions before this one included: servers count them
   * (Exim: each past the first as a non-mail command, `smtp_accept_max_nonmail` 10, then 554 and a
   * disconnect; Postfix: past 100 as junk), so a bulk client bounds them per connection.
   */
  readonly resets: number
  /** A resumed session that has not written yet: `Connected` sends its first commands. */
  readonly resuming: boolean
  /** Ended leaving the connection open (`Config.keepOpen`). */
  readonly parked: boolean
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Step {
  readonly state: Session
  readonly actions: ReadonlyArray<Action>
}

/**
 * What the machine waits for now; the driver picks the timeout from it.
 *
 * @category getters
 * @since 0.1.0
 */
export const phase = (session: Session): Phase => (session.resuming ? "AwaitRset" : phaseOf(session))

/**
 * Whether `Finished` has been emitted. A finished session ignores every input.
 *
 * @category getters
 * @since 0.1.0
 */
export const isDone = (session: Session): boolean => session.done

/**
 * The replies the session waits for, in order (several while pipelining).
 *
 * @category getters
 * @since 0.2.0
 */
export const awaiting = (session: Session): ReadonlyArray<Awaiting> => Log.queued(session.pending)

/**
 * RCPTs refused so far on this connection, real recipients' and catch-all probes' (this session and
 * those before it).
 *
 * @category getters
 * @since 0.2.0
 */
export const rejections = (session: Session): number => session.rejected

/**
 * Recipients the session's current transaction has accepted so far: its places (`sentInTransaction`)
 * less its RCPTs in flight (those of a transaction still closing behind it are not its own). 0 while
 * its MAIL is unanswered.
 *
 * @category getters
 * @since 0.6.0
 */
export const acceptedInTransaction = (session: Session): number =>
  Math.max(0, (session.sentInTransaction ?? 0) - (session.inFlight - (session.closing ?? 0)))

/**
 * A state that only the step making it holds: the one `dispatch` made for the reply being
 * handled, which no caller has seen yet. A transition may set its fields in place, so that a
 * reply makes one new state and not a copy of that copy (every recipient's RCPT reply in a bulk
 * run comes through here). Never a state that came in: those stay as they were.
 *
 * @internal
 */
export type Fresh = { -readonly [K in keyof Session]: Session[K] }

/**
 * Records a recipient's RCPT reply in a {@link Fresh} state.
 *
 * @internal
 */
export const rcptReply = (fresh: Fresh, recipient: number, reply: Reply.Reply): void => {
  fresh.updates = Log.append(fresh.updates, { recipient, rcpt: reply })
  if (Reply.isPositive(reply)) fresh.accepted++
  else fresh.rejected++
}

/**
 * Records a recipient's VRFY reply.
 *
 * @internal
 */
export const vrfyReply = (session: Session, recipient: number, reply: Reply.Reply): Session => ({
  ...session,
  updates: Log.append(session.updates, { recipient, vrfy: reply })
})

/**
 * Marks recipients as not asked, and why.
 *
 * @internal
 */
export const skip = (session: Session, indices: ReadonlyArray<number>, reason: SkipReason): Session => ({
  ...session,
  updates: Log.appendAll(
    session.updates,
    indices.map((recipient) => ({ recipient, skipped: reason }))
  )
})

/**
 * Sends commands and queues the replies they will bring.
 *
 * @internal
 */
export const send = (
  session: Session,
  commands: ReadonlyArray<Command.Command>,
  awaiting: ReadonlyArray<Awaiting>
): Step =>
  // RSET, when sent, leads its write (a new transaction's MAIL and RCPTs follow it).
  dialogue.send(commands[0]?.verb === "RSET" ? { ...session, resets: session.resets + 1 } : session, commands, awaiting)

/**
 * A domain's identity for matching probes to recipients: A-label or literal, case-folded.
 *
 * @internal
 */
export const domainOf = (mailbox: Mailbox): string => domainText(mailbox.domain).toLowerCase()

/**
 * Whether a recipient's RCPT reply settled nothing and VRFY may help.
 *
 * @category predicates
 * @since 0.1.0
 */
export const wantsVrfy = (result: RecipientResult): boolean =>
  Option.isNone(result.skipped) || Option.contains(result.skipped, "MailRejected")
    ? Option.match(result.rcpt, {
        onNone: () => Option.contains(result.skipped, "MailRejected"),
        onSome: needsVrfy
      })
    : false
