/**
 * The verifier on Node.js, ready to use: TCP/TLS transport, DNS (the system's resolver or the
 * name servers given), the config with the host's name as the default EHLO name, and routing
 * (a SOCKS5 proxy, source addresses, rules per MX host: `NodeRouting`).
 *
 * @since 0.1.0
 */
import { Config, Effect, Layer, Option } from "effect"
import * as Os from "node:os"
import { Verifier, VerifierConfig } from "@rcpt/verifier"
import type { Bulk } from "@rcpt/verifier"
import type { Routing } from "@rcpt/client"
import * as NodeResolver from "./NodeResolver.ts"
import * as NodeRouting from "./NodeRouting.ts"
import * as NodeSmtpTransport from "./NodeSmtpTransport.ts"

/**
 * Every config field, the DNS servers to ask (`ip` or `ip:port`; the system's by default), and
 * the routing options (`proxy`, `sourceAddresses`, `selection`, `routing`).
 *
 * @category models
 * @since 0.1.0
 */
export interface Options extends Partial<VerifierConfig.VerifierConfig>, NodeRouting.Options {
  readonly dnsServers?: ReadonlyArray<string> | undefined
}

/**
 * This host's name: the default EHLO name. Use a name with matching reverse DNS in production.
 *
 * @category constructors
 * @since 0.1.0
 */
export const hostName = (): string => Os.hostname()

/**
 * The platform layers the verifier needs, without the config.
 *
 * @category layers
 * @since 0.1.0
 */
export const platform = (dnsServers?: ReadonlyArray<string>) =>
  Layer.mergeAll(
    NodeSmtpTransport.layer,
    NodeResolver.layer(dnsServers === undefined || dnsServers.length === 0 ? {} : { nameServers: dnsServers })
  )

/**
 * What the bulk engine runs on (`Bulk.Requirements`) with the routes in force: the transport, DNS,
 * config, routing (proxy, source addresses) and in-memory shared state. For callers of `Bulk`
 * itself, such as a cluster runner; {@link layer} builds the `Verifier` over it.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerRequirements = (
  options: Options = {}
): Layer.Layer<Bulk.Requirements, VerifierConfig.InvalidConfig | Routing.InvalidRouting> => {
  const { dnsServers, proxy, sourceAddresses, selection, routing, ...config } = options
  const base = platform(dnsServers)
  return Verifier.layerMemoryState.pipe(
    Layer.provideMerge(
      Layer.mergeAll(base, NodeRouting.layer({ proxy, sourceAddresses, selection, routing }).pipe(Layer.provide(base)))
    ),
    Layer.provideMerge(VerifierConfig.layer({ ...config, helo: config.helo ?? hostName() }))
  )
}

/**
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options: Options = {}
): Layer.Layer<Verifier.Verifier, VerifierConfig.InvalidConfig | Routing.InvalidRouting> =>
  Verifier.layerWithState.pipe(Layer.provide(layerRequirements(options)))

/**
 * `RCPT_DNS_SERVERS` (comma-separated `ip` or `ip:port`), read by the one reader
 * (`VerifierConfig.outerConfig`); empty when unset.
 *
 * @category config
 * @since 0.2.0
 */
export const dnsServersConfig: Config.Config<ReadonlyArray<string>> = Config.map(VerifierConfig.outerConfig, (texts) =>
  Option.match(texts.dnsServers, { onNone: () => [], onSome: VerifierConfig.list })
)

/**
 * The config from the environment (see `VerifierConfig.layerConfig`) plus `RCPT_DNS_SERVERS`
 * (comma-separated).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = Layer.unwrap(
  Effect.map(dnsServersConfig, (servers) =>
    Verifier.layer.pipe(Layer.provide([VerifierConfig.layerConfig(hostName()), platform(servers)]))
  )
)
