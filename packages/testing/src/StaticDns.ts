/**
 * A static DNS zone for tests, written the way zone files read: MX, A, AAAA and null MX per name.
 * Built on effect/net's `Dns.layerStatic`; nothing is resolved over the network.
 *
 * @since 0.1.0
 */
import type { Layer } from "effect"
import { Dns, Host, NetAddress } from "effect/net"

/**
 * @category models
 * @since 0.1.0
 */
export interface NameSpec {
  /** `[preference, exchange]`; exchange "." is a null MX. */
  readonly mx?: ReadonlyArray<readonly [number, string]>
  readonly a?: ReadonlyArray<string>
  readonly aaaa?: ReadonlyArray<string>
}

/**
 * @category models
 * @since 0.1.0
 */
export type Zone = Readonly<Record<string, NameSpec>>

/**
 * The records of a zone, for `Dns.layerStatic`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const records = (zone: Zone): Record<string, ReadonlyArray<Dns.DnsRecord>> =>
  Object.fromEntries(
    Object.entries(zone).map(([name, spec]) => [
      name,
      [
        ...(spec.mx ?? []).map(([priority, exchange]) =>
          Dns.makeRecordUnsafe("MX", { exchange: Host.domainNameFromStringUnsafe(exchange), priority })
        ),
        ...(spec.a ?? []).map((ip) =>
          Dns.makeRecordUnsafe("A", { address: NetAddress.ipFromStringUnsafe(ip) as NetAddress.Ipv4Address })
        ),
        ...(spec.aaaa ?? []).map((ip) =>
          Dns.makeRecordUnsafe("AAAA", { address: NetAddress.ipFromStringUnsafe(ip) as NetAddress.Ipv6Address })
        )
      ]
    ])
  )

/**
 * A `Dns` layer answering from the zone: a name not in it does not exist.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (zone: Zone): Layer.Layer<Dns.Dns, NetAddress.NetAddressError> =>
  Dns.layerStatic({ records: records(zone) })
