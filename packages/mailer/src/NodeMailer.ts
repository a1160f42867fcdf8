/**
 * The mailer on Node.js: the TCP/TLS transport from @rcpt/node and HMAC-MD5 (for CRAM-MD5) from
 * `node:crypto`. It lives here, not in @rcpt/node, so that @rcpt/node does not depend on the
 * mailer and the verifier's users do not install nodemailer.
 *
 * @since 0.1.0
 */
import { Layer } from "effect"
import * as Crypto from "node:crypto"
import * as Os from "node:os"
import * as NodeSmtpTransport from "@rcpt/node/NodeSmtpTransport"
import * as Mailer from "./Mailer.ts"
import type * as MailerConfig from "./MailerConfig.ts"

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
