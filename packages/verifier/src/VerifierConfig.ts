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
  fallbackSender: "",
  allowSpecialUse: [],
  allow: [],
  deny: [],
  depth: {},
  defaultDepth: "smtp",
  timing: false,
  allowTargets: [],
  maxMxHosts: 5,
  maxAddressesPerHost: 4,
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
 * The environment variable of each setting: the one list of `RCPT_*` names. (`ca` is PEM text,
 * read from files by the platform or front end, so it has none here.)
 *
 * @category config
 * @since 0.2.0
 */
export const variables = {
  helo: "RCPT_HELO",
  mailFrom: "RCPT_MAIL_FROM",
  port: "RCPT_PORT",
  tls: "RCPT_TLS",
  timeout: "RCPT_TIMEOUT",
  vrfy: "RCPT_VRFY",
  catchAllProbe: "RCPT_CATCH_ALL",
  pipelining: "RCPT_PIPELINING",
  maxPipeline: "RCPT_MAX_PIPELINE",
  recipientsPerSession: "RCPT_RECIPIENTS_PER_SESSION",
  maxErrorsPerSession: "RCPT_MAX_ERRORS_PER_SESSION",
  concurrency: "RCPT_CONCURRENCY",
  perHost: "RCPT_PER_HOST",
  perHostRate: "RCPT_PER_HOST_RATE",
  allowTargets: "RCPT_ALLOW_TARGETS",
  maxMxHosts: "RCPT_MAX_MX_HOSTS",
  maxAddressesPerHost: "RCPT_MAX_ADDRESSES_PER_HOST",
  fallbackSender: "RCPT_FALLBACK_SENDER",
  allowSpecialUse: "RCPT_ALLOW_SPECIAL_USE",
  allow: "RCPT_ALLOW",
  deny: "RCPT_DENY",
  depth: "RCPT_DEPTH",
  defaultDepth: "RCPT_DEFAULT_DEPTH",
  timing: "RCPT_TIMING"
} as const satisfies { readonly [K in keyof VerifierConfig]?: string }

/**
 * The variables of the settings the layers above parse: the platform's (DNS servers, CA files,
 * routing), the greylisting wait, the time an unused connection is kept (`Policy.keepOpen`), how long a
 * paused input gathers (`Policy.inputIdle`), and the HTTP service's (`rcpt serve`). Named here beside
 * `variables`, so that this module holds every `RCPT_*` name and `outerConfig` reads them the same
 * way; each stays text until its owner parses it.
 *
 * @category config
 * @since 0.3.0
 */
export const outerVariables = {
  dnsServers: "RCPT_DNS_SERVERS",
  ca: "RCPT_CA",
  greylistWait: "RCPT_GREYLIST_WAIT",
  keepOpen: "RCPT_KEEP_OPEN",
  inputIdle: "RCPT_INPUT_IDLE",
  proxy: "RCPT_PROXY",
  sourceAddresses: "RCPT_SOURCE_ADDRESSES",
  sourceSelection: "RCPT_SOURCE_SELECTION",
  routing: "RCPT_ROUTING",
  tokenFile: "RCPT_TOKEN_FILE",
  allowedHosts: "RCPT_ALLOWED_HOSTS",
  maxConnections: "RCPT_MAX_CONNECTIONS",
  maxRequestsPerToken: "RCPT_MAX_REQUESTS_PER_TOKEN",
  maxRequests: "RCPT_MAX_REQUESTS",
  requestTimeout: "RCPT_REQUEST_TIMEOUT",
  grace: "RCPT_GRACE"
} as const

/**
 * A setting as text, before it is read: `variables`' keys.
 *
 * @category config
 * @since 0.2.0
 */
export type Texts = { readonly [K in keyof typeof variables]: Option.Option<string> }

/**
 * The settings of the layers above as text: `outerVariables`' keys.
 *
 * @category config
 * @since 0.3.0
 */
export type OuterTexts = { readonly [K in keyof typeof outerVariables]: Option.Option<string> }

/**
 * A comma-separated list, trimmed, empty items dropped (list variables and repeatable flags).
 *
 * @category config
 * @since 0.3.0
 */
export const list = (text: string): ReadonlyArray<string> =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")

const units: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(ms|msecs?|millis?|milliseconds?)$/, 1],
  [/^(s|secs?|seconds?)$/, 1000],
  [/^(m|mins?|minutes?)$/, 60_000],
  [/^(h|hrs?|hours?)$/, 3_600_000]
]

/**
 * Reads `"30s"`, `"2m"`, `"500ms"`, `"1 minute"`, `"1.5 hours"`; a bare number is seconds.
 *
 * @category config
 * @since 0.2.0
 */
export const parseDuration = (text: string): Option.Option<Duration.Duration> => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  if (match === null) return Option.none()
  const amount = Number(match[1])
  const unit = match[2]!.toLowerCase()
  if (unit === "") return Option.some(Duration.millis(amount * 1000))
  const found = units.find(([pattern]) => pattern.test(unit))
  return found === undefined ? Option.none() : Option.some(Duration.millis(amount * found[1]))
}

const parseBoolean = (text: string): Option.Option<boolean> => {
  const t = text.trim().toLowerCase()
  if (["1", "true", "yes", "on"].includes(t)) return Option.some(true)
  if (["0", "false", "no", "off"].includes(t)) return Option.some(false)
  return Option.none()
}

const parseInteger = (text: string): Option.Option<number> =>
  /^\s*-?\d+\s*$/.test(text) ? Option.some(Number(text)) : Option.none()

const tlsModes: ReadonlyArray<Session.TlsMode> = ["opportunistic", "required", "off"]

const readers: { readonly [K in keyof Texts]: readonly [(text: string) => Option.Option<VerifierConfig[K]>, string] } =
  {
    helo: [Option.some, "a name"],
    mailFrom: [Option.some, "an address"],
    port: [parseInteger, "an integer"],
    tls: [
      (t) => (tlsModes.includes(t as Session.TlsMode) ? Option.some(t as Session.TlsMode) : Option.none()),
      tlsModes.join(" | ")
    ],
    timeout: [parseDuration, 'a duration like "30s", "2m", "500ms"'],
    vrfy: [parseBoolean, "true or false"],
    catchAllProbe: [parseBoolean, "true or false"],
    pipelining: [parseBoolean, "true or false"],
    maxPipeline: [parseInteger, "an integer"],
    recipientsPerSession: [parseInteger, "an integer"],
    maxErrorsPerSession: [parseInteger, "an integer"],
    concurrency: [parseInteger, "an integer"],
    perHost: [parseInteger, "an integer"],
    perHostRate: [parseInteger, "an integer"],
    allowTargets: [(t) => Option.some(list(t)), "comma-separated CIDRs"],
    maxMxHosts: [parseInteger, "an integer"],
    maxAddressesPerHost: [parseInteger, "an integer"],
    fallbackSender: [Option.some, "an address"],
    allowSpecialUse: [(t) => Option.some(list(t)), "comma-separated names"],
    allow: [(t) => Option.some(list(t)), "comma-separated patterns"],
    deny: [(t) => Option.some(list(t)), "comma-separated patterns"],
    depth: [(t) => Option.fromNullishOr(DomainRules.parseDepths(list(t))), "pattern=syntax|dns|smtp, comma-separated"],
    defaultDepth: [
      (t) =>
        DomainRules.depths.includes(t as DomainRules.Depth) ? Option.some(t as DomainRules.Depth) : Option.none(),
      DomainRules.depths.join(" | ")
    ],
    timing: [parseBoolean, "true or false"]
  }

/**
 * The settings given as text (from `config`, or flags mapped onto the same names), read: the ones
 * set, typed. Text that cannot be read fails with `InvalidConfig` naming the field; `make` checks
 * the values afterwards.
 *
 * @category config
 * @since 0.2.0
 */
export const fromTexts = (texts: Partial<Texts>): Effect.Effect<Partial<VerifierConfig>, InvalidConfig> =>
  Effect.gen(function* () {
    const out: Record<string, unknown> = {}
    for (const field of Object.keys(variables) as Array<keyof Texts>) {
      const text = texts[field]
      if (text === undefined || Option.isNone(text)) continue
      const [read, expected] = readers[field]
      const value = (read as (t: string) => Option.Option<unknown>)(text.value)
      if (Option.isNone(value)) {
        return yield* new InvalidConfig({ field, message: `expected ${expected}, got ${JSON.stringify(text.value)}` })
      }
      out[field] = value.value
    }
    return out as Partial<VerifierConfig>
  })

/** Every variable of `names` as text, `None` when unset. */
const textsOf = <const Names extends Record<string, string>>(
  names: Names
): Config.Config<{ readonly [K in keyof Names]: Option.Option<string> }> =>
  Config.all(
    Object.fromEntries(
      Object.entries(names).map(([field, name]) => [field, Config.option(Config.String(name))])
    ) as Record<string, Config.Config<Option.Option<string>>>
  ) as Config.Config<{ readonly [K in keyof Names]: Option.Option<string> }>

/**
 * The one reader of the `RCPT_*` variables (see `variables`), from the `ConfigProvider` in force
 * (the environment by default): each as text, unset ones `None`. Front ends map their flags onto
 * the same names (a `ConfigProvider` of the flags given, `orElse` the environment).
 *
 * @category config
 * @since 0.2.0
 */
export const config: Config.Config<Texts> = textsOf(variables)

/**
 * The settings of the layers above (see `outerVariables`), read like `config`: each as text,
 * unset ones `None`. The node layer, the CLI and `rcpt serve` parse their own.
 *
 * @category config
 * @since 0.3.0
 */
export const outerConfig: Config.Config<OuterTexts> = textsOf(outerVariables)

/**
 * The config from the `RCPT_*` variables (see `config`). `helo` falls back to the given default
 * (the host's name, supplied by the platform layer).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (defaultHelo: string): Layer.Layer<Service, InvalidConfig | Config.ConfigError> =>
  Layer.effect(
    Service,
    Effect.gen(function* () {
      const read = yield* Effect.flatMap(config, fromTexts)
      return yield* make({ ...read, helo: read.helo ?? defaultHelo })
    })
  )
