/**
 * An in-memory `SmtpTransport` that replays Go-style transcripts: no sockets, no clock.
 *
 * A script is one connection, one line per event (blank lines and indentation are ignored):
 *
 * - `S: <text>`: the server sends `<text>` and CRLF. Consecutive `S:` lines go out as one chunk.
 * - `C: <text>`: the client must send exactly this line next. Anything else fails the connection:
 *   reads and writes fail with a `TransportError` (`Read`, "unexpected client line: got X,
 *   expected Y") and the mismatch is recorded in the report.
 * - `* tls`: the client must call `upgradeTls` now; it gets an unverified TLSv1.3 session
 *   (`authorized: false`). `* tls authorized` gives a verified one. Unread plaintext is dropped.
 * - `* tls-fail`: the client must call `upgradeTls` now; the handshake fails and the connection
 *   is gone.
 * - `* close`: the server closes; once the chunks sent before are read, `read` gives `None`.
 * - `* stall` (or `* timeout`): the server sends nothing more; reads wait until interrupted and a
 *   TLS handshake until its timeout. What the client writes is ignored.
 * - `* refuse`: the whole script; the connection is refused.
 *
 * The end of a script closes the connection, as `* close` does. Each `connect` takes the next
 * script; with none left it fails with `ConnectionRefused`.
 *
 * @since 0.1.0
 */
import { Deferred, Effect, Exit, Layer, Option } from "effect"
import type { Scope } from "effect"
import {
  SmtpTransport,
  TransportError,
  type ConnectOptions,
  type Connection,
  type TlsOptions
} from "@rcpt/client/SmtpTransport"
import type { Session } from "@rcpt/smtp"

/**
 * One connection's transcript.
 *
 * @category models
 * @since 0.1.0
 */
export type Script = string

/**
 * A parsed script line; `text` is the line as written, for reports.
 *
 * @category models
 * @since 0.1.0
 */
export type Step =
  | { readonly _tag: "Send"; readonly line: string; readonly text: string }
  | { readonly _tag: "Expect"; readonly line: string; readonly text: string }
  | { readonly _tag: "Tls"; readonly authorized: boolean; readonly text: string }
  | { readonly _tag: "TlsFail"; readonly text: string }
  | { readonly _tag: "Close"; readonly text: string }
  | { readonly _tag: "Stall"; readonly text: string }
  | { readonly _tag: "Refuse"; readonly text: string }

/**
 * What happened to the scripts, for a test to assert on.
 *
 * @category models
 * @since 0.1.0
 */
export interface Report {
  /** `connect` calls, refused ones included. */
  readonly connections: number
  /** Every mismatch: what the client did where the script expected something else. */
  readonly unmatched: ReadonlyArray<string>
  /** Script lines never reached, in order, scripts never connected to included. */
  readonly remaining: ReadonlyArray<string>
}

/**
 * The TLS session `* tls` reports: Node's answer for a self-signed certificate.
 *
 * @category constants
 * @since 0.1.0
 */
export const unverifiedTls: Session.TlsInfo = {
  protocol: "TLSv1.3",
  cipher: "TLS_AES_256_GCM_SHA384",
  authorized: false,
  authorizationError: Option.some("DEPTH_ZERO_SELF_SIGNED_CERT")
}

/**
 * The TLS session `* tls authorized` reports.
 *
 * @category constants
 * @since 0.1.0
 */
export const verifiedTls: Session.TlsInfo = { ...unverifiedTls, authorized: true, authorizationError: Option.none() }

const directives: Record<string, (text: string) => Step> = {
  "* tls": (text) => ({ _tag: "Tls", authorized: false, text }),
  "* tls authorized": (text) => ({ _tag: "Tls", authorized: true, text }),
  "* tls-fail": (text) => ({ _tag: "TlsFail", text }),
  "* close": (text) => ({ _tag: "Close", text }),
  "* stall": (text) => ({ _tag: "Stall", text }),
  "* timeout": (text) => ({ _tag: "Stall", text }),
  "* refuse": (text) => ({ _tag: "Refuse", text })
}

/**
 * Parses a script.
 *
 * **Gotchas**
 *
 * Throws on a line it does not know, and on `* refuse` with other lines: a broken script is a bug
 * in the test.
 *
 * @category parsing
 * @since 0.1.0
 */
export const parse = (script: Script): ReadonlyArray<Step> => {
  const steps: Array<Step> = []
  for (const [i, raw] of script.split("\n").entries()) {
    const text = raw.trim()
    if (text === "") continue
    const prefix = text.slice(0, 2)
    const line = text.slice(2).replace(/^ /, "")
    const directive = directives[text]
    if (prefix === "S:") steps.push({ _tag: "Send", line, text })
    else if (prefix === "C:") steps.push({ _tag: "Expect", line, text })
    else if (directive !== undefined) steps.push(directive(text))
    else throw new Error(`ScriptedTransport: line ${i + 1}: cannot parse ${JSON.stringify(text)}`)
  }
  if (steps.some((s) => s._tag === "Refuse") && steps.length > 1) {
    throw new Error("ScriptedTransport: `* refuse` must be the whole script")
  }
  return steps
}

interface Conn {
  readonly number: number
  readonly steps: ReadonlyArray<Step>
  cursor: number
  /** Chunks the server sent that the client has not read. */
  output: Array<Uint8Array>
  /** What the client wrote after its last complete line. */
  input: string
  decoder: InstanceType<typeof TextDecoder>
  /** The server closed (`* close`, `* tls-fail` or the end of the script). */
  closed: boolean
  stalled: boolean
  failure: TransportError | undefined
  /** The client's scope closed. */
  released: boolean
  signal: Deferred.Deferred<void>
}

interface World {
  readonly scripts: ReadonlyArray<ReadonlyArray<Step>>
  readonly conns: Array<Conn>
  readonly unmatched: Array<string>
  connections: number
}

const encoder = new TextEncoder()
const quote = (s: string) => JSON.stringify(s)

const notify = (conn: Conn) => {
  const signal = conn.signal
  conn.signal = Deferred.makeUnsafe<void>()
  Deferred.doneUnsafe(signal, Exit.void)
}

// Plays the server's side up to the next thing it must wait for.
const advance = (conn: Conn) => {
  let group: Array<string> = []
  const flush = () => {
    if (group.length > 0) conn.output.push(encoder.encode(group.map((l) => `${l}\r\n`).join("")))
    group = []
  }
  for (;;) {
    const step = conn.steps[conn.cursor]
    if (step === undefined) {
      conn.closed = true
      break
    }
    if (step._tag === "Send") {
      group.push(step.line)
      conn.cursor++
      continue
    }
    if (step._tag === "Close") {
      conn.cursor++
      conn.closed = true
    } else if (step._tag === "Stall") {
      conn.cursor++
      conn.stalled = true
    }
    break
  }
  flush()
  notify(conn)
}

const makeService = (world: World): SmtpTransport["Service"] => {
  const connect = (options: ConnectOptions): Effect.Effect<Connection, TransportError, Scope.Scope> =>
    Effect.suspend(() => {
      const index = world.connections++
      const steps = world.scripts[index]
      const refused = (message: string) =>
        Effect.fail(
          new TransportError({ reason: "ConnectionRefused", message, host: options.host, port: options.port })
        )
      if (steps === undefined) return refused(`connection ${index + 1}: no script left`)
      const conn: Conn = {
        number: index + 1,
        steps,
        cursor: 0,
        output: [],
        input: "",
        decoder: new TextDecoder(),
        closed: false,
        stalled: false,
        failure: undefined,
        released: false,
        signal: Deferred.makeUnsafe<void>()
      }
      world.conns[index] = conn
      if (steps[0]?._tag === "Refuse") {
        conn.cursor = 1
        return refused(`connection ${conn.number}: refused by the script`)
      }
      advance(conn)
      return Effect.acquireRelease(Effect.succeed(connection(world, conn, options)), () =>
        Effect.sync(() => {
          conn.released = true
          notify(conn)
        })
      )
    })
  return SmtpTransport.of({ connect })
}

const connection = (world: World, conn: Conn, options: ConnectOptions): Connection => {
  const error = (reason: TransportError["reason"], message: string) =>
    new TransportError({ reason, message, host: options.host, port: options.port })
  const released = () => error("Closed", "the connection's scope is closed")

  const mismatch = (message: string) => {
    world.unmatched.push(`connection ${conn.number}: ${message}`)
    conn.failure = error("Read", message)
    conn.output = []
    notify(conn)
  }

  const read: Effect.Effect<Option.Option<Uint8Array>, TransportError> = Effect.suspend(() => {
    if (conn.released) return Effect.fail(released())
    if (conn.failure !== undefined) return Effect.fail(conn.failure)
    const chunk = conn.output.shift()
    if (chunk !== undefined) return Effect.succeed(Option.some(chunk))
    if (conn.closed) return Effect.succeed(Option.none())
    return Effect.flatMap(Deferred.await(conn.signal), () => read)
  })

  const write = (bytes: Uint8Array): Effect.Effect<void, TransportError> =>
    Effect.suspend(() => {
      if (conn.released) return Effect.fail(released())
      if (conn.failure !== undefined) return Effect.fail(conn.failure)
      conn.input += conn.decoder.decode(bytes, { stream: true })
      for (;;) {
        // A closed or stalled server reads nothing more.
        if (conn.closed || conn.stalled || conn.failure !== undefined) {
          conn.input = ""
          break
        }
        const end = conn.input.indexOf("\r\n")
        if (end < 0) break
        const line = conn.input.slice(0, end)
        conn.input = conn.input.slice(end + 2)
        const step = conn.steps[conn.cursor]!
        if (step._tag === "Expect" && step.line === line) {
          conn.cursor++
          advance(conn)
        } else {
          mismatch(`unexpected client line: got ${quote(line)}, expected ${quote(step.text)}`)
        }
      }
      return Effect.void
    })

  const upgradeTls = (tls: TlsOptions): Effect.Effect<Session.TlsInfo, TransportError> =>
    Effect.suspend(() => {
      if (conn.released) return Effect.fail(released())
      if (conn.failure !== undefined) return Effect.fail(error("TlsHandshake", conn.failure.message))
      if (conn.stalled) {
        return Effect.never.pipe(
          Effect.timeoutOrElse({
            duration: tls.timeout,
            orElse: () => Effect.fail(error("TlsHandshake", "TLS handshake timed out"))
          })
        )
      }
      if (conn.closed) return Effect.fail(error("TlsHandshake", "connection closed by peer"))
      const step = conn.steps[conn.cursor]!
      if (step._tag === "Tls") {
        conn.cursor++
        conn.output = []
        conn.input = ""
        advance(conn)
        return Effect.succeed(step.authorized ? verifiedTls : unverifiedTls)
      }
      if (step._tag === "TlsFail") {
        conn.cursor++
        conn.output = []
        conn.closed = true
        conn.failure = error("Closed", "connection closed after a failed TLS handshake")
        notify(conn)
        return Effect.fail(error("TlsHandshake", "TLS handshake failed (scripted)"))
      }
      const message = `unexpected TLS upgrade, expected ${quote(step.text)}`
      mismatch(message)
      return Effect.fail(error("TlsHandshake", message))
    })

  return { remote: { address: options.host, port: options.port }, read, write, upgradeTls }
}

const toScripts = (scripts: Script | ReadonlyArray<Script>): ReadonlyArray<ReadonlyArray<Step>> =>
  (typeof scripts === "string" ? [scripts] : scripts).map(parse)

const makeWorld = (scripts: ReadonlyArray<ReadonlyArray<Step>>): World => ({
  scripts,
  conns: [],
  unmatched: [],
  connections: 0
})

const reportOf = (world: World): Report => ({
  connections: world.connections,
  unmatched: [...world.unmatched],
  remaining: world.scripts.flatMap((steps, i) => steps.slice(world.conns[i]?.cursor ?? 0).map((s) => s.text))
})

/**
 * A transport and the report on its scripts. One script per `connect`, in order.
 *
 * **When to use**
 *
 * To assert that the client went through the whole conversation: `remaining` and `unmatched`
 * should be empty at the end. The state is shared by every use of `layer`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  scripts: Script | ReadonlyArray<Script>
): { readonly layer: Layer.Layer<SmtpTransport>; readonly report: Effect.Effect<Report> } => {
  const world = makeWorld(toScripts(scripts))
  return { layer: Layer.succeed(SmtpTransport, makeService(world)), report: Effect.sync(() => reportOf(world)) }
}

/**
 * A transport replaying `scripts`, fresh each time the layer is built.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (scripts: Script | ReadonlyArray<Script>): Layer.Layer<SmtpTransport> => {
  const parsed = toScripts(scripts)
  return Layer.effect(
    SmtpTransport,
    Effect.sync(() => makeService(makeWorld(parsed)))
  )
}
