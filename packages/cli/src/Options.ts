/**
 * The verifier flags every command shares, and how they become `NodeVerifier.Options`: a flag
 * given on the command line wins, else its `RCPT_*` environment variable, else the verifier's
 * default. Values are checked here, so a bad one is a usage error (exit 64) naming the flag or
 * the variable, before any connection is made.
 *
 * @since 0.1.0
 */
import { Config, Duration, Effect, FileSystem, Layer, Option, Result, Schedule } from "effect"
import { Flag } from "effect/cli"
import { Proxy, type Routing, SourcePool } from "@rcpt/client"
import { NodeRouting, type NodeVerifier } from "@rcpt/node"
import { DomainRules, Policy, VerifierConfig } from "@rcpt/verifier"
import * as ExitCode from "./ExitCode.ts"

const tlsModes = ["opportunistic", "required", "off"] as const

/**
 * The shared flags, as given (all optional: absence means "ask the environment").
 *
 * @category flags
 * @since 0.1.0
 */
export const flags = {
  dnsServers: Flag.String("dns-server").pipe(
    Flag.withMetavar("ip[:port]"),
    Flag.withDescription(
      "DNS server to ask for MX and A records; repeatable (env RCPT_DNS_SERVERS, comma-separated). Default: the system's resolvers"
    ),
    Flag.atLeast(0)
  ),
  port: Flag.Int("port").pipe(
    Flag.withMetavar("n"),
    Flag.withDescription("SMTP port on every MX host (env RCPT_PORT). Default: 25"),
    Flag.optional
  ),
  helo: Flag.String("helo").pipe(
    Flag.withMetavar("name"),
    Flag.withDescription(
      "EHLO name: a domain you own with matching reverse DNS (env RCPT_HELO). Default: this host's name"
    ),
    Flag.optional
  ),
  mailFrom: Flag.String("mail-from").pipe(
    Flag.withMetavar("address"),
    Flag.withDescription('MAIL FROM address; "" sends the null path <> (env RCPT_MAIL_FROM). Default: ""'),
    Flag.optional
  ),
  tls: Flag.Literals("tls", tlsModes).pipe(
    Flag.withDescription("STARTTLS: use when offered, demand it, or never (env RCPT_TLS). Default: opportunistic"),
    Flag.optional
  ),
  timeout: Flag.String("timeout").pipe(
    Flag.withMetavar("duration"),
    Flag.withDescription(
      'Overall time per address, greylisting waits included: "30s", "2m", "500ms", "1 minute" (env RCPT_TIMEOUT). Default: 60s'
    ),
    Flag.optional
  ),
  vrfy: Flag.Boolean("vrfy").pipe(
    Flag.withDescription("Ask VRFY when RCPT settles nothing (env RCPT_VRFY=true). Default: off"),
    Flag.optional
  ),
  noCatchAll: Flag.Boolean("no-catch-all").pipe(
    Flag.withoutNegation,
    Flag.withDescription("Skip the catch-all probe (a made-up recipient, once per domain) (env RCPT_CATCH_ALL=false)"),
    Flag.optional
  ),
  noPipelining: Flag.Boolean("no-pipelining").pipe(
    Flag.withoutNegation,
    Flag.withDescription("Send one command at a time even when PIPELINING is offered (env RCPT_PIPELINING=false)"),
    Flag.optional
  ),
  maxPipeline: Flag.Int("max-pipeline").pipe(
    Flag.withMetavar("n"),
    Flag.withDescription(
      `RCPTs per pipelined write (env RCPT_MAX_PIPELINE). Default: ${VerifierConfig.defaults.maxPipeline}`
    ),
    Flag.optional
  ),
  recipientsPerSession: Flag.Int("recipients-per-session").pipe(
    Flag.withMetavar("n"),
    Flag.withDescription(
      `RCPTs per SMTP session before a new connection (env RCPT_RECIPIENTS_PER_SESSION). Default: ${VerifierConfig.defaults.recipientsPerSession}`
    ),
    Flag.optional
  ),
  maxErrorsPerSession: Flag.Int("max-errors-per-session").pipe(
    Flag.withMetavar("n"),
    Flag.withDescription(
      `Rejected RCPTs per SMTP session before a new connection, to stay clear of servers' error limits (env RCPT_MAX_ERRORS_PER_SESSION). Default: ${VerifierConfig.defaults.maxErrorsPerSession}`
    ),
    Flag.optional
  ),
  concurrency: Flag.Int("concurrency").pipe(
    Flag.withMetavar("n"),
    Flag.withDescription(
      `Simultaneous SMTP connections in all (env RCPT_CONCURRENCY). Default: ${VerifierConfig.defaults.concurrency}`
    ),
    Flag.optional
  ),
  perHost: Flag.Int("per-host").pipe(
    Flag.withMetavar("n"),
    Flag.withDescription(
      `Simultaneous SMTP connections per MX address (env RCPT_PER_HOST). Default: ${VerifierConfig.defaults.perHost}`
    ),
    Flag.optional
  ),
  perHostRate: Flag.Int("per-host-rate").pipe(
    Flag.withMetavar("n"),
    Flag.withDescription(
      "Connections opened per second per MX address, 0 for no limit (env RCPT_PER_HOST_RATE). Default: 0"
    ),
    Flag.optional
  ),
  ca: Flag.String("ca").pipe(
    Flag.withMetavar("file"),
    Flag.withDescription(
      "Extra trusted CA certificates (PEM file) for STARTTLS; repeatable (env RCPT_CA, comma-separated)"
    ),
    Flag.atLeast(0)
  ),
  fallbackSender: Flag.String("fallback-sender").pipe(
    Flag.withMetavar("address"),
    Flag.withDescription(
      "MAIL FROM to ask again with when a server refuses the null sender <> (env RCPT_FALLBACK_SENDER). Default: postmaster@ the EHLO name"
    ),
    Flag.optional
  ),
  allowSpecialUse: Flag.String("allow-special-use").pipe(
    Flag.withMetavar("name"),
    Flag.withDescription(
      "Verify under this special-use name anyway (RFC 6761: test, localhost, invalid, local...), private implicit MX included; repeatable (env RCPT_ALLOW_SPECIAL_USE, comma-separated). Default: none (refused)"
    ),
    Flag.atLeast(0)
  ),
  allow: Flag.String("allow").pipe(
    Flag.withMetavar("pattern"),
    Flag.withDescription(
      "Always deliverable, never asked: an address, a domain and its subdomains, or @domain alone; repeatable (env RCPT_ALLOW, comma-separated)"
    ),
    Flag.atLeast(0)
  ),
  deny: Flag.String("deny").pipe(
    Flag.withMetavar("pattern"),
    Flag.withDescription("Always undeliverable, never asked (patterns as --allow); repeatable (env RCPT_DENY)"),
    Flag.atLeast(0)
  ),
  depth: Flag.String("depth").pipe(
    Flag.withMetavar("pattern=depth"),
    Flag.withDescription(
      "Check depth for a domain or address: syntax, dns or smtp, e.g. big.example=dns; repeatable (env RCPT_DEPTH, comma-separated)"
    ),
    Flag.atLeast(0)
  ),
  defaultDepth: Flag.Literals("default-depth", DomainRules.depths).pipe(
    Flag.withDescription("Check depth where no --depth matches (env RCPT_DEFAULT_DEPTH). Default: smtp"),
    Flag.optional
  ),
  timing: Flag.Boolean("timing").pipe(
    Flag.withDescription(
      "Add a timing block (DNS, connect, TLS, SMTP per phase, connections) to each result (env RCPT_TIMING=true)"
    ),
    Flag.optional
  ),
  allowTarget: Flag.String("allow-target").pipe(
    Flag.withMetavar("cidr"),
    Flag.withDescription(
      "Open a special-purpose range (loopback, private, link-local, ...: refused by default, so a domain cannot point the verifier at internal hosts) to dialling, e.g. 127.0.0.0/8 or fd00::/8; repeatable (env RCPT_ALLOW_TARGETS, comma-separated)"
    ),
    Flag.atLeast(0)
  ),
  maxMxHosts: Flag.Int("max-mx-hosts").pipe(
    Flag.withMetavar("n"),
    Flag.withDescription(
      `MX hosts tried per domain, in preference order (env RCPT_MAX_MX_HOSTS). Default: ${VerifierConfig.defaults.maxMxHosts}`
    ),
    Flag.optional
  ),
  maxAddressesPerHost: Flag.Int("max-addresses-per-host").pipe(
    Flag.withMetavar("n"),
    Flag.withDescription(
      `Addresses tried per MX host (env RCPT_MAX_ADDRESSES_PER_HOST). Default: ${VerifierConfig.defaults.maxAddressesPerHost}`
    ),
    Flag.optional
  ),
  proxy: Flag.String("proxy").pipe(
    Flag.withMetavar("socks5://[user:pass@]host:port"),
    Flag.withDescription(
      "Reach every MX host through this SOCKS5 proxy; socks5h:// lets the proxy resolve names (env RCPT_PROXY). A routing file can route hosts differently"
    ),
    Flag.optional
  ),
  sourceAddress: Flag.String("source-address").pipe(
    Flag.withMetavar("ip"),
    Flag.withDescription(
      "Send from this local address, each with its PTR name as EHLO name; repeatable, used in turn (env RCPT_SOURCE_ADDRESSES, comma-separated)"
    ),
    Flag.atLeast(0)
  ),
  sourceSelection: Flag.Literals("source-selection", ["round-robin", "sticky", "weighted"]).pipe(
    Flag.withDescription(
      "How a source address is chosen: in turn, the same one per MX host, or by weight (env RCPT_SOURCE_SELECTION). Default: round-robin"
    ),
    Flag.optional
  ),
  routing: Flag.String("routing").pipe(
    Flag.withMetavar("file"),
    Flag.withDescription(
      "Routing rules (YAML or JSON): proxy, source addresses, EHLO name and MAIL FROM per MX host suffix or provider (env RCPT_ROUTING)"
    ),
    Flag.optional
  ),
  greylistWait: Flag.String("greylist-wait").pipe(
    Flag.withMetavar("duration"),
    Flag.withDescription(
      'Wait between asks while greylisted (4xx), up to 3 more asks; "0" never asks again (env RCPT_GREYLIST_WAIT). Default: exponential from 30s, up to 4 more asks'
    ),
    Flag.optional
  )
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Given {
  readonly dnsServers: ReadonlyArray<string>
  readonly port: Option.Option<number>
  readonly helo: Option.Option<string>
  readonly mailFrom: Option.Option<string>
  readonly tls: Option.Option<(typeof tlsModes)[number]>
  readonly timeout: Option.Option<string>
  readonly vrfy: Option.Option<boolean>
  readonly noCatchAll: Option.Option<boolean>
  readonly noPipelining: Option.Option<boolean>
  readonly maxPipeline: Option.Option<number>
  readonly recipientsPerSession: Option.Option<number>
  readonly maxErrorsPerSession: Option.Option<number>
  readonly concurrency: Option.Option<number>
  readonly perHost: Option.Option<number>
  readonly perHostRate: Option.Option<number>
  readonly ca: ReadonlyArray<string>
  readonly allowTarget: ReadonlyArray<string>
  readonly maxMxHosts: Option.Option<number>
  readonly maxAddressesPerHost: Option.Option<number>
  readonly greylistWait: Option.Option<string>
  readonly proxy: Option.Option<string>
  readonly sourceAddress: ReadonlyArray<string>
  readonly sourceSelection: Option.Option<SourcePool.SelectionName>
  readonly routing: Option.Option<string>
  readonly fallbackSender: Option.Option<string>
  readonly allowSpecialUse: ReadonlyArray<string>
  readonly allow: ReadonlyArray<string>
  readonly deny: ReadonlyArray<string>
  readonly depth: ReadonlyArray<string>
  readonly defaultDepth: Option.Option<DomainRules.Depth>
  readonly timing: Option.Option<boolean>
}

/**
 * No flag given: everything from the environment or the defaults.
 *
 * @category flags
 * @since 0.1.0
 */
export const none: Given = {
  dnsServers: [],
  port: Option.none(),
  helo: Option.none(),
  mailFrom: Option.none(),
  tls: Option.none(),
  timeout: Option.none(),
  vrfy: Option.none(),
  noCatchAll: Option.none(),
  noPipelining: Option.none(),
  maxPipeline: Option.none(),
  recipientsPerSession: Option.none(),
  maxErrorsPerSession: Option.none(),
  concurrency: Option.none(),
  perHost: Option.none(),
  perHostRate: Option.none(),
  ca: [],
  greylistWait: Option.none(),
  fallbackSender: Option.none(),
  allowSpecialUse: [],
  allow: [],
  deny: [],
  depth: [],
  defaultDepth: Option.none(),
  timing: Option.none(),
  proxy: Option.none(),
  sourceAddress: [],
  sourceSelection: Option.none(),
  routing: Option.none(),
  allowTarget: [],
  maxMxHosts: Option.none(),
  maxAddressesPerHost: Option.none()
}

/**
 * What a command runs with: the verifier's options and the greylisting schedule, if changed.
 *
 * @category models
 * @since 0.1.0
 */
export interface Resolved {
  readonly verifier: NodeVerifier.Options
  readonly greylistRetry: Option.Option<Schedule.Schedule<unknown, unknown>>
}

const units: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(ms|msecs?|millis?|milliseconds?)$/, 1],
  [/^(s|secs?|seconds?)$/, 1000],
  [/^(m|mins?|minutes?)$/, 60_000],
  [/^(h|hrs?|hours?)$/, 3_600_000]
]

/**
 * Reads `"30s"`, `"2m"`, `"500ms"`, `"1 minute"`, `"1.5 hours"`; a bare number is seconds.
 *
 * @category parsing
 * @since 0.1.0
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

const parseInt = (text: string): Option.Option<number> =>
  /^\s*-?\d+\s*$/.test(text) ? Option.some(Number(text)) : Option.none()

const list = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)

/** The environment variable `name`, if set. */
const env = (name: string) =>
  Config.option(Config.String(name)).pipe(Effect.mapError((e) => ExitCode.usage(`${name}: ${e.message}`)))

/** The flag's value, else the variable's parsed by `parse`, else none. */
const pick = <A>(
  given: Option.Option<A>,
  name: string,
  parse: (text: string) => Option.Option<A>,
  expected: string
): Effect.Effect<Option.Option<A>, ExitCode.Exit> =>
  Option.isSome(given)
    ? Effect.succeed(given)
    : env(name).pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.succeed(Option.none<A>()),
            onSome: (text) =>
              Option.match(parse(text), {
                onNone: () => Effect.fail(ExitCode.usage(`${name}: expected ${expected}, got ${JSON.stringify(text)}`)),
                onSome: (a) => Effect.succeed(Option.some(a))
              })
          })
        )
      )

const duration = (flag: string, text: string) =>
  Option.match(parseDuration(text), {
    onNone: () =>
      Effect.fail(
        ExitCode.usage(`${flag}: expected a duration like "30s", "2m", "500ms", got ${JSON.stringify(text)}`)
      ),
    onSome: Effect.succeed
  })

/** Optional fields only when set: the verifier's defaults apply to the rest. */
const defined = <A extends object>(record: A): { [K in keyof A]?: Exclude<A[K], undefined> } =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as {
    [K in keyof A]?: Exclude<A[K], undefined>
  }

/**
 * Flags, then environment, then defaults; reads `--ca` files. A bad value fails with exit 64, an
 * unreadable CA file with 66.
 *
 * @category constructors
 * @since 0.1.0
 */
export const resolve = (given: Given): Effect.Effect<Resolved, ExitCode.Exit, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const envServers = yield* env("RCPT_DNS_SERVERS")
    const dnsServers =
      given.dnsServers.length > 0
        ? given.dnsServers.flatMap(list)
        : Option.match(envServers, { onNone: () => [], onSome: list })
    for (const server of dnsServers) {
      if (!/^[0-9a-fA-F:.[\]]+$/.test(server)) {
        return yield* ExitCode.usage(`--dns-server: expected ip or ip:port, got ${JSON.stringify(server)}`)
      }
    }
    const int = (flag: Option.Option<number>, name: string) => pick(flag, name, parseInt, "an integer")
    const port = yield* int(given.port, "RCPT_PORT")
    const helo = yield* pick(given.helo, "RCPT_HELO", Option.some, "a name")
    const mailFrom = yield* pick(given.mailFrom, "RCPT_MAIL_FROM", Option.some, "an address")
    const tls = yield* pick(
      given.tls,
      "RCPT_TLS",
      (t) =>
        (tlsModes as ReadonlyArray<string>).includes(t) ? Option.some(t as (typeof tlsModes)[number]) : Option.none(),
      tlsModes.join(" | ")
    )
    const timeoutText = yield* pick(given.timeout, "RCPT_TIMEOUT", Option.some, "a duration")
    const timeout = Option.isSome(timeoutText)
      ? Option.some(yield* duration("--timeout", timeoutText.value))
      : Option.none()
    const bool = (flag: Option.Option<boolean>, name: string) => pick(flag, name, parseBoolean, "true or false")
    const vrfy = yield* bool(given.vrfy, "RCPT_VRFY")
    const catchAll = yield* bool(
      Option.map(given.noCatchAll, (no) => !no),
      "RCPT_CATCH_ALL"
    )
    const pipelining = yield* bool(
      Option.map(given.noPipelining, (no) => !no),
      "RCPT_PIPELINING"
    )
    const maxPipeline = yield* int(given.maxPipeline, "RCPT_MAX_PIPELINE")
    const recipientsPerSession = yield* int(given.recipientsPerSession, "RCPT_RECIPIENTS_PER_SESSION")
    const maxErrorsPerSession = yield* int(given.maxErrorsPerSession, "RCPT_MAX_ERRORS_PER_SESSION")
    const concurrency = yield* int(given.concurrency, "RCPT_CONCURRENCY")
    const perHost = yield* int(given.perHost, "RCPT_PER_HOST")
    const perHostRate = yield* int(given.perHostRate, "RCPT_PER_HOST_RATE")
    const envCa = yield* env("RCPT_CA")
    const caFiles =
      given.ca.length > 0 ? given.ca.flatMap(list) : Option.match(envCa, { onNone: () => [], onSome: list })
    const ca = yield* Effect.forEach(caFiles, (file) =>
      fs.readFileString(file).pipe(Effect.mapError((e) => ExitCode.noInput(`--ca ${file}: cannot read (${e.message})`)))
    )
    /** Repeatable flag, else its comma-separated variable. */
    const listOf = (given: ReadonlyArray<string>, name: string) =>
      given.length > 0
        ? Effect.succeed(given.flatMap(list))
        : Effect.map(env(name), Option.match({ onNone: () => [], onSome: list }))
    const fallbackSender = yield* pick(given.fallbackSender, "RCPT_FALLBACK_SENDER", Option.some, "an address")
    const allowSpecialUse = yield* listOf(given.allowSpecialUse, "RCPT_ALLOW_SPECIAL_USE")
    const allow = yield* listOf(given.allow, "RCPT_ALLOW")
    const deny = yield* listOf(given.deny, "RCPT_DENY")
    const depthItems = yield* listOf(given.depth, "RCPT_DEPTH")
    const depth = DomainRules.parseDepths(depthItems)
    if (depth === undefined) {
      return yield* ExitCode.usage(
        `--depth: expected pattern=syntax|dns|smtp, got ${JSON.stringify(depthItems.join(","))}`
      )
    }
    const defaultDepth = yield* pick(
      given.defaultDepth,
      "RCPT_DEFAULT_DEPTH",
      (t) =>
        (DomainRules.depths as ReadonlyArray<string>).includes(t) ? Option.some(t as DomainRules.Depth) : Option.none(),
      DomainRules.depths.join(" | ")
    )
    const timing = yield* bool(given.timing, "RCPT_TIMING")
    const envTargets = yield* env("RCPT_ALLOW_TARGETS")
    const allowTargets =
      given.allowTarget.length > 0
        ? given.allowTarget.flatMap(list)
        : Option.match(envTargets, { onNone: () => [], onSome: list })
    const maxMxHosts = yield* int(given.maxMxHosts, "RCPT_MAX_MX_HOSTS")
    const maxAddressesPerHost = yield* int(given.maxAddressesPerHost, "RCPT_MAX_ADDRESSES_PER_HOST")
    const waitText = yield* pick(given.greylistWait, "RCPT_GREYLIST_WAIT", Option.some, "a duration")
    const wait = Option.isSome(waitText)
      ? Option.some(yield* duration("--greylist-wait", waitText.value))
      : Option.none()

    const route = yield* resolveRouting(given)

    const verifier: NodeVerifier.Options = defined({
      ...route,
      dnsServers: dnsServers.length > 0 ? dnsServers : undefined,
      port: Option.getOrUndefined(port),
      helo: Option.getOrUndefined(helo),
      mailFrom: Option.getOrUndefined(mailFrom),
      tls: Option.getOrUndefined(tls),
      timeout: Option.getOrUndefined(timeout),
      vrfy: Option.getOrUndefined(vrfy),
      catchAllProbe: Option.getOrUndefined(catchAll),
      pipelining: Option.getOrUndefined(pipelining),
      maxPipeline: Option.getOrUndefined(maxPipeline),
      recipientsPerSession: Option.getOrUndefined(recipientsPerSession),
      maxErrorsPerSession: Option.getOrUndefined(maxErrorsPerSession),
      concurrency: Option.getOrUndefined(concurrency),
      perHost: Option.getOrUndefined(perHost),
      perHostRate: Option.getOrUndefined(perHostRate),
      ca: ca.length > 0 ? ca : undefined,
      fallbackSender: Option.getOrUndefined(fallbackSender),
      allowSpecialUse: allowSpecialUse.length > 0 ? allowSpecialUse : undefined,
      allow: allow.length > 0 ? allow : undefined,
      deny: deny.length > 0 ? deny : undefined,
      depth: Object.keys(depth).length > 0 ? depth : undefined,
      defaultDepth: Option.getOrUndefined(defaultDepth),
      timing: Option.getOrUndefined(timing),
      allowTargets: allowTargets.length > 0 ? allowTargets : undefined,
      maxMxHosts: Option.getOrUndefined(maxMxHosts),
      maxAddressesPerHost: Option.getOrUndefined(maxAddressesPerHost)
    })
    return { verifier, greylistRetry: Option.map(wait, greylistSchedule) }
  })

/**
 * The routing flags (`--proxy`, `--source-address`, `--source-selection`, `--routing`) and their
 * variables, read and checked: a bad value is 64 (never echoing a proxy password), an unreadable
 * routing file 66.
 *
 * @category constructors
 * @since 0.1.0
 */
export const resolveRouting = (
  given: Pick<Given, "proxy" | "sourceAddress" | "sourceSelection" | "routing">
): Effect.Effect<NodeRouting.Options, ExitCode.Exit, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const proxyText = Option.isSome(given.proxy) ? given.proxy : yield* env("RCPT_PROXY")
    const flagName = Option.isSome(given.proxy) ? "--proxy" : "RCPT_PROXY"
    const proxy = Option.isSome(proxyText) ? Proxy.parse(proxyText.value) : undefined
    if (proxy !== undefined && Result.isFailure(proxy)) {
      return yield* ExitCode.usage(`${flagName}: ${proxy.failure.message} (${proxy.failure.url})`)
    }
    const envSources = yield* env("RCPT_SOURCE_ADDRESSES")
    const sourceAddresses =
      given.sourceAddress.length > 0
        ? given.sourceAddress.flatMap(list)
        : Option.match(envSources, { onNone: () => [], onSome: list })
    for (const address of sourceAddresses) {
      const problem = SourcePool.validate({ address })
      if (problem !== undefined) return yield* ExitCode.usage(`--source-address: ${problem}`)
    }
    const selection = yield* pick(
      given.sourceSelection,
      "RCPT_SOURCE_SELECTION",
      (t) => (t in SourcePool.selections ? Option.some(t as SourcePool.SelectionName) : Option.none()),
      Object.keys(SourcePool.selections).join(" | ")
    )
    const file = Option.isSome(given.routing) ? given.routing : yield* env("RCPT_ROUTING")
    let routing: Routing.Routing | undefined
    if (Option.isSome(file)) {
      const text = yield* fs
        .readFileString(file.value)
        .pipe(Effect.mapError((e) => ExitCode.noInput(`--routing ${file.value}: cannot read (${e.message})`)))
      const parsed = NodeRouting.parse(text)
      if (Result.isFailure(parsed)) return yield* ExitCode.usage(`--routing ${file.value}: ${parsed.failure.message}`)
      routing = parsed.success
    }
    const options: NodeRouting.Options = defined({
      proxy: proxy === undefined ? undefined : Result.getOrUndefined(proxy),
      sourceAddresses: sourceAddresses.length > 0 ? sourceAddresses : undefined,
      selection: Option.getOrUndefined(selection),
      routing
    })
    const checked = NodeRouting.combine(options)
    if (Result.isFailure(checked)) return yield* ExitCode.usage(`invalid routing: ${checked.failure.message}`)
    return options
  })

/**
 * The greylisting schedule for `--greylist-wait`: that wait, at most 3 more asks; none for 0.
 *
 * @category constructors
 * @since 0.1.0
 */
export const greylistSchedule = (wait: Duration.Duration): Schedule.Schedule<unknown, unknown> =>
  Duration.toMillis(wait) <= 0 ? Schedule.recurs(0) : Schedule.spaced(wait).pipe(Schedule.upTo({ times: 3 }))

/**
 * The policies with the greylisting schedule changed, when it was.
 *
 * @category layers
 * @since 0.1.0
 */
export const policyLayer = (resolved: Resolved): Layer.Layer<never> =>
  Option.match(resolved.greylistRetry, {
    onNone: () => Layer.empty,
    onSome: (greylistRetry) => Layer.succeed(Policy.Policy, { ...Policy.defaults, greylistRetry })
  })

/**
 * An invalid config as a usage error (exit 64).
 *
 * @category errors
 * @since 0.1.0
 */
export const invalidConfig = (error: VerifierConfig.InvalidConfig): ExitCode.Exit =>
  ExitCode.usage(`invalid ${flagNames[error.field] ?? error.field}: ${error.message}`)

/** Config fields by the flag that sets them, for messages. */
const flagNames: Record<string, string> = {
  helo: "--helo",
  mailFrom: "--mail-from",
  port: "--port",
  timeout: "--timeout",
  tls: "--tls",
  maxPipeline: "--max-pipeline",
  recipientsPerSession: "--recipients-per-session",
  maxErrorsPerSession: "--max-errors-per-session",
  concurrency: "--concurrency",
  perHost: "--per-host",
  perHostRate: "--per-host-rate",
  fallbackSender: "--fallback-sender",
  depth: "--depth",
  allowTargets: "--allow-target",
  maxMxHosts: "--max-mx-hosts",
  maxAddressesPerHost: "--max-addresses-per-host"
}
