/**
 * The mailer's connections: an `effect` `Pool` of open SMTP connections, each driven by the same
 * `SmtpClient.run` as verification, one session per message.
 *
 * **Details**
 *
 * - A pooled item is an open `Connection` and, once a session left it open (`keepOpen`), the
 *   `Submission.Ready` to `resume` on. The first message on a connection runs the whole
 *   conversation (greeting, EHLO, STARTTLS, AUTH); the next ones start with RSET.
 * - `SmtpClient.run` connects by itself; here it is given a transport whose `connect` hands out the
 *   pooled connection, and whose scope does not close it.
 * - A connection that served `maxMessages` ends its last session with QUIT; one whose session
 *   ended any other way than held is invalidated. An idle one is closed after `idleTimeout`, with
 *   QUIT if it is still sound.
 *
 * @internal
 */
import { Effect, Option, Pool } from "effect"
import type { Scope } from "effect"
import { Router, SmtpClient, SmtpTransport } from "@rcpt/client"
import { Submission } from "@rcpt/smtp"
import type { Built } from "../MailMessage.ts"
import * as MailerConfig from "../MailerConfig.ts"
import { ConnectError, ConnectionLost } from "../SendError.ts"

interface Pooled {
  readonly connection: SmtpTransport.Connection
  /** The session config on this connection: the EHLO name is its route's (source address, rule). */
  readonly config: Submission.Config
  ready: Option.Option<Submission.Ready>
  messages: number
  /** False once a session ended without holding the connection open, or broke. */
  usable: boolean
}

/** @internal */
export interface Sent {
  readonly result: Submission.SubmissionResult
  /** The connection had served a message before. */
  readonly reused: boolean
}

/** @internal */
export interface ConnectionPool {
  readonly send: (built: Built) => Effect.Effect<Sent, ConnectError | ConnectionLost>
}

const machine = {
  step: Submission.step,
  phase: Submission.phase,
  progress: (state: Submission.Submission) => state.transcript.length
}

/** A transport whose only connection is one already open; the driver's scope leaves it open. */
const leased = (connection: SmtpTransport.Connection) =>
  SmtpTransport.SmtpTransport.of({ connect: () => Effect.succeed(connection) })

/** The submission config a mailer config means. */
export const sessionConfig = (config: MailerConfig.MailerConfig): Submission.Config => ({
  clientName: config.clientName,
  servername: config.servername ?? config.host,
  tls: config.tls,
  auth: Option.fromNullishOr(config.auth),
  mechanism: Option.fromNullishOr(config.mechanism),
  allowInsecureAuth: config.allowInsecureAuth,
  hmacMd5: Option.fromNullishOr(config.hmacMd5),
  pipelining: config.pipelining,
  keepOpen: true,
  chunkSize: Submission.defaults.chunkSize
})

/** @internal */
export const make = (
  config: MailerConfig.MailerConfig,
  transport: SmtpTransport.SmtpTransport["Service"]
): Effect.Effect<ConnectionPool, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { host, port, timeouts } = config
    const base = sessionConfig(config)
    const tls = { rejectUnauthorized: config.rejectUnauthorized, ca: config.ca }
    const router = yield* Router.Router

    const run = (item: Pooled, initial: Submission.Submission) =>
      SmtpClient.run(machine, initial, {
        host,
        port,
        connectTimeout: timeouts.connect,
        phaseTimeout: MailerConfig.timeoutFor(timeouts),
        tls
      }).pipe(Effect.provideService(SmtpTransport.SmtpTransport, leased(item.connection)))

    // Best effort: a sound connection says QUIT before the socket goes.
    const quit = (item: Pooled) =>
      Option.match(item.ready, {
        onNone: () => Effect.void,
        onSome: (ready) =>
          run(item, Submission.resume({ ...item.config, keepOpen: false }, ready, [])).pipe(
            Effect.timeout(timeouts.quit),
            Effect.ignore
          )
      })

    const acquire = Effect.gen(function* () {
      // The route (proxy, source address and its EHLO name) for this connection, held while it lives.
      const route = yield* router.route(host)
      const connection = yield* transport.connect({
        host,
        port,
        timeout: timeouts.connect,
        proxy: Option.getOrUndefined(route.proxy),
        localAddress: Option.getOrUndefined(route.localAddress),
        ...(config.tls === "implicit"
          ? { tls: { ...tls, servername: base.servername, timeout: timeouts.tlsHandshake } }
          : {})
      })
      const clientName = Option.getOrElse(route.helo, () => base.clientName)
      const item: Pooled = {
        connection,
        config: { ...base, clientName },
        ready: Option.none(),
        messages: 0,
        usable: true
      }
      // Added after the connection's own finalizer, so it runs first: QUIT, then close.
      yield* Effect.addFinalizer(() => Effect.suspend(() => quit(item)))
      return item
    }).pipe(Effect.mapError((e) => new ConnectError({ transportReason: e.reason, message: e.message })))

    const pool = yield* Pool.makeWithTTL({
      acquire,
      min: 0,
      max: config.maxConnections,
      timeToLive: config.idleTimeout
    })

    // An item left unusable by a borrower that has just returned it is invalidated here, while
    // a replacement is wanted; invalidating it before its return would open a spare connection.
    const lease: Effect.Effect<Pooled, ConnectError, Scope.Scope> = Effect.flatMap(Pool.get(pool), (item) =>
      item.usable ? Effect.succeed(item) : Effect.andThen(Pool.invalidate(pool, item), lease)
    )

    const send = (built: Built) => {
      let leased: Pooled | undefined
      return Effect.scoped(
        Effect.gen(function* () {
          const item = yield* lease
          leased = item
          const reused = item.messages > 0
          const keepOpen = item.messages + 1 < config.maxMessages
          const message: Submission.Message = { envelope: built.envelope, body: built.body }
          const initial = Option.match(item.ready, {
            onNone: () => Submission.make({ ...item.config, keepOpen }, [message]),
            onSome: (ready) => Submission.resume({ ...item.config, keepOpen }, ready, [message])
          })
          item.messages++
          item.ready = Option.none()
          item.usable = false
          const result = yield* run(item, initial).pipe(
            Effect.mapError((e) => new ConnectError({ transportReason: e.reason, message: e.message })),
            Effect.timeoutOrElse({
              duration: timeouts.message,
              orElse: () =>
                Effect.fail(
                  new ConnectionLost({
                    phase: "Message",
                    timedOut: true,
                    reused,
                    message: "the message was not done within the time allowed for one try"
                  })
                )
            })
          )
          item.ready = result.ready
          item.usable = Option.isSome(result.ready)
          return { result, reused }
        })
      ).pipe(
        Effect.ensuring(
          Effect.suspend(() => (leased === undefined || leased.usable ? Effect.void : Pool.invalidate(pool, leased)))
        )
      )
    }

    return { send }
  })
