/**
 * Which mailbox provider or security gateway receives a domain's mail, recognised from its MX host names.
 *
 * A 250 from Microsoft 365 or Yahoo proves little (they accept every RCPT and bounce later), and a security gateway
 * (Proofpoint, Mimecast, Barracuda, Cisco...) answers for a mailbox server behind it, so a verdict is worth more with
 * the name of who answered. The table is data (`data/providers.json`): users add entries or drop built-in ones
 * with {@link make}. Matching is pure: no DNS, only the host names the caller already has.
 *
 * @example
 * ```ts
 * import { Providers } from "@rcpt/signals"
 *
 * Providers.recognize(["contoso-com.mail.protection.outlook.com"])
 * // Some({ id: "microsoft-365", kind: "mailbox-provider", acceptsAll: true, ... })
 * ```
 *
 * @since 0.1.0
 */
import { Option } from "effect"
import { requireData } from "./internal/data.ts"

/**
 * A mailbox provider hosts the mailboxes; a security gateway filters mail and passes it on to them.
 *
 * @category models
 * @since 0.1.0
 */
export type ProviderKind = "mailbox-provider" | "security-gateway"

/**
 * One entry of the table. `mxSuffixes` are DNS suffixes matched at a label boundary: `mail.protection.outlook.com`
 * matches `contoso-com.mail.protection.outlook.com` and the name itself, not `evilmail.protection.outlook.com`. When
 * suffixes of several entries match, the longest wins (`olc.protection.outlook.com` before a shorter one).
 *
 * @category models
 * @since 0.1.0
 */
export interface Provider {
  /** Stable, lower-case identifier, e.g. `microsoft-365`. */
  readonly id: string
  readonly name: string
  readonly kind: ProviderKind
  /** Its MX answers 250 to every RCPT, so an accepted RCPT says nothing about the mailbox. */
  readonly acceptsAll: boolean
  readonly mxSuffixes: ReadonlyArray<string>
  /** Example host names and sources. */
  readonly note?: string | undefined
}

/**
 * What {@link Providers.recognize} found: the provider, and the MX host that named it.
 *
 * @category models
 * @since 0.1.0
 */
export interface Recognized {
  readonly id: string
  readonly name: string
  readonly kind: ProviderKind
  readonly acceptsAll: boolean
  readonly mxHost: string
}

/**
 * Built-in entries to replace or drop, and entries to add. An added entry with a built-in `id` replaces it.
 *
 * @category models
 * @since 0.1.0
 */
export interface ProvidersConfig {
  readonly add?: Iterable<Provider>
  /** Built-in ids to drop, compared case-insensitively. */
  readonly remove?: Iterable<string>
}

/**
 * The lookups, built once by {@link make}.
 *
 * @category models
 * @since 0.1.0
 */
export interface Providers {
  readonly entries: ReadonlyArray<Provider>
  /** The provider for one MX host name; case-insensitive, a trailing dot ignored. */
  readonly byHost: (mxHost: string) => Option.Option<Provider>
  /** The provider of the first MX host (in the order given, preference order) that names one. */
  readonly recognize: (mxHosts: Iterable<string>) => Option.Option<Recognized>
}

const kinds: ReadonlyArray<ProviderKind> = ["mailbox-provider", "security-gateway"]

const isProvider = (value: unknown): value is Provider => {
  if (typeof value !== "object" || value === null) return false
  const p = value as Record<string, unknown>
  return (
    typeof p["id"] === "string" &&
    typeof p["name"] === "string" &&
    kinds.includes(p["kind"] as ProviderKind) &&
    typeof p["acceptsAll"] === "boolean" &&
    Array.isArray(p["mxSuffixes"]) &&
    p["mxSuffixes"].every((s) => typeof s === "string") &&
    (p["note"] === undefined || typeof p["note"] === "string")
  )
}

let table: ReadonlyArray<Provider> | undefined

/**
 * The table shipped in `data/providers.json`, read on first use (not when the module is imported).
 *
 * @category constants
 * @since 0.1.0
 */
export const builtIn = (): ReadonlyArray<Provider> => {
  if (table !== undefined) return table
  const value: unknown = requireData("./data/providers.json")
  if (!Array.isArray(value) || !value.every(isProvider)) {
    throw new TypeError(
      "@rcpt/signals: data/providers.json is not a list of { id, name, kind, acceptsAll, mxSuffixes }"
    )
  }
  return (table = value)
}

const normalise = (host: string): string => {
  const h = host.trim().toLowerCase()
  const trimmed = h.endsWith(".") ? h.slice(0, -1) : h
  return trimmed.startsWith(".") ? trimmed.slice(1) : trimmed
}

/**
 * Builds the suffix index from the built-in table and the config.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (config: ProvidersConfig = {}): Providers => {
  const removed = new Set(Array.from(config.remove ?? [], (id) => id.toLowerCase()))
  const byId = new Map<string, Provider>()
  for (const p of builtIn()) if (!removed.has(p.id.toLowerCase())) byId.set(p.id.toLowerCase(), p)
  for (const p of config.add ?? []) byId.set(p.id.toLowerCase(), p)
  const entries = [...byId.values()]
  const suffixes = new Map<string, Provider>()
  for (const p of entries) {
    for (const s of p.mxSuffixes) {
      const suffix = normalise(s)
      if (suffix !== "") suffixes.set(suffix, p)
    }
  }
  // The host itself, then each parent: the first hit is the longest matching suffix.
  const byHost = (mxHost: string): Option.Option<Provider> => {
    let host = normalise(mxHost)
    while (host !== "") {
      const p = suffixes.get(host)
      if (p !== undefined) return Option.some(p)
      const dot = host.indexOf(".")
      host = dot === -1 ? "" : host.slice(dot + 1)
    }
    return Option.none()
  }
  const recognize = (mxHosts: Iterable<string>): Option.Option<Recognized> => {
    for (const mxHost of mxHosts) {
      const found = byHost(mxHost)
      if (Option.isSome(found)) {
        const { id, name, kind, acceptsAll } = found.value
        return Option.some({ id, name, kind, acceptsAll, mxHost: normalise(mxHost) })
      }
    }
    return Option.none()
  }
  return { entries, byHost, recognize }
}

let memo: Providers | undefined

/**
 * The built-in table, indexed on first use and shared afterwards.
 *
 * @category constructors
 * @since 0.1.0
 */
export const defaultProviders = (): Providers => (memo ??= make())

/**
 * {@link Providers.recognize} with the built-in table.
 *
 * @category recognition
 * @since 0.1.0
 */
export const recognize = (mxHosts: Iterable<string>): Option.Option<Recognized> => defaultProviders().recognize(mxHosts)
