/**
 * The verification session as a pure state machine: `step(state, input) -> { state, actions }`.
 *
 * No I/O, no clock, no randomness. The driver feeds what happened (`Connected`, `Received`,
 * `TlsEstablished`, `TlsFailed`, `ConnectionClosed`, `TimedOut`) and carries out what comes back
 * (`Send`, `UpgradeTls`, `Close`, `Finished`). The catch-all probe addresses and the deadlines are
 * the caller's business: the probes arrive in the config, a deadline as a `TimedOut` input.
 *
 * The conversation: greeting (220) -> EHLO (HELO on 500/502/504) -> STARTTLS when offered and the
 * TLS mode allows (capabilities discarded, EHLO again) -> MAIL FROM -> RCPT TO for every recipient
 * (pipelined when PIPELINING is offered: up to a window of RCPTs in flight, the next ones written
 * once half of it is answered) -> RSET and a new transaction for recipients refused with "too
 * many recipients" -> the catch-all probe RCPTs -> VRFY fallback -> QUIT (pipelined with the
 * last probe when no VRFY follows).
 *
 * With `Config.keepOpen`, a session that ends normally leaves the connection open instead of
 * QUIT (`SessionResult.parked`), and `resume` starts the next session on it: RSET, and with
 * PIPELINING its MAIL FROM and first RCPTs in the same write (RFC 2920 §3.1). The connection's
 * greeting, capabilities, TLS and its rejection counts carry over (servers count errors per
 * connection).
 *
 * One session may carry recipients of several domains served by the same MX host, with one probe
 * per domain (`Config.probes`). A domain's probe is sent only when a real recipient of that domain
 * was accepted (otherwise the domain cannot look catch-all, and the probe is `NotNeeded`); the
 * result has one `ProbeResult` per probe, in the config's order.
 * A 421 ends the session at any point. Replies already obtained are never lost: whatever ends the
 * session, `Finished` carries every recipient's evidence and the transcript.
 *
 * @since 0.1.0
 */
import { Option } from "effect"
import * as Command from "./Command.ts"
import { LocalProtocolError } from "./ProtocolError.ts"
import * as ReplyParser from "./ReplyParser.ts"
import {
  type Awaiting,
  type Config,
  finish,
  note,
  phase as phaseOfSession,
  type Input,
  type Parked,
  type Session,
  type SessionEnd,
  type SessionResult,
  type Step
} from "./internal/session.ts"
import * as conversation from "./internal/conversation.ts"
import * as Log from "./internal/log.ts"
import { transitions } from "./internal/transitions.ts"

export {
  acceptedInTransaction,
  Action,
  awaiting,
  defaults,
  Input,
  isDone,
  phase,
  recipients,
  rejections,
  result,
  wantsVrfy,
  type Awaiting,
  type Config,
  type Parked,
  type Phase,
  type ProbeOutcome,
  type ProbeResult,
  type RecipientResult,
  type RecipientUpdate,
  type Session,
  type SessionEnd,
  type SessionResult,
  type SkipReason,
  type Step,
  type TlsInfo,
  type TlsMode,
  type TlsStatus,
  type TranscriptEntry
} from "./internal/session.ts"

/**
 * A fresh session, waiting for the connection. Throws `LocalProtocolError` on a config no
 * session could use (no recipients, a client name or path that is not valid): validate user input
 * before, with `Address`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (config: Config): Session => {
  validate(config)
  return {
    config,
    parser: ReplyParser.make(),
    pending: Log.queueOf<Awaiting>([{ phase: "AwaitGreeting" }]),
    handshaking: false,
    greeting: Option.none(),
    capabilities: Option.none(),
    tls: { _tag: "Plaintext" },
    updates: Log.empty(),
    rejected: 0,
    accepted: 0,
    queue: Log.queueOf(config.recipients.map((_, i) => i)),
    deferred: Log.empty(),
    mailAccepted: false,
    answeredInTransaction: 0,
    inFlight: 0,
    probes: config.probes.map(() => ({ _tag: "Pending" })),
    vrfyQueue: [],
    vrfySent: 0,
    end: Option.none(),
    transcript: config.transcript === false ? Log.counting() : Log.empty(),
    done: false,
    sessions: 1,
    resets: 0,
    resuming: false,
    parked: false
  }
}

/**
 * A session on a connection another session left open (see `Config.keepOpen`). Validates config
 * like `make`. The driver feeds `Connected` first, as for a fresh session (without dialling): the
 * session then writes RSET (the last one left a transaction open), with its MAIL FROM and first
 * RCPTs in the same write when PIPELINING is offered.
 *
 * @category constructors
 * @since 0.3.0
 */
export const resume = (config: Config, parked: Parked): Session => {
  const fresh = make(config)
  const sessions = parked.sessions + 1
  return note(
    {
      ...fresh,
      pending: Log.emptyQueue(),
      greeting: parked.greeting,
      capabilities: Option.some(parked.capabilities),
      tls: parked.tls,
      rejected: parked.rejected,
      accepted: parked.accepted,
      // Held as if refused for a full transaction: RSET's reply starts the transaction for them.
      queue: Log.emptyQueue(),
      deferred: Log.fromArray(Log.queued(fresh.queue)),
      sessions,
      resets: parked.resets,
      resuming: true
    },
    `resumed an open connection (session ${sessions} on it)`
  )
}

/** Throws on a config no session could use. */
const validate = (config: Config): void => {
  if (config.recipients.length === 0) {
    throw new LocalProtocolError({ reason: "InvalidConfig", message: "a session needs at least one recipient" })
  }
  if (config.maxRecipientsPerTransaction !== undefined && !(config.maxRecipientsPerTransaction >= 1)) {
    throw new LocalProtocolError({ reason: "InvalidConfig", message: "maxRecipientsPerTransaction must be >= 1" })
  }
  if (!(config.maxPipeline >= 1) || !(config.maxVrfy >= 0)) {
    throw new LocalProtocolError({ reason: "InvalidConfig", message: "maxPipeline must be >= 1, maxVrfy >= 0" })
  }
  // Build once so that a bad client name or path fails here, not mid-conversation.
  Command.ehlo(config.clientName)
  Command.mailFrom(config.mailFrom)
}

/**
 * Advances the machine by one input.
 *
 * @category operations
 * @since 0.1.0
 */
export const step = (session: Session, input: Input): Step =>
  conversation.step<Session, Awaiting, SessionEnd, SessionResult>(session, input, {
    connected: (state) =>
      state.resuming ? transitions.resumed(state) : { state: note(state, "connected"), actions: [] },
    reply: (state, reply, awaiting) => transitions.reply[awaiting.phase](state, reply, awaiting),
    finish
  })

/**
 * Ends the session at once, without QUIT: `Closed` where it stood, `reason` in the transcript, the
 * recipients not answered yet left unanswered (to ask again on another connection). For a driver
 * that saw the server slow its replies down after rejections (an error sleep, a tarpit) and will
 * not wait out the RCPTs still in flight, each of which would be as slow. The driver closes the
 * connection. A finished session is left as it is.
 *
 * @category operations
 * @since 0.5.0
 */
export const abandon = (session: Session, reason: string): Step =>
  session.done
    ? { state: session, actions: [] }
    : finish(note(session, `leaving: ${reason}`), { _tag: "Closed", phase: phaseOfSession(session) })

/**
 * Lowers the session's rejection cap (`Config.maxErrors`) from now on: once the RCPTs in flight
 * are answered, the recipients not yet sent are `Postponed` if the cap is reached. For a driver
 * that saw the server react to rejections (replies slowed down) and wants out before its limits.
 *
 * @category operations
 * @since 0.2.0
 */
export const lowerMaxErrors = (session: Session, maxErrors: number): Session =>
  session.config.maxErrors !== undefined && session.config.maxErrors <= maxErrors
    ? session
    : { ...session, config: { ...session.config, maxErrors: Math.max(0, maxErrors) } }
