/**
 * An in-process SOCKS5 proxy on loopback for tests (RFC 1928 CONNECT, RFC 1929 user/password):
 * well-behaved, or hostile on request (garbage replies, silence, hanging up mid-handshake,
 * refusing). It only ever connects onward to 127.0.0.0/8 or ::1, and can bind its outgoing
 * connections to an "external" loopback address, so a server behind it sees the proxy's address.
 *
 * Written by hand: it is a test double whose misbehaviour is the point, and the server side of
 * CONNECT is a page of code.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import * as Net from "node:net"

/**
 * How the proxy behaves:
 * - `ok`: a working proxy.
 * - `garbage`: answers the greeting with an HTTP error page.
 * - `silent`: accepts the TCP connection and says nothing.
 * - `close-greeting`: hangs up after reading the greeting.
 * - `close-request`: hangs up after reading the CONNECT request.
 * - `refuse`: answers CONNECT with reply 2 (not allowed by rule set).
 * - `unreachable`: answers CONNECT with reply 4 (host unreachable).
 *
 * @category models
 * @since 0.1.0
 */
export type Behaviour = "ok" | "garbage" | "silent" | "close-greeting" | "close-request" | "refuse" | "unreachable"

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  readonly behaviour?: Behaviour | undefined
  /** Require RFC 1929 user/password with these credentials. */
  readonly credentials?: { readonly username: string; readonly password: string } | undefined
  /** The loopback address to listen on. Default 127.0.0.1. */
  readonly address?: string | undefined
  /** The loopback address outgoing connections come from. Default: the system's choice. */
  readonly external?: string | undefined
}

/**
 * What a client asked for.
 *
 * @category models
 * @since 0.1.0
 */
export interface Request {
  /** The client's address, as the proxy saw it. */
  readonly client: string
  /** RFC 1928 ATYP: 1 IPv4, 3 domain name, 4 IPv6. */
  readonly addressType: number
  readonly host: string
  readonly port: number
  readonly username: string | undefined
}

/**
 * A running proxy.
 *
 * @category models
 * @since 0.1.0
 */
export interface Socks5Server {
  readonly address: string
  readonly port: number
  /** Every CONNECT request seen, oldest first. */
  readonly requests: ReadonlyArray<Request>
  /** How many TCP connections the proxy accepted. */
  readonly connections: () => number
}

const isLoopback = (host: string) => /^127\.\d+\.\d+\.\d+$/.test(host) || host === "::1" || host === "localhost"

const ipv6 = (bytes: Buffer) => Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16)).join(":")

const reply = (code: number) => Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0])

/**
 * Starts a proxy in the test's scope; closing the scope closes it and every connection.
 *
 * @category constructors
 * @since 0.1.0
 */
export const start = (options: Options = {}): Effect.Effect<Socks5Server, never, Scope.Scope> => {
  const behaviour = options.behaviour ?? "ok"
  const listenOn = options.address ?? "127.0.0.1"
  const requests: Array<Request> = []
  const sockets = new Set<Net.Socket>()
  let accepted = 0

  const serve = (client: Net.Socket) => {
    accepted++
    sockets.add(client)
    client.on("close", () => sockets.delete(client))
    client.on("error", () => {})
    let buffer = Buffer.alloc(0)
    let stage: "greeting" | "auth" | "request" | "relay" = "greeting"
    let username: string | undefined
    const take = (n: number) => {
      const out = buffer.subarray(0, n)
      buffer = buffer.subarray(n)
      return out
    }
    const onData = (data: Buffer) => {
      buffer = Buffer.concat([buffer, data])
      for (;;) {
        if (stage === "greeting") {
          if (buffer.length < 2 || buffer.length < 2 + buffer[1]!) return
          const methods = [...take(2 + buffer[1]!).subarray(2)]
          if (behaviour === "garbage") return void client.end("HTTP/1.1 400 Bad Request\r\n\r\n")
          if (behaviour === "silent") return
          if (behaviour === "close-greeting") return void client.destroy()
          const wanted = options.credentials !== undefined ? 2 : 0
          if (!methods.includes(wanted)) return void client.end(Buffer.from([5, 0xff]))
          client.write(Buffer.from([5, wanted]))
          stage = wanted === 2 ? "auth" : "request"
        } else if (stage === "auth") {
          if (buffer.length < 2) return
          const ulen = buffer[1]!
          if (buffer.length < 3 + ulen || buffer.length < 3 + ulen + buffer[2 + ulen]!) return
          const plen = buffer[2 + ulen]!
          const packet = take(3 + ulen + plen)
          username = packet.subarray(2, 2 + ulen).toString("utf8")
          const password = packet.subarray(3 + ulen).toString("utf8")
          const ok = username === options.credentials?.username && password === options.credentials?.password
          if (!ok) return void client.end(Buffer.from([1, 1]))
          client.write(Buffer.from([1, 0]))
          stage = "request"
        } else if (stage === "request") {
          if (buffer.length < 5) return
          const atyp = buffer[3]!
          const length = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + buffer[4]!
          if (buffer.length < 4 + length + 2) return
          const packet = take(4 + length + 2)
          const raw = packet.subarray(4, 4 + length)
          const host = atyp === 1 ? [...raw].join(".") : atyp === 4 ? ipv6(raw) : raw.subarray(1).toString("utf8")
          const port = packet.readUInt16BE(4 + length)
          requests.push({ client: client.remoteAddress ?? "", addressType: atyp, host, port, username })
          if (behaviour === "close-request") return void client.destroy()
          if (behaviour === "refuse") return void client.end(reply(2))
          if (behaviour === "unreachable" || !isLoopback(host)) return void client.end(reply(4))
          stage = "relay"
          client.off("data", onData)
          client.pause()
          const upstream = Net.connect({
            host: host === "localhost" ? "127.0.0.1" : host,
            port,
            ...(options.external !== undefined ? { localAddress: options.external } : {})
          })
          sockets.add(upstream)
          upstream.on("close", () => sockets.delete(upstream))
          let connected = false
          // RFC 1928 reply 5: connection refused by the destination.
          upstream.on("error", () => (connected ? client.destroy() : client.end(reply(5))))
          upstream.once("connect", () => {
            connected = true
            client.write(reply(0))
            if (buffer.length > 0) upstream.write(buffer)
            client.pipe(upstream)
            upstream.pipe(client)
            client.resume()
          })
          client.on("close", () => upstream.destroy())
          return
        } else {
          return
        }
      }
    }
    client.on("data", onData)
  }

  return Effect.acquireRelease(
    Effect.callback<Net.Server>((resume) => {
      const server = Net.createServer(serve)
      server.listen(0, listenOn, () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.callback<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  ).pipe(
    Effect.map((server) => ({
      address: listenOn,
      port: (server.address() as Net.AddressInfo).port,
      requests,
      connections: () => accepted
    }))
  )
}
