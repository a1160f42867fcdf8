import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Option, Schedule } from "effect"
import { Reply, type Session } from "@rcpt/smtp"
import * as Policy from "../src/Policy.ts"

/** The delays a schedule asks for, until it stops (at most `max`). */
const delays = (schedule: Schedule.Schedule<unknown, unknown>, max = 10) =>
  Effect.gen(function* () {
    const step = yield* Schedule.toStep(schedule)
    const out: Array<number> = []
    let now = 0
    for (let i = 0; i < max; i++) {
      const next = yield* Effect.result(step(now, undefined))
      if (next._tag === "Failure") break
      const ms = Duration.toMillis(next.success[1])
      out.push(ms)
      now += ms
    }
    return out
  })

const result = (end: Session.SessionEnd, answered = false): Session.SessionResult => ({
  recipients: [
    {
      mailbox: {
        localPart: "a",
        domain: { _tag: "DomainName", ascii: "x.test", unicode: "x.test" },
        needsSmtpUtf8: false,
        address: "a@x.test"
      },
      rcpt: answered ? Option.some(Reply.make(550, ["5.1.1 no"])) : Option.none(),
      vrfy: Option.none(),
      skipped: Option.none()
    }
  ],
  probes: [],
  greeting: Option.none(),
  capabilities: Option.none(),
  tls: { _tag: "Plaintext" },
  end,
  transcript: [],
  parked: Option.none(),
  resets: 0
})

describe("Policy", () => {
  it.effect("greylistRetry: exponential from 30 s with jitter, four more asks", () =>
    Effect.gen(function* () {
      const d = yield* delays(Policy.greylistRetry)
      assert.strictEqual(d.length, 4)
      const nominal = [30_000, 60_000, 120_000, 240_000]
      d.forEach((ms, i) => {
        assert.isAtLeast(ms, nominal[i]! * 0.8 - 1)
        assert.isAtMost(ms, nominal[i]! * 1.2 + 1)
      })
    })
  )

  it.effect("a replacement schedule is just a value", () =>
    Effect.gen(function* () {
      const mine = Schedule.spaced("5 seconds").pipe(Schedule.upTo({ times: 2 }))
      assert.deepStrictEqual(yield* delays(mine), [5000, 5000])
    })
  )

  it("timeoutFor maps every phase", () => {
    const t = Policy.timeoutFor(Policy.phaseTimeouts)
    const table: ReadonlyArray<readonly [string, Duration.Input]> = [
      ["AwaitGreeting", "30 seconds"],
      ["AwaitEhlo", "15 seconds"],
      ["AwaitHelo", "15 seconds"],
      ["AwaitStartTls", "10 seconds"],
      ["AwaitTlsHandshake", "10 seconds"],
      ["AwaitMail", "20 seconds"],
      ["AwaitRcpt", "30 seconds"],
      ["AwaitProbe", "30 seconds"],
      ["AwaitRset", "10 seconds"],
      ["AwaitVrfy", "15 seconds"],
      ["AwaitQuit", "5 seconds"]
    ]
    for (const [phase, expected] of table) assert.strictEqual(t(phase), expected, phase)
  })

  it("isGreylisting: 4xx at RCPT only", () => {
    const table: ReadonlyArray<readonly [Policy.Outcome, boolean]> = [
      [{ verdict: "unknown", reason: "greylisted", retryable: true }, true],
      [{ verdict: "unknown", reason: "temporary_failure", retryable: true }, true],
      [{ verdict: "unknown", reason: "rate_limited", retryable: true }, true],
      [{ verdict: "unknown", reason: "timeout", retryable: true }, false],
      [{ verdict: "unknown", reason: "connection_failed", retryable: true }, false],
      [{ verdict: "undeliverable", reason: "mailbox_unknown", retryable: false }, false],
      [{ verdict: "unknown", reason: "blocked", retryable: false }, false]
    ]
    for (const [o, expected] of table) assert.strictEqual(Policy.isGreylisting(o), expected, o.reason)
  })

  it("shouldFailover: connection failures and hosts that gave up before RCPT", () => {
    const r421 = Reply.make(421, ["4.3.2 busy"])
    const table: ReadonlyArray<readonly [string, Policy.HostAttempt, boolean]> = [
      ["connect failed", { _tag: "ConnectFailed", message: "refused" }, true],
      [
        "421 greeting",
        { _tag: "Session", result: result({ _tag: "ServiceClosing", phase: "AwaitGreeting", reply: r421 }) },
        true
      ],
      ["timeout", { _tag: "Session", result: result({ _tag: "TimedOut", phase: "AwaitEhlo" }) }, true],
      ["closed", { _tag: "Session", result: result({ _tag: "Closed", phase: "AwaitMail" }) }, true],
      [
        "4xx MAIL",
        {
          _tag: "Session",
          result: result({ _tag: "Rejected", phase: "AwaitMail", reply: Reply.make(451, ["try later"]) })
        },
        true
      ],
      [
        "554 greeting",
        {
          _tag: "Session",
          result: result({ _tag: "Rejected", phase: "AwaitGreeting", reply: Reply.make(554, ["no"]) })
        },
        false
      ],
      [
        "answered then closed",
        { _tag: "Session", result: result({ _tag: "Closed", phase: "AwaitRcpt" }, true) },
        false
      ],
      ["completed", { _tag: "Session", result: result({ _tag: "Completed" }, true) }, false]
    ]
    for (const [name, attempt, expected] of table) assert.strictEqual(Policy.shouldFailover(attempt), expected, name)
  })

  it("retryWithoutTls: only a failed handshake in opportunistic mode", () => {
    const failed: Policy.HostAttempt = { _tag: "Session", result: result({ _tag: "TlsFailed", message: "bad" }) }
    assert.isTrue(Policy.retryWithoutTls(failed, "opportunistic"))
    assert.isFalse(Policy.retryWithoutTls(failed, "required"))
    assert.isFalse(Policy.retryWithoutTls({ _tag: "ConnectFailed", message: "x" }, "opportunistic"))
  })
})
