// RSETs per connection against a server that counts them (MailWorld's maxNonmail, Exim's
// smtp_accept_max_nonmail: every RSET past a connection's first counts, past 10 a 554 and a
// hang-up). Connections kept open between sessions start each session with RSET, so a bulk run
// bounds them per connection (HostProfile.startingResets), learns a host's limit from one refused
// RSET at most, and loses no answer on the way.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { MailWorld } from "@rcpt/testing"
import { HostProfile, Policy, Verifier } from "@rcpt/verifier"
import { worldVerifier } from "./helpers.ts"

const spec = (address: string): MailWorld.WorldSpec => ({
  domains: [{ name: "all.test", mx: [{ host: "mx.all.test", preference: 10 }], catchAll: true }],
  hosts: [{ name: "mx.all.test", address, behaviour: { maxNonmail: 10 } }]
})

/** One connection at a time, so the server's command log reads connection by connection. */
const run = (address: string, shaping: HostProfile.Shaping, list: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const world = yield* MailWorld.start(spec(address))
    const layer = worldVerifier(world, {
      timeout: "60 seconds",
      perHost: 1,
      recipientsPerSession: 10,
      maxPipeline: 10,
      catchAllProbe: false
    })
    return yield* Effect.gen(function* () {
      const verifier = yield* Verifier.Verifier
      const results = Array.from(yield* verifier.verifyMany(Stream.fromIterable(list)).pipe(Stream.runCollect))
      const profile = new Map(yield* verifier.hostProfiles).get(address)!
      const lines = (yield* world.stats).commands.filter((c) => c.host === address).map((c) => c.line)
      // RSETs of each connection (a connection starts with EHLO).
      const resets: Array<number> = []
      for (const line of lines) {
        if (line.startsWith("EHLO ")) resets.push(0)
        else if (line === "RSET") resets[resets.length - 1]!++
      }
      return { results, profile, resets }
    }).pipe(Effect.provide(layer), Effect.provideService(Policy.Policy, { ...Policy.defaults, hostShaping: shaping }))
  }).pipe(Effect.scoped)

const list = Array.from({ length: 300 }, (_, i) => `user${i}@all.test`)

describe("RSETs per connection", { timeout: 120_000 }, () => {
  it.live("a host that is not learnt: no connection past HostProfile.startingResets RSETs, no 554", () =>
    Effect.gen(function* () {
      const r = yield* run("127.0.0.87", HostProfile.fixed, list)
      assert.strictEqual(r.results.length, list.length)
      assert.isTrue(
        r.results.every((v) => v.verdict === "deliverable"),
        JSON.stringify(r.results.find((v) => v.verdict !== "deliverable"))
      )
      assert.isAbove(r.resets.length, 1, "sessions went on kept connections, then new ones")
      assert.isAtMost(Math.max(...r.resets), HostProfile.startingResets, r.resets.join(","))
      assert.isAbove(Math.max(...r.resets), 1, "connections carried several sessions")
    })
  )

  it.live("learnt: the limit is found from one refused RSET at most, and every answer is kept", () =>
    Effect.gen(function* () {
      // Learning RSETs alone (the other values as configured), so that sessions stay small and many.
      const resetsOnly: HostProfile.Shaping = {
        ...HostProfile.shaping,
        widen: (p) => ({
          ...p,
          resetsPerConnection: p.found.resets ? p.resetsPerConnection : HostProfile.widestValues.resetsPerConnection
        })
      }
      const r = yield* run("127.0.0.88", resetsOnly, list)
      assert.strictEqual(r.results.length, list.length)
      assert.isTrue(r.results.every((v) => v.verdict === "deliverable"))
      // The server takes 11 RSETs on a connection (its first free, then 10): the 12th is refused.
      assert.isAtMost(r.resets.filter((n) => n > 11).length, 1, r.resets.join(","))
      assert.isTrue(r.profile.found.resets, HostProfile.describe(r.profile))
      assert.strictEqual(r.profile.resetsPerConnection, 11)
    })
  )
})
