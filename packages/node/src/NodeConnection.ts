/**
 * An SMTP `Connection` over any connected Node.js socket: the read queue, its bounds, the STARTTLS
 * upgrade and the TLS evidence. Every dialler (direct, SOCKS5, bound to a source address) hands
 * its socket here, so they all share this code.
 *
 * **Why not effect's `NodeSocket`**: its `reader.upgrade` returns `void`, so the TLS session's
 * `authorized`, `authorizationError`, protocol and cipher, which every verification records, cannot
 * be read. This module therefore wraps `node:net` and `node:tls` itself.
 *
 * **Details**
 *
 * - `read` hands out chunks as they arrive from an internal queue filled by `'data'` events. The
 *   socket is paused when more than 256 KiB is queued and resumed once the queue is under 64 KiB.
 *   A read only takes a chunk when it completes, so a read interrupted while waiting (the driver
 *   wraps each read in `Effect.timeoutOption`) consumes nothing.
 * - `read` gives `None` after the peer's FIN or after the socket closed, and keeps giving it;
 *   chunks that arrived before are delivered first.
 * - `write` completes when Node has flushed the bytes to the kernel.
 * - `upgradeTls` drops every plaintext byte still queued (RFC 3207: the session reset its parser
 *   and must see nothing sent before the handshake), then runs `tls.connect` over the raw socket.
 * - Closing the scope destroys the socket (and the TLS socket); our listeners go with the `'close'`.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Option } from "effect"
import type { Scope } from "effect"
import * as Net from "node:net"
import * as Tls from "node:tls"
import { TransportError, type Connection, type TlsOptions, type TransportErrorReason } from "@rcpt/client/SmtpTransport"
import type { Session } from "@rcpt/smtp"

/**
 * Above this many queued bytes the socket is paused.
 *
 * @category constants
 * @since 0.1.0
 */
export const highWaterMark = 256 * 1024

/**
 * Below this many queued bytes a paused socket is resumed.
 *
 * @category constants
 * @since 0.1.0
 */
export const lowWaterMark = 64 * 1024

/**
 * A snapshot of a connection's read queue, for tests and diagnostics.
 *
 * @category models
 * @since 0.1.0
 */
export interface Stats {
  readonly queuedBytes: number
  readonly paused: boolean
  readonly tls: boolean
}

/**
 * A `Connection` that also reports its read queue and its local end.
 *
 * @category models
 * @since 0.1.0
 */
export interface NodeConnection extends Connection {
  readonly stats: Effect.Effect<Stats>
  /** The local end of the socket: a source address, or the side facing the proxy. */
  readonly local: { readonly address: string; readonly port: number }
}

/**
 * A connected socket, as a dialler hands it over.
 *
 * @category models
 * @since 0.1.0
 */
export interface Dialled {
  readonly socket: Net.Socket
  /** Where the socket leads: the SMTP server (not a proxy in between). */
  readonly remote: { readonly address: string; readonly port: number }
  /** What arrived before this module listened (a proxy's reply may carry the greeting): see `hold`. */
  readonly held?: Held | undefined
}

/**
 * Stops holding a socket's early bytes and hands them over.
 *
 * @category models
 * @since 0.1.0
 */
export type Held = () => { readonly chunks: ReadonlyArray<Uint8Array>; readonly ended: boolean }

/**
 * Keeps what a flowing socket delivers until `fromSocket` listens: a SOCKS client resumes the
 * socket after its handshake, and bytes emitted with no listener would be lost.
 *
 * @category constructors
 * @since 0.1.0
 */
export const hold = (socket: Net.Socket): Held => {
  const chunks: Array<Uint8Array> = []
  let ended = false
  const onData = (chunk: Buffer) => chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  const onEnd = () => {
    ended = true
  }
  socket.on("data", onData)
  socket.on("end", onEnd)
  socket.on("close", onEnd)
  return () => {
    socket.off("data", onData)
    socket.off("end", onEnd)
    socket.off("close", onEnd)
    return { chunks, ended }
  }
}

interface State {
  readonly raw: Net.Socket
  tls: Tls.TLSSocket | undefined
  /** The socket reads and writes go to: `raw`, then `tls` once the handshake is done. */
  active: Net.Socket
  chunks: Array<Uint8Array>
  queued: number
  paused: boolean
  secure: boolean
  eof: boolean
  /** Set by the first error, or by the scope closing; later reads fail with it. */
  failure: TransportError | undefined
  /** The error or close that ended a handshake in progress. */
  pending: Error | undefined
  readonly waiters: Set<() => void>
}

/**
 * `host:port`, with brackets around an IPv6 address.
 *
 * @category formatting
 * @since 0.1.0
 */
export const endpoint = (host: string, port: number) => (Net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`)

/**
 * A Node error's `code` (`ECONNREFUSED`, ...), if it has one.
 *
 * @category errors
 * @since 0.1.0
 */
export const errorCode = (error: unknown): string | undefined => {
  const code = (error as { readonly code?: unknown } | null)?.code
  return typeof code === "string" ? code : undefined
}

/**
 * An error's message, whatever was thrown.
 *
 * @category errors
 * @since 0.1.0
 */
export const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const readReason = (error: unknown): TransportErrorReason => {
  const code = errorCode(error)
  return code === "ECONNRESET" || code === "EPIPE" ? "ConnectionReset" : "Read"
}

const ignore = () => {}

/**
 * Takes over a connected socket; the scope closing destroys it.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromSocket = (dialled: Dialled): Effect.Effect<NodeConnection, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { address: host, port } = dialled.remote
    const where = endpoint(host, port)
    const error = (reason: TransportErrorReason, message: string) =>
      new TransportError({ reason, message: `${message} (${where})`, host, port })

    const wake = (state: State) => {
      const waiters = [...state.waiters]
      state.waiters.clear()
      for (const waiter of waiters) waiter()
    }
    // Resolves at the next event of any kind; the caller looks at the state again.
    const changed = (state: State) =>
      Effect.callback<void>((resume) => {
        const waiter = () => resume(Effect.void)
        state.waiters.add(waiter)
        return Effect.sync(() => {
          state.waiters.delete(waiter)
        })
      })

    const push = (state: State, chunk: Uint8Array) => {
      state.chunks.push(chunk)
      state.queued += chunk.byteLength
      if (!state.paused && state.queued > highWaterMark) {
        state.paused = true
        state.active.pause()
      }
      wake(state)
    }
    const onData = (state: State) => (chunk: Buffer) =>
      push(state, new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    const handshaking = (state: State) => state.tls !== undefined && !state.secure
    const onEnd = (state: State) => () => {
      state.eof = true
      if (handshaking(state)) state.pending ??= new Error("connection closed by peer")
      wake(state)
    }
    const onError = (state: State) => (cause: Error) => {
      if (handshaking(state)) state.pending ??= cause
      else if (!state.eof) state.failure ??= error(readReason(cause), `read failed: ${describe(cause)}`)
      wake(state)
    }

    // One set of listeners per socket, so that they can be removed again.
    const listen = (state: State, socket: Net.Socket) => {
      const handlers = { data: onData(state), end: onEnd(state), close: onEnd(state), error: onError(state) }
      socket.on("data", handlers.data)
      socket.on("end", handlers.end)
      socket.on("close", handlers.close)
      socket.on("error", handlers.error)
      return {
        /** Stops reading from this socket; errors still land in the state. */
        mute: () => {
          socket.off("data", handlers.data)
          socket.off("end", handlers.end)
          socket.off("close", handlers.close)
        },
        /**
         * Drops the error listener too. Node may still emit an error after `destroy()` (even once
         * `socket.closed` is true), so a no-op takes its place until the 'close' event.
         */
        release: () => {
          socket.off("error", handlers.error)
          socket.on("error", ignore)
          socket.once("close", () => socket.off("error", ignore))
        }
      }
    }

    const destroy = (state: State, listeners: Array<ReturnType<typeof listen>>) =>
      Effect.sync(() => {
        for (const l of listeners) l.mute()
        state.tls?.destroy()
        state.raw.destroy()
        for (const l of listeners) l.release()
        state.eof = true
        state.failure ??= error("Closed", "connection closed")
        state.chunks = []
        state.queued = 0
        wake(state)
      })

    const listeners: Array<ReturnType<typeof listen>> = []
    const state = yield* Effect.acquireRelease(
      Effect.sync((): State => {
        const raw = dialled.socket
        raw.setNoDelay(true)
        const state: State = {
          raw,
          tls: undefined,
          active: raw,
          chunks: [],
          queued: 0,
          paused: false,
          secure: false,
          eof: false,
          failure: undefined,
          pending: undefined,
          waiters: new Set()
        }
        const early = dialled.held?.()
        for (const chunk of early?.chunks ?? []) push(state, chunk)
        listeners.push(listen(state, raw))
        // A socket that ended or broke before we listened says so no more: look now.
        if (early?.ended === true || raw.destroyed || raw.readableEnded) state.eof = true
        if (!state.paused) raw.resume()
        return state
      }),
      (state) => destroy(state, listeners)
    )

    const take = (): Uint8Array => {
      const chunk = state.chunks.shift()!
      state.queued -= chunk.byteLength
      if (state.paused && state.queued < lowWaterMark) {
        state.paused = false
        state.active.resume()
      }
      return chunk
    }

    const read: Effect.Effect<Option.Option<Uint8Array>, TransportError> = Effect.suspend(() =>
      state.chunks.length > 0
        ? Effect.succeed(Option.some(take()))
        : state.failure !== undefined
          ? Effect.fail(state.failure)
          : state.eof
            ? Effect.succeed(Option.none())
            : Effect.flatMap(changed(state), () => read)
    )

    const write = (bytes: Uint8Array): Effect.Effect<void, TransportError> =>
      Effect.callback<void, TransportError>((resume) => {
        if (state.failure !== undefined) return resume(Effect.fail(state.failure))
        if (handshaking(state)) return resume(Effect.fail(error("Write", "write during the TLS handshake")))
        state.active.write(bytes, (cause) =>
          resume(cause ? Effect.fail(error("Write", `write failed: ${describe(cause)}`)) : Effect.void)
        )
      })

    const handshake = (tls: Tls.TLSSocket): Effect.Effect<void, TransportError> =>
      Effect.suspend(() =>
        state.secure
          ? Effect.void
          : state.pending !== undefined
            ? Effect.fail(error("TlsHandshake", `TLS handshake failed: ${describe(state.pending)}`))
            : Effect.flatMap(changed(state), () => handshake(tls))
      )

    const upgradeTls = (tlsOptions: TlsOptions): Effect.Effect<Session.TlsInfo, TransportError> =>
      Effect.suspend(() => {
        if (state.tls !== undefined) return Effect.fail(error("TlsHandshake", "TLS is already established"))
        if (state.failure !== undefined || state.eof) {
          return Effect.fail(error("TlsHandshake", "connection closed before the TLS handshake"))
        }
        // RFC 3207: nothing the server sent in plaintext survives the upgrade.
        listeners[0]?.mute()
        state.chunks = []
        state.queued = 0
        while (state.raw.read() !== null) {
          // drain what Node buffered while the socket was paused
        }
        state.paused = false
        const servername = tlsOptions.servername
        const tls = Tls.connect({
          socket: state.raw,
          rejectUnauthorized: tlsOptions.rejectUnauthorized,
          minVersion: "TLSv1.2",
          // SNI carries host names only (RFC 6066 section 3).
          ...(servername !== "" && Net.isIP(servername) === 0 ? { servername } : {}),
          // Without SNI Node checks the certificate against "localhost": name the host (or IP) we dialled.
          ...(servername !== ""
            ? {
                checkServerIdentity: (_: string, cert: Tls.PeerCertificate) => Tls.checkServerIdentity(servername, cert)
              }
            : {}),
          ...(tlsOptions.ca !== undefined ? { ca: [...tlsOptions.ca] } : {})
        })
        state.tls = tls
        tls.once("secureConnect", () => {
          state.secure = true
          wake(state)
        })
        listeners.push(listen(state, tls))
        return handshake(tls).pipe(
          Effect.timeoutOrElse({
            duration: tlsOptions.timeout,
            orElse: () =>
              Effect.fail(
                error(
                  "TlsHandshake",
                  `TLS handshake timed out after ${Duration.format(Duration.fromInputUnsafe(tlsOptions.timeout))}`
                )
              )
          }),
          // A failed handshake leaves nothing to talk over: the connection is closed.
          Effect.onError(() => destroy(state, listeners)),
          Effect.map((): Session.TlsInfo => {
            state.active = tls
            const authorizationError: unknown = tls.authorizationError
            return {
              protocol: tls.getProtocol() ?? "unknown",
              cipher: tls.getCipher().name,
              authorized: tls.authorized,
              authorizationError: Option.fromNullishOr(authorizationError).pipe(Option.map(String))
            }
          })
        )
      })

    return {
      remote: dialled.remote,
      local: { address: state.raw.localAddress ?? "", port: state.raw.localPort ?? 0 },
      read,
      write,
      upgradeTls,
      stats: Effect.sync(() => ({ queuedBytes: state.queued, paused: state.paused, tls: state.secure }))
    }
  })
