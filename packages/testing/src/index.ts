/**
 * @rcpt/testing: the test kit for rcpt: a scripted SMTP transport, a static DNS zone, and an
 * in-process mail world (DNS and SMTP servers on loopback) and a SOCKS5 proxy that can misbehave. The transport conformance suite
 * imports vitest, so it is not in this barrel: import `@rcpt/testing/TransportSuite`.
 *
 * @since 0.1.0
 */
export * as MailWorld from "@rcpt/demo/MailWorld"
export * as Postgres from "./Postgres.ts"
export * as RcptProcess from "./RcptProcess.ts"
export * as SeededRandom from "./SeededRandom.ts"
export * as ScriptedTransport from "./ScriptedTransport.ts"
export * as Socks5Server from "./Socks5Server.ts"
export * as StaticDns from "./StaticDns.ts"
