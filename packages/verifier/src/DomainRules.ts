/**
 * Per-domain and per-address rules decided before any lookup: allow lists (always
 * `deliverable`, nothing asked), deny lists (always `undeliverable`, nothing asked), and how deep
 * to check each domain: `syntax` only, `dns` (MX lookup, no SMTP), or `smtp` (the full check).
 *
 * Patterns, matched case-insensitively against the address's wire form (A-label domain):
 * - `alice@example.com`: that address;
 * - `example.com`: the domain and every subdomain (`mx.example.com`);
 * - `@example.com`: that domain only, no subdomains.
 *
 * The most specific pattern wins: an address over `@domain` over the longest `domain`; at equal
 * specificity, deny over allow.
 *
 * @since 0.1.0
 */

/**
 * How far to check: the address's syntax; also its domain's DNS; also its mail servers (SMTP).
 *
 * @category models
 * @since 0.1.0
 */
export type Depth = "syntax" | "dns" | "smtp"

/**
 * @category constants
 * @since 0.1.0
 */
export const depths: ReadonlyArray<Depth> = ["syntax", "dns", "smtp"]

/**
 * @category models
 * @since 0.1.0
 */
export interface DomainRules {
  readonly allow: ReadonlyArray<string>
  readonly deny: ReadonlyArray<string>
  /** Pattern -> depth (patterns as for the lists; address patterns are allowed too). */
  readonly depth: Readonly<Record<string, Depth>>
  /** For everything no `depth` pattern matches. */
  readonly defaultDepth: Depth
}

/**
 * No lists, full SMTP checks everywhere.
 *
 * @category constants
 * @since 0.1.0
 */
export const empty: DomainRules = { allow: [], deny: [], depth: {}, defaultDepth: "smtp" }

/**
 * What the rules say about one address.
 *
 * @category models
 * @since 0.1.0
 */
export interface Decision {
  /** `allow` / `deny`: the verdict is settled without asking anyone; `check`: check to `depth`. */
  readonly action: "allow" | "deny" | "check"
  readonly depth: Depth
  /** The pattern that decided `action` (allow or deny), for the evidence. */
  readonly pattern: string | null
}

const norm = (s: string) => s.trim().toLowerCase().replace(/\.$/, "")

/**
 * How specifically `pattern` matches `address` at `domain`: 0 no match; an address 3000; `@domain`
 * 2000; a domain 1000 + its length (longer, more specific).
 *
 * @category matching
 * @since 0.1.0
 */
export const specificity = (pattern: string, address: string, domain: string): number => {
  const p = norm(pattern)
  const d = norm(domain)
  if (p === "") return 0
  if (p.startsWith("@")) return p.slice(1) === d ? 2000 : 0
  if (p.includes("@")) return p === norm(address) ? 3000 : 0
  return d === p || d.endsWith(`.${p}`) ? 1000 + p.length : 0
}

const best = (patterns: ReadonlyArray<string>, address: string, domain: string) => {
  let found: { readonly pattern: string; readonly score: number } | undefined
  for (const pattern of patterns) {
    const score = specificity(pattern, address, domain)
    if (score > 0 && (found === undefined || score > found.score)) found = { pattern, score }
  }
  return found
}

const hasKeys = (record: object): boolean => {
  for (const _ in record) return true
  return false
}

const unruled: Readonly<Record<Depth, Decision>> = {
  syntax: { action: "check", depth: "syntax", pattern: null },
  dns: { action: "check", depth: "dns", pattern: null },
  smtp: { action: "check", depth: "smtp", pattern: null }
}

/**
 * The decision for `address` (wire form) at `domain` (A-label).
 *
 * @category matching
 * @since 0.1.0
 */
export const decide = (rules: DomainRules, address: string, domain: string): Decision => {
  // No rules at all (a bulk run's usual case, asked once per address): the default, made once.
  if (rules.allow.length === 0 && rules.deny.length === 0 && !hasKeys(rules.depth)) return unruled[rules.defaultDepth]
  const depthMatch = best(Object.keys(rules.depth), address, domain)
  const depth = depthMatch === undefined ? rules.defaultDepth : rules.depth[depthMatch.pattern]!
  const allow = best(rules.allow, address, domain)
  const deny = best(rules.deny, address, domain)
  if (deny !== undefined && (allow === undefined || deny.score >= allow.score)) {
    return { action: "deny", depth, pattern: deny.pattern }
  }
  if (allow !== undefined) return { action: "allow", depth, pattern: allow.pattern }
  return { action: "check", depth, pattern: null }
}

/**
 * Reads `pattern=depth` pairs (`example.com=dns,@big.example=syntax`), as the CLI and the
 * environment give them; `undefined` when one is malformed.
 *
 * @category parsing
 * @since 0.1.0
 */
export const parseDepths = (items: ReadonlyArray<string>): Record<string, Depth> | undefined => {
  const out: Record<string, Depth> = {}
  for (const item of items) {
    const [pattern, depth, ...rest] = item.split("=")
    if (pattern === undefined || norm(pattern) === "" || rest.length > 0) return undefined
    const d = depth?.trim().toLowerCase()
    if (!(depths as ReadonlyArray<string>).includes(d ?? "")) return undefined
    out[norm(pattern)] = d as Depth
  }
  return out
}
