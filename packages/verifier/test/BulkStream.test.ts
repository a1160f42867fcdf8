// Bulk.stream's contracts, through Verifier.verifyMany over the scripted transport and a static
// zone: one result per input (syntax errors, rules, null MX, SMTP), the window bound on what is
// read ahead, duplicates verified once (also when they fill the window), input chunks of any size.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { StaticDns } from "@rcpt/testing"
import * as Verifier from "../src/Verifier.ts"
import { runScripted } from "./helpers.ts"

const zone = StaticDns.layer({
  "alpha.test": { mx: [[10, "mx.alpha.test"]] },
  "mx.alpha.test": { a: ["192.0.2.1"] },
  "null.test": { mx: [[0, "."]] }
})

/** One session that answers `rcpts` (250 for alice, 550 for the rest), in this order. */
const session = (rcpts: ReadonlyArray<string>) => `
  S: 220 mx ESMTP
  C: EHLO verifier.rcpt.test
  S: 250 mx
  C: MAIL FROM:<>
  S: 250 2.1.0 Ok
  ${rcpts
    .map((to) => `C: RCPT TO:<${to}>\n  S: ${to.startsWith("alice@") ? "250 2.1.5 Ok" : "550 5.1.1 unknown"}`)
    .join("\n  ")}
  C: QUIT
  S: 221 bye
`

const run = <A, E>(scripts: ReadonlyArray<string>, f: (v: Verifier.Verifier["Service"]) => Effect.Effect<A, E>) =>
  runScripted(zone, scripts, f, { deny: ["denied.test"] })

/** The inputs one element per pull, counting what the engine has read. */
const counted = (inputs: ReadonlyArray<string>) => {
  const state = { read: 0 }
  const stream = Stream.fromIterable(inputs).pipe(
    Stream.mapEffect((a) =>
      Effect.sync(() => {
        state.read++
        return a
      })
    )
  )
  return { state, stream }
}

const verdicts = (vs: Iterable<{ readonly address: string; readonly verdict: string; readonly reason: string }>) =>
  [...vs].map((v) => `${v.address} ${v.verdict}/${v.reason}`).sort()

describe("Bulk.stream", () => {
  it.effect("one result per input, whatever answers it", () =>
    Effect.gen(function* () {
      const inputs = [
        "not an address",
        "a@denied.test",
        "b@null.test",
        "alice@alpha.test",
        "@@",
        "c@denied.test",
        "d@null.test",
        "bob@alpha.test",
        "e@null.test"
      ]
      const { result, report } = yield* run([session(["alice@alpha.test"]), session(["bob@alpha.test"])], (v) =>
        v.verifyMany(counted(inputs).stream, { window: 2 }).pipe(Stream.runCollect)
      )
      assert.deepStrictEqual(verdicts(result), [
        "@@ undeliverable/syntax",
        "a@denied.test undeliverable/denied",
        "alice@alpha.test deliverable/accepted",
        "b@null.test undeliverable/null_mx",
        "bob@alpha.test undeliverable/mailbox_unknown",
        "c@denied.test undeliverable/denied",
        "d@null.test undeliverable/null_mx",
        "e@null.test undeliverable/null_mx",
        "not an address undeliverable/syntax"
      ])
      assert.deepStrictEqual(report.unmatched, [])
    })
  )

  it.effect("the reader stops at the window while no result comes out", () =>
    Effect.gen(function* () {
      // Every session stalls (TestClock: its timeout never comes), so no permit comes back.
      const inputs = Array.from({ length: 20 }, (_, i) => `u${i}@alpha.test`)
      const { state, stream } = counted(inputs)
      const window = 3
      yield* run(Array(20).fill("S: 220 mx ESMTP\n* stall"), (v) =>
        Effect.gen(function* () {
          const fiber = yield* v.verifyMany(stream, { window }).pipe(Stream.runDrain, Effect.forkChild)
          for (let i = 0; i < 50; i++) yield* Effect.yieldNow
          // The window's inputs, and the one read that waits for a permit.
          assert.isAtLeast(state.read, window)
          assert.isAtMost(state.read, window + 1)
          yield* Fiber.interrupt(fiber)
        })
      )
    })
  )

  it.effect("duplicates are asked once, also when they fill the window while their first is gathering", () =>
    Effect.gen(function* () {
      // Window 4: the first bob gathers (a group goes at a session's worth), the copies hold the
      // other permits; the engine sends the group rather than wait on itself.
      const inputs = Array.from({ length: 12 }, (_, i) => (i % 6 === 5 ? "alice@alpha.test" : "bob@alpha.test"))
      const { result, report } = yield* run([session(["bob@alpha.test"]), session(["alice@alpha.test"])], (v) =>
        v.verifyMany(Stream.fromIterable(inputs), { window: 4 }).pipe(Stream.runCollect)
      )
      assert.strictEqual(result.length, inputs.length)
      assert.deepStrictEqual(verdicts(result), [
        ...Array(2).fill("alice@alpha.test deliverable/accepted"),
        ...Array(10).fill("bob@alpha.test undeliverable/mailbox_unknown")
      ])
      assert.strictEqual(report.connections, 2)
      assert.deepStrictEqual(report.unmatched, [])
    })
  )

  it.effect("a list of one address, longer than the window, ends", () =>
    Effect.gen(function* () {
      const inputs = Array(50).fill("alice@alpha.test")
      const { result, report } = yield* run([session(["alice@alpha.test"])], (v) =>
        v.verifyMany(counted(inputs).stream, { window: 3 }).pipe(Stream.runCollect)
      )
      assert.strictEqual(result.length, 50)
      assert.isTrue(result.every((r) => r.verdict === "deliverable" && r.address === "alice@alpha.test"))
      assert.strictEqual(report.connections, 1)
    })
  )

  it.effect("input chunks larger than the window are taken a window at a time", () =>
    Effect.gen(function* () {
      const inputs = Array.from({ length: 30 }, (_, i) => `u${i}@null.test`)
      const { result } = yield* run([], (v) =>
        v.verifyMany(Stream.fromArray(inputs), { window: 4 }).pipe(Stream.runCollect)
      )
      assert.deepStrictEqual([...result].map((r) => r.address).sort(), [...inputs].sort())
      assert.isTrue(result.every((r) => r.reason === "null_mx"))
    })
  )
})
