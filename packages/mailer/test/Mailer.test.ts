// The Mailer against the scripted transport: pooling, RSET between messages, retries on the
// schedule (TestClock), the stale-connection retry, the rate limit and the typed errors.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { ScriptedTransport } from "@rcpt/testing"
import * as Mailer from "../src/Mailer.ts"
import type * as MailerConfig from "../src/MailerConfig.ts"
import type * as MailMessage from "../src/MailMessage.ts"

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")

const config = (overrides: Partial<MailerConfig.MailerConfig> = {}): MailerConfig.Input => ({
  host: "127.0.0.1",
  port: 587,
  clientName: "client.example.net",
  tls: "off",
  allowInsecureAuth: true,
  auth: { _tag: "Password", username: "alice", password: "s3cret-Pa55" },
  retry: Schedule.max([Schedule.spaced("10 seconds"), Schedule.recurs(2)]),
  idleTimeout: "1 hour",
  ...overrides
})

const raw = (n: number, recipients: ReadonlyArray<string> = ["bob@example.com"]): MailMessage.RawMail => ({
  raw: `Subject: message ${n}\r\n\r\nbody ${n}\r\n`,
  envelope: { mailFrom: "ann@example.net", recipients }
})

const opening = `
  S: 220 smtp.example.com ESMTP
  C: EHLO client.example.net
  S: 250-smtp.example.com
  S: 250-PIPELINING
  S: 250 AUTH PLAIN LOGIN
  C: AUTH PLAIN ${b64("\u0000alice\u0000s3cret-Pa55")}
  S: 235 2.7.0 Authentication successful
`

const transaction = (n: number, to = "bob@example.com", queued = `Q${n}`) => `
  C: MAIL FROM:<ann@example.net>
  C: RCPT TO:<${to}>
  C: DATA
  S: 250 2.1.0 Ok
  S: 250 2.1.5 Ok
  S: 354 End data with <CR><LF>.<CR><LF>
  C: Subject: message ${n}
  C:
  C: body ${n}
  C: .
  S: 250 2.0.0 Ok: queued as ${queued}
`

const quit = `
  C: QUIT
  S: 221 2.0.0 Bye
`

/** Runs `body` with a mailer over the scripts; returns its value and the scripts' report. */
const withMailer = <A, E>(
  scripts: ReadonlyArray<string>,
  cfg: MailerConfig.Input,
  body: (mailer: Mailer.Mailer["Service"], report: Effect.Effect<ScriptedTransport.Report>) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const scripted = ScriptedTransport.make(scripts)
    const value = yield* Effect.gen(function* () {
      return yield* body(yield* Mailer.Mailer, scripted.report)
    }).pipe(Effect.provide(Mailer.layer(cfg).pipe(Layer.provide(scripted.layer))))
    return { value, report: yield* scripted.report }
  })

/** Lets the in-memory conversation run until the script waits for `line` (bounded). */
const playedUpTo = (report: Effect.Effect<ScriptedTransport.Report>, line: string | undefined) =>
  Effect.gen(function* () {
    for (let i = 0; i < 10_000; i++) {
      if ((yield* report).remaining[0] === line) return
      yield* Effect.yieldNow
    }
    assert.fail(`the script never got to ${line ?? "its end"}`)
  })

const assertPlayed = (report: ScriptedTransport.Report, connections: number) => {
  assert.deepStrictEqual(report.unmatched, [])
  assert.deepStrictEqual(report.remaining, [])
  assert.strictEqual(report.connections, connections)
}

describe("Mailer", () => {
  it.effect("two messages, one connection: RSET between, QUIT when the layer closes", () =>
    Effect.gen(function* () {
      const { value, report } = yield* withMailer(
        [`${opening}${transaction(1)}\nC: RSET\nS: 250 2.0.0 Ok\n${transaction(2)}${quit}`],
        config(),
        (mailer) => Effect.all([mailer.send(raw(1)), mailer.send(raw(2))])
      )
      assertPlayed(report, 1)
      const [first, second] = value
      assert.deepStrictEqual(first.queueId, Option.some("Q1"))
      assert.deepStrictEqual(second.queueId, Option.some("Q2"))
      assert.isFalse(first.reused)
      assert.isTrue(second.reused)
      assert.deepStrictEqual(first.accepted, ["bob@example.com"])
      assert.strictEqual(first.attempts, 1)
      const text = first.transcript.map((e) => e.text).join("\n")
      assert.include(text, "AUTH PLAIN ****")
      assert.notInclude(text, "s3cret-Pa55")
      assert.notInclude(text, b64("\u0000alice\u0000s3cret-Pa55"))
    })
  )

  it.effect("maxMessages: the connection says QUIT after its last message, the next one opens anew", () =>
    Effect.gen(function* () {
      const { report } = yield* withMailer(
        [`${opening}${transaction(1)}${quit}`, `${opening}${transaction(2)}${quit}`],
        config({ maxMessages: 1 }),
        (mailer) => Effect.all([mailer.send(raw(1)), mailer.send(raw(2))])
      )
      assertPlayed(report, 2)
    })
  )

  it.effect("some recipients refused: sent to the rest, refusals reported", () =>
    Effect.gen(function* () {
      const script = `${opening}
        C: MAIL FROM:<ann@example.net>
        C: RCPT TO:<bob@example.com>
        C: RCPT TO:<nobody@example.com>
        C: DATA
        S: 250 2.1.0 Ok
        S: 250 2.1.5 Ok
        S: 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown
        S: 354 go ahead
        C: Subject: message 1
        C:
        C: body 1
        C: .
        S: 250 2.0.0 Ok: queued as 9F3C2
        ${quit}`
      const { value, report } = yield* withMailer([script], config(), (mailer) =>
        mailer.send(raw(1, ["bob@example.com", "nobody@example.com"]))
      )
      assertPlayed(report, 1)
      assert.deepStrictEqual(value.accepted, ["bob@example.com"])
      assert.deepStrictEqual(
        value.rejected.map((r) => [r.address, r.reply.code, r.reply.enhanced]),
        [["nobody@example.com", 550, "5.1.1"]]
      )
      assert.deepStrictEqual(value.queueId, Option.some("9F3C2"))
    })
  )

  it.effect("all recipients refused: RecipientsRejected, not retried, no body", () =>
    Effect.gen(function* () {
      const script = `${opening}
        C: MAIL FROM:<ann@example.net>
        C: RCPT TO:<nobody@example.com>
        C: DATA
        S: 250 2.1.0 Ok
        S: 550 5.1.1 User unknown
        S: 554 5.5.1 Error: no valid recipients
        ${quit}`
      const { value, report } = yield* withMailer([script], config(), (mailer) =>
        mailer.send(raw(1, ["nobody@example.com"])).pipe(Effect.flip)
      )
      assertPlayed(report, 1)
      assert.strictEqual(value.reason._tag, "RecipientsRejected")
      assert.isFalse(value.isRetryable)
      assert.isTrue(value.transcript.some((e) => e.text.includes("554 5.5.1")))
    })
  )

  it.effect("a transient 4xx is retried on the schedule, on the same (still sound) connection", () =>
    Effect.gen(function* () {
      const script = `${opening}
        C: MAIL FROM:<ann@example.net>
        C: RCPT TO:<bob@example.com>
        C: DATA
        S: 451 4.7.1 Please try again later
        S: 503 5.5.1 Error: need MAIL command
        S: 503 5.5.1 Error: need RCPT command
        C: RSET
        S: 250 2.0.0 Ok
        ${transaction(1)}
        ${quit}`
      const { value, report } = yield* withMailer([script], config(), (mailer, played) =>
        Effect.gen(function* () {
          const fiber = yield* mailer.send(raw(1)).pipe(Effect.forkChild)
          yield* playedUpTo(played, "C: RSET")
          yield* TestClock.adjust("9 seconds")
          assert.isUndefined(fiber.pollUnsafe(), "still waiting for the schedule")
          yield* TestClock.adjust("1 second")
          return yield* Fiber.join(fiber)
        })
      )
      assertPlayed(report, 1)
      assert.strictEqual(value.attempts, 2)
      assert.deepStrictEqual(value.queueId, Option.some("Q1"))
    })
  )

  it.effect("the schedule runs out: the last error comes back", () =>
    Effect.gen(function* () {
      const busy = `
        C: MAIL FROM:<ann@example.net>
        C: RCPT TO:<bob@example.com>
        C: DATA
        S: 250 2.1.0 Ok
        S: 450 4.2.0 Greylisted, see https://postgrey.schweikert.ch/
        S: 554 5.5.1 Error: no valid recipients
      `
      const script = `${opening}${busy}\nC: RSET\nS: 250 Ok\n${busy}\nC: RSET\nS: 250 Ok\n${busy}${quit}`
      const { value, report } = yield* withMailer([script], config(), (mailer, played) =>
        Effect.gen(function* () {
          const fiber = yield* mailer.send(raw(1)).pipe(Effect.flip, Effect.forkChild)
          for (const next of ["C: RSET", "C: RSET", "C: QUIT"]) {
            yield* playedUpTo(played, next)
            yield* TestClock.adjust("10 seconds")
          }
          return yield* Fiber.join(fiber)
        })
      )
      assertPlayed(report, 1)
      assert.strictEqual(value.reason._tag, "RecipientsRejected")
      assert.isTrue(value.isRetryable)
    })
  )

  it.effect("a pooled connection dropped while idle: tried again at once on a new one", () =>
    Effect.gen(function* () {
      const { value, report } = yield* withMailer(
        [`${opening}${transaction(1)}\nC: RSET\n* close`, `${opening}${transaction(2)}${quit}`],
        config(),
        (mailer) => Effect.all([mailer.send(raw(1)), mailer.send(raw(2))])
      )
      assertPlayed(report, 2)
      assert.strictEqual(value[1].attempts, 2)
      assert.isFalse(value[1].reused)
    })
  )

  const authFailures = [
    { reply: "535 5.7.8 Error: authentication failed", outcome: "InvalidCredentials", retryable: false },
    { reply: "454 4.7.0 Temporary authentication failure", outcome: "TemporaryFailure", retryable: true }
  ] as const
  for (const { reply, outcome, retryable } of authFailures) {
    it.effect(`AUTH answered ${reply.slice(0, 3)}: AuthFailed/${outcome}, retryable ${retryable}`, () =>
      Effect.gen(function* () {
        const script = `
          S: 220 smtp.example.com ESMTP
          C: EHLO client.example.net
          S: 250-smtp.example.com
          S: 250 AUTH PLAIN
          C: AUTH PLAIN ${b64("\u0000alice\u0000s3cret-Pa55")}
          S: ${reply}
          ${quit}`
        const { value } = yield* withMailer([script], config({ retry: Schedule.recurs(0) }), (mailer) =>
          mailer.send(raw(1)).pipe(Effect.flip)
        )
        assert.strictEqual(value.reason._tag, "AuthFailed")
        if (value.reason._tag === "AuthFailed") assert.strictEqual(value.reason.outcome, outcome)
        assert.strictEqual(value.isRetryable, retryable)
        assert.notInclude(JSON.stringify(value.transcript), "s3cret-Pa55")
      })
    )
  }

  it.effect("no connection: ConnectError, retried, then given up", () =>
    Effect.gen(function* () {
      const { value, report } = yield* withMailer(
        ["* refuse", "* refuse"],
        config({ retry: Schedule.recurs(1) }),
        (mailer) => mailer.send(raw(1)).pipe(Effect.flip)
      )
      assert.strictEqual(report.connections, 2)
      assert.strictEqual(value.reason._tag, "ConnectError")
      assert.isTrue(value.isRetryable)
    })
  )

  it.effect("TLS required and not offered: TlsError, not retried", () =>
    Effect.gen(function* () {
      const script = `
        S: 220 smtp.example.com ESMTP
        C: EHLO client.example.net
        S: 250-smtp.example.com
        S: 250 AUTH PLAIN
        ${quit}`
      const { value, report } = yield* withMailer([script], config({ tls: "required" }), (mailer) =>
        mailer.send(raw(1)).pipe(Effect.flip)
      )
      assertPlayed(report, 1)
      assert.strictEqual(value.reason._tag, "TlsError")
      assert.isFalse(value.isRetryable)
    })
  )

  it.effect("a message the server cannot take fails fast: InvalidMessage", () =>
    Effect.gen(function* () {
      const { value } = yield* withMailer([`${opening}${quit}`], config(), (mailer) =>
        mailer.send(raw(1, ["jöran@example.com"])).pipe(Effect.flip)
      )
      assert.strictEqual(value.reason._tag === "InvalidMessage" && value.reason.why, "SmtpUtf8Unsupported")
    })
  )

  it.effect("the rate limit spaces the messages", () =>
    Effect.gen(function* () {
      const { value } = yield* withMailer(
        [`${opening}${transaction(1)}\nC: RSET\nS: 250 Ok\n${transaction(2)}${quit}`],
        config({ rateLimit: { messages: 1, per: "1 minute" } }),
        (mailer) =>
          Effect.gen(function* () {
            yield* mailer.send(raw(1))
            const fiber = yield* mailer.send(raw(2)).pipe(Effect.forkChild)
            yield* TestClock.adjust("59 seconds")
            const early = fiber.pollUnsafe()
            yield* TestClock.adjust("1 second")
            return { early, second: yield* Fiber.join(fiber) }
          })
      )
      assert.isUndefined(value.early)
      assert.deepStrictEqual(value.second.queueId, Option.some("Q2"))
    })
  )

  it.effect("an idle connection is closed with QUIT after idleTimeout", () =>
    Effect.gen(function* () {
      const { report } = yield* withMailer(
        [`${opening}${transaction(1)}${quit}`],
        config({ idleTimeout: "30 seconds" }),
        (mailer, played) =>
          Effect.gen(function* () {
            yield* mailer.send(raw(1))
            yield* TestClock.adjust("61 seconds")
            yield* playedUpTo(played, undefined)
          })
      )
      assertPlayed(report, 1)
    })
  )

  it.effect("a bad config is a typed error at start-up", () =>
    Effect.gen(function* () {
      const scripted = ScriptedTransport.make([])
      const error = yield* Mailer.Mailer.pipe(
        Effect.provide(Mailer.layer(config({ maxConnections: 0 })).pipe(Layer.provide(scripted.layer))),
        Effect.flip
      )
      assert.strictEqual(error.field, "maxConnections")
    })
  )
})
