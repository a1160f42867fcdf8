/**
 * The mail world, re-exported from `@rcpt/demo` (where it lives so that the CLI can load it without this test kit).
 *
 * @since 0.1.0
 */
export * from "@rcpt/demo/MailWorld"
