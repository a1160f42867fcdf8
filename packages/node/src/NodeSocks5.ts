/**
 * The SOCKS5 dialler: a TCP connection to the proxy (from a chosen local address if asked), then
 * the SOCKS5 handshake (RFC 1928, with RFC 1929 user/password) asking it to connect to the SMTP
 * server. Both run within the one connect timeout.
 *
 * The handshake is the `socks` package's (well kept, used by most Node proxy agents); we give it
 * our own connected socket, so binding, timeouts and the scope stay ours. Its failures, which it
 * reports as messages from its `ERRORS` table, become `TransportError`s with `Proxy*` reasons.
 *
 * @since 0.1.0
 */
import { Duration, Effect } from "effect"
import type { Scope } from "effect"
import * as Dns from "node:dns/promises"
import * as Net from "node:net"
import type { Socks5Proxy } from "@rcpt/client/Proxy"
import * as Proxy from "@rcpt/client/Proxy"
import { TransportError, type TransportErrorReason } from "@rcpt/client/SmtpTransport"
import { describe, endpoint, hold, type Dialled } from "./NodeConnection.ts"
import * as NodeDialer from "./NodeDialer.ts"

/**
 * The `socks` package's messages we tell apart (its `ERRORS` table, which its index does not
 * export). The hostile-proxy tests fail if they change.
 */
const ERRORS = {
  Socks5AuthenticationFailed: "Socks5 Authentication failed",
  InvalidSocks5InitialHandshakeNoAcceptedAuthType:
    "Received invalid Socks5 initial handshake (no accepted authentication type)",
  InvalidSocks5FinalHandshakeRejected: "Socks5 proxy rejected connection",
  ProxyConnectionTimedOut: "Proxy connection timed out"
} as const

/** RFC 1928 replies 3 to 6: the proxy is fine, the host is not reachable from it. */
const unreachable = ["NetworkUnreachable", "HostUnreachable", "ConnectionRefused", "TTLExpired"]

/**
 * The reason for a failed handshake, from the `socks` package's message.
 *
 * @category errors
 * @since 0.1.0
 */
export const handshakeReason = (message: string): TransportErrorReason => {
  if (message.startsWith(ERRORS.Socks5AuthenticationFailed)) return "ProxyAuthFailed"
  // The proxy accepts none of the methods offered: with no credentials, it wants some.
  if (message.startsWith(ERRORS.InvalidSocks5InitialHandshakeNoAcceptedAuthType)) return "ProxyAuthFailed"
  if (message.startsWith(ERRORS.InvalidSocks5FinalHandshakeRejected)) {
    const code = message.slice(ERRORS.InvalidSocks5FinalHandshakeRejected.length).replace(/^\s*-\s*/, "")
    return unreachable.includes(code) ? "ProxyTargetUnreachable" : "ProxyRefused"
  }
  if (message.startsWith(ERRORS.ProxyConnectionTimedOut)) return "ProxyTimeout"
  return "ProxyProtocol"
}

/** A connect failure to the proxy itself is the proxy's unavailability; a bad source address stays one. */
const proxyConnectReason = (reason: TransportErrorReason): TransportErrorReason =>
  reason === "LocalAddressUnavailable" ? reason : "ProxyUnavailable"

/**
 * Connects to `host:port` through the proxy; the scope closing destroys the socket.
 *
 * @category constructors
 * @since 0.1.0
 */
export const dial: (
  proxy: Socks5Proxy,
  target: NodeDialer.Target
) => Effect.Effect<Dialled, TransportError, Scope.Scope> = Effect.fn("NodeSocks5.dial")(function* (
  proxy: Socks5Proxy,
  target: NodeDialer.Target
) {
  const { host, port } = target
  const error = NodeDialer.failure(host, port, `${endpoint(host, port)} via ${Proxy.format(proxy)}`)
  return yield* Effect.gen(function* () {
    // With local resolution the proxy gets an address; with resolution at the proxy, the name.
    const destination =
      Net.isIP(host) !== 0 || proxy.resolve === "proxy"
        ? host
        : yield* Effect.tryPromise({
            try: () => Dns.lookup(host).then((r) => r.address),
            catch: (cause) => error("HostUnreachable", `cannot resolve ${host}: ${describe(cause)}`)
          })
    const socket = yield* NodeDialer.tcp({
      host: proxy.host,
      port: proxy.port,
      localAddress: target.localAddress,
      timeout: target.timeout
    }).pipe(
      Effect.mapError((e) =>
        error(proxyConnectReason(e.reason), `proxy ${endpoint(proxy.host, proxy.port)}: ${e.message}`)
      )
    )
    // Loaded on the first proxied dial: `socks` and `ip-address` would otherwise weigh on every start.
    const { SocksClient } = yield* Effect.promise(() => import("socks"))
    const held = yield* Effect.callback<Dialled["held"], TransportError>((resume) => {
      SocksClient.createConnection({
        command: "connect",
        destination: { host: destination, port },
        proxy: {
          host: proxy.host,
          port: proxy.port,
          type: 5,
          ...(proxy.username !== undefined ? { userId: proxy.username, password: proxy.password ?? "" } : {})
        },
        // Ours below is the one that counts; this only keeps the library's timer from outliving it.
        timeout: Duration.toMillis(Duration.fromInputUnsafe(target.timeout)) + 1000,
        existing_socket: socket
      }).then(
        // Runs before the library re-emits bytes that came with its reply (in a setImmediate).
        (established) => resume(Effect.succeed(hold(established.socket))),
        (cause: unknown) => {
          const message = describe(cause)
          resume(Effect.fail(error(handshakeReason(message), `SOCKS5 handshake failed: ${message}`)))
        }
      )
      // Interrupted (the timeout): destroying the socket ends the handshake; the scope does it.
      return Effect.sync(() => socket.destroy())
    })
    return { socket, remote: { address: host, port }, held } satisfies Dialled
  }).pipe(
    NodeDialer.within(target.timeout, (after) =>
      error("ProxyTimeout", `connect through the proxy timed out after ${after}`)
    )
  )
})
