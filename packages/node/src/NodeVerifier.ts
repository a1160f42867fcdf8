/**
 * The verifier on Node.js, ready to use: TCP/TLS transport, DNS (the system's resolver or the
 * name servers given), and the config with the host's name as the default EHLO name.
 *
 * @since 0.1.0
 */
import { Config, Effect, Layer } from "effect"
import * as Os from "node:os"
import { Verifier, VerifierConfig } from "@rcpt/verifier"
import * as NodeResolver from "./NodeResolver.ts"
import * as NodeSmtpTransport from "./NodeSmtpTransport.ts"

/**
 * Every config field, plus the DNS servers to ask (`ip` or `ip:port`; the system's by default).
 *
 * @category models
 * @since 0.1.0
 */
export interface Options extends Partial<VerifierConfig.VerifierConfig> {
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
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<Verifier.Verifier, VerifierConfig.InvalidConfig> => {
  const { dnsServers, ...config } = options
  return Verifier.layer.pipe(
    Layer.provide([VerifierConfig.layer({ ...config, helo: config.helo ?? hostName() }), platform(dnsServers)])
  )
}

/**
 * `RCPT_DNS_SERVERS` (comma-separated `ip` or `ip:port`), read from the `ConfigProvider` like the
 * verifier's own variables (`VerifierConfig.config`); empty when unset.
 *
 * @category config
 * @since 0.2.0
 */
export const dnsServersConfig: Config.Config<ReadonlyArray<string>> = Config.String("RCPT_DNS_SERVERS").pipe(
  Config.withDefault(""),
  Config.map((text) =>
    text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
  )
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
