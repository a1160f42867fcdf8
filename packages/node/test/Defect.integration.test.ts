// A defect inside a group's work (here a user's Policy function that throws, against real servers on
// loopback) fails the run with that defect. It used to end the stream as if complete, the address
// without a result: `rcpt verify` printed nothing and exited 0.
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Stream } from "effect"
import { MailWorld } from "@rcpt/testing"
import { Policy, Verifier } from "@rcpt/verifier"
import { worldVerifier } from "./helpers.ts"

// The first MX is down, so the verifier asks the policy whether to fail over.
const world: MailWorld.WorldSpec = {
  domains: [
    {
      name: "down.test",
      mx: [
        { host: "mx1.down.test", preference: 10 },
        { host: "mx2.down.test", preference: 20 }
      ],
      users: ["alice"]
    },
    { name: "fine.test", mx: [{ host: "mx2.down.test", preference: 10 }], users: ["bob"] }
  ],
  hosts: [
    { name: "mx1.down.test", address: "127.0.0.111", behaviour: { down: true } },
    { name: "mx2.down.test", address: "127.0.0.112" }
  ]
}

const throwing: Policy.Policies = {
  ...Policy.defaults,
  shouldFailover: () => {
    throw new Error("policy bug")
  }
}

const withVerifier = <A, E>(policy: Policy.Policies, f: (v: Verifier.Verifier["Service"]) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const running = yield* MailWorld.start(world)
    const layer = worldVerifier(running, { timeout: "10 seconds", catchAllProbe: false })
    return yield* Effect.flatMap(Verifier.Verifier, f).pipe(
      Effect.provide(layer),
      Effect.provideService(Policy.Policy, policy)
    )
  }).pipe(Effect.scoped)

const dieMessage = <A, E>(exit: Exit.Exit<A, E>): string | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const defect = exit.cause.reasons.find(Cause.isDieReason)
  return defect === undefined ? undefined : String((defect.defect as Error).message)
}

describe("a defect in a group's work", () => {
  it.live("fails verifyMany with the defect instead of ending without the address's result", () =>
    Effect.gen(function* () {
      const exit = yield* withVerifier(throwing, (v) =>
        Stream.runCollect(v.verifyMany(Stream.make("bob@fine.test", "alice@down.test"))).pipe(Effect.exit)
      )
      assert.strictEqual(dieMessage(exit), "policy bug", `expected a defect, got ${JSON.stringify(exit)}`)
    })
  )

  it.live("fails verify (one address) the same way", () =>
    Effect.gen(function* () {
      const exit = yield* withVerifier(throwing, (v) => Effect.exit(v.verify("alice@down.test")))
      assert.strictEqual(dieMessage(exit), "policy bug")
    })
  )

  it.live("the same world and list with the default policy: every address answered", () =>
    Effect.gen(function* () {
      const results = yield* withVerifier(Policy.defaults, (v) =>
        Stream.runCollect(v.verifyMany(Stream.make("bob@fine.test", "alice@down.test")))
      )
      assert.deepStrictEqual(Array.from(results, (r) => `${r.address} ${r.verdict}`).sort(), [
        "alice@down.test deliverable",
        "bob@fine.test deliverable"
      ])
    })
  )
})
