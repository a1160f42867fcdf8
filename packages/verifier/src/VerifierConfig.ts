/**
 * What a verifier says about itself and how hard it may push: EHLO name, MAIL FROM, port, TLS
 * mode, deadlines, concurrency. Validated once, so a bad value is a typed error at start-up,
 * never a malformed command on the wire.
 *
 * @since 0.1.0
 */
import { Config, Context, Duration, Effect, Layer, Option, Result, Schema } from "effect"
import { Address, type Session } from "@rcpt/smtp"
import * as DomainRules from "./DomainRules.ts"
import * as TargetPolicy from "./TargetPolicy.ts"

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
  /**
   * The reverse path to ask again with when a server refuses the null sender `<>` (at MAIL or at
   * RCPT). "": `postmaster@` the EHLO name.
   */
  readonly fallbackSender: string
  /**
   * Special-use names (RFC 6761: `test`, `localhost`, `invalid`, ...) to verify anyway, with
   * implicit MX to non-public addresses under them: test worlds allow theirs (`["test"]`).
   */
  readonly allowSpecialUse: ReadonlyArray<string>
  /** Addresses / domains always `deliverable`, never asked (patterns: see `DomainRules`). */
  readonly allow: ReadonlyArray<string>
  /** Addresses / domains always `undeliverable`, never asked. */
  readonly deny: ReadonlyArray<string>
  /** Check depth per pattern: `syntax`, `dns` or `smtp`. */
  readonly depth: Readonly<Record<string, DomainRules.Depth>>
  /** Check depth where no `depth` pattern matches. */
  readonly defaultDepth: DomainRules.Depth
  /** Add a timing block (DNS, connect, TLS, SMTP per phase, connections) to each result. */
  readonly timing: boolean
  /**
   * CIDR blocks opened to dialling besides global unicast (`--allow-target`): every address in
   * the IANA special-purpose ranges is refused otherwise (see `TargetPolicy`). `["127.0.0.0/8"]`
   * for a mail world on loopback.
   */
  readonly allowTargets: ReadonlyArray<string>
  /** MX hosts tried per domain, in preference order; the rest are not dialled. */
  readonly maxMxHosts: number
  /** Addresses tried per MX host (its A/AAAA answers, in order); the rest are not dialled. */
  readonly maxAddressesPerHost: number
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
  fallbackSender: "",
  allowSpecialUse: [],
  allow: [],
  deny: [],
  depth: {},
  defaultDepth: "smtp",
  timing: false,
  allowTargets: [],
  maxMxHosts: 5,
  maxAddressesPerHost: 4
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
    const fallback = config.fallbackSender === "" ? `postmaster@${clientName}` : config.fallbackSender
    const parsedFallback = Address.parse(fallback)
    if (parsedFallback._tag === "Failure") {
      return yield* new InvalidConfig({ field: "fallbackSender", message: parsedFallback.failure.message })
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
    yield* positive("maxMxHosts", config.maxMxHosts)
    yield* positive("maxAddressesPerHost", config.maxAddressesPerHost)
    const targets = TargetPolicy.make(config.allowTargets)
    if (Result.isFailure(targets)) {
      return yield* new InvalidConfig({ field: "allowTargets", message: targets.failure.message })
    }
    return { ...config, helo: clientName, fallbackSender: fallback }
  })

/** A comma-separated list variable; empty when unset. */
const list = (name: string) =>
  Config.String(name).pipe(
    Config.map((text) =>
      text
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    ),
    Config.withDefault<ReadonlyArray<string>>([])
  )

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
 * `RCPT_CONCURRENCY`, `RCPT_PER_HOST`, `RCPT_FALLBACK_SENDER`, `RCPT_ALLOW_SPECIAL_USE`,
 * `RCPT_ALLOW`, `RCPT_DENY` (comma-separated), `RCPT_DEPTH` (`pattern=depth`, comma-separated),
 * `RCPT_DEFAULT_DEPTH`, `RCPT_TIMING` from the `ConfigProvider` (the environment by default).
 * `RCPT_CONCURRENCY`, `RCPT_PER_HOST`, `RCPT_ALLOW_TARGETS` (comma-separated CIDRs) from the `ConfigProvider` (the environment by default).
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
        perHost: Config.Int("RCPT_PER_HOST").pipe(Config.withDefault(defaults.perHost)),
        fallbackSender: Config.String("RCPT_FALLBACK_SENDER").pipe(Config.withDefault(defaults.fallbackSender)),
        allowSpecialUse: list("RCPT_ALLOW_SPECIAL_USE"),
        allow: list("RCPT_ALLOW"),
        deny: list("RCPT_DENY"),
        depth: list("RCPT_DEPTH"),
        defaultDepth: Config.Literals(DomainRules.depths, "RCPT_DEFAULT_DEPTH").pipe(
          Config.withDefault(defaults.defaultDepth)
        ),
        timing: Config.Boolean("RCPT_TIMING").pipe(Config.withDefault(defaults.timing)),
        allowTargets: Config.String("RCPT_ALLOW_TARGETS").pipe(
          Config.map((text) =>
            text
              .split(",")
              .map((s) => s.trim())
              .filter((s) => s !== "")
          ),
          Config.withDefault(defaults.allowTargets)
        )
      })
      const depth = DomainRules.parseDepths(read.depth)
      if (depth === undefined) {
        return yield* new InvalidConfig({
          field: "depth",
          message: `RCPT_DEPTH: expected pattern=syntax|dns|smtp, comma-separated, got ${read.depth.join(",")}`
        })
      }
      return yield* make({ ...read, depth })
    })
  )
