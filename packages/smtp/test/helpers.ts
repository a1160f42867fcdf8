// Drives Session.step from a Go-style script: `S:` lines are server bytes (consecutive ones
// arrive in one packet), `C:` lines are what the client must have sent by then, `*` lines are
// events (`* tls`, `* tls-fail`, `* close`, `* timeout`). The client's lines must match exactly.
import { assert } from "@effect/vitest"
import { Option, Result } from "effect"
import * as Address from "../src/Address.ts"
import * as Capabilities from "../src/Capabilities.ts"
import * as Reply from "../src/Reply.ts"
import * as Session from "../src/Session.ts"

export const mailbox = (s: string): Address.Mailbox => Result.getOrThrow(Address.parse(s))

export const config = (overrides: Partial<Session.Config> & { readonly to?: ReadonlyArray<string> } = {}) => {
  const { to = ["alice@example.com"], ...rest } = overrides
  return {
    clientName: "verifier.example.net",
    mailFrom: "",
    recipients: to.map(mailbox),
    servername: "mx.example.com",
    ...Session.defaults,
    ...rest
  } satisfies Session.Config
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** What playing a script against a session machine gave. */
export interface Played<S, R, T extends string> {
  readonly result: R
  readonly sent: ReadonlyArray<string>
  /** Bytes of each Send action, split in lines: shows what was pipelined together. */
  readonly writes: ReadonlyArray<ReadonlyArray<string>>
  readonly actions: ReadonlyArray<T>
  readonly state: S
  /** Everything the client wrote, as one string. */
  readonly wire: string
}

type PlayedAction<R> =
  | { readonly _tag: "Send"; readonly bytes: Uint8Array }
  | { readonly _tag: "Finished"; readonly result: R }
  | { readonly _tag: "UpgradeTls" | "Close" }

/**
 * Plays a script against any session machine with the shared inputs (verification or submission):
 * `C:` alone is an empty client line; `* tls` completes a handshake whose certificate is `authorized`.
 */
export const play = <S, R, A extends PlayedAction<R>>(
  step: (state: S, input: Session.Input) => { readonly state: S; readonly actions: ReadonlyArray<A> },
  initial: S,
  script: string,
  options: { readonly authorized: boolean }
): Played<S, R, A["_tag"]> => {
  let state = initial
  const sent: Array<string> = []
  const writes: Array<Array<string>> = []
  const actions: Array<A["_tag"]> = []
  let wire = ""
  let finished: { readonly result: R } | undefined
  const apply = (input: Session.Input) => {
    const next = step(state, input)
    state = next.state
    for (const a of next.actions as ReadonlyArray<PlayedAction<R>>) {
      actions.push(a._tag)
      if (a._tag === "Send") {
        const text = decoder.decode(a.bytes)
        wire += text
        const lines = text.split("\r\n").slice(0, -1)
        writes.push(lines)
        sent.push(...lines)
      }
      if (a._tag === "Finished") {
        assert.isUndefined(finished, "Finished emitted twice")
        finished = { result: a.result }
      }
    }
  }
  apply(Session.Input.Connected())
  const expected: Array<string> = []
  let packet: Array<string> = []
  const flush = () => {
    if (packet.length > 0)
      apply(Session.Input.Received({ bytes: encoder.encode(packet.map((l) => `${l}\r\n`).join("")) }))
    packet = []
  }
  for (const raw of script.split("\n")) {
    const line = raw.trim()
    if (line === "") continue
    if (line.startsWith("S: ")) {
      packet.push(line.slice(3))
      continue
    }
    flush()
    if (line === "C:" || line.startsWith("C: ")) {
      expected.push(line.slice(3))
      assert.deepStrictEqual(sent.slice(0, expected.length), expected, `client lines up to ${JSON.stringify(line)}`)
    } else if (line === "* tls") {
      apply(
        Session.Input.TlsEstablished({
          info: {
            protocol: "TLSv1.3",
            cipher: "TLS_AES_256_GCM_SHA384",
            authorized: options.authorized,
            authorizationError: options.authorized ? Option.none() : Option.some("SELF_SIGNED")
          }
        })
      )
    } else if (line === "* tls-fail") apply(Session.Input.TlsFailed({ message: "handshake failure" }))
    else if (line === "* close") apply(Session.Input.ConnectionClosed())
    else if (line === "* timeout") apply(Session.Input.TimedOut())
    else throw new Error(`bad script line: ${line}`)
  }
  flush()
  assert.deepStrictEqual(sent, expected, "the client sent exactly the scripted lines")
  assert.isDefined(finished, "the session finished")
  return { result: finished!.result, sent, writes, actions, state, wire }
}

export type Run = Played<Session.Session, Session.SessionResult, Session.Action["_tag"]>

export const run = (cfg: Session.Config, script: string): Run =>
  play(Session.step, Session.make(cfg), script, { authorized: false })

export const rcptCodes = (r: Run) =>
  r.result.recipients.map((x) => Option.getOrUndefined(Option.map(x.rcpt, (y) => y.code)))

/** Plays a script against a session resumed on a connection another one left open. */
export const resumed = (cfg: Session.Config, parked: Session.Parked, script: string): Run =>
  play(Session.step, Session.resume(cfg, parked), script, { authorized: false })

/** What a first session left open: a PIPELINING (or not) plaintext connection with these counts. */
export const parkedWith = (
  overrides: Partial<Session.Parked> & { readonly pipelining?: boolean } = {}
): Session.Parked => {
  const { pipelining = true, ...rest } = overrides
  return {
    greeting: Option.some(Reply.make(220, ["mx"])),
    capabilities: { ...Capabilities.none, pipelining },
    tls: { _tag: "Plaintext" },
    rejected: 0,
    accepted: 0,
    sessions: 1,
    resets: 0,
    ...rest
  }
}
