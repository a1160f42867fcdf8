// A list piped in slowly: groups gather until they have a session's worth or the input ends, and
// `Policy.inputIdle` sends what gathered when the input pauses. Real servers on loopback (MailWorld).
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Option, Queue, Stream } from "effect"
import { MailWorld } from "@rcpt/testing"
import { Policy, Verifier } from "@rcpt/verifier"
import { worldVerifier } from "./helpers.ts"

const spec: MailWorld.WorldSpec = {
  domains: [{ name: "pipe.test", mx: [{ host: "mx.pipe.test", preference: 10 }], users: ["alice", "bob"] }],
  hosts: [{ name: "mx.pipe.test", address: "127.0.0.96" }]
}

/**
 * Three addresses written to an input that then stays open: the results that come out within
 * `wait`, or none.
 */
const firstResults = (inputIdle: Duration.Input, wait: Duration.Input) =>
  Effect.gen(function* () {
    const world = yield* MailWorld.start(spec)
    const input = yield* Queue.unbounded<string>()
    yield* Queue.offerAll(input, ["alice@pipe.test", "bob@pipe.test", "carol@pipe.test"])
    return yield* Effect.gen(function* () {
      const verifier = yield* Verifier.Verifier
      return yield* verifier
        .verifyMany(Stream.fromQueue(input))
        .pipe(Stream.take(3), Stream.runCollect, Effect.timeoutOption(wait))
    }).pipe(
      Effect.provide(worldVerifier(world, { timeout: "10 seconds" })),
      Effect.provideService(Policy.Policy, { ...Policy.defaults, inputIdle })
    )
  }).pipe(Effect.scoped)

describe("Policy.inputIdle", { timeout: 30_000 }, () => {
  it.live("the input pauses: what gathered is checked while the input is still open", () =>
    Effect.gen(function* () {
      const results = yield* firstResults("200 millis", "10 seconds")
      assert.isTrue(Option.isSome(results), "results came before the input ended")
      const verdicts = Array.from(Option.getOrThrow(results))
        .map((v) => `${v.address}: ${v.verdict}`)
        .sort()
      assert.deepStrictEqual(verdicts, [
        "alice@pipe.test: deliverable",
        "bob@pipe.test: deliverable",
        "carol@pipe.test: undeliverable"
      ])
    })
  )

  it.live("replaced by an infinite pause: the group waits for its session's worth or the end", () =>
    Effect.gen(function* () {
      const results = yield* firstResults(Duration.infinity, "2 seconds")
      assert.isTrue(Option.isNone(results), "nothing is checked while the input is open")
    })
  )
})
