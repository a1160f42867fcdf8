/**
 * The dial step: a TCP connection to a host, from a chosen local address if asked, within the
 * connect timeout. What talks over the socket afterwards is `NodeConnection`'s.
 *
 * @since 0.1.0
 */
import { Duration, Effect } from "effect"
import type { Scope } from "effect"
import * as Net from "node:net"
import { TransportError, type TransportErrorReason } from "@rcpt/client/SmtpTransport"
import { describe, endpoint, errorCode } from "./NodeConnection.ts"

/**
 * Where to connect: a host (address or name) and port, and the local address to bind.
 *
 * @category models
 * @since 0.1.0
 */
export interface Target {
  readonly host: string
  readonly port: number
  readonly localAddress?: string | undefined
  readonly timeout: Duration.Input
}

/**
 * The reason for a failed TCP connect, from the Node error code.
 *
 * @category errors
 * @since 0.1.0
 */
export const connectReason = (error: unknown, bound: boolean): TransportErrorReason => {
  switch (errorCode(error)) {
    case "ECONNREFUSED":
      return "ConnectionRefused"
    case "ECONNRESET":
      return "ConnectionReset"
    case "ETIMEDOUT":
      return "ConnectTimeout"
    case "EADDRNOTAVAIL":
    case "EADDRINUSE":
    case "EINVAL":
      // With a local address these mean the address is not ours (or has no free port).
      return bound ? "LocalAddressUnavailable" : "HostUnreachable"
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "HostUnreachable"
    default:
      return "Unknown"
  }
}

const ignore = () => {}

/**
 * How a dial step fails: a `TransportError` with its reason, for the target `host:port`, its
 * message ending with `where` (the target, the local address, the proxy) so logs say which
 * connection it was.
 *
 * @category errors
 * @since 0.3.0
 */
export const failure =
  (host: string, port: number, where: string) =>
  (reason: TransportErrorReason, message: string): TransportError =>
    new TransportError({ reason, message: `${message} (${where})`, host, port })

/**
 * A dial step within the connect timeout: when it takes longer it is interrupted (its finalisers
 * destroy the socket) and fails with `onTimeout` of the timeout as text ("5s").
 *
 * @category combinators
 * @since 0.3.0
 */
export const within =
  (timeout: Duration.Input, onTimeout: (after: string) => TransportError) =>
  <A, E, R>(step: Effect.Effect<A, E, R>): Effect.Effect<A, E | TransportError, R> =>
    Effect.timeoutOrElse(step, {
      duration: timeout,
      orElse: () => Effect.fail(onTimeout(Duration.format(Duration.fromInputUnsafe(timeout))))
    })

/**
 * Opens a TCP connection and waits until it is established; the scope closing destroys it. Errors
 * name the target (`host:port`, and the local address when one was asked for).
 *
 * @category constructors
 * @since 0.1.0
 */
export const tcp: (target: Target) => Effect.Effect<Net.Socket, TransportError, Scope.Scope> = Effect.fn(
  "NodeDialer.tcp"
)(function* (target: Target) {
  const { host, port, localAddress } = target
  const where = localAddress === undefined ? endpoint(host, port) : `${endpoint(host, port)} from ${localAddress}`
  const error = failure(host, port, where)
  const socket = yield* Effect.acquireRelease(
    Effect.sync(() => {
      const socket = Net.connect({ host, port, ...(localAddress !== undefined ? { localAddress } : {}) })
      // Errors before the connection takes the socket over, and after it is destroyed, are
      // reported by the connect below (or no longer matter): never an unhandled 'error'.
      socket.on("error", ignore)
      return socket
    }),
    (socket) => Effect.sync(() => socket.destroy())
  )
  yield* Effect.callback<void, TransportError>((resume) => {
    const done = () => {
      socket.off("connect", onConnect)
      socket.off("error", onError)
      socket.off("close", onClose)
    }
    const onConnect = () => {
      done()
      resume(Effect.void)
    }
    const onError = (cause: Error) => {
      done()
      resume(Effect.fail(error(connectReason(cause, localAddress !== undefined), `connect failed: ${describe(cause)}`)))
    }
    const onClose = () => {
      done()
      resume(Effect.fail(error("ConnectionReset", "connect failed: closed before connecting")))
    }
    socket.once("connect", onConnect)
    socket.once("error", onError)
    socket.once("close", onClose)
    return Effect.sync(done)
  }).pipe(
    within(target.timeout, (after) => error("ConnectTimeout", `connect timed out after ${after}`)),
    Effect.onError(() => Effect.sync(() => socket.destroy()))
  )
  return socket
})
