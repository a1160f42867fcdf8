/**
 * Every transition of the verification session, as one table keyed by the reply awaited.
 * The record type makes the compiler check that no phase is forgotten (h11's table, typed).
 *
 * @internal
 */
import { Option } from "effect"
import * as Capabilities from "../Capabilities.ts"
import * as Command from "../Command.ts"
import * as Reply from "../Reply.ts"
import { upgrade } from "./dialogue.ts"
import * as Log from "./log.ts"
import { isTooManyRecipients } from "./replyOutcome.ts"
import { capabilities, mailboxOf, nextGroup, pipelining, quitsWith, rejections, window } from "./window.ts"
import {
  acceptedInTransaction,
  type Awaiting,
  domainOf,
  finish,
  type Fresh,
  note,
  type ProbeResult,
  rcptReply,
  recipients,
  send,
  type Session,
  type SessionEnd,
  skip,
  type Step,
  vrfyReply,
  wantsVrfy
} from "./session.ts"

type Handler = (session: Session, reply: Reply.Reply, awaiting: Awaiting) => Step

const noActions: ReadonlyArray<never> = []

const idle = (state: Session): Step => ({ state, actions: noActions })

/** An RCPT group, with QUIT after it when `quitsWith` allows. */
const sendGroup = (
  session: Session,
  group: ReadonlyArray<number>,
  rest: Log.Queue<number>,
  before: { readonly commands: ReadonlyArray<Command.Command>; readonly awaiting: ReadonlyArray<Awaiting> }
): Step => {
  const rcpts = rcptCommands(session, group)
  const quit = quitsWith(session, group, rest)
  return send(
    {
      ...session,
      queue: rest,
      quitSent: quit,
      sentInTransaction: (session.sentInTransaction ?? 0) + group.length,
      inFlight: session.inFlight + group.length
    },
    // concat, not spreads: a spread walks an iterator, a result object per RCPT while this is cold.
    before.commands.concat(rcpts.commands, quit ? [Command.quit] : []),
    before.awaiting.concat(rcpts.awaiting, quit ? [awaitQuit] : [])
  )
}

const awaitQuit: Awaiting = { phase: "AwaitQuit" }

const rcptCommands = (session: Session, indices: ReadonlyArray<number>) => ({
  commands: indices.map((i) => Command.rcptTo(mailboxOf(session, i))),
  awaiting: indices.map((recipient): Awaiting => ({ phase: "AwaitRcpt", recipient }))
})

/**
 * An RCPT reply came and others are still in flight: once half the window is answered, the next
 * RCPTs go out without waiting for the rest (RFC 2920 lets RCPTs be pipelined; the server is
 * never left idle for a round trip between groups). Not while the transaction may be full (a
 * "too many recipients" came), past `maxErrors`, or once QUIT is out. Past a careful session's
 * point too, within its window: never more unanswered than the careful depth allows, so a
 * slowdown is seen with no more in flight than a whole write of that depth would have (waiting
 * for every reply of a write before the next cost a round trip a write, all session long, on a
 * host whose limits are still being tried).
 */
const slide = (session: Session): Step => {
  if (!session.mailAccepted || session.quitSent === true || session.deferred.length > 0) return idle(session)
  const errors = rejections(session)
  const { maxErrors, maxRecipientsPerTransaction } = session.config
  if (maxErrors !== undefined && errors >= maxErrors) return idle(session)
  const depth = window(session)
  if (session.inFlight * 2 > depth) return idle(session)
  const [group, rest] = nextGroup(session, session.queue)
  // The transaction's places bind before the window does, and a refusal gives one back at a time:
  // the RCPTs wait until a quarter of the places the window could fill are free (or the queue's
  // last ones fit), while the refusals of those in flight could free that many (places taken by
  // accepted recipients do not come back). Sent as they came back, a list of unknown mailboxes went
  // out a RCPT per write, each a packet and a turn of the driver (4,000 of 4,008 writes on a
  // connection). A quarter, not the window's half: the places are all the transaction has in
  // flight, and three quarters of them stay out while the next RCPTs gather.
  const least = Math.min(depth, maxRecipientsPerTransaction ?? Infinity) / 4
  if (group.length > 0 && group.length < least && group.length + session.inFlight >= least && Log.size(rest) > 0) {
    return idle(session)
  }
  if (group.length > 0) return sendGroup(session, group, rest, { commands: [], awaiting: [] })
  return full(session) ? closeEarly(session) : idle(session)
}

/**
 * Whether the transaction has its share (`maxRecipientsPerTransaction` places taken) while
 * recipients wait: the next transaction may go before its last replies (`slide`, the only caller,
 * has found half the window answered, so there is room). Not while the RCPTs in flight would give
 * back more than a hundredth of its places at this connection's rate of refusals (a refused
 * recipient takes no place): a list of unknown or mixed mailboxes fills its transactions, rather
 * than cutting them short at an RSET more each.
 */
const full = (session: Session): boolean => {
  const perTransaction = session.config.maxRecipientsPerTransaction
  return (
    perTransaction !== undefined &&
    (session.sentInTransaction ?? 0) >= perTransaction &&
    Log.size(session.queue) > 0 &&
    (session.closing ?? 0) === 0 &&
    session.inFlight * session.rejected * 100 <= perTransaction * (session.rejected + session.accepted)
  )
}

/**
 * The next transaction (RSET, MAIL and its first RCPTs) pipelined behind a full one's RCPTs still
 * in flight (RFC 2920 §3.1 lets RSET and MAIL appear anywhere in a group), rather than after its
 * last reply: waiting left the connection without a command in flight for a round trip every
 * transaction (every 1,000 recipients on a catch-all domain). Only once this transaction's MAIL
 * was accepted, one transaction closing at a time. Its replies still due count for it (`closing`).
 */
const closeEarly = (session: Session): Step =>
  startTransaction(
    { ...session, closing: session.inFlight, closingAccepted: acceptedInTransaction(session) },
    Log.queued(session.queue),
    rset
  )

/** After EHLO/HELO: STARTTLS if we should, else the first transaction. */
const afterHello = (session: Session): Step => {
  const caps = capabilities(session)
  const secure = session.tls._tag === "Established"
  if (!secure && session.config.tls !== "off" && caps.starttls) {
    return send(session, [Command.starttls], [{ phase: "AwaitStartTls" }])
  }
  if (!secure && session.config.tls === "required") {
    return finish(
      note(session, "TLS required but STARTTLS is not offered"),
      {
        _tag: "TlsUnavailable",
        reply: Option.none()
      },
      { quit: true }
    )
  }
  return startTransaction(session, Log.queued(session.queue))
}

/** What goes in the same write before a transaction's MAIL FROM: the RSET ending the last one. */
interface Before {
  readonly commands: ReadonlyArray<Command.Command>
  readonly awaiting: ReadonlyArray<Awaiting>
}

const nothing: Before = { commands: [], awaiting: [] }

const rset: Before = { commands: [Command.rset], awaiting: [{ phase: "AwaitRset" }] }

/**
 * MAIL FROM for these recipients; with PIPELINING the first group of RCPTs goes in the same write
 * (and `before` ahead of it: RFC 2920 §3.1 lets RSET and MAIL appear anywhere in a group).
 */
const startTransaction = (session: Session, indices: ReadonlyArray<number>, before: Before = nothing): Step => {
  const caps = capabilities(session)
  // RFC 6531 §3.2: a non-ASCII mailbox must not be sent to a server that does not offer SMTPUTF8.
  const unsendable = caps.smtpUtf8 ? [] : indices.filter((i) => mailboxOf(session, i).needsSmtpUtf8)
  const go = unsendable.length === 0 ? indices : indices.filter((i) => !mailboxOf(session, i).needsSmtpUtf8)
  const state: Session = {
    ...skip(session, unsendable, "SmtpUtf8Unsupported"),
    queue: Log.queueOf(go),
    deferred: Log.empty(),
    mailAccepted: false,
    answeredInTransaction: 0,
    sentInTransaction: 0
  }
  if (go.length === 0) {
    // Nothing to ask: the RSET alone, whose reply comes back here with no one left.
    const empty = { ...state, queue: Log.emptyQueue<number>() }
    return before.commands.length > 0 ? send(empty, before.commands, before.awaiting) : afterTransaction(empty)
  }
  const utf8 = caps.smtpUtf8 && go.some((i) => mailboxOf(session, i).needsSmtpUtf8)
  const mail = Command.mailFrom(session.config.mailFrom, utf8 ? ["SMTPUTF8"] : [])
  if (!pipelining(state)) return send(state, [...before.commands, mail], [...before.awaiting, { phase: "AwaitMail" }])
  const [group, rest] = nextGroup(state, state.queue)
  return sendGroup(state, group, rest, {
    commands: [...before.commands, mail],
    awaiting: [...before.awaiting, { phase: "AwaitMail" }]
  })
}

/**
 * A resumed session's first write, once the driver says the connection is there: RSET (the last
 * session left its transaction open), and with PIPELINING the new transaction behind it.
 */
const resumed = (session: Session): Step => {
  const state: Session = { ...session, resuming: false }
  if (state.tls._tag !== "Established" && state.config.tls === "required") {
    return finish(
      note(state, "TLS required but the connection is not encrypted"),
      { _tag: "TlsUnavailable", reply: Option.none() },
      { quit: true }
    )
  }
  const { maxErrors } = state.config
  if (maxErrors !== undefined && state.rejected >= maxErrors) {
    // The connection is at its rejection cap already: nobody is asked, all wait for a new one.
    return afterTransaction({ ...skip(state, Log.toArray(state.deferred), "Postponed"), deferred: Log.empty() })
  }
  return nextTransaction(state, Log.toArray(state.deferred))
}

/** Every RCPT in flight is answered: more RCPTs, a new transaction, or on. */
const afterRcpts = (session: Session): Step => {
  if (session.quitSent === true) {
    // QUIT is on its way: what was not asked waits for a new session; only its reply is left.
    return idle({
      ...skip(session, [...Log.queued(session.queue), ...Log.toArray(session.deferred)], "Postponed"),
      queue: Log.emptyQueue(),
      deferred: Log.empty()
    })
  }
  if (!session.mailAccepted) return afterTransaction(session)
  const errors = rejections(session)
  const queued = Log.size(session.queue)
  const left = queued + session.deferred.length
  // Not asked yet: those refused for a full transaction, then the queue.
  const rest = () => [...Log.toArray(session.deferred), ...Log.queued(session.queue)]
  if (left > 0 && session.config.maxErrors !== undefined && errors >= session.config.maxErrors) {
    // Past a server's error limits every reply is slowed, then the connection cut: a new session is
    // cheaper. Those refused for a full transaction wait too: they were not asked either.
    return afterTransaction({
      ...skip(session, rest(), "Postponed"),
      queue: Log.emptyQueue(),
      deferred: Log.empty()
    })
  }
  if (queued > 0 && session.deferred.length === 0) {
    const [group, rest] = nextGroup(session, session.queue)
    if (group.length > 0) return sendGroup(session, group, rest, nothing)
  }
  // A "too many recipients" says the transaction is full (more RCPTs would only meet more of
  // them), or it has its share: the rest go in a new one, after RSET.
  if (left > 0) {
    // A transaction that took no recipient at all will not take one after RSET either.
    if (session.deferred.length > 0 && session.answeredInTransaction === 0) {
      return afterTransaction({
        ...skip(session, rest(), "TooManyRecipients"),
        queue: Log.emptyQueue(),
        deferred: Log.empty()
      })
    }
    return nextTransaction(session, rest())
  }
  return afterTransaction(session)
}

/**
 * RSET and a new transaction for these recipients: with PIPELINING, its MAIL and first RCPTs in
 * the same write (a round trip less per transaction); without, RSET alone and the rest after its
 * reply.
 */
const nextTransaction = (session: Session, indices: ReadonlyArray<number>): Step =>
  pipelining(session)
    ? startTransaction(session, indices, rset)
    : send(
        // The transaction is over once RSET is out: its MAIL is no longer the one in force (an RSET
        // is counted as answered only once the next MAIL is, see `internal/observe.ts`).
        { ...session, deferred: Log.fromArray(indices), queue: Log.emptyQueue(), mailAccepted: false },
        rset.commands,
        rset.awaiting
      )

/** The real recipients are done: the catch-all probes, then VRFY, then QUIT. */
const afterTransaction = (session: Session): Step => {
  if (session.quitSent === true) return finish(session, undefined, { quit: true })
  const probeAt = session.probes.findIndex((p) => p._tag === "Pending")
  if (probeAt >= 0) {
    const probe = session.config.probes[probeAt]!
    const domain = domainOf(probe)
    // Only a domain that accepted a real recipient can be catch-all: the others need no probe.
    const accepted = session.accepted > 0 && acceptedIn(session, domain)
    if (!accepted || !session.mailAccepted) return afterTransaction(setProbe(session, probeAt, { _tag: "NotNeeded" }))
    // At the rejection cap, a refused probe would be an error past it (a session to a host serving
    // many domains had one probe each to send, and met Postfix's error sleep and hang-up there).
    const { maxErrors } = session.config
    if (maxErrors !== undefined && rejections(session) >= maxErrors) {
      return afterTransaction(setProbe(session, probeAt, { _tag: "Postponed" }))
    }
    return sendProbe(session, probeAt, nothing)
  }
  let state = session
  if (state.config.vrfy === "fallback" && state.vrfySent === 0 && state.vrfyQueue.length === 0) {
    state = { ...state, vrfyQueue: recipients(state).flatMap((r, i) => (wantsVrfy(r) ? [i] : [])) }
  }
  const [next] = state.vrfyQueue
  if (next !== undefined && state.vrfySent < state.config.maxVrfy) {
    return send(
      { ...state, vrfyQueue: state.vrfyQueue.slice(1), vrfySent: state.vrfySent + 1 },
      [Command.vrfy(mailboxOf(state, next).address)],
      [{ phase: "AwaitVrfy", recipient: next }]
    )
  }
  return finish({ ...state, vrfyQueue: [] }, undefined, { quit: true })
}

/**
 * A probe's RCPT, after `before`. The last probe and no VRFY: nothing follows its reply, so QUIT
 * goes in the same write (RFC 2920 lets QUIT end a pipelined group), a round trip less per session.
 */
const sendProbe = (session: Session, probeAt: number, before: Before): Step => {
  const quit =
    session.config.keepOpen !== true &&
    pipelining(session) &&
    session.config.vrfy === "off" &&
    !session.probes.some(
      (p, i) => i > probeAt && p._tag === "Pending" && acceptedIn(session, domainOf(session.config.probes[i]!))
    )
  return send(
    { ...session, quitSent: quit },
    [...before.commands, Command.rcptTo(session.config.probes[probeAt]!), ...(quit ? [Command.quit] : [])],
    [...before.awaiting, { phase: "AwaitProbe", probe: probeAt }, ...(quit ? [{ phase: "AwaitQuit" } as const] : [])]
  )
}

const setProbe = (session: Session, index: number, probe: ProbeResult): Session => ({
  ...session,
  probes: session.probes.map((p, i) => (i === index ? probe : p))
})

/** Whether a real recipient of this domain was accepted (once per probe: a scan of the updates). */
const acceptedIn = (session: Session, domain: string): boolean => {
  for (let k = 0; k < session.updates.length; k++) {
    const u = session.updates.buffer[k]!
    if (u.rcpt !== undefined && Reply.isPositive(u.rcpt) && domainOf(mailboxOf(session, u.recipient)) === domain) {
      return true
    }
  }
  return false
}

/**
 * Whether RCPT replies are still to come. Pipelined RCPTs are always at the front of what is
 * awaited (after their MAIL, which is answered first; a QUIT or nothing behind them): RSET,
 * probes and VRFY go out only once they are all answered.
 */
const awaitingRcpt = (session: Session) => Log.peek(session.pending)?.phase === "AwaitRcpt"

/** Whether what this transaction's MAIL went out with (RCPTs, or a probe) is still to be answered. */
const awaitingTransaction = (session: Session) => {
  const next = Log.peek(session.pending)?.phase
  return next === "AwaitRcpt" || next === "AwaitProbe"
}

/** What each awaited reply leads to. */
const reply: { readonly [P in Awaiting["phase"]]: Handler } = {
  AwaitGreeting: (s, reply) => {
    const state = { ...s, greeting: Option.some(reply) }
    if (reply.code === 220) return send(state, [Command.ehlo(s.config.clientName)], [{ phase: "AwaitEhlo" }])
    // 554 (or anything but 220): no service for us; RFC 5321 §3.1 says QUIT and wait.
    return finish(state, { _tag: "Rejected", phase: "AwaitGreeting", reply }, { quit: true })
  },
  AwaitEhlo: (s, reply) => {
    if (Reply.isPositive(reply))
      return afterHello({ ...s, capabilities: Option.some(Capabilities.fromEhloReply(reply)) })
    if (reply.code === 500 || reply.code === 502 || reply.code === 504) {
      return send(s, [Command.helo(s.config.clientName)], [{ phase: "AwaitHelo" }])
    }
    return finish(s, { _tag: "Rejected", phase: "AwaitEhlo", reply }, { quit: true })
  },
  AwaitHelo: (s, reply) =>
    Reply.isPositive(reply)
      ? afterHello({ ...s, capabilities: Option.some(Capabilities.none) })
      : finish(s, { _tag: "Rejected", phase: "AwaitHelo", reply }, { quit: true }),
  AwaitStartTls: (s, reply) => {
    if (reply.code === 220) return upgrade(s, s.config.servername)
    if (s.config.tls === "required") {
      return finish(s, { _tag: "TlsUnavailable", reply: Option.some(reply) }, { quit: true })
    }
    return startTransaction(note(s, "STARTTLS refused; going on without TLS"), Log.queued(s.queue))
  },
  AwaitMail: (s, reply) => {
    // A refused RSET went before it: the session is over, its transaction means nothing.
    if (Option.isSome(s.end)) return idle(s)
    if (Reply.isPositive(reply)) {
      const state = { ...s, mailAccepted: true }
      return awaitingTransaction(state) ? idle(state) : afterRcpts(state)
    }
    // Every recipient of this transaction goes unasked; pipelined RCPT replies still to come are read and ignored.
    const inFlight = Log.queued(s.pending).flatMap((a) => ("recipient" in a ? [a.recipient] : []))
    const state: Session = {
      ...skip(s, [...inFlight, ...Log.queued(s.queue), ...Log.toArray(s.deferred)], "MailRejected"),
      queue: Log.emptyQueue(),
      deferred: Log.empty(),
      end: Option.some({ _tag: "Rejected", phase: "AwaitMail", reply })
    }
    return awaitingTransaction(state) ? idle(state) : afterTransaction(state)
  },
  AwaitRcpt: (s, reply, awaiting) => {
    const index = "recipient" in awaiting ? awaiting.recipient : -1
    // This runs for every RCPT of a bulk run: the state dispatch made for this reply is the new
    // one, its fields set in place (see `Fresh`), rather than copied again.
    const state = s as Fresh
    state.inFlight = Math.max(0, s.inFlight - 1)
    const closing = s.closing ?? 0
    if (closing > 0) {
      // The transaction before this one (see `closeEarly`): its answer is recorded, its places and
      // count are its own; a "too many recipients" waits for a transaction after this one. The next
      // reply is another of its RCPTs, or the RSET's.
      state.closing = closing - 1
      if (isTooManyRecipients(reply)) {
        state.deferred = Log.append(s.deferred, index)
        state.limitedAfter ??= s.closingAccepted ?? 0
      } else {
        if (Reply.isPositive(reply)) state.closingAccepted = (s.closingAccepted ?? 0) + 1
        rcptReply(state, index, reply)
      }
      return idle(state)
    }
    if (s.mailAccepted) {
      if (isTooManyRecipients(reply)) {
        state.deferred = Log.append(s.deferred, index)
        // Accepted so far, this RCPT not among them: with it no longer in flight (above), the
        // getter counts its place as accepted.
        state.limitedAfter ??= acceptedInTransaction(state) - 1
      } else {
        state.answeredInTransaction = s.answeredInTransaction + 1
        // A refused recipient takes no place in the message: its place goes back to the transaction.
        state.sentInTransaction = (s.sentInTransaction ?? 0) - (Reply.isPositive(reply) ? 0 : 1)
        rcptReply(state, index, reply)
      }
    }
    return awaitingRcpt(state) ? slide(state) : afterRcpts(state)
  },
  AwaitProbe: (s, reply, awaiting) => {
    const index = "probe" in awaiting ? awaiting.probe : -1
    // Its MAIL (pipelined before it) was refused: the reply says nothing about the address.
    if (!s.mailAccepted) return afterTransaction(setProbe(s, index, { _tag: "NotNeeded" }))
    const current = s.probes[index]
    // A transaction already at the server's recipient limit takes no probe: once more, in a new one
    // (or, QUIT being out with it, in the next session: the probe is left unanswered).
    if (isTooManyRecipients(reply) && !(current?._tag === "Pending" && current.afterRset === true)) {
      if (s.quitSent === true) return afterTransaction(s)
      const again = setProbe(s, index, { _tag: "Pending", afterRset: true })
      // With PIPELINING, RSET, MAIL and the probe in one write; without, the MAIL after RSET's reply.
      return pipelining(s)
        ? sendProbe({ ...again, mailAccepted: false }, index, {
            commands: [Command.rset, Command.mailFrom(s.config.mailFrom)],
            awaiting: [...rset.awaiting, { phase: "AwaitMail" }]
          })
        : send({ ...again, mailAccepted: false }, rset.commands, rset.awaiting)
    }
    // A refused probe is an error to the server like a refused recipient (the cap counts it).
    const counted = Reply.isPositive(reply) ? s : { ...s, rejected: s.rejected + 1 }
    return afterTransaction(setProbe(counted, index, { _tag: "Answered", reply }))
  },
  AwaitRset: (s, reply) => {
    if (!Reply.isPositive(reply)) {
      const end: SessionEnd = { _tag: "Rejected", phase: "AwaitRset", reply }
      if (Log.size(s.pending) === 0) return finish(s, end, { quit: true })
      // MAIL and RCPTs went out behind it: their replies are read and ignored (the recipients
      // stay unanswered, nothing is counted), QUIT after them.
      const state: Session = {
        ...s,
        end: Option.some(end),
        mailAccepted: false,
        queue: Log.emptyQueue(),
        deferred: Log.empty()
      }
      return state.quitSent === true
        ? idle(state)
        : send({ ...state, quitSent: true }, [Command.quit], [{ phase: "AwaitQuit" }])
    }
    // The new transaction went out in the same write (PIPELINING): its replies follow.
    if (Log.size(s.pending) > 0) return idle(s)
    if (s.deferred.length === 0 && s.probes.some((p) => p._tag === "Pending" && p.afterRset === true)) {
      // A transaction for the probe alone; its MAIL reply leads back to afterTransaction.
      return send(
        { ...s, mailAccepted: false, queue: Log.emptyQueue() },
        [Command.mailFrom(s.config.mailFrom)],
        [{ phase: "AwaitMail" }]
      )
    }
    return startTransaction(s, Log.toArray(s.deferred))
  },
  AwaitVrfy: (s, reply, awaiting) => {
    const index = "recipient" in awaiting ? awaiting.recipient : -1
    const state = vrfyReply(s, index, reply)
    // VRFY disabled or not implemented: asking about the others would only count as junk.
    const disabled = reply.code === 500 || reply.code === 502 || reply.code === 504
    return afterTransaction(disabled ? { ...state, vrfyQueue: [] } : state)
  },
  AwaitQuit: (s) => finish(s, undefined)
}

/** @internal */
export const transitions = { reply, resumed }
