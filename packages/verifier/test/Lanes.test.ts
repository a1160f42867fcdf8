// The lanes of a bulk run (internal/lanes.ts) outlive the sessions that start them: they must not
// hold their callers' tracing spans (an ended span keeps its exit and its ancestors: a long run
// kept every group's results through them), they run one session at a time per permit, and no
// more lanes wait for a permit than sessions wait for a lane.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Option, Tracer } from "effect"
import * as HostPermits from "../src/HostPermits.ts"
import * as Lanes from "../src/internal/lanes.ts"

const spanName = Effect.map(Effect.serviceOption(Tracer.ParentSpan), (span) =>
  Option.match(span, { onNone: () => "none", onSome: (s) => (s._tag === "Span" ? s.name : "external") })
)

describe("lanes", () => {
  it.effect("a session runs under the span the lanes were made in, not its caller's", () =>
    Effect.gen(function* () {
      const permits = yield* HostPermits.makeMemory({ concurrency: 4, perHost: 1, perHostRate: 0 })
      const lanes = yield* Lanes.make(permits, { linger: 0 }).pipe(Effect.withSpan("the run"))
      const seen = yield* lanes
        .run("127.0.0.1", () => Effect.map(spanName, (name) => [name, undefined] as const))
        .pipe(Effect.withSpan("a group"))
      assert.strictEqual(seen, "the run")
      yield* lanes.close
    }).pipe(Effect.scoped)
  )

  it.effect("sessions to one address run one at a time on its permit, in the order they came", () =>
    Effect.gen(function* () {
      const permits = yield* HostPermits.makeMemory({ concurrency: 4, perHost: 1, perHostRate: 0 })
      const lanes = yield* Lanes.make(permits, { linger: 60_000 })
      let running = 0
      let most = 0
      const gate = yield* Deferred.make<void>()
      const seen: Array<string> = []
      // The job stands in for a session: it records what it was given and keeps nothing open.
      const job = (name: string) =>
        lanes.run("127.0.0.1", (open) =>
          Effect.gen(function* () {
            most = Math.max(most, ++running)
            seen.push(`${name}:${open === undefined ? "fresh" : "kept"}`)
            if (name === "first") yield* Deferred.await(gate)
            running--
            return [name, undefined] as const
          })
        )
      const all = Effect.all([job("first"), job("second"), job("third")], { concurrency: "unbounded" })
      const fiber = yield* Effect.forkChild(all)
      yield* Effect.yieldNow
      yield* Deferred.succeed(gate, undefined)
      const names = yield* Fiber.join(fiber)
      assert.deepStrictEqual(names, ["first", "second", "third"])
      assert.strictEqual(most, 1, "one session at a time on one permit")
      assert.deepStrictEqual(seen, ["first:fresh", "second:fresh", "third:fresh"])
      yield* lanes.close
    }).pipe(Effect.scoped)
  )

  it.effect("a busy address gets no more lanes than sessions waiting for one", () =>
    Effect.gen(function* () {
      const real = yield* HostPermits.makeMemory({ concurrency: 4, perHost: 1, perHostRate: 0 })
      // Lanes are the fibers asking for the address's permit (holding it or waiting for it).
      let asking = 0
      let most = 0
      const permits: HostPermits.Shape = {
        withPermit: (address) => (effect) =>
          Effect.suspend(() => {
            most = Math.max(most, ++asking)
            return real
              .withPermit(address)(effect)
              .pipe(Effect.ensuring(Effect.sync(() => asking--)))
          })
      }
      const lanes = yield* Lanes.make(permits, { linger: 60_000 })
      // Each session asks for the next one while it runs: the lane with the permit always has
      // work, so it never leaves, and a lane started per session would wait behind it for good.
      const last = yield* Deferred.make<void>()
      let ran = 0
      const chain = (n: number): Effect.Effect<number> =>
        lanes.run("127.0.0.1", () =>
          Effect.gen(function* () {
            ran++
            if (n === 0) yield* Deferred.succeed(last, undefined)
            else yield* Effect.forkDetach(chain(n - 1))
            yield* Effect.yieldNow
            return [n, undefined] as const
          })
        )
      yield* chain(50)
      yield* Deferred.await(last)
      assert.strictEqual(ran, 51)
      assert.isAtMost(most, 2, "the lane with the permit and one waiting")
      yield* lanes.close
    }).pipe(Effect.scoped)
  )
})
