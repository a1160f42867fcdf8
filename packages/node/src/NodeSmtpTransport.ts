/**
 * The `SmtpTransport` for Node.js: a dial step, then `NodeConnection` over the socket it gives.
 *
 * The dial step follows the connect options: straight to the host, or through the SOCKS5 proxy
 * given (`NodeSocks5`), bound to the local address given either way (`NodeDialer`). With `tls` in
 * the options (implicit TLS, port 465) the handshake runs before `connect` returns; a failed one
 * fails the connect with `TlsHandshake`. This module and the ones it names are the only places in
 * rcpt that touch sockets.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import type { Scope } from "effect"
import { SmtpTransport, type ConnectOptions, type TransportError } from "@rcpt/client/SmtpTransport"
import * as Connection from "./NodeConnection.ts"
import * as NodeDialer from "./NodeDialer.ts"
import * as NodeSocks5 from "./NodeSocks5.ts"

/**
 * @category constants
 * @since 0.1.0
 */
export const highWaterMark = Connection.highWaterMark

/**
 * @category constants
 * @since 0.1.0
 */
export const lowWaterMark = Connection.lowWaterMark

/**
 * @category models
 * @since 0.1.0
 */
export type NodeConnection = Connection.NodeConnection

/**
 * Dials as the options say: direct or through the proxy, from the local address given.
 *
 * @category constructors
 * @since 0.1.0
 */
export const dial = (options: ConnectOptions): Effect.Effect<Connection.Dialled, TransportError, Scope.Scope> =>
  options.proxy !== undefined
    ? NodeSocks5.dial(options.proxy, options)
    : Effect.map(NodeDialer.tcp(options), (socket) => ({
        socket,
        remote: { address: socket.remoteAddress ?? options.host, port: socket.remotePort ?? options.port }
      }))

/**
 * Opens a connection; the scope closing destroys it.
 *
 * @category constructors
 * @since 0.1.0
 */
export const connect: (options: ConnectOptions) => Effect.Effect<NodeConnection, TransportError, Scope.Scope> =
  Effect.fn("NodeSmtpTransport.connect")(function* (options: ConnectOptions) {
    const conn = yield* Effect.flatMap(dial(options), Connection.fromSocket)
    if (options.tls !== undefined) yield* conn.upgradeTls(options.tls)
    return conn
  })

/**
 * The Node.js transport.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make: Effect.Effect<SmtpTransport["Service"]> = Effect.succeed(SmtpTransport.of({ connect }))

/**
 * The Node.js transport as a layer.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<SmtpTransport> = Layer.effect(SmtpTransport, make)
