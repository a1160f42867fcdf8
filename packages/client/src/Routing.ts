/**
 * Routing as data: which transport, proxy, source addresses, EHLO name and MAIL FROM to use for
 * an MX host, chosen by the host's name suffix or by its provider (every `*.google.com` MX
 * through proxy A). Users write it as JSON or YAML; `decode` checks it.
 *
 * ```yaml
 * proxies:
 *   a: socks5://user:pass@10.0.0.1:1080
 * providers:            # added to the built-in ones (google, microsoft, yahoo, ...)
 *   corp: [".mx.corp.example"]
 * default:              # for hosts no rule matches; flags (--proxy, --source-address) fill it
 *   sourceAddresses: ["192.0.2.10", { address: "192.0.2.11", helo: "out2.example.com", weight: 2 }]
 *   selection: weighted
 * rules:
 *   - match: { provider: google }
 *     proxy: a
 *   - match: { mx: ["*.example.net", ".example.org"] }
 *     transport: direct
 *     helo: verify.example.com
 *     mailFrom: bounce@example.com
 * ```
 *
 * The first matching rule wins; what it leaves out comes from `default`. A rule's `transport`
 * is `direct` (no proxy, even if the default has one) or `socks5` (its proxy, or the default's).
 *
 * @since 0.1.0
 */
import { Option, Result, Schema } from "effect"
import { Address } from "@rcpt/smtp"
import * as Proxy from "./Proxy.ts"
import * as SourcePool from "./SourcePool.ts"

/**
 * MX host suffixes of well-known providers, for `match: { provider }`.
 *
 * @category constants
 * @since 0.1.0
 */
export const providers: Readonly<Record<string, ReadonlyArray<string>>> = {
  google: [".google.com", ".googlemail.com"],
  microsoft: [".outlook.com", ".protection.outlook.com"],
  yahoo: [".yahoodns.net"],
  apple: [".mail.icloud.com"],
  zoho: [".zoho.com", ".zoho.eu"],
  proton: [".protonmail.ch"],
  fastmail: [".messagingengine.com"],
  mimecast: [".mimecast.com"],
  proofpoint: [".pphosted.com", ".ppe-hosted.com"]
}

const SourceSchema = Schema.Union([
  Schema.String,
  Schema.Struct({
    address: Schema.String,
    helo: Schema.optional(Schema.String),
    weight: Schema.optional(Schema.Number),
    maxConnections: Schema.optional(Schema.Number)
  })
])

const Settings = {
  transport: Schema.optional(Schema.Literals(["direct", "socks5"])),
  /** A name from `proxies`, or a URL. */
  proxy: Schema.optional(Schema.String),
  sourceAddresses: Schema.optional(Schema.Array(SourceSchema)),
  selection: Schema.optional(Schema.Literals(["round-robin", "sticky", "weighted"])),
  helo: Schema.optional(Schema.String),
  mailFrom: Schema.optional(Schema.String)
}

const FileSchema = Schema.Struct({
  proxies: Schema.optional(Schema.Record(Schema.String, Schema.String)),
  providers: Schema.optional(Schema.Record(Schema.String, Schema.Array(Schema.String))),
  default: Schema.optional(Schema.Struct(Settings)),
  rules: Schema.optional(
    Schema.Array(
      Schema.Struct({
        name: Schema.optional(Schema.String),
        match: Schema.Struct({
          mx: Schema.optional(Schema.Array(Schema.String)),
          provider: Schema.optional(Schema.Union([Schema.String, Schema.Array(Schema.String)]))
        }),
        ...Settings
      })
    )
  )
})

/**
 * What one route sets; absent fields fall back (rule, then default, then the caller's config).
 *
 * @category models
 * @since 0.1.0
 */
export interface Settings {
  readonly transport?: "direct" | "socks5" | undefined
  readonly proxy?: Proxy.Socks5Proxy | undefined
  readonly sources?: ReadonlyArray<SourcePool.Source> | undefined
  readonly selection?: SourcePool.SelectionName | undefined
  readonly helo?: string | undefined
  readonly mailFrom?: string | undefined
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Rule extends Settings {
  readonly name: string
  /** Lower-case suffixes, each starting with a dot; `.google.com` matches `google.com` too. */
  readonly suffixes: ReadonlyArray<string>
}

/**
 * Checked routing.
 *
 * @category models
 * @since 0.1.0
 */
export interface Routing {
  readonly default: Settings
  readonly rules: ReadonlyArray<Rule>
}

/**
 * No rules, no defaults: every host direct, from the system's address.
 *
 * @category constants
 * @since 0.1.0
 */
export const direct: Routing = { default: {}, rules: [] }

/**
 * Routing that cannot be used, and why (never a proxy password).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidRouting extends Schema.TaggedError<InvalidRouting>()("InvalidRouting", {
  message: Schema.String
}) {}

/** `*.google.com`, `.google.com` and `google.com` all mean the suffix `.google.com`. */
const suffix = (pattern: string) =>
  `.${pattern
    .trim()
    .toLowerCase()
    .replace(/^\*?\.?/, "")
    .replace(/\.$/, "")}`

const hostKey = (host: string) => `.${host.toLowerCase().replace(/\.$/, "")}`

/**
 * Checks routing as read from a file (JSON or YAML, already parsed).
 *
 * @category constructors
 * @since 0.1.0
 */
export const decode = (input: unknown): Result.Result<Routing, InvalidRouting> => {
  const fail = (message: string) => Result.fail(new InvalidRouting({ message }))
  const parsed = Schema.decodeUnknownResult(FileSchema)(input)
  if (Result.isFailure(parsed)) return fail(parsed.failure.message)
  const file = parsed.success
  const proxies = new Map<string, Proxy.Socks5Proxy>()
  for (const [name, url] of Object.entries(file.proxies ?? {})) {
    const proxy = Proxy.parse(url)
    if (Result.isFailure(proxy)) return fail(`proxy "${name}": ${proxy.failure.message}`)
    proxies.set(name, proxy.success)
  }
  const known = { ...providers, ...file.providers }
  type Given = typeof FileSchema.Type.default
  const settings = (where: string, given: Given): Result.Result<Settings, InvalidRouting> => {
    if (given === undefined) return Result.succeed({})
    let proxy: Proxy.Socks5Proxy | undefined
    if (given.proxy !== undefined) {
      const named = proxies.get(given.proxy)
      const parsed = named === undefined ? Proxy.parse(given.proxy) : Result.succeed(named)
      if (Result.isFailure(parsed)) {
        return fail(`${where}: proxy is neither a name from "proxies" nor a URL: ${parsed.failure.message}`)
      }
      proxy = parsed.success
    }
    // Names and addresses go into SMTP commands: they must be what RFC 5321 allows there.
    if (given.helo !== undefined && Address.parseDomain(given.helo)._tag === "Failure") {
      return fail(`${where}: helo ${JSON.stringify(given.helo)} is not a domain name or address literal`)
    }
    if (given.mailFrom !== undefined && given.mailFrom !== "" && Address.parse(given.mailFrom)._tag === "Failure") {
      return fail(`${where}: mailFrom ${JSON.stringify(given.mailFrom)} is not an address`)
    }
    const sources = given.sourceAddresses?.map((s) => (typeof s === "string" ? { address: s } : s))
    for (const source of sources ?? []) {
      const problem = SourcePool.validate(source)
      if (problem !== undefined) return fail(`${where}: ${problem}`)
    }
    return Result.succeed({
      transport: given.transport,
      proxy,
      sources,
      selection: given.selection,
      helo: given.helo,
      mailFrom: given.mailFrom
    })
  }
  const defaults = settings("default", file.default)
  if (Result.isFailure(defaults)) return Result.fail(defaults.failure)
  const rules: Array<Rule> = []
  for (const [index, rule] of (file.rules ?? []).entries()) {
    const name = rule.name ?? `rules[${index}]`
    if (name === "default" || rules.some((r) => r.name === name))
      return fail(`${name}: rule names must be unique, and not "default"`)
    const wanted = rule.match.provider === undefined ? [] : [rule.match.provider].flat()
    const unknown = wanted.filter((p) => known[p] === undefined)
    if (unknown.length > 0) return fail(`${name}: unknown provider "${unknown[0]}" (add it under "providers")`)
    const suffixes = [...(rule.match.mx ?? []), ...wanted.flatMap((p) => known[p]!)].map(suffix)
    if (suffixes.length === 0) return fail(`${name}: match needs "mx" suffixes or a "provider"`)
    const own = settings(name, rule)
    if (Result.isFailure(own)) return Result.fail(own.failure)
    rules.push({ name, suffixes, ...own.success })
  }
  return Result.succeed({ default: defaults.success, rules })
}

/**
 * Checks what only the whole (file and flags together) can tell: every `transport: socks5` has
 * a proxy, its own or the default's.
 *
 * @category constructors
 * @since 0.1.0
 */
export const check = (routing: Routing): Result.Result<Routing, InvalidRouting> => {
  for (const rule of [...routing.rules, undefined]) {
    const own = rule ?? routing.default
    if (own.transport === "socks5" && own.proxy === undefined && routing.default.proxy === undefined) {
      return Result.fail(new InvalidRouting({ message: `${rule?.name ?? "default"}: transport socks5 needs a proxy` }))
    }
  }
  return Result.succeed(routing)
}

/**
 * Routing whose default is the given settings where the routing leaves them out: how flags such
 * as `--proxy` and `--source-address` combine with a file.
 *
 * @category combinators
 * @since 0.1.0
 */
export const withDefaults = (routing: Routing, settings: Settings): Routing => ({
  ...routing,
  default: {
    ...Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)),
    ...Object.fromEntries(Object.entries(routing.default).filter(([, v]) => v !== undefined))
  }
})

/**
 * The route for an MX host: which rule, and its settings with the default's filled in.
 *
 * @category routing
 * @since 0.1.0
 */
export interface Resolved {
  /** The rule's name, or `default`. */
  readonly rule: string
  readonly proxy: Option.Option<Proxy.Socks5Proxy>
  readonly sources: ReadonlyArray<SourcePool.Source>
  readonly selection: SourcePool.SelectionName
  /** The rule's own EHLO name: it wins over a source's name. */
  readonly helo: Option.Option<string>
  /** The default's EHLO name: a source's own name wins over it. */
  readonly defaultHelo: Option.Option<string>
  readonly mailFrom: Option.Option<string>
}

/**
 * A rule's settings with the default's filled in; the default alone for `undefined`.
 *
 * @category routing
 * @since 0.1.0
 */
export const settle = (routing: Routing, rule: Rule | undefined): Resolved => {
  const d = routing.default
  const transport = rule?.transport ?? (rule?.proxy !== undefined ? "socks5" : undefined) ?? d.transport
  const proxy = transport === "direct" ? undefined : (rule?.proxy ?? d.proxy)
  return {
    rule: rule?.name ?? "default",
    proxy: Option.fromNullishOr(proxy),
    sources: rule?.sources ?? d.sources ?? [],
    selection: rule?.selection ?? d.selection ?? "round-robin",
    helo: Option.fromNullishOr(rule?.helo),
    defaultHelo: Option.fromNullishOr(d.helo),
    mailFrom: Option.fromNullishOr(rule?.mailFrom ?? d.mailFrom)
  }
}

/**
 * The first rule whose suffix the host name ends with (case-insensitive, trailing dot ignored);
 * the default when none does.
 *
 * @category routing
 * @since 0.1.0
 */
export const resolve = (routing: Routing, mxHost: string): Resolved => {
  const key = hostKey(mxHost)
  return settle(
    routing,
    routing.rules.find((r) => r.suffixes.some((s) => key.endsWith(s)))
  )
}
