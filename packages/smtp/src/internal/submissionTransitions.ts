/**
 * Every transition of the submission session, as one table keyed by the reply awaited. The
 * record type makes the compiler check that no phase is forgotten.
 *
 * @internal
 */
import { Option, Result } from "effect"
import * as Capabilities from "../Capabilities.ts"
import * as Command from "../Command.ts"
import * as Reply from "../Reply.ts"
import * as Sasl from "../Sasl.ts"
import { log, note, upgrade } from "./dialogue.ts"
import * as Log from "./log.ts"
import {
  Action,
  type Awaiting,
  finish,
  hold,
  isSecure,
  type MessageResult,
  send,
  type Step,
  type Submission,
  type Transaction
} from "./submission.ts"
import { prepare } from "./submissionEnvelope.ts"

type Handler = (state: Submission, reply: Reply.Reply, awaiting: Awaiting) => Step

const idle = (state: Submission): Step => ({ state, actions: [] })

const capabilities = (state: Submission) => Option.getOrElse(state.capabilities, () => Capabilities.none)

const transaction = (state: Submission): Transaction =>
  Option.getOrElse(state.transaction, () => ({ rcpts: [], chunks: [], pipelined: false }))

const updateMessage = (state: Submission, f: (r: MessageResult) => MessageResult): Submission => ({
  ...state,
  results: state.results.map((r, i) => (i === state.current ? f(r) : r))
})

const accepted = (state: Submission) =>
  state.results[state.current]!.recipients.filter((r) => Option.exists(r.reply, Reply.isPositive)).length

/** After EHLO/HELO: STARTTLS if we should, else AUTH. */
const afterHello = (state: Submission): Step => {
  const mode = state.config.tls
  const secure = isSecure(state)
  if (!secure && (mode === "required" || mode === "opportunistic") && capabilities(state).starttls) {
    return send(state, [Command.starttls], [{ phase: "AwaitStartTls" }])
  }
  if (!secure && mode === "required") {
    return finish(
      note(state, "TLS required but STARTTLS is not offered"),
      { _tag: "TlsUnavailable", reply: Option.none() },
      { quit: true }
    )
  }
  return authenticate(state)
}

/** AUTH when we have credentials, never in the clear unless allowed. */
const authenticate = (state: Submission): Step => {
  const { config } = state
  if (Option.isNone(config.auth)) return nextMessage(state)
  const secure = isSecure(state)
  if (!secure && !config.allowInsecureAuth) {
    const message = "credentials are never sent without TLS (allowInsecureAuth overrides this)"
    return finish(note(state, message), { _tag: "AuthUnavailable", reason: "Cleartext", message }, { quit: true })
  }
  const chosen = Sasl.choose({
    capabilities: capabilities(state),
    credentials: config.auth.value,
    secure,
    forced: config.mechanism,
    hmacMd5: Option.isSome(config.hmacMd5)
  })
  if (Result.isFailure(chosen)) {
    const failure = chosen.failure
    const message =
      failure._tag === "NotOffered"
        ? "the server does not offer AUTH"
        : failure._tag === "NoCommonMechanism"
          ? `no usable mechanism among those offered: ${failure.offered.join(" ") || "none"}`
          : failure.message
    return finish(note(state, message), { _tag: "AuthUnavailable", reason: failure._tag, message }, { quit: true })
  }
  const { command, exchange } = Sasl.start(chosen.success, config.auth.value, config.hmacMd5)
  return send({ ...state, sasl: Option.some(exchange) }, [command], [{ phase: "AwaitAuth" }])
}

/** The next message: RSET first if a transaction was begun, QUIT (or hold) when none is left. */
const nextMessage = (state: Submission): Step => {
  if (state.current >= state.messages.length) {
    return state.config.keepOpen ? hold(state) : finish(state, undefined, { quit: true })
  }
  if (state.dirty) return send(state, [Command.rset], [{ phase: "AwaitRset" }])
  return startMessage(state)
}

const messageDone = (state: Submission): Step =>
  nextMessage({ ...state, current: state.current + 1, abandoned: false, transaction: Option.none() })

/** MAIL FROM; with PIPELINING every RCPT and DATA go in the same write. */
const startMessage = (state: Submission): Step => {
  const prepared = prepare(capabilities(state), state.messages[state.current]!, state.config.chunkSize)
  if (prepared._tag === "Refused") {
    const refused = updateMessage(state, (r) => ({ ...r, outcome: prepared }))
    return messageDone(note(refused, `message ${state.current + 1} not sent: ${prepared.message}`))
  }
  const pipelined = state.config.pipelining && capabilities(state).pipelining
  const s: Submission = {
    ...state,
    dirty: true,
    abandoned: false,
    transaction: Option.some({ rcpts: prepared.rcpts, chunks: prepared.chunks, pipelined })
  }
  if (!pipelined) return send(s, [prepared.mail], [{ phase: "AwaitMail" }])
  return send(
    s,
    [prepared.mail, ...prepared.rcpts, Command.data],
    [
      { phase: "AwaitMail" },
      ...prepared.rcpts.map((_, recipient): Awaiting => ({ phase: "AwaitRcpt", recipient })),
      { phase: "AwaitData" }
    ]
  )
}

/** Without pipelining, after MAIL or an RCPT: the next RCPT, or DATA, or give up. */
const afterRcpt = (state: Submission): Step => {
  const { rcpts } = transaction(state)
  const answered = state.results[state.current]!.recipients.filter((r) => Option.isSome(r.reply)).length
  if (answered < rcpts.length) {
    return send(state, [rcpts[answered]!], [{ phase: "AwaitRcpt", recipient: answered }])
  }
  if (accepted(state) === 0)
    return messageDone(updateMessage(state, (r) => ({ ...r, outcome: { _tag: "AllRecipientsRejected" } })))
  return send(state, [Command.data], [{ phase: "AwaitData" }])
}

/** 354: the body, or only the terminator when the transaction is already lost (pipelined DATA). */
const afterGoAhead = (state: Submission, viable: boolean): Step => {
  const chunks = viable ? transaction(state).chunks : [Uint8Array.of(46, 13, 10)]
  const octets = chunks.reduce((n, c) => n + c.length, 0)
  const logged = viable ? log(state, "C", `<message, ${octets} octets on the wire>`) : state
  const s = log(logged, "C", ".")
  return {
    state: { ...s, abandoned: !viable, pending: Log.push(s.pending, [{ phase: "AwaitDataEnd" }]) },
    actions: chunks.map((bytes) => Action.Send({ bytes, commands: [] }))
  }
}

const rejected =
  (phase: "AwaitGreeting" | "AwaitEhlo" | "AwaitHelo" | "AwaitRset") => (s: Submission, reply: Reply.Reply) =>
    finish(s, { _tag: "Rejected", phase, reply }, { quit: true })

/** What each awaited reply leads to. */
const reply: { readonly [P in Awaiting["phase"]]: Handler } = {
  AwaitGreeting: (s, reply) => {
    const state = { ...s, greeting: Option.some(reply) }
    if (reply.code === 220) return send(state, [Command.ehlo(s.config.clientName)], [{ phase: "AwaitEhlo" }])
    return rejected("AwaitGreeting")(state, reply)
  },
  AwaitEhlo: (s, reply) => {
    if (Reply.isPositive(reply))
      return afterHello({ ...s, capabilities: Option.some(Capabilities.fromEhloReply(reply)) })
    if (reply.code === 500 || reply.code === 502 || reply.code === 504) {
      return send(s, [Command.helo(s.config.clientName)], [{ phase: "AwaitHelo" }])
    }
    return rejected("AwaitEhlo")(s, reply)
  },
  AwaitHelo: (s, reply) =>
    Reply.isPositive(reply)
      ? afterHello({ ...s, capabilities: Option.some(Capabilities.none) })
      : rejected("AwaitHelo")(s, reply),
  AwaitStartTls: (s, reply) => {
    if (reply.code === 220) return upgrade(s, s.config.servername)
    if (s.config.tls === "required") {
      return finish(s, { _tag: "TlsUnavailable", reply: Option.some(reply) }, { quit: true })
    }
    return authenticate(note(s, "STARTTLS refused; going on without TLS"))
  },
  AwaitAuth: (s, reply) => {
    const outcome = Sasl.classify(reply)
    const exchange = Option.getOrThrow(s.sasl)
    if (outcome === "Challenge") {
      const challenge = reply.lines[0] ?? ""
      const state = exchange.mechanism === "XOAUTH2" ? note(s, `XOAUTH2: ${Sasl.decodeChallenge(challenge)}`) : s
      const next = Sasl.respond(exchange, challenge)
      return send({ ...state, sasl: Option.some(next.exchange) }, [next.command], [{ phase: "AwaitAuth" }])
    }
    const state: Submission = { ...s, sasl: Option.none() }
    if (outcome === "Authenticated") return nextMessage({ ...state, authenticated: Option.some(exchange.mechanism) })
    return finish(state, { _tag: "AuthFailed", outcome, mechanism: exchange.mechanism, reply }, { quit: true })
  },
  AwaitRset: (s, reply) =>
    Reply.isPositive(reply) ? startMessage({ ...s, dirty: false }) : rejected("AwaitRset")(s, reply),
  AwaitMail: (s, reply) => {
    const state = updateMessage(s, (r) => ({ ...r, mail: Option.some(reply) }))
    if (Reply.isPositive(reply)) return transaction(state).pipelined ? idle(state) : afterRcpt(state)
    // Pipelined RCPT and DATA replies still to come are read and ignored.
    const lost = {
      ...updateMessage(state, (r) => ({ ...r, outcome: { _tag: "MailRejected", reply } })),
      abandoned: true
    }
    return Log.size(lost.pending) > 0 ? idle(lost) : messageDone(lost)
  },
  AwaitRcpt: (s, reply, awaiting) => {
    if (s.abandoned) return idle(s)
    const index = "recipient" in awaiting ? awaiting.recipient : -1
    const state = updateMessage(s, (r) => ({
      ...r,
      recipients: r.recipients.map((x, i) => (i === index ? { ...x, reply: Option.some(reply) } : x))
    }))
    return transaction(state).pipelined ? idle(state) : afterRcpt(state)
  },
  AwaitData: (s, reply) => {
    const viable = !s.abandoned && accepted(s) > 0
    let state = updateMessage(s, (r) => ({ ...r, data: Option.some(reply) }))
    if (!s.abandoned && !viable)
      state = updateMessage(state, (r) => ({ ...r, outcome: { _tag: "AllRecipientsRejected" } }))
    if (reply.code === 354) return afterGoAhead(state, viable)
    if (viable) state = updateMessage(state, (r) => ({ ...r, outcome: { _tag: "DataRejected", reply } }))
    return messageDone(state)
  },
  AwaitDataEnd: (s, reply) => {
    if (s.abandoned) return messageDone(s)
    return messageDone(
      updateMessage(s, (r) => ({
        ...r,
        outcome: Reply.isPositive(reply) ? { _tag: "Sent", reply } : { _tag: "MessageRejected", reply }
      }))
    )
  },
  AwaitQuit: (s) => finish(s, undefined)
}

/** @internal */
export const transitions = { reply, nextMessage }
