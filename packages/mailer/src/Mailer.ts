/**
 * The mailer: `send(message)` composes the message, takes a pooled connection and runs a
 * submission session on it over the same `SmtpTransport` and `SmtpClient` driver as
 * verification, retrying transient failures on the configured `Schedule`.
 *
 * **Details**
 *
 * - Connections are pooled (`maxConnections`), reused for `maxMessages` messages each (RSET
 *   between), and closed with QUIT when idle for `idleTimeout` or when the layer's scope closes.
 * - `rateLimit` spaces the starts of messages (tries included) over all connections.
 * - A pooled connection the server dropped while idle fails at RSET; that message is tried again
 *   at once on a new connection, without waiting for the schedule.
 * - Failures are `SendError`s with a reason and `isRetryable`; a message some recipients refused
 *   is sent to the rest and succeeds, the refusals listed in `SendResult.rejected`.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Result } from "effect"
import type { Scope } from "effect"
import { SmtpTransport } from "@rcpt/client"
import * as MailerConfig from "./MailerConfig.ts"
import * as MailMessage from "./MailMessage.ts"
import { SendError } from "./SendError.ts"
import type { SendResult } from "./SendResult.ts"
import { fromSession } from "./internal/outcome.ts"
import * as ConnectionPool from "./internal/pool.ts"
import * as RateLimit from "./internal/rateLimit.ts"

/**
 * @category services
 * @since 0.1.0
 */
export class Mailer extends Context.Service<
  Mailer,
  {
    readonly send: (message: MailMessage.MailMessage) => Effect.Effect<SendResult, SendError>
  }
>()("@rcpt/mailer/Mailer") {}

/** The pooled connection went stale while idle: the server closed it, or said 421, at RSET. */
const isStale = (error: SendError): boolean =>
  (error.reason._tag === "ConnectionLost" && error.reason.reused && error.reason.phase === "AwaitRset") ||
  (error.reason._tag === "ServerRejected" && error.reason.phase === "AwaitRset" && error.reason.reply.code === 421)

/**
 * Builds the service; its connections live as long as the scope.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  input: MailerConfig.Input
): Effect.Effect<Mailer["Service"], MailerConfig.InvalidConfig, SmtpTransport.SmtpTransport | Scope.Scope> =>
  Effect.gen(function* () {
    const config = yield* MailerConfig.make(input)
    const transport = yield* SmtpTransport.SmtpTransport
    const pool = yield* ConnectionPool.make(config, transport)
    const limit = config.rateLimit === undefined ? RateLimit.unlimited : yield* RateLimit.make(config.rateLimit)

    const send = Effect.fn("Mailer.send")(function* (message: MailMessage.MailMessage) {
      const built = yield* MailMessage.build(message).pipe(
        Effect.mapError((reason) => new SendError({ reason, transcript: [] }))
      )
      let attempts = 0
      const attempt = Effect.gen(function* () {
        attempts++
        yield* limit.take
        const { result, reused } = yield* pool
          .send(built)
          .pipe(Effect.mapError((reason) => new SendError({ reason, transcript: [] })))
        const outcome = fromSession(result, built, { reused, attempts })
        if (Result.isFailure(outcome)) {
          return yield* new SendError({ reason: outcome.failure, transcript: result.transcript })
        }
        return outcome.success
      })
      return yield* attempt.pipe(
        Effect.catch((error) => (isStale(error) ? attempt : Effect.fail(error))),
        Effect.retry({ schedule: config.retry, while: (error) => error.isRetryable })
      )
    })

    return Mailer.of({ send })
  })

/**
 * The mailer as a layer; needs a transport (`NodeMailer.layer` in @rcpt/node brings the Node one).
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  input: MailerConfig.Input
): Layer.Layer<Mailer, MailerConfig.InvalidConfig, SmtpTransport.SmtpTransport> => Layer.effect(Mailer, make(input))
