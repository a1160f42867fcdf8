/**
 * Connections kept open between sessions, per MX address. A bulk run's sessions to one address
 * run on lanes: fibers that each hold the address's permit (`HostPermits`) and at most one open
 * connection, and run the address's sessions one after another. A session that ends with its
 * connection sound (`Session.Config.keepOpen`, `SessionResult.parked`) leaves it to the next
 * session of its lane, which starts with RSET: no connect, greeting, EHLO or QUIT between them
 * (four to six round trips each, more than the server's work on a thousand RCPTs).
 *
 * Why lanes and not a pool of connections that sessions borrow: a session waiting for a permit
 * while an idle connection held it would wait out that connection's idle time. Here sessions
 * never wait for permits; lanes do, and a lane that gets its permit after the work is gone
 * leaves at once. A lane with a connection and no work keeps it for `linger` (`Policy.keepOpen`),
 * then says QUIT. Written here because effect 4.1's `Pool` has one key (the mailer's pool of one
 * submission host uses it) and no keyed variant, and its items could not wait for permits anyway.
 *
 * @internal
 */
import { Clock, Context, Deferred, Effect, Exit, FiberSet, Latch, Option, Scope, Tracer } from "effect"
import type { Router, SmtpTransport } from "@rcpt/client"
import type { Session } from "@rcpt/smtp"
import type { HostPermits } from "../HostPermits.ts"

/** A connection a session left open, and what the next session on it starts from. */
export interface Open {
  readonly connection: SmtpTransport.Connection
  /** Closing it closes the connection (and gives back the route's source address). */
  readonly scope: Scope.Closeable
  readonly route: Router.Route
  /** The TLS mode the connection was opened with. */
  readonly tls: Session.TlsMode
  readonly parked: Session.Parked
}

/** A session to run on a lane: given the lane's open connection (if any), gives back the one to keep. */
export type Job<A> = (open: Open | undefined) => Effect.Effect<readonly [A, Open | undefined]>

export interface Lanes {
  /**
   * Runs `job` on a lane of `address` once one is free (with a permit). The job gets the
   * connection its lane's last session left open, if any, and gives back the one to keep: a
   * connection it was given and does not give back (by identity of `connection`) is closed by the lane.
   */
  readonly run: <A, R>(
    address: string,
    job: (open: Open | undefined) => Effect.Effect<readonly [A, Open | undefined], never, R>,
    /**
     * The most lanes `address` may have (the connections the host takes, as learnt; the permits
     * still bound them). The latest call's value holds; a lane without a connection past it ends.
     */
    most?: number
  ) => Effect.Effect<A, never, R>
  /** Sessions of `address` running on a lane or waiting for one: what a new group would queue behind. */
  readonly busy: (address: string) => number
}

/** The lanes of the bulk run in progress; none outside one (every session then dials and quits). */
export const Current = Context.Reference<Lanes | undefined>("@rcpt/verifier/Lanes", {
  defaultValue: () => undefined
})

const quitBytes = new TextEncoder().encode("QUIT\r\n")

/** Connections {@link close} was run for. */
const closed = new WeakSet<SmtpTransport.Connection>()

/**
 * Closes a connection a session left open: QUIT, then what the server sends until it closes (its
 * reply, a second at most), then the socket. The server closes first, as after a session's own
 * QUIT: its side holds TIME_WAIT, and it has counted the connection gone before the lane's next
 * one arrives (per-host limits hold at the server). Best effort: the server may be gone already.
 */
export const close = (open: Open): Effect.Effect<void> =>
  Effect.suspend(() => {
    // A session closes the connection it was given before it dials another (never two on one
    // permit); the lane, which closes what a session does not give back, then finds it done.
    if (closed.has(open.connection)) return Effect.void
    closed.add(open.connection)
    return Effect.gen(function* () {
      yield* open.connection.write(quitBytes)
      for (;;) if (Option.isNone(yield* open.connection.read)) return
    }).pipe(Effect.timeoutOption("1 second"), Effect.ignore, Effect.ensuring(Scope.close(open.scope, Exit.void)))
  })

interface Queued {
  readonly run: Job<unknown>
  readonly done: Deferred.Deferred<unknown>
  cancelled: boolean
}

/** One MX address: its sessions not started yet, its lanes, and those waiting for one. */
interface Address {
  readonly jobs: Array<Queued>
  /** Lanes with a connection and no session, waiting on `wake` for one. */
  idle: number
  lanes: number
  /** The most lanes it may have (see `Lanes.run`). */
  most: number
  /** Lanes not holding the permit yet. */
  waiting: number
  readonly wake: Latch.Latch
}

/**
 * Lanes in the scope: `close` ends them (their connections say QUIT) and waits for them.
 */
export const make = (
  permits: HostPermits["Service"],
  options: { readonly linger: number }
): Effect.Effect<Lanes & { readonly close: Effect.Effect<void> }, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { linger } = options
    const fibers = yield* FiberSet.make()
    // Lanes outlive the session that started them, and a connection the session that opened it.
    // They run in the context they were made in, and each session in its caller's services under
    // the span in force here: a fiber or closure holding a caller's span would hold that span's
    // ancestors, ended ones included, and with them every value they ended with (a group's
    // results: a long run kept them all).
    const fork = yield* FiberSet.runtime(fibers)<never>()
    const span = yield* Effect.serviceOption(Tracer.ParentSpan)
    const detach = (context: Context.Context<never>): Context.Context<never> =>
      Option.isSome(span)
        ? Context.add(context, Tracer.ParentSpan, span.value)
        : Context.omit(Tracer.ParentSpan)(context)
    const addresses = new Map<string, Address>()
    let closing = false

    const next = (slot: Address): Queued | undefined => {
      for (;;) {
        const job = slot.jobs.shift()
        if (job === undefined || !job.cancelled) return job
      }
    }

    // Waits up to the linger time for a session; undefined when none came (or the run is closing).
    const await_ = (slot: Address): Effect.Effect<Queued | undefined> =>
      Effect.gen(function* () {
        const until = (yield* Clock.currentTimeMillis) + linger
        for (;;) {
          const job = next(slot)
          if (job !== undefined || closing) return job
          const left = until - (yield* Clock.currentTimeMillis)
          if (left <= 0) return undefined
          Latch.closeUnsafe(slot.wake)
          slot.idle++
          yield* slot.wake.await.pipe(Effect.timeoutOption(left), Effect.ensuring(Effect.sync(() => slot.idle--)))
        }
      })

    const lane = (address: string, slot: Address): Effect.Effect<void> => {
      let open: Open | undefined
      let started = false
      const body = Effect.gen(function* () {
        started = true
        slot.waiting--
        for (;;) {
          // One lane too many (the host took fewer connections than the permits allow, learnt by a
          // session refused at the greeting): without a connection to carry on, it ends.
          if (open === undefined && slot.lanes > slot.most) return
          const job = next(slot) ?? (open === undefined ? undefined : yield* await_(slot))
          if (job === undefined) return
          const exit = yield* Effect.exit(job.run(open))
          if (Exit.isSuccess(exit)) {
            const [value, keep] = exit.value
            const given = open
            open = keep
            yield* Deferred.succeed(job.done, value)
            if (given !== undefined && given.connection !== keep?.connection) yield* close(given)
          } else {
            // A defect in the session's code: its caller gets it; the connection is in no known state.
            const given = open
            open = undefined
            yield* Deferred.failCause(job.done, exit.cause)
            if (given !== undefined) yield* Scope.close(given.scope, Exit.void)
          }
        }
      })
      // The last connection is closed while the permit is still held: the server never sees more
      // connections than the permits allow.
      const closeLast = Effect.suspend(() => {
        const last = open
        open = undefined
        return last === undefined ? Effect.void : close(last)
      })
      return permits
        .withPermit(address)(Effect.ensuring(body, closeLast))
        .pipe(
          Effect.ensuring(
            Effect.suspend(() => {
              slot.lanes--
              if (!started) slot.waiting--
              // A session that came while this lane was ending gets a lane of its own (if none waits).
              if (slot.waiting === 0 && slot.lanes < slot.most && slot.jobs.some((j) => !j.cancelled)) {
                return spawn(address, slot)
              }
              if (slot.lanes === 0) addresses.delete(address)
              return Effect.void
            })
          )
        )
    }

    const spawn = (address: string, slot: Address): Effect.Effect<void> =>
      Effect.suspend(() => {
        slot.lanes++
        slot.waiting++
        fork(lane(address, slot))
        return Effect.void
      })

    const run: Lanes["run"] = (address, job, most) =>
      Effect.gen(function* () {
        const context = yield* Effect.context()
        const done = Deferred.makeUnsafe<unknown>()
        const queued: Queued = {
          run: (open) => Effect.provideContext(job(open), detach(context)) as ReturnType<Job<unknown>>,
          done,
          cancelled: false
        }
        let slot = addresses.get(address)
        if (slot === undefined) {
          slot = { jobs: [], idle: 0, lanes: 0, most: Infinity, waiting: 0, wake: Latch.makeUnsafe(false) }
          addresses.set(address, slot)
        }
        slot.most = Math.max(1, most ?? Infinity)
        slot.jobs.push(queued)
        // A lane with a connection and nothing to do takes it; else one more lane (it waits for a
        // permit), unless as many lanes wait as sessions do. Lanes with permits and work never
        // leave, so a lane per session would wait for good: a million-address run piled up
        // thousands of them, each a fiber and its permit's waiter (about 8 KB, 1,900 at 800,000).
        if (slot.idle > 0) Latch.openUnsafe(slot.wake)
        else if (slot.waiting < slot.jobs.length && slot.lanes < slot.most) yield* spawn(address, slot)
        return yield* Deferred.await(done).pipe(
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              queued.cancelled = true
            })
          )
        )
      }) as never

    const closeAll = Effect.suspend(() => {
      closing = true
      for (const slot of addresses.values()) Latch.openUnsafe(slot.wake)
      return FiberSet.awaitEmpty(fibers)
    })

    const busy: Lanes["busy"] = (address) => {
      const slot = addresses.get(address)
      if (slot === undefined) return 0
      let queued = 0
      for (const job of slot.jobs) if (!job.cancelled) queued++
      // Lanes holding a permit and not idling are running a session; those still waiting for a
      // permit will take queued ones.
      return Math.max(0, slot.lanes - slot.idle - slot.waiting) + queued
    }

    return { run, busy, close: closeAll }
  })
