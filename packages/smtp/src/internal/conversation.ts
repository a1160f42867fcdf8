/**
 * The part of a session's step that is the same whatever the session is for (verifying or
 * submitting): the inputs that are not replies (TLS up or failed, connection closed, timed out),
 * the dispatch of replies to the phase awaited, and how a session ends (QUIT, then `Close` and
 * `Finished`). Each session adds its start and its table of replies.
 *
 * @internal
 */
import { Data, Option } from "effect"
import type * as Capabilities from "../Capabilities.ts"
import * as Command from "../Command.ts"
import type { RemoteProtocolError } from "../ProtocolError.ts"
import type * as Reply from "../Reply.ts"
import {
  type Action,
  type Awaiting,
  type ConversationEnd,
  describeTls,
  dispatch,
  type Input,
  note,
  type Pending,
  phaseOf,
  type Receiving,
  receive,
  send,
  type TlsInfo,
  type TlsStatus
} from "./dialogue.ts"
import * as Log from "./log.ts"

/**
 * What a step returns: the next state and the actions for the driver.
 *
 * @internal
 */
export interface Step<S, R> {
  readonly state: S
  readonly actions: ReadonlyArray<Action<R>>
}

/**
 * What every session's state has for the shared part of the dialogue; `E` is how it may end.
 *
 * @internal
 */
export interface Conversation<W extends Awaiting, E> extends Receiving, Pending<W> {
  readonly config: { readonly clientName: string }
  readonly capabilities: Option.Option<Capabilities.Capabilities>
  readonly tls: TlsStatus | { readonly _tag: "Implicit" }
  readonly end: Option.Option<E>
  /** QUIT went out pipelined before the end; its reply is awaited. */
  readonly quitSent?: boolean
}

/**
 * How `finish` ends: with QUIT first (the channel is still sound), and the TLS status to record.
 *
 * @internal
 */
export interface FinishOptions {
  readonly quit?: boolean
  readonly tls?: TlsStatus
}

const actions = Data.taggedEnum<Action<unknown>>()

/**
 * Ends a session: with QUIT first when asked (unless it already went out), else at once with
 * `Close` and `Finished` carrying `result`. `end` undefined keeps the end already recorded.
 *
 * @internal
 */
export const finish = <S extends Conversation<W, E>, W extends Awaiting, E, R>(
  state: S,
  end: E | undefined,
  options: FinishOptions,
  result: (state: S) => R
): Step<S, R> => {
  const s: S = { ...state, end: end === undefined ? state.end : Option.some(end), tls: options.tls ?? state.tls }
  // QUIT already pipelined: its reply (and any before it) is still to come.
  if (options.quit === true && state.quitSent === true) return { state: s, actions: [] }
  if (options.quit === true)
    return send({ ...s, pending: Log.emptyQueue<W>() }, [Command.quit], [{ phase: "AwaitQuit" } as W])
  const done: S = { ...s, pending: Log.emptyQueue<W>(), handshaking: false, done: true }
  return { state: done, actions: [actions.Close(), actions.Finished({ result: result(done) }) as Action<R>] }
}

/**
 * The TLS handshake is done: RFC 3207 §4.2, forget everything learnt before it and say EHLO again.
 * A TLS event outside a handshake is noted and ignored.
 *
 * @internal
 */
export const tlsEstablished = <S extends Conversation<W, E>, W extends Awaiting, E, R>(
  state: S,
  info: TlsInfo
): Step<S, R> => {
  if (!state.handshaking) return { state: note(state, "ignored a TLS event outside a handshake"), actions: [] }
  const s: S = {
    ...note(state, describeTls(info)),
    handshaking: false,
    tls: { _tag: "Established", info },
    capabilities: Option.none()
  }
  return send(s, [Command.ehlo(state.config.clientName)], [{ phase: "AwaitEhlo" } as W])
}

/**
 * One step of any session: everything but the start of the connection and the replies' meaning
 * is the same for all. Replies go to `on.reply` for the phase awaited (a 421 or a reply nobody
 * asked for ends the session); TLS events, a closed connection and a timeout end it or go on alike.
 *
 * @internal
 */
export const step = <S extends Conversation<W, E>, W extends Awaiting, E, R>(
  state: S,
  input: Input,
  on: {
    readonly connected: (state: S) => Step<S, R>
    readonly reply: (state: S, reply: Reply.Reply, awaiting: W) => Step<S, R>
    readonly finish: (
      state: S,
      end: ConversationEnd<W["phase"] | "AwaitTlsHandshake" | "Done"> | undefined,
      options?: FinishOptions
    ) => Step<S, R>
  }
): Step<S, R> => {
  if (state.done) return { state, actions: [] }
  const phase = (s: S) => phaseOf<W["phase"]>(s)
  switch (input._tag) {
    case "Connected":
      return on.connected(state)
    case "Received": {
      // Made once per packet, not once per reply (a packet may carry hundreds).
      const handlers = {
        reply: on.reply,
        closing: (s: S, phase: W["phase"] | "Done", reply: Reply.Reply) =>
          on.finish(s, { _tag: "ServiceClosing", phase, reply }),
        unexpected: (s: S, error: RemoteProtocolError) => on.finish(s, { _tag: "ProtocolError", phase: "Done", error })
      }
      return receive(
        state,
        input.bytes,
        (s, reply, parser) => dispatch<S, W, Step<S, R>>(s, reply, parser, handlers),
        (s, error) =>
          on.finish(note(s, `protocol error: ${error.message}`), { _tag: "ProtocolError", phase: phase(s), error })
      )
    }
    case "TlsEstablished":
      return tlsEstablished<S, W, E, R>(state, input.info)
    case "TlsFailed":
      return on.finish(
        note(state, `TLS handshake failed: ${input.message}`),
        { _tag: "TlsFailed", message: input.message },
        { tls: { _tag: "Failed", message: input.message } }
      )
    case "ConnectionClosed": {
      const s = note(state, "connection closed by server")
      return phase(s) === "AwaitQuit" || Option.isSome(s.end)
        ? on.finish(s, undefined)
        : on.finish(s, { _tag: "Closed", phase: phase(s) })
    }
    case "TimedOut": {
      const s = note(state, `timed out in ${phase(state)}`)
      return phase(s) === "AwaitQuit" ? on.finish(s, undefined) : on.finish(s, { _tag: "TimedOut", phase: phase(s) })
    }
  }
}
