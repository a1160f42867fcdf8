/**
 * @rcpt/node: Node.js layers for rcpt: the TCP/TLS SMTP transport and DNS.
 *
 * @since 0.1.0
 */
export * as NodeResolver from "./NodeResolver.ts"
export * as NodeSmtpTransport from "./NodeSmtpTransport.ts"
export * as NodeVerifier from "./NodeVerifier.ts"
