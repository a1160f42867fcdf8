/**
 * Which IP addresses the verifier may dial: none in the special-purpose ranges of the IANA IPv4
 * and IPv6 Special-Purpose Address Registries (RFC 6890) unless the user opened them.
 *
 * A verifier that dials whatever a domain's MX/A/AAAA records name is a server-side request
 * forgery tool: anyone who controls a domain's DNS can point it at 127.0.0.1, 10/8, the cloud
 * metadata address 169.254.169.254 or fc00::/7 and read the internal server's banner in the
 * result. So the default refuses those ranges, and `allow` (the `--allow-target` CIDRs) opens
 * what a deployment really needs (loopback for the demo and tests).
 *
 * IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible, IPv4-translated, the
 * NAT64 well-known prefix, 6to4, Teredo) are judged by the IPv4 address they carry: dialling
 * `::ffff:127.0.0.1` reaches 127.0.0.1.
 *
 * Pure: parsing and matching by `ipaddr.js` (a well-kept parser; hand-written CIDR code is where
 * such checks usually fail), the registry table by hand because no library carries it with the
 * names and RFCs a refusal should cite.
 *
 * @since 0.1.0
 */
import { Data, Result } from "effect"
import ipaddr from "ipaddr.js"

/**
 * One special-purpose block, as the IANA registry names it.
 *
 * @category models
 * @since 0.1.0
 */
export interface SpecialRange {
  readonly cidr: string
  readonly name: string
  readonly rfc: string
  /** IPv6 blocks that carry an IPv4 address: judged by that address, not refused outright. */
  readonly embeds?: "last32" | "6to4" | "teredo" | undefined
}

/**
 * IANA IPv4 Special-Purpose Address Registry (entries not globally reachable), plus multicast
 * (RFC 5771). The AS112/AMT/PCP/TURN anycast entries are globally reachable and not listed; the
 * narrower entries inside 192.0.0.0/24 are covered by it.
 *
 * @category constants
 * @since 0.1.0
 */
export const ipv4Special: ReadonlyArray<SpecialRange> = [
  { cidr: "0.0.0.0/8", name: '"This network"', rfc: "RFC 791" },
  { cidr: "10.0.0.0/8", name: "Private-Use", rfc: "RFC 1918" },
  { cidr: "100.64.0.0/10", name: "Shared Address Space", rfc: "RFC 6598" },
  { cidr: "127.0.0.0/8", name: "Loopback", rfc: "RFC 1122" },
  { cidr: "169.254.0.0/16", name: "Link Local", rfc: "RFC 3927" },
  { cidr: "172.16.0.0/12", name: "Private-Use", rfc: "RFC 1918" },
  { cidr: "192.0.0.0/24", name: "IETF Protocol Assignments", rfc: "RFC 6890" },
  { cidr: "192.0.2.0/24", name: "Documentation (TEST-NET-1)", rfc: "RFC 5737" },
  { cidr: "192.88.99.0/24", name: "Deprecated (6to4 Relay Anycast)", rfc: "RFC 7526" },
  { cidr: "192.168.0.0/16", name: "Private-Use", rfc: "RFC 1918" },
  { cidr: "198.18.0.0/15", name: "Benchmarking", rfc: "RFC 2544" },
  { cidr: "198.51.100.0/24", name: "Documentation (TEST-NET-2)", rfc: "RFC 5737" },
  { cidr: "203.0.113.0/24", name: "Documentation (TEST-NET-3)", rfc: "RFC 5737" },
  { cidr: "224.0.0.0/4", name: "Multicast", rfc: "RFC 5771" },
  { cidr: "255.255.255.255/32", name: "Limited Broadcast", rfc: "RFC 8190" },
  { cidr: "240.0.0.0/4", name: "Reserved", rfc: "RFC 1112" }
]

/**
 * IANA IPv6 Special-Purpose Address Registry (entries not globally reachable, and the
 * IPv4-embedding blocks), multicast, and everything outside global unicast 2000::/3 (reserved by
 * the IETF in the IPv6 Address Space registry). First match wins: narrow entries come first.
 *
 * @category constants
 * @since 0.1.0
 */
export const ipv6Special: ReadonlyArray<SpecialRange> = [
  { cidr: "::/128", name: "Unspecified Address", rfc: "RFC 4291" },
  { cidr: "::1/128", name: "Loopback Address", rfc: "RFC 4291" },
  { cidr: "::ffff:0:0/96", name: "IPv4-mapped Address", rfc: "RFC 4291", embeds: "last32" },
  { cidr: "::/96", name: "IPv4-compatible Address (deprecated)", rfc: "RFC 4291", embeds: "last32" },
  { cidr: "::ffff:0:0:0/96", name: "IPv4-translated Address", rfc: "RFC 2765", embeds: "last32" },
  { cidr: "64:ff9b::/96", name: "IPv4-IPv6 Translation", rfc: "RFC 6052", embeds: "last32" },
  { cidr: "64:ff9b:1::/48", name: "Local-use IPv4/IPv6 Translation", rfc: "RFC 8215" },
  { cidr: "100::/64", name: "Discard-Only Address Block", rfc: "RFC 6666" },
  { cidr: "100:0:0:1::/64", name: "Dummy IPv6 Prefix", rfc: "RFC 9780" },
  { cidr: "2001::/32", name: "TEREDO", rfc: "RFC 4380", embeds: "teredo" },
  { cidr: "2001::/23", name: "IETF Protocol Assignments", rfc: "RFC 2928" },
  { cidr: "2001:db8::/32", name: "Documentation", rfc: "RFC 3849" },
  { cidr: "2002::/16", name: "6to4", rfc: "RFC 3056", embeds: "6to4" },
  { cidr: "3fff::/20", name: "Documentation", rfc: "RFC 9637" },
  { cidr: "5f00::/16", name: "Segment Routing (SRv6) SIDs", rfc: "RFC 9602" },
  { cidr: "fc00::/7", name: "Unique-Local", rfc: "RFC 4193" },
  { cidr: "fe80::/10", name: "Link-Local Unicast", rfc: "RFC 4291" },
  { cidr: "ff00::/8", name: "Multicast", rfc: "RFC 4291" },
  { cidr: "::/0", name: "Reserved by IETF (outside global unicast 2000::/3)", rfc: "RFC 4291" }
]

type Ip = ipaddr.IPv4 | ipaddr.IPv6

/**
 * Parsed on first use, not when the module loads: ipaddr.js's IPv6 parser is slow its first few
 * times (large regular expressions, compiled and warmed up), 10-20 ms every `rcpt` start would
 * pay. `::/0` stands for "not in 2000::/3": matched by hand below.
 */
const lazily = <A>(make: () => A): (() => A) => {
  let value: { readonly a: A } | undefined
  return () => (value ??= { a: make() }).a
}
const parsed = (ranges: ReadonlyArray<SpecialRange>) =>
  ranges.map((range) => ({ range, net: ipaddr.parseCIDR(range.cidr) }))
const v4Table = lazily(() => parsed(ipv4Special))
const v6Table = lazily(() => parsed(ipv6Special))
const globalUnicast = lazily(() => ipaddr.IPv6.parseCIDR("2000::/3"))

/**
 * A CIDR block opened with `--allow-target`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Cidr {
  /** As written normalised (`127.0.0.0/8`, `::1/128`). */
  readonly text: string
  readonly net: readonly [Ip, number]
}

/**
 * A `--allow-target` value that is not a CIDR block (or a single address).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidCidr extends Data.TaggedError("InvalidCidr")<{
  readonly input: string
  readonly message: string
}> {}

/**
 * Reads `10.1.0.0/16`, `::1/128`, or a bare address (as /32 or /128). IPv4 in dotted-quad form
 * only (`127.1` or `0x7f.0.0.1` are refused: they mean different things to different parsers).
 *
 * @category parsing
 * @since 0.1.0
 */
export const parseCidr = (input: string): Result.Result<Cidr, InvalidCidr> => {
  const text = input.trim()
  const [address = "", bits, ...rest] = text.split("/")
  const ip = parseAddress(address)
  const invalid = (why: string) =>
    Result.fail(new InvalidCidr({ input, message: `${JSON.stringify(input)} is not a CIDR block: ${why}` }))
  if (ip === undefined || rest.length > 0) return invalid("expected address/prefix, e.g. 127.0.0.0/8 or ::1/128")
  const max = ip.kind() === "ipv4" ? 32 : 128
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN
  if (!(prefix >= 0 && prefix <= max)) return invalid(`the prefix length must be 0 to ${max}`)
  const network = ipaddr.parse(
    ip.kind() === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(`${ip.toString()}/${prefix}`).toString()
      : ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/${prefix}`).toString()
  )
  return Result.succeed({ text: `${network.toString()}/${prefix}`, net: [network, prefix] })
}

/**
 * Strict parse: dotted-quad IPv4 or IPv6 (zone ids dropped), else undefined. A dotted-quad tail
 * of an IPv6 address is turned into hex first: ipaddr.js reads `::a.b.c.d` as `::ffff:a.b.c.d`.
 */
const parseAddress = (text: string): Ip | undefined => {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text)
  if (!text.includes(":")) return undefined
  const tail = /^(.*:)([^:%]+)(%.*)?$/.exec(text)
  let v6 = text
  if (tail !== null && tail[2]!.includes(".")) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(tail[2]!)) return undefined
    const [a, b, c, d] = ipaddr.IPv4.parse(tail[2]!).octets as [number, number, number, number]
    v6 = `${tail[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}${tail[3] ?? ""}`
  }
  return ipaddr.IPv6.isValid(v6) ? ipaddr.IPv6.parse(v6) : undefined
}

/**
 * Which targets may be dialled besides global unicast: the blocks in `allow`.
 *
 * @category models
 * @since 0.1.0
 */
export interface TargetPolicy {
  readonly allow: ReadonlyArray<Cidr>
}

/**
 * Builds a policy from CIDR texts, failing on the first that does not parse.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (allow: Iterable<string>): Result.Result<TargetPolicy, InvalidCidr> =>
  Result.all(Array.from(allow, parseCidr)).pipe(Result.map((cidrs) => ({ allow: cidrs })))

/** A constant policy, its blocks parsed when first read, like the tables above. */
const constant = (allow: ReadonlyArray<string>): TargetPolicy => {
  const cidrs = lazily(() => Result.getOrThrow(make(allow)).allow)
  return {
    get allow() {
      return cidrs()
    }
  }
}

/**
 * The default: every special-purpose range refused.
 *
 * @category constants
 * @since 0.1.0
 */
export const strict: TargetPolicy = { allow: [] }

/**
 * Loopback opened (127.0.0.0/8 and ::1): for the demo, tests and benches, whose servers listen there.
 *
 * @category constants
 * @since 0.1.0
 */
export const loopback: TargetPolicy = constant(["127.0.0.0/8", "::1/128"])

/**
 * Everything opened: the verifier dials whatever DNS says (the behaviour before this policy).
 *
 * @category constants
 * @since 0.1.0
 */
export const any: TargetPolicy = constant(["0.0.0.0/0", "::/0"])

/**
 * The judgement on one address: allowed, or refused with the range that refused it (and the IPv4
 * address an IPv6 form carries, when that was judged).
 *
 * @category models
 * @since 0.1.0
 */
export type Decision =
  | { readonly _tag: "Allowed" }
  | {
      readonly _tag: "Refused"
      readonly address: string
      readonly range: SpecialRange | undefined
      readonly embedded: { readonly address: string; readonly range: SpecialRange } | undefined
      /** For people and the result's `detail`: the address, the range, its registry name and RFC. */
      readonly detail: string
    }

const allowed: Decision = { _tag: "Allowed" }

const inRange = (ip: Ip, net: readonly [Ip, number]) => ip.kind() === net[0].kind() && ip.match(net[0], net[1])

const opened = (policy: TargetPolicy, ip: Ip) => policy.allow.some((c) => inRange(ip, c.net))

const describe = (range: SpecialRange) => `${range.cidr} (${range.name}, ${range.rfc})`

const special4 = (ip: ipaddr.IPv4) => v4Table().find((t) => inRange(ip, t.net))?.range

const special6 = (ip: ipaddr.IPv6) =>
  v6Table().find((t) => (t.range.cidr === "::/0" ? !inRange(ip, globalUnicast()) : inRange(ip, t.net)))?.range

/** The IPv4 address an embedding IPv6 block carries. */
const embeddedIn = (ip: ipaddr.IPv6, how: NonNullable<SpecialRange["embeds"]>): ipaddr.IPv4 => {
  const p = ip.parts
  const octets = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]
  switch (how) {
    case "last32":
      return new ipaddr.IPv4(octets(p[6]!, p[7]!))
    case "6to4":
      return new ipaddr.IPv4(octets(p[1]!, p[2]!))
    case "teredo":
      // The client's address, obfuscated by XOR with all ones (RFC 4380 §4).
      return new ipaddr.IPv4(octets(p[6]! ^ 0xffff, p[7]! ^ 0xffff))
  }
}

/**
 * Judges one address to dial (an IP address in text; anything else is refused, since only IP
 * addresses are ever dialled).
 *
 * @category judging
 * @since 0.1.0
 */
export const judge = (policy: TargetPolicy, address: string): Decision => {
  const ip = parseAddress(address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address)
  if (ip === undefined) {
    return {
      _tag: "Refused",
      address,
      range: undefined,
      embedded: undefined,
      detail: `${JSON.stringify(address)} is not an IP address in standard form: not dialled`
    }
  }
  if (opened(policy, ip)) return allowed
  const refused = (range: SpecialRange, embedded?: { address: string; range: SpecialRange }): Decision => ({
    _tag: "Refused",
    address,
    range,
    embedded,
    detail:
      embedded === undefined
        ? `${address} is in ${describe(range)}: a special-purpose range, not dialled (open it with --allow-target)`
        : `${address} is in ${describe(range)} and carries ${embedded.address}, in ${describe(embedded.range)}: a special-purpose range, not dialled (open it with --allow-target)`
  })
  if (ip instanceof ipaddr.IPv4) {
    const range = special4(ip)
    return range === undefined ? allowed : refused(range)
  }
  const range = special6(ip)
  if (range === undefined) return allowed
  if (range.embeds === undefined) return refused(range)
  const v4 = embeddedIn(ip, range.embeds)
  if (opened(policy, v4)) return allowed
  const inner = special4(v4)
  return inner === undefined ? allowed : refused(range, { address: v4.toString(), range: inner })
}

/**
 * Whether `address` may be dialled.
 *
 * @category judging
 * @since 0.1.0
 */
export const isAllowed = (policy: TargetPolicy, address: string): boolean => judge(policy, address)._tag === "Allowed"
