/**
 * @rcpt/demo: the in-process mail world (an authoritative DNS server and SMTP servers on loopback) behind
 * `rcpt demo`, in a package of its own so that the CLI loads it, and its server libraries, only for `demo`.
 * `@rcpt/testing` re-exports it for integration tests.
 *
 * @since 0.1.0
 */
export * as MailWorld from "./MailWorld.ts"
