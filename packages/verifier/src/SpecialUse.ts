/**
 * Special-use domain names (RFC 6761, RFC 6762, RFC 7686, RFC 8375) and special-purpose IP
 * addresses (RFC 6890, the IANA registries, as `TargetPolicy` reads them): names that no public mail server serves and
 * addresses that are not reachable across the Internet. The verifier refuses both unless allowed
 * (test worlds allow theirs: `.test` on 127.0.0.0/8), so that a public-facing verifier cannot be
 * pointed at `localhost`, an intranet host or a cloud metadata address.
 *
 * @since 0.1.0
 */
import * as TargetPolicy from "./TargetPolicy.ts"

/**
 * The special-use top-level names and second-level domains, lower case, without dots around.
 * `test`, `example`, `invalid`, `localhost` (RFC 6761), `local` (RFC 6762, mDNS), `onion`
 * (RFC 7686), `home.arpa` (RFC 8375), and `example.com/net/org` (RFC 6761 §6.5).
 *
 * @category constants
 * @since 0.1.0
 */
export const specialUseNames: ReadonlyArray<string> = [
  "test",
  "example",
  "invalid",
  "localhost",
  "local",
  "onion",
  "home.arpa",
  "example.com",
  "example.net",
  "example.org"
]

const bare = (name: string): string => name.toLowerCase().replace(/\.$/, "")

/**
 * The special-use name a domain falls under (itself or a parent), if any.
 *
 * @category predicates
 * @since 0.1.0
 */
export const specialUseName = (domain: string): string | undefined => {
  const name = bare(domain)
  return specialUseNames.find((s) => name === s || name.endsWith(`.${s}`))
}

/**
 * Whether `domain` is `suffix` or below it (`"a.b.test"` is under `"test"` and `"b.test"`).
 *
 * @category predicates
 * @since 0.1.0
 */
export const isUnder = (domain: string, suffix: string): boolean => {
  const name = bare(domain)
  const s = bare(suffix).replace(/^\./, "")
  return name === s || name.endsWith(`.${s}`)
}

/**
 * Whether mail could be delivered to this IP address across the Internet: false for loopback,
 * private (RFC 1918), link-local, unique-local, multicast, documentation, CGNAT and other
 * special-purpose addresses, and for anything that is not an IP address.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isGloballyRoutable = (ip: string): boolean =>
  // The same registry the dialler refuses by default: one table of special-purpose ranges.
  TargetPolicy.judge(TargetPolicy.strict, ip)._tag === "Allowed"
