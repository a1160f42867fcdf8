/**
 * @rcpt/client: the SMTP transport service and the session driver, shared by verifying and sending.
 *
 * @since 0.1.0
 */
export * as PhaseTimeouts from "./PhaseTimeouts.ts"
export * as Proxy from "./Proxy.ts"
export * as Router from "./Router.ts"
export * as Routing from "./Routing.ts"
export * as SmtpClient from "./SmtpClient.ts"
export * as SmtpTransport from "./SmtpTransport.ts"
export * as SourcePool from "./SourcePool.ts"
