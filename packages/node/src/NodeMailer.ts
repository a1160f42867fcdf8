/**
 * The mailer on Node.js: the TCP/TLS transport and HMAC-MD5 (for CRAM-MD5) from `node:crypto`.
 * Here, in the platform package, so that @rcpt/mailer stays free of Node: a front end provides
 * the transport by choosing this layer.
 *
 * @since 0.1.0
 */
import { Layer } from "effect"
import * as Crypto from "node:crypto"
import * as Os from "node:os"
import type { Routing } from "@rcpt/client"
import { Mailer, type MailerConfig } from "@rcpt/mailer"
import * as NodeResolver from "./NodeResolver.ts"
import * as NodeRouting from "./NodeRouting.ts"
import * as NodeSmtpTransport from "./NodeSmtpTransport.ts"

/**
 * HMAC-MD5 (RFC 2104) from `node:crypto`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const hmacMd5 = (key: Uint8Array, data: Uint8Array): Uint8Array =>
  new Uint8Array(Crypto.createHmac("md5", key).update(data).digest())

/**
 * Every config field, and the routing options (a SOCKS5 proxy, source addresses, rules keyed by
 * the server's host name; a rule's `mailFrom` does not apply: the message's envelope says who
 * sends). The EHLO name defaults to this host's name; a source address's own name wins over it.
 *
 * @category models
 * @since 0.1.0
 */
export type Options = Partial<MailerConfig.MailerConfig> & NodeRouting.Options & { readonly host: string }

/**
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options: Options
): Layer.Layer<Mailer.Mailer, MailerConfig.InvalidConfig | Routing.InvalidRouting> => {
  const { proxy, sourceAddresses, selection, routing, ...config } = options
  return Mailer.layer({ hmacMd5, ...config, clientName: config.clientName ?? Os.hostname() }).pipe(
    Layer.provide(
      NodeRouting.layer({ proxy, sourceAddresses, selection, routing }).pipe(Layer.provide(NodeResolver.layer()))
    ),
    Layer.provide(NodeSmtpTransport.layer)
  )
}
