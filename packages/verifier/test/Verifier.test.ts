// The Verifier through its public API, over the scripted transport and a static zone: failover,
// greylisting on the policy's schedule (TestClock), the deadline, TLS fallback, reconnects.
// Scripted transports dial nothing real: the target policy is opened to every address here.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Random, Schedule, Stream } from "effect"
import { TestClock } from "effect/testing"
import { StaticDns } from "@rcpt/testing"
import * as Policy from "../src/Policy.ts"
import * as Verifier from "../src/Verifier.ts"
import { runScripted } from "./helpers.ts"
import * as VerifierConfig from "../src/VerifierConfig.ts"

const zone = StaticDns.layer({
  "alpha.test": {
    mx: [
      [10, "mx1.alpha.test"],
      [20, "mx2.alpha.test"]
    ]
  },
  "mx1.alpha.test": { a: ["192.0.2.1"] },
  "mx2.alpha.test": { a: ["192.0.2.2"] },
  // Two domains on one provider's MX host.
  "one.test": { mx: [[10, "mx.shared.test"]] },
  "two.test": { mx: [[10, "mx.shared.test"]] },
  "mx.shared.test": { a: ["192.0.2.9"] }
})

const greeting = `
  S: 220 mx ESMTP
  C: EHLO verifier.rcpt.test
  S: 250 mx
  C: MAIL FROM:<>
  S: 250 2.1.0 Ok
`

const accept = (to: string) => `${greeting}
  C: RCPT TO:<${to}>
  S: 250 2.1.5 Ok
  C: QUIT
  S: 221 bye
`

const greylist = (to: string) => `${greeting}
  C: RCPT TO:<${to}>
  S: 450 4.2.0 <${to}>: Recipient address rejected: Greylisted
  C: QUIT
  S: 221 bye
`

const run = <A, E>(
  scripts: ReadonlyArray<string>,
  f: (v: Verifier.Verifier["Service"]) => Effect.Effect<A, E>,
  config: Partial<VerifierConfig.VerifierConfig> = {}
) => runScripted(zone, scripts, f, config)

describe("Verifier", () => {
  it.effect("failover: a refused MX, then the next preference", () =>
    Effect.gen(function* () {
      const { result, report } = yield* run(["* refuse", accept("alice@alpha.test")], (v) =>
        v.verify("alice@alpha.test")
      )
      assert.strictEqual(`${result.verdict}/${result.reason}`, "deliverable/accepted")
      assert.deepStrictEqual(
        result.attempts.map((a) => [a.address, a.outcome]),
        [
          ["192.0.2.1", "connection_failed"],
          ["192.0.2.2", "accepted"]
        ]
      )
      assert.deepStrictEqual(report.unmatched, [])
      assert.deepStrictEqual(report.remaining, [])
    })
  )

  it.effect("failover: 421 at the greeting, then the next host", () =>
    Effect.gen(function* () {
      const { result } = yield* run(["S: 421 4.3.2 busy", accept("alice@alpha.test")], (v) =>
        v.verify("alice@alpha.test")
      )
      assert.strictEqual(result.verdict, "deliverable")
      assert.strictEqual(result.mx?.host, "mx2.alpha.test")
    })
  )

  it.effect("no failover after a definitive answer", () =>
    Effect.gen(function* () {
      const script = `${greeting}
        C: RCPT TO:<nobody@alpha.test>
        S: 550 5.1.1 unknown
        C: QUIT
        S: 221 bye`
      const { result, report } = yield* run([script], (v) => v.verify("nobody@alpha.test"))
      assert.strictEqual(`${result.verdict}/${result.reason}`, "undeliverable/mailbox_unknown")
      assert.strictEqual(report.connections, 1)
    })
  )

  it.effect("every MX down: unknown / connection_failed, never undeliverable", () =>
    Effect.gen(function* () {
      const { result } = yield* run(["* refuse", "* refuse"], (v) => v.verify("alice@alpha.test"))
      assert.strictEqual(`${result.verdict}/${result.reason}`, "unknown/connection_failed")
      assert.isTrue(result.retryable)
    })
  )

  it.effect("greylisting: asks again after the schedule's delays (TestClock)", () =>
    Effect.gen(function* () {
      const fiber = yield* run(
        [greylist("alice@alpha.test"), greylist("alice@alpha.test"), accept("alice@alpha.test")],
        (v) => v.verify("alice@alpha.test"),
        { timeout: "10 minutes" }
      ).pipe(
        Effect.provideService(Policy.Policy, {
          ...Policy.defaults,
          greylistRetry: Schedule.exponential("1 minute").pipe(Schedule.upTo({ times: 5 }))
        }),
        Effect.forkChild
      )
      yield* TestClock.adjust("59 seconds")
      assert.isUndefined(fiber.pollUnsafe(), "still waiting for the first retry")
      yield* TestClock.adjust("1 second")
      yield* TestClock.adjust("2 minutes")
      const { result } = yield* Fiber.join(fiber)
      assert.deepStrictEqual(
        result.attempts.map((a) => a.outcome),
        ["greylisted", "greylisted", "accepted"]
      )
      assert.strictEqual(result.verdict, "deliverable")
    })
  )

  it.effect("greylisting: no wait begins that would end past the deadline", () =>
    Effect.gen(function* () {
      const fiber = yield* run([greylist("alice@alpha.test")], (v) => v.verify("alice@alpha.test"), {
        timeout: "20 seconds"
      }).pipe(Effect.forkChild)
      // The default schedule's first wait (30 s, jittered to 24-36 s) does not fit in 20 s: the answer comes at once.
      const { result } = yield* Fiber.join(fiber)
      assert.strictEqual(`${result.verdict}/${result.reason}`, "unknown/greylisted")
      assert.isTrue(result.retryable)
    })
  )

  it.effect("a server that stalls: timeout in the phase, within the phase timeout", () =>
    Effect.gen(function* () {
      const fiber = yield* run(["S: 220 mx\n* stall", "* refuse"], (v) => v.verify("alice@alpha.test")).pipe(
        Effect.forkChild
      )
      yield* TestClock.adjust("15 seconds")
      const { result } = yield* Fiber.join(fiber)
      // The most telling evidence wins: a host that timed out says more than one that refused.
      assert.strictEqual(`${result.verdict}/${result.reason}`, "unknown/timeout")
      assert.deepStrictEqual(
        result.attempts.map((a) => a.outcome),
        ["timeout", "connection_failed"]
      )
    })
  )

  it.effect("opportunistic TLS that fails: asked again without TLS", () =>
    Effect.gen(function* () {
      const tls = `
        S: 220 mx
        C: EHLO verifier.rcpt.test
        S: 250-mx
        S: 250 STARTTLS
        C: STARTTLS
        S: 220 go ahead
        * tls-fail`
      const plain = `
        S: 220 mx
        C: EHLO verifier.rcpt.test
        S: 250-mx
        S: 250 STARTTLS
        C: MAIL FROM:<>
        S: 250 ok
        C: RCPT TO:<alice@alpha.test>
        S: 250 ok
        C: QUIT
        S: 221 bye`
      const { result } = yield* run([tls, plain], (v) => v.verify("alice@alpha.test"))
      assert.strictEqual(result.verdict, "deliverable")
      assert.strictEqual(result.tls.status, "none")
      assert.deepStrictEqual(
        result.attempts.map((a) => a.outcome),
        ["tls_failed", "accepted"]
      )
    })
  )

  it.effect("verifyMany: a server that hangs up after errors is reconnected, nothing lost", () =>
    Effect.gen(function* () {
      const first = `${greeting}
        C: RCPT TO:<a@alpha.test>
        S: 550 5.1.1 unknown
        C: RCPT TO:<b@alpha.test>
        S: 421 4.7.0 Error: too many errors`
      // The host cut the first session after one rejection and accepted nothing: its rejection
      // cap is learnt as 1, and a session to a host that refuses everything is given no more
      // recipients than its cap (not a share it would mark postponed): b alone, then c.
      const second = `${greeting}
        C: RCPT TO:<b@alpha.test>
        S: 250 ok
        C: QUIT
        S: 221 bye`
      const third = `${greeting}
        C: RCPT TO:<c@alpha.test>
        S: 550 5.1.1 unknown
        C: QUIT
        S: 221 bye`
      const { result, report } = yield* run([first, second, third], (v) =>
        v.verifyMany(Stream.make("a@alpha.test", "b@alpha.test", "c@alpha.test")).pipe(Stream.runCollect)
      )
      assert.deepStrictEqual([...result].map((r) => `${r.address} ${r.verdict}`).sort(), [
        "a@alpha.test undeliverable",
        "b@alpha.test deliverable",
        "c@alpha.test undeliverable"
      ])
      assert.strictEqual(report.connections, 3)
    })
  )

  it.effect("verifyMany: domains with the same MX host share one session, one probe per domain", () =>
    Effect.gen(function* () {
      // The probe's local part comes from Random: with this one it is twenty "a".
      const probe = (domain: string) => `${"a".repeat(20)}@${domain}`
      const script = `${greeting}
        C: RCPT TO:<a@one.test>
        S: 250 2.1.5 Ok
        C: RCPT TO:<b@two.test>
        S: 250 2.1.5 Ok
        C: RCPT TO:<c@one.test>
        S: 550 5.1.1 unknown
        C: RCPT TO:<${probe("one.test")}>
        S: 550 5.1.1 unknown
        C: RCPT TO:<${probe("two.test")}>
        S: 250 2.1.5 Ok
        C: QUIT
        S: 221 bye`
      const { result, report } = yield* run(
        [script],
        (v) => v.verifyMany(Stream.make("a@one.test", "b@two.test", "c@one.test")).pipe(Stream.runCollect),
        { catchAllProbe: true }
      ).pipe(Effect.provideService(Random.Random, { nextIntUnsafe: () => 0, nextDoubleUnsafe: () => 0 }))
      assert.deepStrictEqual([...result].map((r) => `${r.address} ${r.verdict}/${r.reason} ${r.catchAll}`).sort(), [
        "a@one.test deliverable/accepted false",
        "b@two.test risky/catch_all true",
        "c@one.test undeliverable/mailbox_unknown false"
      ])
      assert.strictEqual(report.connections, 1)
      assert.deepStrictEqual(report.unmatched, [])
      assert.deepStrictEqual(report.remaining, [])
    })
  )
})
