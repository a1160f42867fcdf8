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
import { Mailer, type MailerConfig } from "@rcpt/mailer"
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
 * Every config field; the EHLO name defaults to this host's name.
 *
 * @category models
 * @since 0.1.0
 */
export type Options = Partial<MailerConfig.MailerConfig> & { readonly host: string }

/**
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<Mailer.Mailer, MailerConfig.InvalidConfig> =>
  Mailer.layer({ hmacMd5, ...options, clientName: options.clientName ?? Os.hostname() }).pipe(
    Layer.provide(NodeSmtpTransport.layer)
  )
