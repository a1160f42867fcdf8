/**
 * Risk signals about an address that need no SMTP conversation: whether its domain is disposable or a free mailbox
 * provider, whether its local part names a role rather than a person, whether its domain looks like a typo of a major
 * provider's, whether its MX belongs to a provider known to answer 250 to every RCPT, and which mailbox provider or
 * security gateway its MX hosts belong to (see {@link Providers}).
 *
 * The lists come from npm packages (see this package's README for which and why) and from small curated files in
 * `data/`. {@link make} builds the lookup tables once; keep the result and reuse it.
 *
 * Domains are expected as ASCII (A-labels), but every lookup lower-cases, trims and drops one trailing dot anyway.
 *
 * @since 0.1.0
 */
import { Option } from "effect"
import { requireData } from "./internal/data.ts"
import { distance } from "./internal/distance.ts"
import { normaliseDomain, normaliseLocalPart } from "./internal/normalise.ts"
import * as Providers from "./Providers.ts"

/**
 * Additions to and removals from one of the built-in lists. An entry in both `add` and `remove` is removed.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListConfig {
  readonly add?: Iterable<string>
  readonly remove?: Iterable<string>
}

/**
 * Adjustments to the built-in lists. Removals match exact entries (after normalising case): removing a subdomain of a
 * listed disposable domain does not unlist it, since the parent still matches.
 *
 * @category models
 * @since 0.1.0
 */
export interface SignalsConfig {
  readonly disposable?: ListConfig
  readonly free?: ListConfig
  readonly role?: ListConfig
  readonly acceptAll?: {
    readonly add?: Iterable<AcceptAllProvider>
    /** Provider names, compared case-insensitively. */
    readonly remove?: Iterable<string>
  }
  /** Entries added to or dropped from the provider table (`data/providers.json`). */
  readonly providers?: Providers.ProvidersConfig
}

/**
 * A mail provider whose MX accepts every RCPT, so that a 250 from it says nothing about the mailbox.
 *
 * `mxSuffix` is a DNS suffix matched at a label boundary: `.mail.protection.outlook.com` (the leading dot is optional)
 * matches `contoso-com.mail.protection.outlook.com` and not `evilmail.protection.outlook.com`.
 *
 * @category models
 * @since 0.1.0
 */
export interface AcceptAllProvider {
  readonly name: string
  readonly mxSuffix: string
  readonly why: string
}

/**
 * The lookups, built once by {@link make}.
 *
 * @category models
 * @since 0.1.0
 */
export interface Signals {
  /** The domain, or a domain it is a subdomain of, is a disposable-address service. O(labels) Set lookups. */
  readonly isDisposable: (domain: string) => boolean
  /** The domain is a free mailbox provider (exact match, no subdomains). */
  readonly isFreeProvider: (domain: string) => boolean
  /** The local part names a role (`info`, `admin`, `no-reply`, `postmaster`...); case-insensitive, `+tag` ignored. */
  readonly isRoleAccount: (localPart: string) => boolean
  /**
   * A major provider's domain when this one is one or two typing slips away from it and not a known domain itself.
   * With `{ resolves: false }` (the domain has no mail hosts in DNS, so it is no real mail domain) one more slip is
   * allowed in the first label: `gmaiiil.com` is then corrected too. See {@link SuggestOptions}.
   */
  readonly suggestDomain: (domain: string, options?: SuggestOptions) => Option.Option<string>
  /** The accept-all provider whose suffix the MX host ends with; case-insensitive, trailing dot ignored. */
  readonly acceptAllProvider: (mxHost: string) => Option.Option<AcceptAllProvider>
  /** The mailbox provider or security gateway of the first MX host (in the order given) that names one. */
  readonly provider: (mxHosts: Iterable<string>) => Option.Option<Providers.Recognized>
}

/**
 * What the caller knows about the domain when asking for a suggestion.
 *
 * | `resolves` | first label of a target (5+ characters / 4 or fewer) | total distance |
 * | --- | --- | --- |
 * | `true` or omitted | 1 / 0 edits | 1 or 2 |
 * | `false` | 2 / 1 edits | 1 to 3 |
 *
 * Two slips in the label reach real domains (`eastmail.com` for fastmail.com), so they are only suggested for a domain
 * that takes no mail anyway: NXDOMAIN, no MX and no address, MX hosts without addresses, or a null MX.
 *
 * @category models
 * @since 0.1.0
 */
export interface SuggestOptions {
  /** Whether the domain has mail hosts in DNS; unknown counts as `true`. */
  readonly resolves?: boolean | undefined
}

/**
 * Every signal for one address.
 *
 * @category models
 * @since 0.1.0
 */
export interface DomainSignals {
  readonly disposable: boolean
  readonly freeProvider: boolean
  readonly roleAccount: boolean
  readonly suggestion: Option.Option<string>
}

// A string is itself an Iterable<string>: `add: "foo.com"` means the one domain, not its characters.
const entries = (value: Iterable<string> | undefined): Iterable<string> =>
  value === undefined ? [] : typeof value === "string" ? [value] : value

const stringList = (value: unknown, source: string): ReadonlyArray<string> => {
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === "string")) {
    throw new TypeError(`@rcpt/signals: ${source} is not a list of strings`)
  }
  return value
}

// The packaged lists are normalised already (a test checks the pinned versions): taken as they are, the sets build in
// a third of the time (about 10 ms of every `rcpt verify`). What a config adds or removes is normalised here.
const buildSet = (
  base: ReadonlyArray<string>,
  config: ListConfig | undefined,
  normalise: (s: string) => string
): ReadonlySet<string> => {
  const set = new Set<string>(base)
  for (const entry of entries(config?.add)) set.add(normalise(entry))
  for (const entry of entries(config?.remove)) set.delete(normalise(entry))
  set.delete("")
  return set
}

// The domain itself, then each parent: `a.b.example.com`, `b.example.com`, `example.com`, `com`.
const matchesOrParent = (set: ReadonlySet<string>, domain: string): boolean => {
  let d = domain
  for (;;) {
    if (set.has(d)) return true
    const dot = d.indexOf(".")
    if (dot === -1) return false
    d = d.slice(dot + 1)
  }
}

// Persons' names that role-based-email-addresses lists as roles.
const roleExclusions = ["alexa", "gardner"]

const loadAcceptAll = (): ReadonlyArray<AcceptAllProvider> => {
  const value: unknown = requireData("./data/accept-all-providers.json")
  if (
    !Array.isArray(value) ||
    !value.every(
      (p) =>
        typeof p === "object" &&
        p !== null &&
        typeof p.name === "string" &&
        typeof p.mxSuffix === "string" &&
        typeof p.why === "string"
    )
  ) {
    throw new TypeError("@rcpt/signals: data/accept-all-providers.json is not a list of { name, mxSuffix, why }")
  }
  return value
}

const normaliseSuffix = (suffix: string): string => {
  const s = normaliseDomain(suffix)
  return s.startsWith(".") ? s.slice(1) : s
}

interface TypoData {
  readonly targets: ReadonlyArray<string>
  readonly known: ReadonlyArray<string>
  readonly suffixTypos: Readonly<Record<string, ReadonlyArray<string>>>
}

const loadTypoData = (): TypoData => {
  const value: unknown = requireData("./data/typo-domains.json")
  const source = "data/typo-domains.json"
  if (typeof value !== "object" || value === null) throw new TypeError(`@rcpt/signals: ${source} is not an object`)
  const record = value as Record<string, unknown>
  const typos = record["suffixTypos"]
  if (typeof typos !== "object" || typos === null) throw new TypeError(`@rcpt/signals: ${source} has no suffixTypos`)
  const suffixTypos: Record<string, ReadonlyArray<string>> = {}
  for (const [suffix, list] of Object.entries(typos)) suffixTypos[suffix] = stringList(list, `${source} suffixTypos`)
  return {
    targets: stringList(record["targets"], `${source} targets`),
    known: stringList(record["known"], `${source} known`),
    suffixTypos
  }
}

interface Target {
  readonly domain: string
  readonly label: string
  // How many edits the first label may take: none for short labels (`aol`, `live`: too many real domains lie one
  // edit away), else one. Two would reach real domains (`eastmail`, `dostmail` for `fastmail`, `horizon` for
  // `verizon`), so a distance of two is one slip in the label plus one in the suffix (`gmial.con`).
  readonly labelBudget: number
}

const maxSuggestionDistance = 2
// For a domain with no mail hosts: one more slip, in the label or in all.
const looseExtra = 1

// Targets by the suffix an input may end with: the target's own (cost 0) and its known typos (cost 1), in the order
// of the targets list so that on a tie the more common provider wins.
type TargetIndex = ReadonlyMap<string, ReadonlyArray<readonly [target: Target, suffixCost: number]>>

const indexTargets = (data: TypoData): TargetIndex => {
  const index = new Map<string, Array<readonly [Target, number]>>()
  const add = (suffix: string, target: Target, cost: number) => {
    const list = index.get(suffix)
    if (list === undefined) index.set(suffix, [[target, cost]])
    else list.push([target, cost])
  }
  for (const raw of data.targets) {
    const domain = normaliseDomain(raw)
    const dot = domain.indexOf(".")
    const label = domain.slice(0, dot)
    const suffix = domain.slice(dot + 1)
    const target: Target = { domain, label, labelBudget: label.length <= 4 ? 0 : 1 }
    add(suffix, target, 0)
    for (const typo of data.suffixTypos[suffix] ?? []) add(normaliseDomain(typo), target, 1)
  }
  return index
}

// The input's first label is compared with each target's, and the rest must be the target's suffix or a typo of it:
// `mail.gmial.com` is not corrected, since a subdomain of a typo is not a slip.
const suggest = (
  index: TargetIndex,
  known: ReadonlySet<string>,
  domain: string,
  options: SuggestOptions | undefined
): Option.Option<string> => {
  const d = normaliseDomain(domain)
  const dot = d.indexOf(".")
  if (dot <= 0 || known.has(d)) return Option.none()
  const extra = options?.resolves === false ? looseExtra : 0
  const maxDistance = maxSuggestionDistance + extra
  const label = d.slice(0, dot)
  let best: string | undefined
  let bestCost = maxDistance + 1
  for (const [target, suffixCost] of index.get(d.slice(dot + 1)) ?? []) {
    const budget = Math.min(target.labelBudget + extra, maxDistance - suffixCost)
    const edits = distance(label, target.label, budget)
    if (edits > budget) continue
    const cost = edits + suffixCost
    // Strictly lower: on a tie the target listed first wins.
    if (cost > 0 && cost < bestCost) {
      best = target.domain
      bestCost = cost
    }
  }
  return best === undefined ? Option.none() : Option.some(best)
}

/**
 * Builds the lookup tables: about 9,000 disposable domains, 4,800 free-provider domains and 1,000 role names. The
 * first call parses the lists (about 15 ms; they stay in Node's `require` cache, 1.4 MiB with the first tables); each
 * call indexes them afresh (a few ms, about 0.6 MiB), so build once and keep the result, or use {@link defaultSignals}.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (config: SignalsConfig = {}): Signals => {
  const disposableApi = requireData("disposable-email-domains-js") as typeof import("disposable-email-domains-js")
  const freeApi = requireData("free-email-domains-typescript") as typeof import("free-email-domains-typescript")

  const disposable = buildSet(
    stringList(disposableApi.disposableEmailBlocklist(), "disposable-email-domains-js"),
    config.disposable,
    normaliseDomain
  )
  const free = buildSet(
    stringList(freeApi.freeEmailDomains, "free-email-domains-typescript"),
    config.free,
    normaliseDomain
  )
  const roleBase = stringList(requireData("role-based-email-addresses"), "role-based-email-addresses").filter(
    (role) => !roleExclusions.includes(role)
  )
  const role = buildSet(roleBase, config.role, normaliseLocalPart)

  const removedProviders = new Set(Array.from(entries(config.acceptAll?.remove), (name) => name.toLowerCase()))
  const acceptAll = new Map<string, AcceptAllProvider>()
  for (const provider of [...loadAcceptAll(), ...(config.acceptAll?.add ?? [])]) {
    const suffix = normaliseSuffix(provider.mxSuffix)
    if (suffix !== "" && !removedProviders.has(provider.name.toLowerCase())) acceptAll.set(suffix, provider)
  }

  // The built-in table is shared; a config of its own gets its own index.
  const providers = config.providers === undefined ? Providers.defaultProviders() : Providers.make(config.providers)

  const typoData = loadTypoData()
  const targets = indexTargets(typoData)
  const known = new Set<string>([
    ...typoData.targets.map(normaliseDomain),
    ...typoData.known.map(normaliseDomain),
    ...Array.from(entries(config.free?.add), normaliseDomain)
  ])

  return {
    isDisposable: (domain) => {
      const d = normaliseDomain(domain)
      return d !== "" && matchesOrParent(disposable, d)
    },
    isFreeProvider: (domain) => free.has(normaliseDomain(domain)),
    isRoleAccount: (localPart) => role.has(normaliseLocalPart(localPart)),
    suggestDomain: (domain, options) => suggest(targets, known, domain, options),
    acceptAllProvider: (mxHost) => {
      let host = normaliseDomain(mxHost)
      while (host !== "") {
        const provider = acceptAll.get(host)
        if (provider !== undefined) return Option.some(provider)
        const dot = host.indexOf(".")
        if (dot === -1) break
        host = host.slice(dot + 1)
      }
      return Option.none()
    },
    provider: (mxHosts) => providers.recognize(mxHosts)
  }
}

let memo: Signals | undefined

/**
 * The signals with no configuration, built on first use and shared afterwards.
 *
 * @category constructors
 * @since 0.1.0
 */
export const defaultSignals = (): Signals => (memo ??= make())

/**
 * Every signal for one address, from its local part and its domain.
 *
 * @category evaluation
 * @since 0.1.0
 */
export const evaluate = (
  signals: Signals,
  localPart: string,
  domain: string,
  options?: SuggestOptions
): DomainSignals => ({
  disposable: signals.isDisposable(domain),
  freeProvider: signals.isFreeProvider(domain),
  roleAccount: signals.isRoleAccount(localPart),
  suggestion: signals.suggestDomain(domain, options)
})
