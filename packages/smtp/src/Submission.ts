/**
 * The submission session, beside the verification session: sending messages as a pure state
 * machine, `step(state, input) -> { state, actions }`, with the same inputs and actions, so the
 * same driver runs both.
 *
 * The conversation: greeting (220) -> EHLO (HELO on 500/502/504) -> STARTTLS (required by
 * default; with `implicit` the transport did TLS) -> EHLO again -> AUTH (never in the clear unless
 * allowed) -> for each message: RSET if a transaction was begun before -> MAIL FROM with the
 * parameters the server advertised -> RCPT TO for every envelope recipient -> DATA -> the body
 * (CRLF, dot-stuffed) -> the final reply. With PIPELINING, MAIL, every RCPT and DATA go in one
 * write. Then QUIT, or, with `keepOpen`, `Finished` with the connection still open: `resume` on
 * it sends more.
 *
 * **Details**
 *
 * - Some recipients refused: the message goes to the others and each refusal is in the result.
 *   All refused: the message fails and no body is sent (without pipelining, no DATA either; with
 *   it, a 354 to the pipelined DATA gets only the terminating `.`).
 * - A message the server cannot take (a UTF-8 address without SMTPUTF8, 8-bit data without
 *   8BITMIME, over SIZE, a line over 998 octets) fails before MAIL FROM; the next one is tried.
 * - A 421 ends the session at any point. Results obtained are never lost: whatever ends the
 *   session, `Finished` carries every message's result and the transcript, credentials masked.
 *
 * @since 0.1.0
 */
import { Option } from "effect"
import * as Command from "./Command.ts"
import { LocalProtocolError } from "./ProtocolError.ts"
import * as ReplyParser from "./ReplyParser.ts"
import * as conversation from "./internal/conversation.ts"
import { note, type TranscriptEntry } from "./internal/dialogue.ts"
import * as Log from "./internal/log.ts"
import { Input } from "./internal/session.ts"
import {
  type Awaiting,
  type Config,
  finish,
  type Message,
  type MessageResult,
  type Ready,
  type SessionEnd,
  type Step,
  type Submission,
  type SubmissionResult
} from "./internal/submission.ts"
import { transitions } from "./internal/submissionTransitions.ts"

export {
  Action,
  defaults,
  isSecure,
  phase,
  result,
  type Awaiting,
  type Config,
  type Dsn,
  type Envelope,
  type Message,
  type MessageOutcome,
  type MessageResult,
  type Phase,
  type Ready,
  type RecipientResult,
  type RefusalReason,
  type SessionEnd,
  type Step,
  type Submission,
  type SubmissionResult,
  type TlsMode,
  type TlsStatus,
  type Transaction
} from "./internal/submission.ts"
export type { TranscriptEntry } from "./internal/dialogue.ts"
export { Input } from "./internal/session.ts"

const check = (config: Config) => {
  if (!(config.chunkSize >= 1)) {
    throw new LocalProtocolError({ reason: "InvalidConfig", message: "chunkSize must be >= 1" })
  }
  // Build once so that a bad client name fails here, not mid-conversation.
  Command.ehlo(config.clientName)
}

const pendingResult = (message: Message): MessageResult => ({
  outcome: { _tag: "Pending" },
  mail: Option.none(),
  recipients: message.envelope.recipients.map((address) => ({ address, reply: Option.none() })),
  data: Option.none()
})

const base = (config: Config, messages: ReadonlyArray<Message>) => ({
  config,
  parser: ReplyParser.make(),
  handshaking: false,
  sasl: Option.none(),
  messages,
  results: messages.map(pendingResult),
  current: 0,
  transaction: Option.none(),
  abandoned: false,
  end: Option.none(),
  transcript: Log.empty<TranscriptEntry>(),
  done: false
})

/**
 * A fresh session, waiting for the connection. `messages` may be empty (e.g. to check the
 * credentials). Throws `LocalProtocolError` on a config no session could use.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (config: Config, messages: ReadonlyArray<Message>): Submission => {
  check(config)
  return {
    ...base(config, messages),
    pending: Log.queueOf<Awaiting>([{ phase: "AwaitGreeting" }]),
    resumed: false,
    greeting: Option.none(),
    capabilities: Option.none(),
    tls: config.tls === "implicit" ? { _tag: "Implicit" } : { _tag: "Plaintext" },
    authenticated: Option.none(),
    dirty: false
  }
}

/**
 * A session on a connection a previous session left open (`keepOpen`, its result's `ready`).
 * On `Connected` it sends RSET (if a transaction was begun) and the messages; with none, it
 * just says QUIT (or holds again with `keepOpen`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const resume = (config: Config, ready: Ready, messages: ReadonlyArray<Message>): Submission => {
  check(config)
  return {
    ...base(config, messages),
    pending: Log.emptyQueue<Awaiting>(),
    resumed: true,
    greeting: ready.greeting,
    capabilities: Option.some(ready.capabilities),
    tls: ready.tls,
    authenticated: ready.authenticated,
    dirty: ready.dirty
  }
}

/**
 * Whether `Finished` has been emitted. A finished session ignores every input.
 *
 * @category getters
 * @since 0.1.0
 */
export const isDone = (state: Submission): boolean => state.done

/**
 * Advances the machine by one input.
 *
 * @category operations
 * @since 0.1.0
 */
export const step = (state: Submission, input: Input): Step =>
  conversation.step<Submission, Awaiting, SessionEnd, SubmissionResult>(state, input, {
    connected: (s) =>
      s.resumed
        ? transitions.nextMessage(note(s, "reusing the open connection"))
        : { state: note(s, s.tls._tag === "Implicit" ? "connected (TLS by the transport)" : "connected"), actions: [] },
    reply: (s, reply, awaiting) => transitions.reply[awaiting.phase](s, reply, awaiting),
    finish
  })
