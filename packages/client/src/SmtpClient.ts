/**
 * Runs a pure session machine over an `SmtpTransport`: the only loop in rcpt that does I/O.
 *
 * The machine decides everything; the driver writes what it is told to write, reads with the
 * timeout of the phase the machine is in (never past the overall deadline), upgrades to TLS when
 * asked, and turns every event (bytes, EOF, a broken socket, a timeout) into an input. Whatever
 * the server does, the machine's result comes back: only a connection that never opened is an
 * error, so the caller can try the next MX host.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Option } from "effect"
import { Session } from "@rcpt/smtp"
import {
  type ConnectOptions,
  type Connection,
  SmtpTransport,
  type TlsOptions,
  type TransportError
} from "./SmtpTransport.ts"

/**
 * The actions a machine can ask for; `Session.Action` is one.
 *
 * @category models
 * @since 0.1.0
 */
export type MachineAction<R> =
  | { readonly _tag: "Send"; readonly bytes: Uint8Array }
  | { readonly _tag: "UpgradeTls"; readonly servername: string }
  | { readonly _tag: "Close" }
  | { readonly _tag: "Finished"; readonly result: R }

/**
 * A sans-I/O machine: the verification session, or any other built on the same inputs.
 *
 * @category models
 * @since 0.1.0
 */
export interface Machine<S, R> {
  readonly step: (
    state: S,
    input: Session.Input
  ) => { readonly state: S; readonly actions: ReadonlyArray<MachineAction<R>> }
  readonly phase: (state: S) => string
  /**
   * A value that changes whenever the machine took in a complete reply (or anything else that is
   * progress). The read timeout restarts when it, the phase, or what was sent changes; bytes that
   * trickle in without completing anything do not restart it (slowloris).
   */
  readonly progress?: (state: S) => unknown
}

/**
 * The verification session as a `Machine`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const sessionMachine: Machine<Session.Session, Session.SessionResult> = {
  step: Session.step,
  phase: Session.phase,
  // Every reply, command and event is a transcript line, counted even when the lines are not kept
  // (`Session.Config.transcript` false).
  progress: (session) => session.transcript.length
}

/**
 * Where one connection's time went, in milliseconds: filled in by {@link run} when given one.
 * Mutable on purpose: the caller reads it after the run, whatever the run's outcome.
 *
 * @category models
 * @since 0.1.0
 */
export interface Timing {
  connectMs: number
  tlsMs: number
  /** Time spent waiting for replies, by the machine's phase while waiting. */
  readonly phases: Record<string, number>
}

/**
 * @category constructors
 * @since 0.1.0
 */
export const makeTiming = (): Timing => ({ connectMs: 0, tlsMs: 0, phases: {} })

/**
 * @category models
 * @since 0.1.0
 */
export interface RunOptions {
  readonly host: string
  readonly port: number
  readonly connectTimeout: Duration.Input
  /** How long the machine may wait in a phase for its next reply, however the bytes trickle in. */
  readonly phaseTimeout: (phase: string) => Duration.Input
  /** Nothing waits past this, counted from the call. */
  readonly deadline?: Duration.Input | undefined
  readonly tls: Omit<TlsOptions, "servername" | "timeout">
  /** How to reach the host: through a proxy, from a source address (a `Router.Route`'s choice). */
  readonly via?: Pick<ConnectOptions, "proxy" | "localAddress"> | undefined
  /** Filled in with the connection's timings (see {@link Timing}). */
  readonly timing?: Timing | undefined
}

/** Reads until the peer has closed, for a second at most; nothing read matters any more. */
const drain = (conn: Connection) =>
  Effect.gen(function* () {
    for (;;) {
      const chunk = yield* conn.read
      if (Option.isNone(chunk)) return
    }
  }).pipe(Effect.timeoutOption("1 second"), Effect.ignore)

const quit = new TextEncoder().encode("QUIT\r\n")

/** Whether a write ends with QUIT (RFC 2920 lets it close a pipelined group). */
const endsWithQuit = (bytes: Uint8Array): boolean =>
  bytes.length >= quit.length && quit.every((b, i) => bytes[bytes.length - quit.length + i] === b)

/**
 * Connects and runs the machine to its end.
 *
 * @category running
 * @since 0.1.0
 */
export const run: <S, R>(
  machine: Machine<S, R>,
  initial: S,
  options: RunOptions
) => Effect.Effect<R, TransportError, SmtpTransport> = Effect.fn("SmtpClient.run")(function* <S, R>(
  machine: Machine<S, R>,
  initial: S,
  options: RunOptions
): Effect.fn.Return<R, TransportError, SmtpTransport> {
  return yield* Effect.scoped(
    Effect.gen(function* () {
      const transport = yield* SmtpTransport
      const start = yield* Clock.currentTimeMillis
      const deadline = options.deadline === undefined ? Infinity : start + Duration.toMillis(options.deadline)
      const timing = options.timing
      const conn = yield* transport.connect({
        ...options.via,
        host: options.host,
        port: options.port,
        timeout: options.connectTimeout
      })
      if (timing !== undefined) timing.connectMs += (yield* Clock.currentTimeMillis) - start

      // The time left for the reply awaited now: its phase's timeout, counted from when it began to
      // be awaited (a new phase, a write, a reply taken in), cut by the overall deadline.
      let writes = 0
      let clock = { phase: "", progress: undefined as unknown, writes: -1, ends: 0 }
      // Each phase's timeout in millis, read once per connection (a Duration input such as "30 seconds" is parsed).
      const phaseMillis = new Map<string, number>()
      const timeoutOf = (phase: string): number => {
        let ms = phaseMillis.get(phase)
        if (ms === undefined) {
          ms = Duration.toMillis(options.phaseTimeout(phase))
          phaseMillis.set(phase, ms)
        }
        return ms
      }
      const budget = (current: S) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const phase = machine.phase(current)
          const progress = machine.progress?.(current)
          if (phase !== clock.phase || progress !== clock.progress || writes !== clock.writes) {
            clock = { phase, progress, writes, ends: now + timeoutOf(phase) }
          }
          return Duration.millis(Math.max(0, Math.min(clock.ends, deadline) - now))
        })

      let state = initial
      let input: Session.Input = Session.Input.Connected()
      // QUIT is out (alone, or pipelined after RCPTs): once the machine is done, the server closes first.
      let quitWritten = false
      for (;;) {
        const before = machine.phase(state)
        const step = machine.step(state, input)
        state = step.state
        let next: Session.Input | undefined
        for (const action of step.actions) {
          if (action._tag === "Finished") {
            // After QUIT's reply the server closes first: waiting for that (briefly) leaves TIME_WAIT on
            // its side, not on a bulk client's ephemeral ports, and gives the host's slot back later.
            if ((before === "AwaitQuit" || quitWritten) && input._tag === "Received") yield* drain(conn)
            return action.result
          }
          if (next !== undefined) continue
          if (action._tag === "Send") {
            writes++
            quitWritten ||= endsWithQuit(action.bytes)
            const written = yield* Effect.result(conn.write(action.bytes))
            // A write that fails means the peer is gone; what it said before is still to be read.
            if (written._tag === "Failure") next = Session.Input.ConnectionClosed()
          } else if (action._tag === "UpgradeTls") {
            const timeout = yield* budget(state)
            const began = yield* Clock.currentTimeMillis
            const upgraded = yield* Effect.result(
              conn.upgradeTls({ ...options.tls, servername: action.servername, timeout })
            )
            if (timing !== undefined) timing.tlsMs += (yield* Clock.currentTimeMillis) - began
            next =
              upgraded._tag === "Success"
                ? Session.Input.TlsEstablished({ info: upgraded.success })
                : Session.Input.TlsFailed({ message: upgraded.failure.message })
          }
        }
        if (next !== undefined) {
          input = next
          continue
        }
        const timeout = yield* budget(state)
        const waitedFrom = yield* Clock.currentTimeMillis
        const read = yield* conn.read.pipe(Effect.timeoutOption(timeout), Effect.result)
        if (timing !== undefined) {
          const phase = machine.phase(state)
          timing.phases[phase] = (timing.phases[phase] ?? 0) + ((yield* Clock.currentTimeMillis) - waitedFrom)
        }
        input =
          read._tag === "Failure"
            ? Session.Input.ConnectionClosed()
            : Option.match(read.success, {
                onNone: () => Session.Input.TimedOut(),
                onSome: Option.match({
                  onNone: () => Session.Input.ConnectionClosed(),
                  onSome: (bytes) => Session.Input.Received({ bytes })
                })
              })
      }
    })
  )
})
