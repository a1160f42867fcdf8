// The transport conformance suite against ScriptedTransport, then what only a script can do:
// mismatches, reports, several connections, TLS variants, stalls under TestClock.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Result } from "effect"
import { TestClock } from "effect/testing"
import { SmtpClient } from "@rcpt/client"
import { SmtpTransport, type Connection } from "@rcpt/client/SmtpTransport"
import { Address, Session } from "@rcpt/smtp"
import * as ScriptedTransport from "../src/ScriptedTransport.ts"
import * as TransportSuite from "../src/TransportSuite.ts"

TransportSuite.suite("ScriptedTransport: conformance", (script) => ScriptedTransport.layer(script))

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const options = { host: "192.0.2.1", port: 25, timeout: "1 second" } as const
const tlsOptions = { servername: "mx.example.test", rejectUnauthorized: false, timeout: "5 seconds" } as const

const connect = Effect.flatMap(SmtpTransport, (t) => t.connect(options))
const readText = (conn: Connection) =>
  Effect.map(
    conn.read,
    Option.map((bytes) => decoder.decode(bytes))
  )
const send = (conn: Connection, text: string) => conn.write(encoder.encode(text))

describe("ScriptedTransport", () => {
  it.effect("sends consecutive S lines as one chunk", () => {
    const { layer, report } = ScriptedTransport.make(`
      S: 220 mx
      C: EHLO me
      S: 250-mx
      S: 250 PIPELINING
      * close
    `)
    return Effect.gen(function* () {
      const conn = yield* connect
      assert.deepStrictEqual(yield* readText(conn), Option.some("220 mx\r\n"))
      yield* send(conn, "EHLO me\r\n")
      assert.deepStrictEqual(yield* readText(conn), Option.some("250-mx\r\n250 PIPELINING\r\n"))
      assert.deepStrictEqual(yield* readText(conn), Option.none())
      assert.deepStrictEqual(yield* report, { connections: 1, unmatched: [], remaining: [] })
    }).pipe(Effect.provide(layer))
  })

  it.effect("a wrong client line fails the connection and is recorded", () => {
    const { layer, report } = ScriptedTransport.make(`
      S: 220 mx
      C: EHLO me
      S: 250 mx
    `)
    return Effect.gen(function* () {
      const conn = yield* connect
      yield* conn.read
      yield* send(conn, "HELO me\r\n")
      const read = yield* Effect.flip(conn.read)
      assert.strictEqual(read.reason, "Read")
      assert.strictEqual(read.message, 'unexpected client line: got "HELO me", expected "C: EHLO me"')
      const again = yield* Effect.flip(send(conn, "QUIT\r\n"))
      assert.strictEqual(again.reason, "Read")
      assert.deepStrictEqual(yield* report, {
        connections: 1,
        unmatched: ['connection 1: unexpected client line: got "HELO me", expected "C: EHLO me"'],
        remaining: ["C: EHLO me", "S: 250 mx"]
      })
    }).pipe(Effect.provide(layer))
  })

  it.effect("a client line where the script expects TLS is a mismatch", () => {
    const { layer, report } = ScriptedTransport.make(`
      S: 220 ready
      * tls
    `)
    return Effect.gen(function* () {
      const conn = yield* connect
      yield* conn.read
      yield* send(conn, "EHLO me\r\n")
      assert.strictEqual((yield* Effect.flip(conn.read)).reason, "Read")
      assert.deepStrictEqual((yield* report).unmatched, [
        'connection 1: unexpected client line: got "EHLO me", expected "* tls"'
      ])
    }).pipe(Effect.provide(layer))
  })

  it.effect("an upgrade the script does not expect fails with TlsHandshake", () => {
    const { layer, report } = ScriptedTransport.make(`
      S: 220 ready
      C: EHLO me
    `)
    return Effect.gen(function* () {
      const conn = yield* connect
      const error = yield* Effect.flip(conn.upgradeTls(tlsOptions))
      assert.strictEqual(error.reason, "TlsHandshake")
      assert.deepStrictEqual((yield* report).unmatched, ['connection 1: unexpected TLS upgrade, expected "C: EHLO me"'])
      assert.strictEqual((yield* Effect.flip(conn.read)).reason, "Read")
    }).pipe(Effect.provide(layer))
  })

  it.effect("* tls drops unread plaintext and reports an unverified session", () => {
    const { layer, report } = ScriptedTransport.make(`
      S: 220 ready
      * tls
      S: 250 after
    `)
    return Effect.gen(function* () {
      const conn = yield* connect
      const info = yield* conn.upgradeTls(tlsOptions)
      assert.deepStrictEqual(info, ScriptedTransport.unverifiedTls)
      assert.isFalse(info.authorized)
      assert.strictEqual(info.protocol, "TLSv1.3")
      assert.deepStrictEqual(yield* readText(conn), Option.some("250 after\r\n"))
      assert.deepStrictEqual(yield* readText(conn), Option.none())
      assert.deepStrictEqual((yield* report).remaining, [])
    }).pipe(Effect.provide(layer))
  })

  it.effect("* tls authorized reports a verified session", () =>
    Effect.gen(function* () {
      const conn = yield* connect
      const info = yield* conn.upgradeTls(tlsOptions)
      assert.isTrue(info.authorized)
      assert.isTrue(Option.isNone(info.authorizationError))
    }).pipe(Effect.provide(ScriptedTransport.layer("* tls authorized")))
  )

  it.effect("* tls-fail fails the handshake and closes the connection", () =>
    Effect.gen(function* () {
      const conn = yield* connect
      const error = yield* Effect.flip(conn.upgradeTls(tlsOptions))
      assert.strictEqual(error.reason, "TlsHandshake")
      assert.strictEqual((yield* Effect.flip(conn.read)).reason, "Closed")
    }).pipe(Effect.provide(ScriptedTransport.layer("S: 220 ready\n* tls-fail")))
  )

  it.effect("* stall: reads wait until interrupted, a handshake until its timeout", () => {
    const { layer, report } = ScriptedTransport.make(`
      S: 220 ready
      * stall
      S: never sent
    `)
    return Effect.gen(function* () {
      const conn = yield* connect
      yield* conn.read
      const read = yield* conn.read.pipe(Effect.timeoutOption("10 seconds"), Effect.forkChild)
      yield* send(conn, "EHLO ignored\r\n")
      yield* TestClock.adjust("10 seconds")
      assert.deepStrictEqual(yield* Fiber.join(read), Option.none())
      const tls = yield* conn.upgradeTls(tlsOptions).pipe(Effect.flip, Effect.forkChild)
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual((yield* Fiber.join(tls)).reason, "TlsHandshake")
      assert.deepStrictEqual(yield* report, { connections: 1, unmatched: [], remaining: ["S: never sent"] })
    }).pipe(Effect.provide(layer))
  })

  it.effect("the end of the script closes the connection", () =>
    Effect.gen(function* () {
      const conn = yield* connect
      assert.deepStrictEqual(yield* readText(conn), Option.some("220 ready\r\n"))
      assert.deepStrictEqual(yield* readText(conn), Option.none())
    }).pipe(Effect.provide(ScriptedTransport.layer("S: 220 ready")))
  )

  it.effect("one script per connection, in order; then ConnectionRefused", () => {
    const { layer, report } = ScriptedTransport.make(["* refuse", "S: 220 second", "S: 220 third"])
    return Effect.gen(function* () {
      const first = yield* Effect.flip(connect)
      assert.strictEqual(first.reason, "ConnectionRefused")
      assert.deepStrictEqual(yield* Effect.scoped(Effect.flatMap(connect, readText)), Option.some("220 second\r\n"))
      assert.deepStrictEqual(yield* Effect.scoped(Effect.flatMap(connect, readText)), Option.some("220 third\r\n"))
      const fourth = yield* Effect.flip(connect)
      assert.strictEqual(fourth.reason, "ConnectionRefused")
      assert.strictEqual(fourth.host, "192.0.2.1")
      assert.deepStrictEqual(yield* report, { connections: 4, unmatched: [], remaining: [] })
    }).pipe(Effect.provide(layer))
  })

  it.effect("report lists the lines of scripts never reached", () => {
    const { report } = ScriptedTransport.make(["S: 220 a\nC: QUIT", "S: 220 b"])
    return Effect.map(report, (r) => assert.deepStrictEqual(r.remaining, ["S: 220 a", "C: QUIT", "S: 220 b"]))
  })

  it.effect("layer starts afresh each time it is provided", () => {
    const layer = ScriptedTransport.layer("S: 220 ready")
    const greet = Effect.scoped(Effect.flatMap(connect, readText)).pipe(Effect.provide(layer))
    return Effect.gen(function* () {
      assert.deepStrictEqual(yield* greet, Option.some("220 ready\r\n"))
      assert.deepStrictEqual(yield* greet, Option.some("220 ready\r\n"))
    })
  })

  it.effect("a connection is unusable once its scope closed", () =>
    Effect.gen(function* () {
      const conn = yield* Effect.scoped(connect)
      assert.strictEqual((yield* Effect.flip(conn.read)).reason, "Closed")
      assert.strictEqual((yield* Effect.flip(send(conn, "NOOP\r\n"))).reason, "Closed")
    }).pipe(Effect.provide(ScriptedTransport.layer("S: 220 ready\nC: NOOP")))
  )

  it("parse rejects unknown lines and a refuse with other lines", () => {
    assert.throws(() => ScriptedTransport.parse("X: what"), /line 1/)
    assert.throws(() => ScriptedTransport.parse("* refuse\nS: 220"), /whole script/)
    assert.deepStrictEqual(ScriptedTransport.parse("  S:\n\n  C: QUIT  "), [
      { _tag: "Send", line: "", text: "S:" },
      { _tag: "Expect", line: "QUIT", text: "C: QUIT" }
    ])
  })

  it.effect("drives a whole verification session through SmtpClient", () => {
    const { layer, report } = ScriptedTransport.make(`
      S: 220 mx.example.com ESMTP
      C: EHLO verifier.example.net
      S: 250-mx.example.com
      S: 250 STARTTLS
      C: STARTTLS
      S: 220 2.0.0 Ready to start TLS
      * tls
      C: EHLO verifier.example.net
      S: 250 mx.example.com
      C: MAIL FROM:<>
      S: 250 2.1.0 ok
      C: RCPT TO:<alice@example.com>
      S: 550 5.1.1 no such user
      C: QUIT
      S: 221 2.0.0 bye
      * close
    `)
    const session = Session.make({
      ...Session.defaults,
      clientName: "verifier.example.net",
      mailFrom: "",
      recipients: [Result.getOrThrow(Address.parse("alice@example.com"))],
      servername: "mx.example.com"
    })
    return Effect.gen(function* () {
      const result = yield* SmtpClient.run(SmtpClient.sessionMachine, session, {
        host: "192.0.2.1",
        port: 25,
        connectTimeout: "5 seconds",
        phaseTimeout: () => "30 seconds",
        tls: { rejectUnauthorized: false }
      })
      assert.deepStrictEqual(result.tls, { _tag: "Established", info: ScriptedTransport.unverifiedTls })
      assert.deepStrictEqual(
        result.recipients.map((r) => Option.map(r.rcpt, (reply) => reply.code)),
        [Option.some(550)]
      )
      assert.deepStrictEqual(yield* report, { connections: 1, unmatched: [], remaining: [] })
    }).pipe(Effect.provide(layer))
  })
})
