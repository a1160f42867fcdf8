/**
 * @rcpt/testing: the test kit for rcpt: a scripted SMTP transport and the transport conformance suite.
 *
 * @since 0.1.0
 */
export * as ScriptedTransport from "./ScriptedTransport.ts"
export * as TransportSuite from "./TransportSuite.ts"
export * as MailWorld from "./MailWorld.ts"
