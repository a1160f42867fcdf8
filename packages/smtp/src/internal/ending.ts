/**
 * How a verification session ends and what it ends with: QUIT (or, with `Config.keepOpen` and a
 * normal end, the connection left open for `resume`), then `Finished` with the result. Apart from
 * the model in `session.ts`, which re-exports it.
 *
 * @internal
 */
import { Data, Option } from "effect"
import * as Capabilities from "../Capabilities.ts"
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
  const out: Array<RecipientResult> = session.config.recipients.map((mailbox) => ({
    mailbox,
    rcpt: Option.none(),
    vrfy: Option.none(),
    skipped: Option.none()
  }))
  for (let k = 0; k < session.updates.length; k++) {
    const u = session.updates.buffer[k]!
    const r = out[u.recipient]
    if (r === undefined) continue
    out[u.recipient] = {
      mailbox: r.mailbox,
      rcpt: u.rcpt === undefined ? r.rcpt : Option.some(u.rcpt),
      vrfy: u.vrfy === undefined ? r.vrfy : Option.some(u.vrfy),
      skipped: u.skipped === undefined ? r.skipped : Option.some(u.skipped)
    }
  }
  return out
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
