/**
 * What a verifier says about itself and how hard it may push: EHLO name, MAIL FROM, port, TLS
 * mode, deadlines, concurrency. Validated once, so a bad value is a typed error at start-up,
 * never a malformed command on the wire.
 *
 * @since 0.1.0
 */
import { Config, Context, Duration, Effect, Layer, Option, Schema } from "effect"
import { Address, type Session } from "@rcpt/smtp"

/**
 * @category models
 * @since 0.1.0
 */
export interface VerifierConfig {
  /** EHLO name: an FQDN you own with matching reverse DNS, or an address literal. Never someone else's. */
  readonly helo: string
  /** Reverse path; "" is the null path `<>`, as MTA callouts use. Some servers refuse it. */
  readonly mailFrom: string
  /** SMTP port on every MX host. 25 in the real world; tests use others. */
  readonly port: number
  /** Overall time per address, greylisting retries included. */
  readonly timeout: Duration.Input
  readonly tls: Session.TlsMode
  /** VRFY when RCPT settled nothing (252, policy replies). */
  readonly vrfy: boolean
  /** Probe a made-up local part once per domain to detect catch-all domains. */
  readonly catchAllProbe: boolean
  readonly pipelining: boolean
  /** RCPTs per pipelined write. */
  readonly maxPipeline: number
  /** RCPTs per session before a new connection. */
  readonly recipientsPerSession: number
  /** Rejected RCPTs per session before a new connection: keeps clear of servers' error limits. */
  readonly maxErrorsPerSession: number
  /** Simultaneous SMTP connections in all. */
  readonly concurrency: number
  /** Simultaneous SMTP connections per MX address. */
  readonly perHost: number
  /** Connections opened per second per MX address; 0 for no limit. */
  readonly perHostRate: number
  /** Extra trusted CA certificates (PEM) for STARTTLS. */
  readonly ca: ReadonlyArray<string>
  /** Keep each result's SMTP dialogue (`transcript`); off, it is empty (compact bulk output, less memory). */
  readonly transcript: boolean
}

/**
 * @category constants
 * @since 0.1.0
 */
export const defaults: Omit<VerifierConfig, "helo"> = {
  mailFrom: "",
  port: 25,
  timeout: "60 seconds",
  tls: "opportunistic",
  vrfy: false,
  catchAllProbe: true,
  pipelining: true,
  maxPipeline: 10,
  recipientsPerSession: 50,
  maxErrorsPerSession: 9,
  concurrency: 32,
  perHost: 2,
  perHostRate: 0,
  ca: [],
  transcript: true
}

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

const positive = (field: keyof VerifierConfig, n: number, min = 1) =>
  Number.isInteger(n) && n >= min
    ? Effect.void
    : Effect.fail(new InvalidConfig({ field, message: `${field} must be an integer >= ${min}, got ${n}` }))

/**
 * Checks every field; warns (once, in the log) when the EHLO name is not a fully qualified domain.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  input: Partial<VerifierConfig> & { readonly helo: string }
): Effect.Effect<VerifierConfig, InvalidConfig> =>
  Effect.gen(function* () {
    const config: VerifierConfig = { ...defaults, ...input }
    const helo = Address.parseDomain(config.helo)
    if (helo._tag === "Failure") return yield* new InvalidConfig({ field: "helo", message: helo.failure.message })
    if (helo.success._tag === "DomainName" && !helo.success.ascii.includes(".")) {
      yield* Effect.logWarning(
        `EHLO name "${config.helo}" is not a fully qualified domain name; many servers refuse or distrust it`
      )
    }
    // EHLO goes out before SMTPUTF8 is agreed: an IDN name is sent as its A-label.
    const clientName = helo.success._tag === "DomainName" ? helo.success.ascii : helo.success.text
    if (config.mailFrom !== "") {
      const from = Address.parse(config.mailFrom)
      if (from._tag === "Failure") return yield* new InvalidConfig({ field: "mailFrom", message: from.failure.message })
    }
    if (!(Number.isInteger(config.port) && config.port >= 1 && config.port <= 65535)) {
      return yield* new InvalidConfig({ field: "port", message: `port must be 1-65535, got ${config.port}` })
    }
    const timeout = Duration.fromInput(config.timeout)
    if (Option.isNone(timeout) || Duration.toMillis(timeout.value) <= 0) {
      return yield* new InvalidConfig({
        field: "timeout",
        message: `not a positive duration: ${String(config.timeout)}`
      })
    }
    yield* positive("maxPipeline", config.maxPipeline)
    yield* positive("recipientsPerSession", config.recipientsPerSession)
    yield* positive("maxErrorsPerSession", config.maxErrorsPerSession)
    yield* positive("concurrency", config.concurrency)
    yield* positive("perHost", config.perHost)
    yield* positive("perHostRate", config.perHostRate, 0)
    return { ...config, helo: clientName }
  })

/**
 * @category services
 * @since 0.1.0
 */
export class Service extends Context.Service<Service, VerifierConfig>()("@rcpt/verifier/VerifierConfig") {}

/**
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  input: Partial<VerifierConfig> & { readonly helo: string }
): Layer.Layer<Service, InvalidConfig> => Layer.effect(Service, make(input))

/**
 * Reads `RCPT_HELO`, `RCPT_MAIL_FROM`, `RCPT_PORT`, `RCPT_TLS`, `RCPT_TIMEOUT`, `RCPT_VRFY`,
 * `RCPT_CONCURRENCY`, `RCPT_PER_HOST` from the `ConfigProvider` (the environment by default).
 * `helo` falls back to the given default (the host's name, supplied by the platform layer).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (defaultHelo: string): Layer.Layer<Service, InvalidConfig | Config.ConfigError> =>
  Layer.effect(
    Service,
    Effect.gen(function* () {
      const read = yield* Config.all({
        helo: Config.String("RCPT_HELO").pipe(Config.withDefault(defaultHelo)),
        mailFrom: Config.String("RCPT_MAIL_FROM").pipe(Config.withDefault(defaults.mailFrom)),
        port: Config.Int("RCPT_PORT").pipe(Config.withDefault(defaults.port)),
        tls: Config.Literals(["opportunistic", "required", "off"], "RCPT_TLS").pipe(Config.withDefault(defaults.tls)),
        timeout: Config.Duration("RCPT_TIMEOUT").pipe(Config.withDefault(Duration.fromInputUnsafe(defaults.timeout))),
        vrfy: Config.Boolean("RCPT_VRFY").pipe(Config.withDefault(defaults.vrfy)),
        concurrency: Config.Int("RCPT_CONCURRENCY").pipe(Config.withDefault(defaults.concurrency)),
        perHost: Config.Int("RCPT_PER_HOST").pipe(Config.withDefault(defaults.perHost))
      })
      return yield* make(read)
    })
  )
