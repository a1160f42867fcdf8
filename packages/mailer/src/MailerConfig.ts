/**
 * What a mailer connects to and how: server, TLS mode, credentials, pool, rate limit, timeouts
 * per phase and the retry schedule. Validated once, so a bad value is a typed error at start-up.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Option, Schedule, Schema } from "effect"
import { PhaseTimeouts as ClientPhaseTimeouts } from "@rcpt/client"
import { Address, type Sasl, type Submission } from "@rcpt/smtp"

/**
 * Read timeouts per phase (the record and its phase mapping live in @rcpt/client's
 * `PhaseTimeouts`), and one for a whole message. RFC 5321 §4.5.3.2 gives the minimums a client should wait: 5 minutes
 * for the greeting, MAIL and RCPT, 2 for DATA, 10 for the reply after the body.
 *
 * @category models
 * @since 0.1.0
 */
export interface PhaseTimeouts extends ClientPhaseTimeouts.Submission {
  /** One try of one message, writes included. */
  readonly message: Duration.Input
}

/**
 * @category constants
 * @since 0.1.0
 */
export const phaseTimeouts: PhaseTimeouts = {
  connect: "30 seconds",
  greeting: "5 minutes",
  ehlo: "5 minutes",
  starttls: "2 minutes",
  tlsHandshake: "1 minute",
  auth: "2 minutes",
  rset: "2 minutes",
  mail: "5 minutes",
  rcpt: "5 minutes",
  data: "2 minutes",
  dataEnd: "10 minutes",
  quit: "10 seconds",
  message: "20 minutes"
}

/**
 * The read timeout for a submission phase.
 *
 * @category timeouts
 * @since 0.1.0
 */
export const timeoutFor: (timeouts: PhaseTimeouts) => (phase: string) => Duration.Input = ClientPhaseTimeouts.timeoutFor

/**
 * Tries after a retryable failure: exponential from 5 s, with jitter, at most 3 more.
 *
 * @category schedules
 * @since 0.1.0
 */
export const retry: Schedule.Schedule<unknown, unknown> = Schedule.max([
  Schedule.exponential("5 seconds", 2),
  Schedule.recurs(3)
]).pipe(Schedule.jittered)

/**
 * @category models
 * @since 0.1.0
 */
export interface MailerConfig {
  readonly host: string
  /** 587 (submission, STARTTLS), 465 (implicit TLS), 25 (relay). */
  readonly port: number
  readonly tls: Submission.TlsMode
  /** Name for SNI and the certificate check; the host by default. */
  readonly servername?: string | undefined
  /** Check the server's certificate (on by default). */
  readonly rejectUnauthorized: boolean
  /** Extra trusted roots (PEM). */
  readonly ca: ReadonlyArray<string>
  /** EHLO name: an FQDN or address literal this host owns. */
  readonly clientName: string
  readonly auth?: Sasl.Credentials | undefined
  readonly mechanism?: Sasl.Mechanism | undefined
  /** Send credentials without TLS (e.g. to a relay on loopback). */
  readonly allowInsecureAuth: boolean
  /** For CRAM-MD5; the Node layer supplies it from `node:crypto`. */
  readonly hmacMd5?: Sasl.HmacMd5 | undefined
  readonly pipelining: boolean
  /** Simultaneous connections. */
  readonly maxConnections: number
  /** Messages per connection before it is closed and a new one opened. */
  readonly maxMessages: number
  /** An idle pooled connection is closed after this. */
  readonly idleTimeout: Duration.Input
  /** At most `messages` started per `per`; none by default. */
  readonly rateLimit?: { readonly messages: number; readonly per: Duration.Input } | undefined
  readonly timeouts: PhaseTimeouts
  readonly retry: Schedule.Schedule<unknown, unknown>
}

/**
 * @category constants
 * @since 0.1.0
 */
export const defaults: Omit<MailerConfig, "host" | "clientName"> = {
  port: 587,
  tls: "required",
  rejectUnauthorized: true,
  ca: [],
  allowInsecureAuth: false,
  pipelining: true,
  maxConnections: 5,
  maxMessages: 100,
  idleTimeout: "30 seconds",
  timeouts: phaseTimeouts,
  retry
}

/**
 * What `make` needs at least.
 *
 * @category models
 * @since 0.1.0
 */
export type Input = Partial<MailerConfig> & { readonly host: string; readonly clientName: string }

/**
 * A value that cannot be used.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  field: Schema.String,
  message: Schema.String
}) {}

const fail = (field: string, message: string) => Effect.fail(new InvalidConfig({ field, message }))

const atLeast = (field: keyof MailerConfig, n: number, min: number) =>
  Number.isInteger(n) && n >= min ? Effect.void : fail(field, `${field} must be an integer >= ${min}, got ${n}`)

/**
 * Checks every field.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (input: Input): Effect.Effect<MailerConfig, InvalidConfig> =>
  Effect.gen(function* () {
    const config: MailerConfig = { ...defaults, ...input }
    if (config.host.trim() === "") return yield* fail("host", "host is empty")
    if (!(Number.isInteger(config.port) && config.port >= 1 && config.port <= 65535)) {
      return yield* fail("port", `port must be 1-65535, got ${config.port}`)
    }
    const name = Address.parseDomain(config.clientName)
    if (name._tag === "Failure") return yield* fail("clientName", name.failure.message)
    // EHLO goes out before SMTPUTF8 is agreed: an IDN name is sent as its A-label.
    const clientName = name.success._tag === "DomainName" ? name.success.ascii : name.success.text
    yield* atLeast("maxConnections", config.maxConnections, 1)
    yield* atLeast("maxMessages", config.maxMessages, 1)
    if (config.rateLimit !== undefined) yield* atLeast("rateLimit", config.rateLimit.messages, 1)
    for (const [field, value] of [
      ["idleTimeout", config.idleTimeout],
      ["rateLimit", config.rateLimit?.per ?? "1 second"],
      ...Object.entries(config.timeouts)
    ] as const) {
      const d = Duration.fromInput(value)
      if (Option.isNone(d) || Duration.toMillis(d.value) <= 0) {
        return yield* fail(field, `not a positive duration: ${String(value)}`)
      }
    }
    return { ...config, clientName }
  })
