// Dialling through SOCKS5: a working proxy (user/password, where names are resolved, the greeting
// arriving with the proxy's reply) and hostile ones (garbage, silence, hanging up mid-handshake,
// refusals, wrong password): each a TransportError with its Proxy* reason, within the timeout.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"
import type { Socks5Proxy } from "@rcpt/client/Proxy"
import type { TransportErrorReason } from "@rcpt/client/SmtpTransport"
import * as Socks5Server from "@rcpt/testing/Socks5Server"
import * as NodeSmtpTransport from "../src/NodeSmtpTransport.ts"
import { NodeSocks5 } from "../src/index.ts"
import { closedPort, listen } from "./helpers.ts"

const decoder = new TextDecoder()

/** An SMTP server that greets and records where its clients came from. */
const greeter = () => {
  const clients: Array<string> = []
  return Effect.map(
    listen((socket) => {
      clients.push(socket.remoteAddress ?? "")
      socket.write("220 mx.test ESMTP\r\n")
    }),
    (server) => ({ ...server, clients })
  )
}

const via = (server: Socks5Server.Socks5Server, more: Partial<Socks5Proxy> = {}): Socks5Proxy => ({
  host: server.address,
  port: server.port,
  resolve: "local",
  ...more
})

const greeting = (proxy: Socks5Proxy, port: number, host = "127.0.0.1") =>
  Effect.gen(function* () {
    const conn = yield* NodeSmtpTransport.connect({ host, port, timeout: "1 second", proxy })
    const chunk = yield* conn.read
    return { text: Option.match(chunk, { onNone: () => "", onSome: (b) => decoder.decode(b) }), conn }
  })

/** Connects through the proxy and gives the failure's reason, with how long it took. */
const failure = (proxy: Socks5Proxy, port: number, timeout: Duration.Input = "1 second") =>
  Effect.gen(function* () {
    const started = Date.now()
    const result = yield* NodeSmtpTransport.connect({ host: "127.0.0.1", port, timeout, proxy }).pipe(Effect.flip)
    return { reason: result.reason, message: result.message, elapsed: Date.now() - started }
  })

describe("NodeSocks5", () => {
  it.live("a working proxy with user/password: the server sees the proxy's external address", () =>
    Effect.gen(function* () {
      const server = yield* greeter()
      const proxy = yield* Socks5Server.start({
        credentials: { username: "rcpt", password: "pw" },
        external: "127.0.0.9"
      })
      const { text, conn } = yield* greeting(via(proxy, { username: "rcpt", password: "pw" }), server.port)
      assert.strictEqual(text, "220 mx.test ESMTP\r\n")
      assert.deepStrictEqual(conn.remote, { address: "127.0.0.1", port: server.port }, "remote is the server")
      assert.deepStrictEqual(server.clients, ["127.0.0.9"])
      assert.deepStrictEqual(
        proxy.requests.map((r) => [r.addressType, r.host, r.username]),
        [[1, "127.0.0.1", "rcpt"]]
      )
    }).pipe(Effect.scoped)
  )

  it.live("a name with resolve proxy goes to the proxy as a name; with resolve local as an address", () =>
    Effect.gen(function* () {
      const server = yield* greeter()
      const proxy = yield* Socks5Server.start()
      yield* Effect.scoped(greeting(via(proxy, { resolve: "proxy" }), server.port, "localhost"))
      yield* Effect.scoped(greeting(via(proxy, { resolve: "local" }), server.port, "localhost"))
      assert.deepStrictEqual(
        proxy.requests.map((r) => [r.addressType, r.host]),
        [
          [3, "localhost"],
          [proxy.requests[1]!.addressType, proxy.requests[1]!.host]
        ]
      )
      assert.include([1, 4], proxy.requests[1]!.addressType, "resolved locally: an address")
      assert.include(["127.0.0.1", "0:0:0:0:0:0:0:1"], proxy.requests[1]!.host)
    }).pipe(Effect.scoped)
  )

  it.live("a greeting that comes in the same packet as the proxy's reply is not lost", () =>
    Effect.gen(function* () {
      const proxy = yield* listen((socket) => {
        let stage = 0
        socket.on("data", () => {
          if (stage++ === 0) socket.write(Buffer.from([5, 0]))
          else
            socket.write(Buffer.concat([Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 25]), Buffer.from("220 early\r\n")]))
        })
      })
      const { text } = yield* greeting({ host: "127.0.0.1", port: proxy.port, resolve: "local" }, 25)
      assert.strictEqual(text, "220 early\r\n")
    }).pipe(Effect.scoped)
  )

  const hostile: ReadonlyArray<readonly [string, Socks5Server.Options, Partial<Socks5Proxy>, TransportErrorReason]> = [
    ["garbage reply (HTTP)", { behaviour: "garbage" }, {}, "ProxyProtocol"],
    ["silent", { behaviour: "silent" }, {}, "ProxyTimeout"],
    ["hangs up after the greeting", { behaviour: "close-greeting" }, {}, "ProxyProtocol"],
    ["hangs up after the request", { behaviour: "close-request" }, {}, "ProxyProtocol"],
    ["refuses the request (reply 2)", { behaviour: "refuse" }, {}, "ProxyRefused"],
    ["cannot reach the host (reply 4)", { behaviour: "unreachable" }, {}, "ProxyTargetUnreachable"],
    [
      "wrong password",
      { credentials: { username: "rcpt", password: "right" } },
      { username: "rcpt", password: "wrong" },
      "ProxyAuthFailed"
    ],
    ["wants credentials we lack", { credentials: { username: "rcpt", password: "right" } }, {}, "ProxyAuthFailed"]
  ]
  for (const [title, options, credentials, reason] of hostile) {
    it.live(`${title}: ${reason}, within the timeout`, () =>
      Effect.gen(function* () {
        const server = yield* greeter()
        const proxy = yield* Socks5Server.start(options)
        const failed = yield* failure(via(proxy, credentials), server.port, "400 millis")
        assert.strictEqual(failed.reason, reason, failed.message)
        assert.isBelow(failed.elapsed, 1500)
        assert.notInclude(failed.message, "right")
        assert.deepStrictEqual(server.clients, [], "nothing reached the server")
      }).pipe(Effect.scoped)
    )
  }

  it.live("the host refusing the proxy's connection: ProxyTargetUnreachable", () =>
    Effect.gen(function* () {
      const port = yield* closedPort
      const proxy = yield* Socks5Server.start()
      const failed = yield* failure(via(proxy), port)
      assert.strictEqual(failed.reason, "ProxyTargetUnreachable", failed.message)
    }).pipe(Effect.scoped)
  )

  it.live("no proxy listening: ProxyUnavailable, naming the proxy", () =>
    Effect.gen(function* () {
      const port = yield* closedPort
      const failed = yield* failure({ host: "127.0.0.1", port, resolve: "local" }, 25)
      assert.strictEqual(failed.reason, "ProxyUnavailable")
      assert.include(failed.message, `127.0.0.1:${port}`)
    })
  )

  it("handshakeReason maps the library's messages", () => {
    const table: ReadonlyArray<readonly [string, TransportErrorReason]> = [
      ["Socks5 Authentication failed", "ProxyAuthFailed"],
      ["Received invalid Socks5 initial handshake (no accepted authentication type)", "ProxyAuthFailed"],
      ["Socks5 proxy rejected connection - NotAllowed", "ProxyRefused"],
      ["Socks5 proxy rejected connection - Failure", "ProxyRefused"],
      ["Socks5 proxy rejected connection - HostUnreachable", "ProxyTargetUnreachable"],
      ["Socks5 proxy rejected connection - TTLExpired", "ProxyTargetUnreachable"],
      ["Proxy connection timed out", "ProxyTimeout"],
      ["Socket closed", "ProxyProtocol"],
      ["Received invalid Socks5 initial handshake (invalid socks version)", "ProxyProtocol"]
    ]
    for (const [message, reason] of table) assert.strictEqual(NodeSocks5.handshakeReason(message), reason, message)
  })
})

describe("source addresses", () => {
  it.live("connections bound to 127.0.0.2 and 127.0.0.3 arrive from those addresses", () =>
    Effect.gen(function* () {
      const server = yield* greeter()
      for (const localAddress of ["127.0.0.2", "127.0.0.3"]) {
        const conn = yield* NodeSmtpTransport.connect({
          host: "127.0.0.1",
          port: server.port,
          timeout: "1 second",
          localAddress
        })
        assert.strictEqual(conn.local.address, localAddress)
      }
      assert.deepStrictEqual(server.clients, ["127.0.0.2", "127.0.0.3"])
    }).pipe(Effect.scoped)
  )

  it.live("an address that is not this host's: LocalAddressUnavailable", () =>
    Effect.gen(function* () {
      const server = yield* greeter()
      // TEST-NET-1 (RFC 5737): never assigned to this host; nothing is sent anywhere.
      const failed = yield* NodeSmtpTransport.connect({
        host: "127.0.0.1",
        port: server.port,
        timeout: "1 second",
        localAddress: "192.0.2.1"
      }).pipe(Effect.flip)
      assert.strictEqual(failed.reason, "LocalAddressUnavailable", failed.message)
      assert.include(failed.message, "from 192.0.2.1")
    }).pipe(Effect.scoped)
  )
})
