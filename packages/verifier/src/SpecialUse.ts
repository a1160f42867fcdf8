/**
 * Special-use domain names (RFC 6761, RFC 6762, RFC 7686, RFC 8375) and special-purpose IP
 * addresses (RFC 6890, the IANA registries): names that no public mail server serves and
 * addresses that are not reachable across the Internet. The verifier refuses both unless allowed
 * (test worlds allow theirs: `.test` on 127.0.0.0/8), so that a public-facing verifier cannot be
 * pointed at `localhost`, an intranet host or a cloud metadata address.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import { NetAddress } from "effect/net"

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

type Range = readonly [prefix: ReadonlyArray<number>, bits: number]

// IANA IPv4 special-purpose registry entries not covered by NetAddress's own predicates
// (loopback, private, link-local, multicast, broadcast, unspecified).
const v4Ranges: ReadonlyArray<Range> = [
  [[0], 8], // "this network"
  [[100, 64], 10], // shared address space (carrier-grade NAT), RFC 6598
  [[192, 0, 0], 24], // IETF protocol assignments
  [[192, 0, 2], 24], // TEST-NET-1
  [[198, 18], 15], // benchmarking
  [[198, 51, 100], 24], // TEST-NET-2
  [[203, 0, 113], 24], // TEST-NET-3
  [[240], 4] // reserved
]

// IPv6: documentation, ORCHID, discard-only, and the IPv4/IPv6 translation prefixes.
const v6Ranges: ReadonlyArray<Range> = [
  [[0x2001, 0x0db8], 32], // documentation
  [[0x2001, 0x0010], 28], // ORCHID
  [[0x2001, 0x0020], 28], // ORCHIDv2
  [[0x0100], 64], // discard-only
  [[0x0064, 0xff9b, 0x0001], 48] // local-use IPv4/IPv6 translation
]

const inRange = (parts: ReadonlyArray<number>, partBits: number, [prefix, bits]: Range): boolean => {
  let left = bits
  for (let i = 0; left > 0; i++) {
    const take = Math.min(partBits, left)
    const shift = partBits - take
    if (parts[i]! >> shift !== (prefix[i] ?? 0) >> shift) return false
    left -= take
  }
  return true
}

/**
 * Whether mail could be delivered to this IP address across the Internet: false for loopback,
 * private (RFC 1918), link-local, unique-local, multicast, documentation, CGNAT and other
 * special-purpose addresses, and for anything that is not an IP address.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isGloballyRoutable = (ip: string): boolean => {
  const parsed = NetAddress.ipFromString(ip)
  if (Result.isFailure(parsed)) return false
  const address = parsed.success
  if (
    NetAddress.isLoopback(address) ||
    NetAddress.isUnspecified(address) ||
    NetAddress.isLinkLocal(address) ||
    NetAddress.isMulticast(address)
  ) {
    return false
  }
  if (NetAddress.isIpv4Address(address)) {
    if (NetAddress.isPrivate(address) || NetAddress.isBroadcast(address)) return false
    const octets = NetAddress.ipv4ToOctets(address)
    return !v4Ranges.some((r) => inRange(octets, 8, r))
  }
  if (NetAddress.isUniqueLocal(address)) return false
  const segments = NetAddress.ipv6ToSegments(address)
  if (NetAddress.isIpv4Mapped(address)) {
    return isGloballyRoutable(`${segments[6]! >> 8}.${segments[6]! & 255}.${segments[7]! >> 8}.${segments[7]! & 255}`)
  }
  return !v6Ranges.some((r) => inRange(segments, 16, r))
}
