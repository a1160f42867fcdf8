// NodeSmtpTransport against plain node:net / node:tls peers on 127.0.0.1: connect errors, reads
// (EOF, interruption, backpressure), writes, STARTTLS (verification, SNI, failures, plaintext
// dropped) and the scope closing the socket.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Option } from "effect"
import type * as Net from "node:net"
import type * as Tls from "node:tls"
import { SmtpTransport, type Connection, type TlsOptions } from "@rcpt/client/SmtpTransport"
import * as NodeSmtpTransport from "../src/NodeSmtpTransport.ts"
import { cert, closed, closedPort, fullBacklog, listen, scriptServer, serverTls } from "./helpers.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const connect = (port: number, timeout: Duration.Input = "1 second") =>
  Effect.flatMap(SmtpTransport, (t) => t.connect({ host: "127.0.0.1", port, timeout }))
const send = (conn: Connection, text: string) => conn.write(encoder.encode(text))

/** Reads until the text so far has `n` CRLF-terminated lines, or EOF. */
const readLines = (conn: Connection, n: number) =>
  Effect.gen(function* () {
    let text = ""
    while (text.split("\r\n").length <= n) {
      const chunk = yield* conn.read
      if (Option.isNone(chunk)) break
      text += decoder.decode(chunk.value)
    }
    return text
  })

const readAll = (conn: Connection) =>
  Effect.gen(function* () {
    const chunks: Array<Uint8Array> = []
    for (;;) {
      const chunk = yield* conn.read
      if (Option.isNone(chunk)) return Buffer.concat(chunks)
      chunks.push(chunk.value)
    }
  })

const tls = (options: Partial<TlsOptions> = {}): TlsOptions => ({
  servername: "localhost",
  rejectUnauthorized: false,
  timeout: "1 second",
  ...options
})

/**
 * Greets, answers STARTTLS with 220, then hands the raw socket (no listeners left) to `after`.
 * `pre` is written together with the 220.
 */
const starttlsServer = (after: (raw: Net.Socket) => void, pre = "") =>
  listen((raw) => {
    let buffer = ""
    const onData = (data: Buffer) => {
      buffer += data.toString()
      if (buffer.includes("STARTTLS\r\n")) {
        raw.off("data", onData)
        raw.write(`220 2.0.0 go\r\n${pre}`)
        after(raw)
      }
    }
    raw.on("data", onData)
    raw.write("220 mx.test ESMTP\r\n")
  })

/** Upgrades the server side and answers EHLO over TLS; resolves `seen` with the SNI it got. */
const tlsPeer = (seen?: Deferred.Deferred<string | false>) => (raw: Net.Socket) => {
  const socket: Tls.TLSSocket = serverTls(raw)
  socket.on("secure", () => {
    if (seen) Deferred.doneUnsafe(seen, Effect.succeed(socket.servername ?? false))
  })
  socket.on("data", (data) => {
    if (data.toString().startsWith("EHLO")) socket.write("250 mx.test over TLS\r\n")
  })
}

/** Connects, reads the greeting, sends STARTTLS and reads the 220. */
const toStarttls = (port: number) =>
  Effect.gen(function* () {
    const conn = yield* connect(port)
    assert.strictEqual(yield* readLines(conn, 1), "220 mx.test ESMTP\r\n")
    yield* send(conn, "STARTTLS\r\n")
    assert.strictEqual(yield* readLines(conn, 1), "220 2.0.0 go\r\n")
    return conn
  })

describe("NodeSmtpTransport", () => {
  describe("connect", () => {
    it.live("reads the greeting from the remote it reports", () =>
      Effect.gen(function* () {
        const server = yield* listen((s) => s.write("220 mx.test ESMTP\r\n"))
        const conn = yield* connect(server.port)
        assert.deepStrictEqual(conn.remote, { address: "127.0.0.1", port: server.port })
        assert.strictEqual(yield* readLines(conn, 1), "220 mx.test ESMTP\r\n")
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("a closed port is ConnectionRefused, with host and port", () =>
      Effect.gen(function* () {
        const port = yield* closedPort
        const error = yield* Effect.flip(connect(port))
        assert.strictEqual(error.reason, "ConnectionRefused")
        assert.include(error.message, `127.0.0.1:${port}`)
        assert.strictEqual(error.host, "127.0.0.1")
        assert.strictEqual(error.port, port)
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("a listener that never accepts is ConnectTimeout after the timeout", () =>
      Effect.gen(function* () {
        const port = yield* fullBacklog
        const [elapsed, error] = yield* Effect.timed(Effect.flip(connect(port, "200 millis")))
        assert.strictEqual(error.reason, "ConnectTimeout")
        assert.include(error.message, `127.0.0.1:${port}`)
        assert.isAtLeast(Duration.toMillis(elapsed), 190)
        assert.isBelow(Duration.toMillis(elapsed), 1000)
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("closing the scope destroys the socket: the server sees 'close'", () =>
      Effect.gen(function* () {
        const server = yield* listen((s) => s.write("220 mx.test\r\n"))
        yield* Effect.scoped(Effect.flatMap(connect(server.port), (conn) => conn.read))
        const socket = server.sockets[0]
        assert.isDefined(socket)
        yield* closed(socket!).pipe(Effect.timeout("500 millis"))
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )
  })

  describe("read and write", () => {
    it.live("gives None at EOF, and again", () =>
      Effect.gen(function* () {
        const server = yield* listen((s) => s.end("221 bye\r\n"))
        const conn = yield* connect(server.port)
        assert.strictEqual(decoder.decode(yield* readAll(conn)), "221 bye\r\n")
        assert.deepStrictEqual(yield* conn.read, Option.none())
        assert.deepStrictEqual(yield* conn.read, Option.none())
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("a write reaches the server", () =>
      Effect.gen(function* () {
        const received = yield* Deferred.make<string>()
        const server = yield* listen((s) => {
          let text = ""
          s.on("data", (d) => {
            text += d.toString()
            if (text.endsWith("\r\n")) Deferred.doneUnsafe(received, Effect.succeed(text))
          })
        })
        const conn = yield* connect(server.port)
        yield* send(conn, "EHLO client.test\r\n")
        assert.strictEqual(yield* Deferred.await(received).pipe(Effect.timeout("500 millis")), "EHLO client.test\r\n")
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("a reset connection fails reads with ConnectionReset", () =>
      Effect.gen(function* () {
        const server = yield* listen((s) => s.once("data", () => s.resetAndDestroy()))
        const conn = yield* connect(server.port)
        yield* send(conn, "QUIT\r\n")
        const error = yield* Effect.flip(readAll(conn))
        assert.strictEqual(error.reason, "ConnectionReset")
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("reads interrupted by timeouts lose no data", () =>
      Effect.gen(function* () {
        const messages = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, "0")}\r\n`)
        const server = yield* listen((s) => {
          let i = 0
          const timer = setInterval(() => {
            if (i < messages.length) s.write(messages[i++]!)
            else {
              clearInterval(timer)
              s.end()
            }
          }, 2)
          s.on("close", () => clearInterval(timer))
        })
        const conn = yield* connect(server.port)
        let text = ""
        let timeouts = 0
        for (;;) {
          const read = yield* conn.read.pipe(Effect.timeoutOption("1 millis"))
          if (Option.isNone(read)) {
            // Nobody reads for a moment: chunks arriving now must wait in the queue.
            timeouts++
            yield* Effect.sleep("1 millis")
            continue
          }
          if (Option.isNone(read.value)) break
          text += decoder.decode(read.value.value)
        }
        assert.strictEqual(text, messages.join(""))
        assert.isAbove(timeouts, 0, "some reads were interrupted")
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("1 MiB sent at once is read in full, with the queue bounded meanwhile", () =>
      Effect.gen(function* () {
        const payload = Buffer.alloc(1024 * 1024)
        for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 10)) & 0xff
        const server = yield* listen((s) => s.end(payload))
        const conn = yield* NodeSmtpTransport.connect({ host: "127.0.0.1", port: server.port, timeout: "1 second" })
        // Nobody reads: wait for the queue to fill up to the mark, then a bit longer.
        let stats = yield* conn.stats
        for (let i = 0; i < 100 && !stats.paused; i++) {
          yield* Effect.sleep("10 millis")
          stats = yield* conn.stats
        }
        yield* Effect.sleep("50 millis")
        stats = yield* conn.stats
        assert.isTrue(stats.paused, "the socket is paused while nobody reads")
        assert.isAbove(stats.queuedBytes, NodeSmtpTransport.highWaterMark)
        assert.isAtMost(stats.queuedBytes, NodeSmtpTransport.highWaterMark + 64 * 1024)
        const all = yield* readAll(conn)
        assert.strictEqual(all.length, payload.length)
        assert.isTrue(all.equals(payload), "same bytes, same order")
        const after = yield* conn.stats
        assert.deepStrictEqual(after, { queuedBytes: 0, paused: false, tls: false })
      })
    )
  })

  describe("upgradeTls", () => {
    it.live("self-signed, rejectUnauthorized false: succeeds unauthorized, with the reason", () =>
      Effect.gen(function* () {
        const server = yield* starttlsServer(tlsPeer())
        const conn = yield* toStarttls(server.port)
        const info = yield* conn.upgradeTls(tls())
        assert.strictEqual(info.protocol, "TLSv1.3")
        assert.isTrue(info.cipher.length > 0)
        assert.isFalse(info.authorized)
        assert.deepStrictEqual(info.authorizationError, Option.some("DEPTH_ZERO_SELF_SIGNED_CERT"))
        yield* send(conn, "EHLO client.test\r\n")
        assert.strictEqual(yield* readLines(conn, 1), "250 mx.test over TLS\r\n")
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("the certificate as CA, servername localhost, rejectUnauthorized true: authorized", () =>
      Effect.gen(function* () {
        const sni = yield* Deferred.make<string | false>()
        const server = yield* starttlsServer(tlsPeer(sni))
        const conn = yield* toStarttls(server.port)
        const info = yield* conn.upgradeTls(tls({ ca: [cert], rejectUnauthorized: true }))
        assert.isTrue(info.authorized)
        assert.deepStrictEqual(info.authorizationError, Option.none())
        assert.strictEqual(yield* Deferred.await(sni), "localhost")
        yield* send(conn, "EHLO client.test\r\n")
        assert.strictEqual(yield* readLines(conn, 1), "250 mx.test over TLS\r\n")
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("rejectUnauthorized true without the CA: TlsHandshake", () =>
      Effect.gen(function* () {
        const server = yield* starttlsServer(tlsPeer())
        const conn = yield* toStarttls(server.port)
        const error = yield* Effect.flip(conn.upgradeTls(tls({ rejectUnauthorized: true })))
        assert.strictEqual(error.reason, "TlsHandshake")
        assert.include(error.message, "self-signed")
        assert.strictEqual((yield* Effect.flip(conn.read)).reason, "Closed", "the connection is gone")
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("an IP address is not sent as SNI", () =>
      Effect.gen(function* () {
        const sni = yield* Deferred.make<string | false>()
        const server = yield* starttlsServer(tlsPeer(sni))
        const conn = yield* toStarttls(server.port)
        const info = yield* conn.upgradeTls(tls({ servername: "127.0.0.1" }))
        assert.isFalse(info.authorized)
        assert.strictEqual(yield* Deferred.await(sni), false)
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("the server closing instead of handshaking: TlsHandshake", () =>
      Effect.gen(function* () {
        const server = yield* starttlsServer((raw) => raw.end())
        const conn = yield* toStarttls(server.port)
        const error = yield* Effect.flip(conn.upgradeTls(tls()))
        assert.strictEqual(error.reason, "TlsHandshake")
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("the server answering the ClientHello in plaintext: TlsHandshake", () =>
      Effect.gen(function* () {
        const server = yield* starttlsServer((raw) => raw.once("data", () => raw.write("500 5.5.1 what?\r\n")))
        const conn = yield* toStarttls(server.port)
        const error = yield* Effect.flip(conn.upgradeTls(tls()))
        assert.strictEqual(error.reason, "TlsHandshake")
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("a server that never answers the ClientHello: TlsHandshake after the timeout", () =>
      Effect.gen(function* () {
        const server = yield* starttlsServer(() => {})
        const conn = yield* toStarttls(server.port)
        const [elapsed, error] = yield* Effect.timed(Effect.flip(conn.upgradeTls({ ...tls(), timeout: "200 millis" })))
        assert.strictEqual(error.reason, "TlsHandshake")
        assert.include(error.message, "timed out")
        assert.isAtLeast(Duration.toMillis(elapsed), 190)
        assert.isBelow(Duration.toMillis(elapsed), 1000)
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("plaintext the server sent before the handshake is not delivered after it", () =>
      Effect.gen(function* () {
        // The injected line follows the 220 in a second packet, and arrives before the upgrade.
        const server = yield* starttlsServer((raw) => {
          setTimeout(() => {
            raw.write("250 injected before TLS\r\n")
            tlsPeer()(raw)
          }, 20)
        })
        const conn = yield* toStarttls(server.port)
        yield* Effect.sleep("80 millis")
        yield* conn.upgradeTls(tls())
        yield* send(conn, "EHLO client.test\r\n")
        assert.strictEqual(yield* readLines(conn, 1), "250 mx.test over TLS\r\n")
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("upgrading twice fails", () =>
      Effect.gen(function* () {
        const server = yield* starttlsServer(tlsPeer())
        const conn = yield* toStarttls(server.port)
        yield* conn.upgradeTls(tls())
        const error = yield* Effect.flip(conn.upgradeTls(tls()))
        assert.strictEqual(error.reason, "TlsHandshake")
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )

    it.live("closing the scope after the upgrade closes the connection", () =>
      Effect.gen(function* () {
        const server = yield* starttlsServer(tlsPeer())
        yield* Effect.scoped(Effect.flatMap(toStarttls(server.port), (conn) => conn.upgradeTls(tls())))
        yield* closed(server.sockets[0]!).pipe(Effect.timeout("500 millis"))
      }).pipe(Effect.provide(NodeSmtpTransport.layer))
    )
  })

  it.live("scriptServer plays a script (sanity check for the conformance suite)", () =>
    Effect.gen(function* () {
      const server = yield* scriptServer("S: 220 hi\nC: NOOP\nS: 250 ok")
      const conn = yield* connect(server.port)
      yield* readLines(conn, 1)
      yield* send(conn, "NOPE\r\n")
      assert.strictEqual(decoder.decode(yield* readAll(conn)), "")
      assert.deepStrictEqual(server.mismatches, ['got "NOPE", expected "C: NOOP"'])
    }).pipe(Effect.provide(NodeSmtpTransport.layer))
  )
})
