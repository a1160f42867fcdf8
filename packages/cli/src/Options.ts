/**
 * The verifier flags every command shares, and how they become `NodeVerifier.Options`: a flag
 * given on the command line wins, else its `RCPT_*` environment variable, else the verifier's
 * default. Values are checked here, so a bad one is a usage error (exit 64) naming the flag or
 * the variable, before any connection is made.
 *
 * @since 0.1.0
 */
import { Config, ConfigProvider, Duration, Effect, FileSystem, Layer, Option, Result, Schedule } from "effect"
import { Flag } from "effect/cli"
import { Proxy, type Routing, SourcePool } from "@rcpt/client"
// Subpaths, not the barrel: the barrel also loads the mailer (nodemailer), which only `send` needs.
import * as NodeRouting from "@rcpt/node/NodeRouting"
import * as NodeVerifier from "@rcpt/node/NodeVerifier"
import { DomainRules, Policy, VerifierConfig } from "@rcpt/verifier"
import * as ExitCode from "./ExitCode.ts"

const tlsModes = ["opportunistic", "required", "off"] as const

/**
 * `--helo`, for every command that says EHLO (`verify`, `bulk`, `serve`, `send`); `env` names
 * the variable that stands in for it, if any.
 *
 * @category flags
 * @since 0.2.0
 */
export const heloFlag = (env: string) =>
  Flag.String("helo").pipe(
    Flag.withMetavar("name"),
    Flag.withDescription(`EHLO name: a domain you own with matching reverse DNS${env}. Default: this host's name`),
    Flag.optional
  )

/**
 * `--ca`, for every command that may use TLS; `env` names the variable that stands in for it.
 *
 * @category flags
 * @since 0.2.0
 */
export const caFlag = (env: string) =>
  Flag.String("ca").pipe(
    Flag.withMetavar("file"),
    Flag.withDescription(`Extra trusted CA certificates (PEM file) for STARTTLS; repeatable${env}`),
    Flag.atLeast(0)
  )

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
  helo: heloFlag(" (env RCPT_HELO)"),
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
  ca: caFlag(" (env RCPT_CA, comma-separated)"),
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
  ),
  keepOpen: Flag.String("keep-open").pipe(
    Flag.withMetavar("duration"),
    Flag.withDescription(
      'How long a run of many addresses keeps an unused connection for its next session to that MX address; "0" closes each after its session (env RCPT_KEEP_OPEN; the cluster runner keeps none yet). Default: 250ms'
    ),
    Flag.optional
  ),
  inputIdle: Flag.String("input-idle").pipe(
    Flag.withMetavar("duration"),
    Flag.withDescription(
      "How long the input (a list piped in slowly) may pause before the addresses gathered so far are checked; until then they gather into sessions to their MX hosts (env RCPT_INPUT_IDLE). Default: 1s"
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
  readonly keepOpen: Option.Option<string>
  readonly inputIdle: Option.Option<string>
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
  keepOpen: Option.none(),
  inputIdle: Option.none(),
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
 * What a command runs with: the verifier's options, and the greylisting schedule and the time
 * an unused connection is kept (`Policy.keepOpen`) and a paused input gathers (`Policy.inputIdle`),
 * if changed.
 *
 * @category models
 * @since 0.1.0
 */
export interface Resolved {
  readonly verifier: NodeVerifier.Options
  readonly greylistRetry: Option.Option<Schedule.Schedule<unknown, unknown>>
  readonly keepOpen: Option.Option<Duration.Duration>
  readonly inputIdle: Option.Option<Duration.Duration>
}

/**
 * Reads `"30s"`, `"2m"`, `"500ms"`, `"1 minute"`, `"1.5 hours"`; a bare number is seconds.
 *
 * @category parsing
 * @since 0.1.0
 */
export const parseDuration = VerifierConfig.parseDuration

const list = VerifierConfig.list

/** Optional fields only when set: the verifier's defaults apply to the rest. */
const defined = <A extends object>(record: A): { [K in keyof A]?: Exclude<A[K], undefined> } =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as {
    [K in keyof A]?: Exclude<A[K], undefined>
  }

/** The settings of the layers above the verifier as text, from the environment (the one reader). */
const outerTexts = VerifierConfig.outerConfig.pipe(Effect.mapError((e) => ExitCode.usage(e.message)))

/** The flag's value, else the variable's text parsed by `parse`, else none. */
const pick = <A>(
  given: Option.Option<A>,
  text: Option.Option<string>,
  name: string,
  parse: (text: string) => Option.Option<A>,
  expected: string
): Effect.Effect<Option.Option<A>, ExitCode.Exit> =>
  Option.isSome(given) || Option.isNone(text)
    ? Effect.succeed(given)
    : Option.match(parse(text.value), {
        onNone: () => Effect.fail(ExitCode.usage(`${name}: expected ${expected}, got ${JSON.stringify(text.value)}`)),
        onSome: (a) => Effect.succeed(Option.some(a))
      })

/** The verifier settings the flags give, as text under their variables' names. */
const flagTexts = (given: Given): Record<string, string> => {
  const v = VerifierConfig.variables
  const outer = VerifierConfig.outerVariables
  const texts: Record<string, string | undefined> = {
    [v.port]: Option.getOrUndefined(Option.map(given.port, String)),
    [v.helo]: Option.getOrUndefined(given.helo),
    [v.mailFrom]: Option.getOrUndefined(given.mailFrom),
    [v.tls]: Option.getOrUndefined(given.tls),
    [v.timeout]: Option.getOrUndefined(given.timeout),
    [v.vrfy]: Option.getOrUndefined(Option.map(given.vrfy, String)),
    [v.catchAllProbe]: Option.getOrUndefined(Option.map(given.noCatchAll, (no) => String(!no))),
    [v.pipelining]: Option.getOrUndefined(Option.map(given.noPipelining, (no) => String(!no))),
    [v.maxPipeline]: Option.getOrUndefined(Option.map(given.maxPipeline, String)),
    [v.recipientsPerSession]: Option.getOrUndefined(Option.map(given.recipientsPerSession, String)),
    [v.maxErrorsPerSession]: Option.getOrUndefined(Option.map(given.maxErrorsPerSession, String)),
    [v.concurrency]: Option.getOrUndefined(Option.map(given.concurrency, String)),
    [v.perHost]: Option.getOrUndefined(Option.map(given.perHost, String)),
    [v.perHostRate]: Option.getOrUndefined(Option.map(given.perHostRate, String)),
    [v.allowTargets]: given.allowTarget.length > 0 ? given.allowTarget.join(",") : undefined,
    [v.maxMxHosts]: Option.getOrUndefined(Option.map(given.maxMxHosts, String)),
    [v.maxAddressesPerHost]: Option.getOrUndefined(Option.map(given.maxAddressesPerHost, String)),
    [v.fallbackSender]: Option.getOrUndefined(given.fallbackSender),
    [v.allowSpecialUse]: given.allowSpecialUse.length > 0 ? given.allowSpecialUse.join(",") : undefined,
    [v.allow]: given.allow.length > 0 ? given.allow.join(",") : undefined,
    [v.deny]: given.deny.length > 0 ? given.deny.join(",") : undefined,
    [v.depth]: given.depth.length > 0 ? given.depth.join(",") : undefined,
    [v.defaultDepth]: Option.getOrUndefined(given.defaultDepth),
    [v.timing]: Option.getOrUndefined(Option.map(given.timing, String)),
    [outer.dnsServers]: given.dnsServers.length > 0 ? given.dnsServers.join(",") : undefined,
    [outer.ca]: given.ca.length > 0 ? given.ca.join(",") : undefined,
    [outer.greylistWait]: Option.getOrUndefined(given.greylistWait),
    [outer.keepOpen]: Option.getOrUndefined(given.keepOpen),
    [outer.inputIdle]: Option.getOrUndefined(given.inputIdle)
  }
  return Object.fromEntries(Object.entries(texts).filter((e): e is [string, string] => e[1] !== undefined))
}

/** The flag that sets a config field, by field (for messages), and by variable. */
const flagNames: Record<string, string> = {
  helo: "--helo",
  mailFrom: "--mail-from",
  port: "--port",
  timeout: "--timeout",
  tls: "--tls",
  vrfy: "--vrfy",
  catchAllProbe: "--no-catch-all",
  pipelining: "--no-pipelining",
  maxPipeline: "--max-pipeline",
  recipientsPerSession: "--recipients-per-session",
  maxErrorsPerSession: "--max-errors-per-session",
  concurrency: "--concurrency",
  perHost: "--per-host",
  perHostRate: "--per-host-rate",
  allowTargets: "--allow-target",
  maxMxHosts: "--max-mx-hosts",
  maxAddressesPerHost: "--max-addresses-per-host",
  fallbackSender: "--fallback-sender",
  allowSpecialUse: "--allow-special-use",
  allow: "--allow",
  deny: "--deny",
  depth: "--depth",
  defaultDepth: "--default-depth",
  timing: "--timing"
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
    // One reader: the flags given, as a ConfigProvider of the same RCPT_* names, before the environment.
    const flags = flagTexts(given)
    const provider = ConfigProvider.orElse(ConfigProvider.fromEnvRecord(flags), yield* ConfigProvider.ConfigProvider)
    const read = <A>(config: Config.Config<A>) =>
      config.parse(provider).pipe(Effect.mapError((e) => ExitCode.usage(e.message)))
    const texts = yield* read(VerifierConfig.config)
    const settings = yield* VerifierConfig.fromTexts(texts).pipe(
      Effect.mapError((e) => {
        const variable = VerifierConfig.variables[e.field as keyof typeof VerifierConfig.variables] ?? e.field
        const name = variable in flags ? (flagNames[e.field] ?? variable) : variable
        return ExitCode.usage(`${name}: ${e.message}`)
      })
    )
    const dnsServers = yield* read(NodeVerifier.dnsServersConfig)
    for (const server of dnsServers) {
      if (!/^[0-9a-fA-F:.[\]]+$/.test(server)) {
        return yield* ExitCode.usage(`--dns-server: expected ip or ip:port, got ${JSON.stringify(server)}`)
      }
    }
    const outer = yield* read(VerifierConfig.outerConfig)
    const caFiles = Option.match(outer.ca, { onNone: () => [], onSome: list })
    const ca = yield* Effect.forEach(caFiles, (file) =>
      fs.readFileString(file).pipe(Effect.mapError((e) => ExitCode.noInput(`--ca ${file}: cannot read (${e.message})`)))
    )
    const wait = yield* duration(outer.greylistWait, "greylistWait", "--greylist-wait", flags)
    const keepOpen = yield* duration(outer.keepOpen, "keepOpen", "--keep-open", flags)
    const inputIdle = yield* duration(outer.inputIdle, "inputIdle", "--input-idle", flags)

    const route = yield* resolveRouting(given)

    const verifier: NodeVerifier.Options = defined({
      ...settings,
      ...route,
      dnsServers: dnsServers.length > 0 ? dnsServers : undefined,
      ca: ca.length > 0 ? ca : undefined
    })
    return { verifier, greylistRetry: Option.map(wait, greylistSchedule), keepOpen, inputIdle }
  })

/** A duration setting's text read, or exit 64 naming the flag or the variable it came from. */
const duration = (
  text: Option.Option<string>,
  key: keyof typeof VerifierConfig.outerVariables,
  flag: string,
  flags: Record<string, string>
): Effect.Effect<Option.Option<Duration.Duration>, ExitCode.Exit> => {
  if (Option.isNone(text)) return Effect.succeed(Option.none())
  const parsed = parseDuration(text.value)
  if (Option.isSome(parsed)) return Effect.succeed(parsed)
  const variable = VerifierConfig.outerVariables[key]
  return Effect.fail(
    ExitCode.usage(
      `${variable in flags ? flag : variable}: expected a duration like "30s", "2m", "500ms", got ${JSON.stringify(text.value)}`
    )
  )
}

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
    const env = yield* outerTexts
    const variables = VerifierConfig.outerVariables
    const proxyText = Option.isSome(given.proxy) ? given.proxy : env.proxy
    const flagName = Option.isSome(given.proxy) ? "--proxy" : variables.proxy
    const proxy = Option.isSome(proxyText) ? Proxy.parse(proxyText.value) : undefined
    if (proxy !== undefined && Result.isFailure(proxy)) {
      return yield* ExitCode.usage(`${flagName}: ${proxy.failure.message} (${proxy.failure.url})`)
    }
    const sourceAddresses =
      given.sourceAddress.length > 0
        ? given.sourceAddress.flatMap(list)
        : Option.match(env.sourceAddresses, { onNone: () => [], onSome: list })
    for (const address of sourceAddresses) {
      const problem = SourcePool.validate({ address })
      if (problem !== undefined) return yield* ExitCode.usage(`--source-address: ${problem}`)
    }
    const selection = yield* pick(
      given.sourceSelection,
      env.sourceSelection,
      variables.sourceSelection,
      (t) => (t in SourcePool.selections ? Option.some(t as SourcePool.SelectionName) : Option.none()),
      Object.keys(SourcePool.selections).join(" | ")
    )
    const file = Option.isSome(given.routing) ? given.routing : env.routing
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
 * The policies with the greylisting schedule, the time an unused connection is kept and the
 * input's pause before gathered addresses go changed, when they were.
 *
 * @category layers
 * @since 0.1.0
 */
export const policyLayer = (resolved: Resolved): Layer.Layer<never> => {
  const { greylistRetry, keepOpen, inputIdle } = resolved
  const changed: Partial<Policy.Policies> = {
    ...Option.match(greylistRetry, { onNone: () => ({}), onSome: (schedule) => ({ greylistRetry: schedule }) }),
    ...Option.match(keepOpen, { onNone: () => ({}), onSome: (kept) => ({ keepOpen: kept }) }),
    ...Option.match(inputIdle, { onNone: () => ({}), onSome: (idle) => ({ inputIdle: idle }) })
  }
  return Object.keys(changed).length === 0
    ? Layer.empty
    : Layer.succeed(Policy.Policy, { ...Policy.defaults, ...changed })
}

/**
 * An invalid config as a usage error (exit 64).
 *
 * @category errors
 * @since 0.1.0
 */
export const invalidConfig = (error: VerifierConfig.InvalidConfig): ExitCode.Exit =>
  ExitCode.usage(`invalid ${flagNames[error.field] ?? error.field}: ${error.message}`)
