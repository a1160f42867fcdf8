/**
 * What every client session shares, whatever it is for (verifying or submitting): the inputs, the
 * transcript, and the loop that turns received bytes into replies one at a time. Both sessions
 * are records with these few fields; the helpers are generic over the rest. The step they share
 * is in `conversation.ts`.
 *
 * @internal
 */
import { Data, Option } from "effect"
import * as Command from "../Command.ts"
import { RemoteProtocolError } from "../ProtocolError.ts"
import * as Reply from "../Reply.ts"
import * as ReplyParser from "../ReplyParser.ts"
import * as Log from "./log.ts"

/**
 * One line of the dialogue. `C` client, `S` server, `*` an event (connect, TLS, close, timeout).
 * `recipient` ties RCPT/VRFY lines to the recipient they are about.
 *
 * @category models
 * @since 0.1.0
 */
export interface TranscriptEntry {
  readonly direction: "C" | "S" | "*"
  readonly text: string
  readonly recipient?: number
}

/** @internal */
export interface Transcribed {
  /** Appended to at every line: a persistent `Log`, an array only in the result. */
  readonly transcript: Log.Log<TranscriptEntry>
}

/**
 * Appends a line to the transcript (amortised O(1), see `Log`).
 *
 * @internal
 */
export const log = <S extends Transcribed>(
  state: S,
  direction: TranscriptEntry["direction"],
  text: string,
  recipient?: number
): S => ({
  ...state,
  transcript: Log.append(
    state.transcript,
    recipient === undefined ? { direction, text } : { direction, text, recipient }
  )
})

/** @internal */
export const note = <S extends Transcribed>(state: S, text: string): S => log(state, "*", text)

/**
 * What the TLS layer reported after the handshake.
 *
 * @category models
 * @since 0.1.0
 */
export interface TlsInfo {
  readonly protocol: string
  readonly cipher: string
  /** Whether the certificate chain and name checked out. */
  readonly authorized: boolean
  readonly authorizationError: Option.Option<string>
}

/**
 * @category models
 * @since 0.1.0
 */
export type TlsStatus =
  | { readonly _tag: "Plaintext" }
  | { readonly _tag: "Established"; readonly info: TlsInfo }
  | { readonly _tag: "Failed"; readonly message: string }

/**
 * What the driver tells the machine.
 *
 * @category models
 * @since 0.1.0
 */
export type Input = Data.TaggedEnum<{
  Connected: {}
  Received: { readonly bytes: Uint8Array }
  TlsEstablished: { readonly info: TlsInfo }
  TlsFailed: { readonly message: string }
  ConnectionClosed: {}
  /** The deadline of the current phase passed. */
  TimedOut: {}
}>

/**
 * @category constructors
 * @since 0.1.0
 */
export const Input = Data.taggedEnum<Input>()

/**
 * The phases every client session goes through, named after the reply awaited; each session adds
 * its own (probes and VRFY, AUTH and DATA).
 *
 * @internal
 */
export type DialoguePhase =
  | "AwaitGreeting"
  | "AwaitEhlo"
  | "AwaitHelo"
  | "AwaitStartTls"
  | "AwaitTlsHandshake"
  | "AwaitRset"
  | "AwaitMail"
  | "AwaitRcpt"
  | "AwaitQuit"
  | "Done"

/**
 * How a conversation ended, whatever it was for; each session adds its own endings.
 *
 * @internal
 */
export type ConversationEnd<P extends string> =
  | { readonly _tag: "Completed" }
  /** A negative reply that ends the conversation (554 greeting, HELO refused, MAIL refused...). */
  | { readonly _tag: "Rejected"; readonly phase: P; readonly reply: Reply.Reply }
  /** 421: the server is closing the channel. */
  | { readonly _tag: "ServiceClosing"; readonly phase: P; readonly reply: Reply.Reply }
  | { readonly _tag: "Closed"; readonly phase: P }
  | { readonly _tag: "TimedOut"; readonly phase: P }
  | { readonly _tag: "ProtocolError"; readonly phase: P; readonly error: RemoteProtocolError }
  /** TLS was required and the server did not offer it, or refused STARTTLS. */
  | { readonly _tag: "TlsUnavailable"; readonly reply: Option.Option<Reply.Reply> }
  | { readonly _tag: "TlsFailed"; readonly message: string }

/** @internal */
export interface Receiving {
  readonly parser: ReplyParser.ReplyParser
  readonly done: boolean
  /** While a TLS handshake runs, bytes stay in the parser (and are dropped with it). */
  readonly handshaking: boolean
}

/**
 * Feeds bytes to the parser and hands each complete reply to `onReply`, in order: several may
 * arrive in one packet (pipelining). Stops at a finished session or a TLS handshake; a malformed
 * reply goes to `onError`, which ends the session.
 *
 * @internal
 */
export const receive = <S extends Receiving & { readonly pending: Log.Queue<unknown> }, A>(
  session: S,
  bytes: Uint8Array,
  /** `parser` is the parser after this reply: `onReply` puts it in the state it makes (one copy per reply). */
  onReply: (
    state: S,
    reply: Reply.Reply,
    parser: ReplyParser.ReplyParser
  ) => { readonly state: S; readonly actions: ReadonlyArray<A> },
  onError: (state: S, error: RemoteProtocolError) => { readonly state: S; readonly actions: ReadonlyArray<A> }
): { readonly state: S; readonly actions: ReadonlyArray<A> } => {
  // The parser is carried apart from the state: a state is made per reply (`onReply`), and the
  // state returned gets the parser only when it is not that one already (most packets end with a
  // reply: no copy of the state per packet then, where there were two).
  let state: S = session
  let parser = ReplyParser.feed(session.parser, bytes)
  const actions: Array<A> = []
  // Replies already here that may still be taken: once a command goes out, only those awaited
  // from before it. A reply that was already here when a command went out cannot be that
  // command's answer: taking it as one would put every later reply one command out of step (a
  // stale 250 answering RCPT). Only 421 may come unasked (RFC 5321 §3.8).
  let answerable = Infinity
  while (!state.done && !state.handshaking) {
    const r = ReplyParser.next(parser)
    if (r._tag === "NeedMoreData") {
      parser = r.parser
      break
    }
    if (r._tag === "Error") {
      const failed = onError(withParser(state, parser), r.error)
      return { state: failed.state, actions: [...actions, ...failed.actions] }
    }
    if (answerable <= 0 && r.reply.code !== 421) {
      const failed = onError(
        withParser(state, parser),
        new RemoteProtocolError({
          reason: "UnexpectedReply",
          message: `reply ${r.reply.code} arrived before the command it would answer was sent`
        })
      )
      return { state: failed.state, actions: [...actions, ...failed.actions] }
    }
    const waiting = Log.size(state.pending)
    const next = onReply(state, r.reply, r.parser)
    answerable--
    let commands = -1
    for (const a of next.actions) {
      const sent = a as { readonly _tag?: string; readonly commands?: ReadonlyArray<unknown> }
      if (sent._tag === "Send") commands = Math.max(0, commands) + (sent.commands?.length ?? 0)
    }
    // Something went out: the replies still buffered answer at most what was awaited before it.
    if (commands >= 0) answerable = Math.min(answerable, waiting - 1, Log.size(next.state.pending) - commands)
    state = next.state
    parser = state.parser
    for (const a of next.actions) actions.push(a)
  }
  return { state: withParser(state, parser), actions }
}

/** `state` with `parser`: itself when it has it already. */
const withParser = <S extends Receiving>(state: S, parser: ReplyParser.ReplyParser): S =>
  state.parser === parser ? state : { ...state, parser }

/**
 * The transcript line for a finished TLS handshake.
 *
 * @internal
 */
export const describeTls = (info: TlsInfo): string => {
  const detail = info.authorized
    ? "certificate verified"
    : `certificate not verified: ${Option.getOrElse(info.authorizationError, () => "unknown reason")}`
  return `TLS established (${info.protocol}, ${info.cipher}, ${detail})`
}

/**
 * The action both sessions use to write.
 *
 * @internal
 */
export interface SendAction {
  readonly _tag: "Send"
  readonly bytes: Uint8Array
  readonly commands: ReadonlyArray<Command.Command>
}

/**
 * What a session asks the driver to do, `R` being what it finishes with.
 *
 * @internal
 */
export type Action<R> =
  | SendAction
  | { readonly _tag: "UpgradeTls"; readonly servername: string }
  | { readonly _tag: "Close" }
  | { readonly _tag: "Finished"; readonly result: R }

/** @internal */
export interface Awaiting {
  readonly phase: string
  readonly recipient?: number
}

/** @internal */
export interface Pending<W extends Awaiting> extends Transcribed {
  /** The replies still to come, in order (a pipelined group may be hundreds deep). */
  readonly pending: Log.Queue<W>
}

const recipientOf = (awaiting: Awaiting | undefined) =>
  awaiting !== undefined && "recipient" in awaiting ? awaiting.recipient : undefined

/**
 * Sends commands in one write and queues the replies they will bring. Lines are logged as
 * `Command.redact` shows them: credentials never reach the transcript.
 *
 * @internal
 */
export const send = <S extends Pending<W>, W extends Awaiting>(
  state: S,
  commands: ReadonlyArray<Command.Command>,
  awaiting: ReadonlyArray<W>
): { readonly state: S; readonly actions: ReadonlyArray<SendAction> } => {
  // A transcript that is only counted (see `Log.counting`) gets no lines made for it.
  const transcript = Log.keeps(state.transcript)
    ? Log.appendAll(
        state.transcript,
        commands.map((c, i): TranscriptEntry => {
          const recipient = recipientOf(awaiting[i])
          const text = Command.redact(c)
          return recipient === undefined ? { direction: "C", text } : { direction: "C", text, recipient }
        })
      )
    : Log.count(state.transcript, commands.length)
  return {
    state: { ...state, transcript, pending: Log.push(state.pending, awaiting) },
    actions: [{ _tag: "Send", bytes: Command.encodeAll(commands), commands }]
  }
}

/**
 * What the session waits for now.
 *
 * @internal
 */
export const phaseOf = <P extends string>(
  state: Receiving & { readonly pending: Log.Queue<{ readonly phase: P }> }
): P | "AwaitTlsHandshake" | "Done" =>
  state.done ? "Done" : state.handshaking ? "AwaitTlsHandshake" : (Log.peek(state.pending)?.phase ?? "Done")

const replyLine = (reply: Reply.Reply, recipient: number | undefined): TranscriptEntry => {
  const text = Reply.format(reply)
  return recipient === undefined ? { direction: "S", text } : { direction: "S", text, recipient }
}

/**
 * Hands a reply to the transition awaiting it, after logging it. A 421 closes the session
 * whatever was awaited (but QUIT's reply); a reply nobody asked for is a protocol error, and
 * only 421 may come unasked (RFC 5321 §3.8).
 *
 * @internal
 */
export const dispatch = <S extends Pending<W> & { readonly parser: ReplyParser.ReplyParser }, W extends Awaiting, T>(
  state: S,
  reply: Reply.Reply,
  parser: ReplyParser.ReplyParser,
  on: {
    readonly reply: (state: S, reply: Reply.Reply, awaiting: W) => T
    readonly closing: (state: S, phase: W["phase"] | "Done", reply: Reply.Reply) => T
    readonly unexpected: (state: S, error: RemoteProtocolError) => T
  }
): T => {
  // Peeked and dropped, not shifted: no pair per reply.
  const awaiting = Log.peek(state.pending)
  const transcript = Log.keeps(state.transcript)
    ? Log.append(state.transcript, replyLine(reply, recipientOf(awaiting)))
    : Log.count(state.transcript, 1)
  if (awaiting === undefined) {
    const s = { ...state, parser, transcript }
    if (reply.code === 421) return on.closing(s, "Done", reply)
    return on.unexpected(
      s,
      new RemoteProtocolError({
        reason: "UnexpectedReply",
        message: `unexpected reply ${reply.code} when no command was pending`
      })
    )
  }
  // The parser, the line and the queue in one new state (once per reply). Nothing else holds it:
  // `on.reply` may set its fields in place instead of copying it again (session.ts, `Fresh`).
  const next: S = { ...state, parser, transcript, pending: Log.drop(state.pending) }
  if (reply.code === 421 && awaiting.phase !== "AwaitQuit") return on.closing(next, awaiting.phase, reply)
  return on.reply(next, reply, awaiting)
}

/**
 * STARTTLS answered 220: forget the plaintext buffered so far (RFC 3207 §6) and upgrade.
 *
 * @internal
 */
export const upgrade = <S extends Receiving & Transcribed>(
  state: S,
  servername: string
): {
  readonly state: S
  readonly actions: ReadonlyArray<{ readonly _tag: "UpgradeTls"; readonly servername: string }>
} => {
  const s = ReplyParser.hasBufferedData(state.parser) ? note(state, "discarded plaintext sent before TLS") : state
  return {
    state: { ...s, parser: ReplyParser.reset(state.parser), handshaking: true },
    actions: [{ _tag: "UpgradeTls", servername }]
  }
}
