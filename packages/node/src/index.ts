/**
 * @rcpt/node: Node.js layers for rcpt: the SMTP transport (dial steps and the connection over a
 * socket), DNS, and the verifier and mailer ready to use.
 *
 * @since 0.1.0
 */
export * as NodeConnection from "./NodeConnection.ts"
export * as NodeDialer from "./NodeDialer.ts"
export * as NodeMailer from "./NodeMailer.ts"
export * as NodeResolver from "./NodeResolver.ts"
export * as NodeRouting from "./NodeRouting.ts"
export * as NodeSmtpTransport from "./NodeSmtpTransport.ts"
export * as NodeSocks5 from "./NodeSocks5.ts"
export * as NodeVerifier from "./NodeVerifier.ts"
