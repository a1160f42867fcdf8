/**
 * The transport a session runs over: a scoped connection with write, read and a STARTTLS upgrade.
 *
 * This is the only I/O the protocol needs, so it is the seam for tests: a Node implementation
 * (TCP/TLS, in @rcpt/node) and a scripted in-memory one (in @rcpt/testing) pass one conformance
 * suite. Closing the scope closes the connection, whatever happened.
 *
 * @since 0.1.0
 */
import { Context, Schema } from "effect"
import type { Duration, Effect, Option, Scope } from "effect"
import type { Session } from "@rcpt/smtp"
import type { Socks5Proxy } from "./Proxy.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface ConnectOptions {
  /** The IP address (or host name) to dial. */
  readonly host: string
  readonly port: number
  readonly timeout: Duration.Input
  /** Implicit TLS (RFC 8314, port 465): the handshake right after connecting, before any SMTP. */
  readonly tls?: TlsOptions | undefined
  /** The local address to send from (a source address of this host); the system's choice if absent. */
  readonly localAddress?: string | undefined
  /**
   * Reach the host through this SOCKS5 proxy. `localAddress` then binds the connection to the
   * proxy; the server sees the proxy's address.
   */
  readonly proxy?: Socks5Proxy | undefined
}

/**
 * How to check the server's certificate during STARTTLS.
 *
 * @category models
 * @since 0.1.0
 */
export interface TlsOptions {
  readonly servername: string
  /** Fail the handshake on a bad certificate. Off for opportunistic TLS: MX certificates are often wrong. */
  readonly rejectUnauthorized: boolean
  /** Extra trusted roots (PEM), e.g. a test CA. */
  readonly ca?: ReadonlyArray<string> | undefined
  readonly timeout: Duration.Input
}

/**
 * An open connection. `read` gives `None` once the peer has closed its side.
 *
 * @category models
 * @since 0.1.0
 */
export interface Connection {
  readonly remote: { readonly address: string; readonly port: number }
  /** This side's address and port, when the transport knows them (what the server sees, unless NAT). */
  readonly local?: { readonly address: string; readonly port: number } | undefined
  readonly write: (bytes: Uint8Array) => Effect.Effect<void, TransportError>
  readonly read: Effect.Effect<Option.Option<Uint8Array>, TransportError>
  readonly upgradeTls: (options: TlsOptions) => Effect.Effect<Session.TlsInfo, TransportError>
}

/**
 * @category models
 * @since 0.1.0
 */
export const TransportErrorReason = Schema.Literals([
  "ConnectionRefused",
  "ConnectTimeout",
  "HostUnreachable",
  "ConnectionReset",
  "TlsHandshake",
  "Write",
  "Read",
  "Closed",
  "Unknown",
  /** `localAddress` is not an address of this host (or is already taken). */
  "LocalAddressUnavailable",
  /** The proxy itself cannot be reached. */
  "ProxyUnavailable",
  /** The proxy refused the request (RFC 1928 replies 1, 2, 7, 8). */
  "ProxyRefused",
  /** The proxy refused our credentials (RFC 1929), or wants a method we do not offer. */
  "ProxyAuthFailed",
  /** The proxy could not reach the host (RFC 1928 replies 3 to 6). */
  "ProxyTargetUnreachable",
  /** The proxy answered the handshake with something that is not SOCKS5, or hung up during it. */
  "ProxyProtocol",
  /** The proxy did not finish the handshake in time. */
  "ProxyTimeout"
])

/**
 * @category models
 * @since 0.1.0
 */
export type TransportErrorReason = typeof TransportErrorReason.Type

/**
 * Whether the failure is the proxy's (or the proxy's report about the host), not the host's own.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isProxyReason = (reason: TransportErrorReason): boolean => reason.startsWith("Proxy")

/**
 * A connection that could not be opened, or broke.
 *
 * @category errors
 * @since 0.1.0
 */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  reason: TransportErrorReason,
  message: Schema.String,
  host: Schema.optional(Schema.String),
  port: Schema.optional(Schema.Number)
}) {
  /** Every transport failure may pass: another try, or another MX host, may do better. */
  get isRetryable(): boolean {
    return true
  }
}

/**
 * @category services
 * @since 0.1.0
 */
export class SmtpTransport extends Context.Service<
  SmtpTransport,
  {
    readonly connect: (options: ConnectOptions) => Effect.Effect<Connection, TransportError, Scope.Scope>
  }
>()("@rcpt/client/SmtpTransport") {}
