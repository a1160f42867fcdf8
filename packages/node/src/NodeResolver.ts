/**
 * The `Dns` service for Node.js, with optional name servers, timeout and tries.
 *
 * Built on `NodeDns.make` from `@effect/platform-node`. Record queries (`resolve(name, "MX")`,
 * `"A"`, `"AAAA"`, `"TXT"`, ...) and reverse lookups go to the configured name servers. `lookup`
 * does not: it uses the operating system resolver (`getaddrinfo`, hosts file included) and ignores
 * `nameServers`. rcpt resolves MX hosts with `resolve(name, "A" | "AAAA")`, so the whole
 * verification follows the configured servers.
 *
 * @since 0.1.0
 */
// The module, not the package barrel: the barrel loads every platform module (HTTP, sockets, workers) at start.
import * as NodeDns from "@effect/platform-node/NodeDns"
import { Layer } from "effect"
import type { Duration } from "effect"
import { Dns } from "effect/net"

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** `"ip"` or `"ip:port"` (`"[v6]:port"` for IPv6). Empty or absent: the system's name servers. */
  readonly nameServers?: ReadonlyArray<string> | undefined
  /** Per attempt. */
  readonly timeout?: Duration.Input | undefined
  /** Attempts per name server. */
  readonly tries?: number | undefined
}

/**
 * A `Dns` layer. The resolver lives as long as the layer; closing it cancels pending queries.
 *
 * **Gotchas**
 *
 * An invalid name server (a host name, a bad port, an IPv6 address with a zone) is a defect when
 * the layer is built: validate user input before it gets here.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<Dns.Dns> =>
  Layer.effect(
    Dns.Dns,
    NodeDns.make({
      ...(options.nameServers !== undefined ? { nameServers: options.nameServers } : {}),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      ...(options.tries !== undefined ? { tries: options.tries } : {})
    })
  ).pipe(Layer.orDie)
