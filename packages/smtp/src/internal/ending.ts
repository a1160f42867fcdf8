/**
 * How a verification session ends and what it ends with: QUIT (or, with `Config.keepOpen` and a
 * normal end, the connection left open for `resume`), then `Finished` with the result. Apart from
 * the model in `session.ts`, which re-exports it.
 *
 * @internal
 */
import { Data, Option } from "effect"
import * as Capabilities from "../Capabilities.ts"
import type * as Reply from "../Reply.ts"
import * as ReplyParser from "../ReplyParser.ts"
import * as conversation from "./conversation.ts"
import { note } from "./dialogue.ts"
import * as Log from "./log.ts"
import type {
  Action,
  Awaiting,
  ProbeResult,
  RecipientResult,
  Session,
  SkipReason,
  SessionEnd,
  SessionResult,
  Step
} from "./session.ts"

const actions = Data.taggedEnum<Action>()

/**
 * Each recipient's result so far, in `Config.recipients` order: the updates applied. O(recipients
 * + updates); the machine itself reads only counters and the recipients it is about.
 *
 * @category getters
 * @since 0.2.0
 */
export const recipients = (session: Session): ReadonlyArray<RecipientResult> => {
  const count = session.config.recipients.length
  // The last of each kind of update per recipient, then one result each (not one per update).
  const rcpt: Array<Reply.Reply | undefined> = Array.from({ length: count })
  const vrfy: Array<Reply.Reply | undefined> = Array.from({ length: count })
  const skipped: Array<SkipReason | undefined> = Array.from({ length: count })
  for (let k = 0; k < session.updates.length; k++) {
    const u = session.updates.buffer[k]!
    if (!(u.recipient >= 0 && u.recipient < count)) continue
    if (u.rcpt !== undefined) rcpt[u.recipient] = u.rcpt
    if (u.vrfy !== undefined) vrfy[u.recipient] = u.vrfy
    if (u.skipped !== undefined) skipped[u.recipient] = u.skipped
  }
  return session.config.recipients.map((mailbox, i) => ({
    mailbox,
    rcpt: Option.fromUndefinedOr(rcpt[i]),
    vrfy: Option.fromUndefinedOr(vrfy[i]),
    skipped: Option.fromUndefinedOr(skipped[i])
  }))
}

/**
 * The result so far, as `Finished` would carry it.
 *
 * @category getters
 * @since 0.1.0
 */
export const result = (session: Session): SessionResult => ({
  recipients: recipients(session),
  probes: session.config.probes.map((mailbox, i) => ({ mailbox, result: session.probes[i]! })),
  greeting: session.greeting,
  capabilities: session.capabilities,
  tls: session.tls,
  end: Option.getOrElse(session.end, (): SessionEnd => ({ _tag: "Completed" })),
  transcript: Log.toArray(session.transcript),
  resets: session.resets,
  parked: session.parked
    ? Option.some({
        greeting: session.greeting,
        capabilities: Option.getOrElse(session.capabilities, () => Capabilities.none),
        tls: session.tls,
        rejected: session.rejected,
        accepted: session.accepted,
        sessions: session.sessions,
        resets: session.resets
      })
    : Option.none()
})

/**
 * Ends the session: with QUIT first when the channel is still sound, else at once.
 * `end` undefined keeps the end already recorded (or Completed).
 *
 * @internal
 */
export const finish = (
  session: Session,
  end: SessionEnd | undefined,
  options: conversation.FinishOptions = {}
): Step => {
  const s: Session = {
    ...session,
    probes: session.probes.map((p): ProbeResult => (p._tag === "Pending" ? { _tag: "NotNeeded" } : p))
  }
  return end === undefined && options.quit === true && parks(s)
    ? park(s)
    : conversation.finish<Session, Awaiting, SessionEnd, SessionResult>(s, end, options, result)
}

/**
 * Whether a session about to QUIT after a normal end may leave the connection open instead: asked
 * to, nothing went wrong, QUIT not out, no reply awaited and none half-read (the next session's
 * first reply must be its own).
 */
const parks = (s: Session): boolean =>
  s.config.keepOpen === true &&
  Option.isNone(s.end) &&
  s.quitSent !== true &&
  !s.handshaking &&
  Log.size(s.pending) === 0 &&
  !ReplyParser.hasBufferedData(s.parser)

/** Ends the session without QUIT or `Close`: the driver keeps the connection for `resume`. */
const park = (session: Session): Step => {
  const done: Session = {
    ...note(
      session,
      `left the connection open (${session.sessions} session${session.sessions === 1 ? "" : "s"} on it)`
    ),
    pending: Log.emptyQueue(),
    done: true,
    parked: true
  }
  return { state: done, actions: [actions.Finished({ result: result(done) })] }
}
