// The pure parts of the mailer as tables: queue ids from final replies, the mapping from a
// session's result to a SendResult or a SendError reason, retryability, and the config checks.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Result } from "effect"
import { ProtocolError, Reply, type Submission } from "@rcpt/smtp"
import * as MailerConfig from "../src/MailerConfig.ts"
import type { Built } from "../src/MailMessage.ts"
import type * as SendError from "../src/SendError.ts"
import * as SendResult from "../src/SendResult.ts"
import { fromSession } from "../src/internal/outcome.ts"

const reply = (code: number, text: string) => Reply.make(code, [text])

describe("SendResult.queueId", () => {
  const rows: ReadonlyArray<readonly [server: string, text: string, id: string | undefined]> = [
    ["Postfix", "2.0.0 Ok: queued as 4Xq1Zb2Lz3z9", "4Xq1Zb2Lz3z9"],
    ["smtp-server", "Ok: queued as QID1", "QID1"],
    ["Exim", "OK id=1rXyZa-0001Ab-Cd", "1rXyZa-0001Ab-Cd"],
    ["Gmail", "2.0.0 OK  1700000000 a1-20020a170902b58100b001 - gsmtp", "a1-20020a170902b58100b001"],
    ["Sendmail", "2.0.0 x8JFkY1a012345 Message accepted for delivery", "x8JFkY1a012345"],
    ["Exchange", "2.6.0 <a@b> [InternalId=123456789, Hostname=EX01] Queued mail for delivery", "123456789"],
    ["Amazon SES", "Ok 0100018b2f3c4d5e-1a2b3c4d-0000-000000", "0100018b2f3c4d5e-1a2b3c4d-0000-000000"],
    ["nothing to read", "2.0.0 OK: message queued", undefined]
  ]
  for (const [server, text, id] of rows) {
    it(server, () => assert.deepStrictEqual(SendResult.queueId(reply(250, text)), Option.fromNullishOr(id)))
  }
})

describe("fromSession", () => {
  const built: Built = {
    envelope: { mailFrom: "a@example.net", recipients: ["b@example.com", "c@example.com"] },
    body: new Uint8Array(0),
    messageId: Option.some("<m@example.net>")
  }
  const session = (
    outcome: Submission.MessageOutcome,
    end: Submission.SessionEnd = { _tag: "Held" },
    replies: ReadonlyArray<Reply.Reply | undefined> = []
  ): Submission.SubmissionResult => ({
    messages: [
      {
        outcome,
        mail: Option.none(),
        recipients: built.envelope.recipients.map((address, i) => ({
          address,
          reply: Option.fromNullishOr(replies[i])
        })),
        data: Option.none()
      }
    ],
    end,
    greeting: Option.none(),
    capabilities: Option.none(),
    tls: { _tag: "Plaintext" },
    authenticated: Option.none(),
    ready: Option.none(),
    transcript: []
  })
  const reason = (result: Submission.SubmissionResult, reused = false) => {
    const r = fromSession(result, built, { reused, attempts: 1 })
    return Result.isFailure(r) ? r.failure : undefined
  }

  it("Sent: accepted and refused recipients, queue id, final reply", () => {
    const r = fromSession(
      session({ _tag: "Sent", reply: reply(250, "2.0.0 Ok: queued as ABC") }, { _tag: "Held" }, [
        reply(250, "2.1.5 Ok"),
        reply(550, "5.1.1 unknown")
      ]),
      built,
      { reused: true, attempts: 2 }
    )
    assert.isTrue(Result.isSuccess(r))
    if (Result.isFailure(r)) return
    assert.deepStrictEqual(r.success.accepted, ["b@example.com"])
    assert.deepStrictEqual(r.success.rejected, [
      { address: "c@example.com", accepted: false, reply: { code: 550, enhanced: "5.1.1", text: "unknown" } }
    ])
    assert.deepStrictEqual(r.success.queueId, Option.some("ABC"))
    assert.deepStrictEqual(r.success.reply, { code: 250, enhanced: "2.0.0", text: "Ok: queued as ABC" })
    assert.strictEqual(r.success.attempts, 2)
    assert.isTrue(r.success.reused)
  })

  const rows: ReadonlyArray<
    readonly [
      name: string,
      result: Submission.SubmissionResult,
      tag: SendError.SendErrorReason["_tag"],
      retryable: boolean
    ]
  > = [
    [
      "refused before MAIL",
      session({ _tag: "Refused", reason: "MessageTooLarge", message: "too big" }),
      "InvalidMessage",
      false
    ],
    ["MAIL 451", session({ _tag: "MailRejected", reply: reply(451, "4.3.0 later") }), "SenderRejected", true],
    ["MAIL 530", session({ _tag: "MailRejected", reply: reply(530, "5.7.0 auth required") }), "SenderRejected", false],
    [
      "all RCPT 4xx",
      session({ _tag: "AllRecipientsRejected" }, { _tag: "Held" }, [reply(450, "4.2.0 greylisted"), reply(451, "x")]),
      "RecipientsRejected",
      true
    ],
    [
      "all RCPT, some 5xx",
      session({ _tag: "AllRecipientsRejected" }, { _tag: "Held" }, [reply(450, "4.2.0 greylisted"), reply(550, "x")]),
      "RecipientsRejected",
      false
    ],
    ["DATA 451", session({ _tag: "DataRejected", reply: reply(451, "later") }), "MessageRejected", true],
    ["final 554", session({ _tag: "MessageRejected", reply: reply(554, "5.7.1 spam") }), "MessageRejected", false],
    ["final 452", session({ _tag: "MessageRejected", reply: reply(452, "4.3.1 storage") }), "MessageRejected", true],
    [
      "greeting 554",
      session({ _tag: "Pending" }, { _tag: "Rejected", phase: "AwaitGreeting", reply: reply(554, "go away") }),
      "ServerRejected",
      false
    ],
    [
      "421 closing",
      session({ _tag: "Pending" }, { _tag: "ServiceClosing", phase: "AwaitMail", reply: reply(421, "4.3.2 bye") }),
      "ServerRejected",
      true
    ],
    ["closed at RCPT", session({ _tag: "Pending" }, { _tag: "Closed", phase: "AwaitRcpt" }), "ConnectionLost", true],
    [
      "timed out after the body",
      session({ _tag: "Pending" }, { _tag: "TimedOut", phase: "AwaitDataEnd" }),
      "ConnectionLost",
      false
    ],
    [
      "closed after the body",
      session({ _tag: "Pending" }, { _tag: "Closed", phase: "AwaitDataEnd" }),
      "ConnectionLost",
      false
    ],
    [
      "TLS unavailable",
      session({ _tag: "Pending" }, { _tag: "TlsUnavailable", reply: Option.none() }),
      "TlsError",
      false
    ],
    [
      "STARTTLS refused",
      session({ _tag: "Pending" }, { _tag: "TlsUnavailable", reply: Option.some(reply(454, "no")) }),
      "TlsError",
      false
    ],
    ["TLS handshake", session({ _tag: "Pending" }, { _tag: "TlsFailed", message: "bad cert" }), "TlsError", false],
    [
      "AUTH 535",
      session(
        { _tag: "Pending" },
        { _tag: "AuthFailed", outcome: "InvalidCredentials", mechanism: "PLAIN", reply: reply(535, "5.7.8 no") }
      ),
      "AuthFailed",
      false
    ],
    [
      "AUTH 454",
      session(
        { _tag: "Pending" },
        { _tag: "AuthFailed", outcome: "TemporaryFailure", mechanism: "LOGIN", reply: reply(454, "4.7.0 later") }
      ),
      "AuthFailed",
      true
    ],
    [
      "no mechanism",
      session({ _tag: "Pending" }, { _tag: "AuthUnavailable", reason: "NotOffered", message: "no AUTH" }),
      "AuthUnavailable",
      false
    ],
    [
      "protocol error",
      session(
        { _tag: "Pending" },
        {
          _tag: "ProtocolError",
          phase: "AwaitEhlo",
          error: new ProtocolError.RemoteProtocolError({ reason: "MalformedLine", message: "bad" })
        }
      ),
      "ProtocolError",
      false
    ],
    ["ended without the message", session({ _tag: "Pending" }, { _tag: "Completed" }), "ProtocolError", false]
  ]
  for (const [name, result, tag, retryable] of rows) {
    it(`${name}: ${tag}, retryable ${retryable}`, () => {
      const failure = reason(result)
      assert.strictEqual(failure?._tag, tag)
      assert.strictEqual(failure?.isRetryable, retryable)
      assert.isString(failure?.message)
    })
  }

  it("a session with no message reports how it ended", () => {
    const failure = reason({ ...session({ _tag: "Pending" }, { _tag: "Closed", phase: "AwaitEhlo" }), messages: [] })
    assert.strictEqual(failure?._tag, "ConnectionLost")
  })
})

describe("MailerConfig", () => {
  const base = { host: "smtp.example.com", clientName: "client.example.net" }
  const rows: ReadonlyArray<readonly [name: string, input: MailerConfig.Input, field: string | undefined]> = [
    ["defaults", base, undefined],
    ["empty host", { ...base, host: " " }, "host"],
    ["port 0", { ...base, port: 0 }, "port"],
    ["bad client name", { ...base, clientName: "not a name" }, "clientName"],
    ["no connections", { ...base, maxConnections: 0 }, "maxConnections"],
    ["no messages", { ...base, maxMessages: 0 }, "maxMessages"],
    ["a rate of zero", { ...base, rateLimit: { messages: 0, per: "1 second" } }, "rateLimit"],
    ["a zero idle timeout", { ...base, idleTimeout: 0 }, "idleTimeout"],
    ["a bad phase timeout", { ...base, timeouts: { ...MailerConfig.phaseTimeouts, rcpt: -1 } }, "rcpt"]
  ]
  for (const [name, input, field] of rows) {
    it.effect(name, () =>
      Effect.gen(function* () {
        const r = yield* Effect.result(MailerConfig.make(input))
        assert.strictEqual(Result.isFailure(r) ? r.failure.field : undefined, field)
      })
    )
  }

  it.effect("an IDN client name goes out as its A-label", () =>
    Effect.gen(function* () {
      const config = yield* MailerConfig.make({ ...base, clientName: "bücher.example" })
      assert.strictEqual(config.clientName, "xn--bcher-kva.example")
    })
  )

  it("a timeout for every phase", () => {
    const timeout = MailerConfig.timeoutFor(MailerConfig.phaseTimeouts)
    assert.strictEqual(timeout("AwaitDataEnd"), "10 minutes")
    assert.strictEqual(timeout("AwaitAuth"), "2 minutes")
    assert.strictEqual(timeout("something else"), "10 seconds")
  })
})
