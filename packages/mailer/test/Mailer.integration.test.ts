// The Node mailer against smtp-server on loopback: STARTTLS with certificate checking, each AUTH
// mechanism, 538 and 535, Bcc in the envelope only, pool reuse counted at the server, a
// transient 4xx retried on a short schedule, implicit TLS.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import PostalMime from "postal-mime"
import { NodeMailer } from "@rcpt/node"
import * as Mailer from "../src/Mailer.ts"
import type * as MailerConfig from "../src/MailerConfig.ts"
import * as TestServer from "./server.ts"

const options = (port: number, overrides: Partial<MailerConfig.MailerConfig> = {}): NodeMailer.Options => ({
  host: "127.0.0.1",
  port,
  servername: "localhost",
  ca: [TestServer.certificate],
  clientName: "client.example.net",
  auth: { _tag: "Password", username: TestServer.user, password: TestServer.password },
  retry: Schedule.max([Schedule.spaced("20 millis"), Schedule.recurs(3)]),
  ...overrides
})

const withMailer = <A, E>(opts: NodeMailer.Options, body: (mailer: Mailer.Mailer["Service"]) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    return yield* body(yield* Mailer.Mailer)
  }).pipe(Effect.provide(NodeMailer.layer(opts).pipe(Layer.orDie)))

const mail = (n = 1) => ({
  from: { name: "Ann Sender", address: "ann@example.net" },
  to: "bob@example.com",
  cc: ["carol@example.com", "Bob@example.com"],
  bcc: "hidden@example.org",
  subject: `Report ${n}`,
  text: `Hello ${n}\n.\nA line with a lone dot above.`
})

describe("Mailer over smtp-server", () => {
  it.live("STARTTLS, AUTH PLAIN, Bcc in the envelope and in no header", () =>
    Effect.gen(function* () {
      const server = yield* TestServer.start()
      const result = yield* withMailer(options(server.port), (mailer) => mailer.send(mail()))
      assert.strictEqual(result.queueId._tag === "Some" && result.queueId.value, "QID1")
      assert.deepStrictEqual(result.accepted, ["bob@example.com", "carol@example.com", "hidden@example.org"])
      assert.deepStrictEqual(server.auths, ["PLAIN alice ok"])
      const [received] = server.received
      assert.deepStrictEqual(received!.mailFrom, "ann@example.net")
      assert.deepStrictEqual(received!.rcptTo, ["bob@example.com", "carol@example.com", "hidden@example.org"])
      const text = new TextDecoder().decode(received!.raw)
      assert.notInclude(text, "hidden@example.org")
      const parsed = yield* Effect.promise(() => PostalMime.parse(received!.raw))
      assert.isUndefined(parsed.bcc)
      assert.strictEqual(parsed.subject, "Report 1")
      assert.deepStrictEqual(
        parsed.to?.map((a) => ("address" in a ? a.address : undefined)),
        ["bob@example.com"]
      )
      // Dot-stuffing undone by the server: the lone dot line is back.
      assert.include(parsed.text ?? "", "Hello 1\n.\nA line with a lone dot above.")
      const transcript = result.transcript.map((e) => `${e.direction}: ${e.text}`)
      assert.include(transcript, "C: STARTTLS")
      assert.include(transcript, "C: AUTH PLAIN ****")
      assert.notInclude(transcript.join("\n"), TestServer.password)
    })
  )

  for (const mechanism of ["LOGIN", "CRAM-MD5"] as const) {
    it.live(`AUTH ${mechanism}`, () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start()
        const result = yield* withMailer(options(server.port, { mechanism }), (mailer) => mailer.send(mail()))
        assert.deepStrictEqual(server.auths, [`${mechanism} alice ok`])
        assert.strictEqual(server.received.length, 1)
        const text = result.transcript.map((e) => e.text).join("\n")
        assert.notInclude(text, TestServer.password)
        assert.notInclude(text, Buffer.from(TestServer.password).toString("base64"))
      })
    )
  }

  it.live("538 before STARTTLS: AUTH in the clear, allowed by us, refused by the server", () =>
    Effect.gen(function* () {
      const server = yield* TestServer.start()
      const error = yield* withMailer(options(server.port, { tls: "off", allowInsecureAuth: true }), (mailer) =>
        mailer.send(mail())
      ).pipe(Effect.flip)
      assert.strictEqual(error.reason._tag, "AuthFailed")
      if (error.reason._tag === "AuthFailed") {
        assert.strictEqual(error.reason.outcome, "EncryptionRequired")
        assert.strictEqual(error.reason.reply.code, 538)
      }
      assert.isFalse(error.isRetryable)
      assert.strictEqual(server.received.length, 0)
    })
  )

  it.live("535 on a bad password: AuthFailed, not retried", () =>
    Effect.gen(function* () {
      const server = yield* TestServer.start()
      const error = yield* withMailer(
        options(server.port, { auth: { _tag: "Password", username: "alice", password: "wrong" } }),
        (mailer) => mailer.send(mail())
      ).pipe(Effect.flip)
      assert.strictEqual(error.reason._tag === "AuthFailed" && error.reason.outcome, "InvalidCredentials")
      assert.deepStrictEqual(server.auths, ["PLAIN alice fail"])
      assert.notInclude(JSON.stringify(error.transcript), "wrong")
    })
  )

  it.live("two messages, one connection (counted at the server)", () =>
    Effect.gen(function* () {
      const server = yield* TestServer.start()
      const [first, second] = yield* withMailer(options(server.port), (mailer) =>
        Effect.all([mailer.send(mail(1)), mailer.send(mail(2))])
      )
      assert.strictEqual(server.connections(), 1)
      assert.deepStrictEqual(server.auths, ["PLAIN alice ok"])
      assert.deepStrictEqual(
        server.received.map((r) => r.rcptTo.length),
        [3, 3]
      )
      assert.isFalse(first.reused)
      assert.isTrue(second.reused)
      assert.isTrue(second.transcript.some((e) => e.text === "RSET"))
    })
  )

  it.live("maxMessages 1: one connection per message", () =>
    Effect.gen(function* () {
      const server = yield* TestServer.start()
      yield* withMailer(options(server.port, { maxMessages: 1 }), (mailer) =>
        Effect.all([mailer.send(mail(1)), mailer.send(mail(2))])
      )
      assert.strictEqual(server.connections(), 2)
      assert.strictEqual(server.received.length, 2)
    })
  )

  it.live("a transient 4xx is retried on the schedule", () =>
    Effect.gen(function* () {
      const server = yield* TestServer.start({ failMail: { times: 2, code: 451, message: "4.7.1 Try again later" } })
      const result = yield* withMailer(options(server.port), (mailer) => mailer.send(mail()))
      assert.strictEqual(result.attempts, 3)
      assert.strictEqual(server.mailFroms.length, 3)
      assert.strictEqual(server.received.length, 1)
    })
  )

  it.live("a permanent 5xx is not retried", () =>
    Effect.gen(function* () {
      const server = yield* TestServer.start({ failMail: { times: 5, code: 553, message: "5.7.1 Sender not owned" } })
      const error = yield* withMailer(options(server.port), (mailer) => mailer.send(mail())).pipe(Effect.flip)
      assert.strictEqual(error.reason._tag, "SenderRejected")
      assert.strictEqual(server.mailFroms.length, 1)
    })
  )

  it.live("a refused recipient is reported; the others get the message", () =>
    Effect.gen(function* () {
      const server = yield* TestServer.start()
      const result = yield* withMailer(options(server.port), (mailer) =>
        mailer.send({ from: "ann@example.net", to: ["bob@example.com", "nobody@example.com"], subject: "x", text: "y" })
      )
      assert.deepStrictEqual(result.accepted, ["bob@example.com"])
      assert.deepStrictEqual(
        result.rejected.map((r) => [r.address, r.reply.code]),
        [["nobody@example.com", 550]]
      )
      assert.deepStrictEqual(server.received[0]!.rcptTo, ["bob@example.com"])
    })
  )

  it.live("implicit TLS (port 465 style)", () =>
    Effect.gen(function* () {
      const server = yield* TestServer.start({ secure: true })
      const result = yield* withMailer(options(server.port, { tls: "implicit" }), (mailer) => mailer.send(mail()))
      assert.strictEqual(server.received.length, 1)
      assert.isFalse(result.transcript.some((e) => e.text === "STARTTLS"))
      assert.strictEqual(result.transcript[0]!.text, "connected (TLS by the transport)")
    })
  )

  it.live("a certificate that does not verify fails the TLS handshake", () =>
    Effect.gen(function* () {
      const server = yield* TestServer.start()
      const error = yield* withMailer(options(server.port, { ca: [] }), (mailer) => mailer.send(mail())).pipe(
        Effect.flip
      )
      assert.strictEqual(error.reason._tag === "TlsError" && error.reason.kind, "Handshake")
    })
  )
})
