/**
 * @rcpt/signals: risk signals about an address that need no SMTP conversation.
 *
 * @since 0.1.0
 */

/**
 * Mailbox providers and security gateways recognised from MX host names.
 *
 * @category modules
 * @since 0.1.0
 */
export * as Providers from "./Providers.ts"

/**
 * Disposable and free-provider domains, role accounts, domain typos and accept-all MX providers.
 *
 * @category modules
 * @since 0.1.0
 */
export * as Signals from "./Signals.ts"
