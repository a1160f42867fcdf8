/**
 * A verification session, watched: the pure machine wrapped so that how long each reply took is
 * seen next to the rejections before it, and the session's end summed up as a
 * `HostProfile.Observation` (the signs of a host's limits).
 *
 * A reply that comes about a second later than the session's quickest, after rejections, is a
 * server slowing down on errors (Postfix's error sleep past its soft limit, tarpits). A careful
 * session (one finding out where the limits are) stops there: its rejection cap is lowered so
 * the recipients not yet sent go to a new session instead of into the server's hard limit.
 *
 * @internal
 */
import type { Clock } from "effect"
import { Option } from "effect"
import type { SmtpClient } from "@rcpt/client"
import { Reply, Session } from "@rcpt/smtp"
import { carefulBelow, type Observation } from "../HostProfile.ts"

/**
 * How much later than the session's quickest reply a reply must come to count as slowed down.
 *
 * @internal
 */
export const slowReplyMs = 700

const rcptPhases: ReadonlySet<string> = new Set(["AwaitMail", "AwaitRcpt", "AwaitProbe", "AwaitRset", "AwaitVrfy"])

/** @internal */
export interface Watched {
  readonly machine: SmtpClient.Machine<Session.Session, Session.SessionResult>
  /** The signs the finished session showed. */
  readonly observe: (result: Session.SessionResult) => Observation
}

/**
 * Wraps the session machine for one session. `careful`: stop sending RCPTs at the first slowdown.
 * `rejectedBefore`: RCPTs refused on this connection by the sessions before this one (it took
 * over a connection left open); servers count errors per connection, and so does the observation.
 * `advance`: told what the session has shown so far each time its rejections have doubled past
 * `advanceFrom`, and each time an RSET of it was answered (its transaction's MAIL accepted after
 * it), with no slowdown (see `HostProfiles.Lease.advance`): the connection's other lane's sessions
 * take it over up to the RSETs the trying one has had answered (at the start values, it redialled
 * at its ninth about once a run, a few RSETs behind the trying connection).
 *
 * @internal
 */
export const watch = (
  clock: Clock.Clock,
  options: {
    readonly careful: boolean
    readonly rejectedBefore?: number | undefined
    readonly advance?: ((observation: Observation) => void) | undefined
    readonly advanceFrom?: number | undefined
  }
): Watched => {
  const carried = options.rejectedBefore ?? 0
  const advance = options.advance
  // Not before the error limits met in practice (Postfix: a sleep after 10, a hang-up after 20).
  let advanceAt = Math.max(carefulBelow, options.advanceFrom ?? 0)
  let since: number | undefined
  let quickest = Infinity
  let slowAfter: number | undefined
  let tooManyAfter: number | undefined
  let widestWrite = 0
  // What `advance` was last told: the rejections and widest pipeline (an RSET's advance raises
  // nothing else), and the RSETs, from the connection's when this session began.
  let told: { rejections: number; widestWrite: number; resets: number } | undefined
  const step: Watched["machine"]["step"] = (state, input) => {
    told ??= { rejections: 0, widestWrite: 0, resets: state.resets }
    const now = clock.currentTimeMillisUnsafe()
    let leave = false
    let slowed = false
    if (input._tag === "Received" && since !== undefined) {
      const waited = now - since
      slowed = Session.rejections(state) > 0 && waited >= quickest + slowReplyMs && slowAfter === undefined
      quickest = Math.min(quickest, waited)
    }
    let next = Session.step(state, input)
    // A read that brings a transaction's first accepted recipient may be late for another reason:
    // Postfix's in_flow_delay holds that RCPT's reply up to a second for a flow token, every
    // transaction once the server sees only aborted ones (real-servers.md). Taken for an error
    // sleep, it set a mixed list's cap at the rejections seen so far (one or two), for the run. An
    // error sleep slows every reply, so the next read still shows it.
    const inFlow = () => Session.acceptedInTransaction(state) === 0 && Session.acceptedInTransaction(next.state) > 0
    if (slowed && !inFlow()) {
      const before = Session.rejections(state)
      slowAfter = before
      if (options.careful) {
        // Whatever this reply is, one more rejection ends the session's RCPTs: the read is taken
        // again with that cap (the machine is pure; the step above is dropped).
        next = Session.step(Session.lowerMaxErrors(state, before + 1), input)
        leave = true
      }
    }
    // A careful session does not wait out the RCPTs still in flight past a slowdown: each would be
    // as slow (a second each on Postfix), so a trial that ramped past a limit would pay for its
    // whole last write. It leaves; the recipients not answered go to another session.
    if (leave && next.state.inFlight > 0 && !Session.isDone(next.state)) {
      next = Session.abandon(next.state, `replies slowed down after ${slowAfter} rejections`)
    }
    // The pipeline a session used is the most RCPTs it had unanswered at once: with several
    // groups in flight a write carries only part of the window, so writes alone undercount it.
    if (next.state.inFlight > widestWrite) widestWrite = next.state.inFlight
    // The machine keeps what the transaction had answered at the first "too many recipients"
    // (with a transaction closing behind the next one, a packet may carry both's replies).
    if (tooManyAfter === undefined && next.state.limitedAfter !== undefined) tooManyAfter = next.state.limitedAfter
    const rejected = Session.rejections(next.state)
    if (advance !== undefined && slowAfter === undefined) {
      // With the transaction's MAIL accepted, every RSET written before it was answered (one
      // transaction closes at a time, and its RSET goes before the next one's MAIL); without, all
      // but the last (the next transaction's RSET goes only once this one's MAIL is accepted). A
      // read may bring a MAIL's acceptance and the replies that let the next transaction go out in
      // the same step: told only with the MAIL accepted at the step's end, that RSET was never told
      // on its own, and the other lane's lease, taken meanwhile, met the RSET cap a transaction early
      // (the bench's catch-all list redialled near its end, 300 ms of a 1.7 s run).
      const answered = next.state.mailAccepted ? next.state.resets : next.state.resets - 1
      const resets = Math.max(told.resets, answered)
      const further = rejected >= advanceAt
      if (further || resets > told.resets) {
        if (further) advanceAt = rejected * 2
        told = further ? { rejections: rejected, widestWrite, resets } : { ...told, resets }
        advance(soFar(told, next.state.accepted))
      }
    }
    since = now
    return next
  }
  // What the session showed up to now, nothing seen: as if it had ended here.
  const soFar = (
    { rejections, widestWrite: widest, resets }: { rejections: number; widestWrite: number; resets: number },
    accepted: number
  ): Observation => ({
    rejections,
    accepted,
    postponed: 0,
    completed: true,
    slowAfter: undefined,
    cutAfter: undefined,
    tooManyRecipientsAfter: tooManyAfter,
    refusedConnection: false,
    noPipelining: false,
    widestWrite: widest,
    resets
  })
  const observe = (result: Session.SessionResult): Observation => {
    const end = result.end
    // One pass over the recipients, plain tests (this runs for every session of a bulk run).
    let refused = 0
    let postponed = 0
    let accepted = 0
    for (const r of result.recipients) {
      if (r.rcpt._tag === "Some") {
        if (Reply.isPositive(r.rcpt.value)) accepted++
        else refused++
      }
      if (r.skipped._tag === "Some" && r.skipped.value === "Postponed") postponed++
    }
    // A refused catch-all probe is an error to the server like any refused RCPT, and the machine
    // counts it so (`Session.rejections`, which a slowdown is recorded against): left out here, a
    // slowdown whose slowed reply was a refused probe, with no refusal after it, was dropped.
    for (const p of result.probes) {
      if (p.result._tag === "Answered" && !Reply.isPositive(p.result.reply)) refused++
    }
    const rejected = carried + refused
    // RSET refused for good (Exim's 554 past its non-mail commands, then a hang-up): the connection
    // took all the RSETs it will. A 421 or a close there is not that: an idle connection timed out.
    const atReset = end._tag === "Rejected" && end.phase === "AwaitRset" && end.reply.code >= 500
    const cut =
      (end._tag === "ServiceClosing" || end._tag === "Closed" || end._tag === "TimedOut") && rcptPhases.has(end.phase)
    const atGreeting =
      (end._tag === "ServiceClosing" || end._tag === "Rejected") &&
      end.phase === "AwaitGreeting" &&
      end.reply.code >= 400 &&
      end.reply.code < 500
    return {
      rejections: rejected,
      accepted,
      postponed,
      completed: end._tag === "Completed",
      // A slowdown only counts if it came while rejections were piling up (not, say, Postfix's
      // in_flow_delay on a transaction's first accepted recipient): the session's own count tells.
      slowAfter: slowAfter !== undefined && rejected > slowAfter ? slowAfter : undefined,
      cutAfter: cut ? rejected : undefined,
      tooManyRecipientsAfter: tooManyAfter,
      refusedConnection: atGreeting,
      noPipelining: Option.exists(result.capabilities, (c) => !c.pipelining),
      widestWrite,
      resets: result.resets,
      cutAtReset: atReset ? result.resets : undefined
    }
  }
  return {
    // Lines of the dialogue so far: counted whether or not they are kept (`Session.Config.transcript`).
    machine: { step, phase: Session.phase, progress: (s) => s.transcript.length },
    observe
  }
}
