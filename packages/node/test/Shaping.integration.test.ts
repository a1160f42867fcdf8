// Host shaping against real servers on loopback (MailWorld): sessions widen on a host without
// limits, stop short of a Postfix-like error sleep and hang-up, and a replaced `Policy.hostShaping`
// (HostProfile.fixed) changes what the servers see.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { MailWorld } from "@rcpt/testing"
import { HostProfile, Policy, Verifier } from "@rcpt/verifier"
import { worldVerifier } from "./helpers.ts"

const run = (spec: MailWorld.WorldSpec, policy: Policy.Policies, addresses: ReadonlyArray<string>, perHost = 2) =>
  Effect.gen(function* () {
    const world = yield* MailWorld.start(spec)
    const layer = worldVerifier(world, { timeout: "60 seconds", perHost })
    return yield* Effect.gen(function* () {
      const verifier = yield* Verifier.Verifier
      const results = yield* verifier.verifyMany(Stream.fromIterable(addresses)).pipe(Stream.runCollect)
      const profiles = yield* verifier.hostProfiles
      const stats = yield* world.stats
      return { results: Array.from(results), profiles: new Map(profiles), stats }
    }).pipe(Effect.provide(layer), Effect.provideService(Policy.Policy, policy))
  }).pipe(Effect.scoped)

const host = (address: string, behaviour: NonNullable<MailWorld.HostSpec["behaviour"]> = {}): MailWorld.WorldSpec => ({
  domains: [{ name: "shop.test", mx: [{ host: "mx.shop.test", preference: 10 }], users: ["alice"] }],
  hosts: [{ name: "mx.shop.test", address, behaviour }]
})

const unknown = (n: number) => Array.from({ length: n }, (_, i) => `nobody${i}@shop.test`)

describe("host shaping", { timeout: 120_000 }, () => {
  it.live("a host without limits: sessions widen; HostProfile.fixed keeps 9 rejections a session", () =>
    Effect.gen(function* () {
      const list = unknown(1000)
      const learnt = yield* run(host("127.0.0.71"), Policy.defaults, list)
      const fixed = yield* run(host("127.0.0.71"), { ...Policy.defaults, hostShaping: HostProfile.fixed }, list)
      for (const r of [learnt, fixed]) {
        assert.strictEqual(r.results.length, list.length)
        assert.isTrue(
          r.results.every((v) => v.verdict === "undeliverable"),
          "every one answered 550"
        )
        // The server counts a connection until our close reaches it, so the next one can arrive
        // first: one more than --per-host for a moment (see the CLI's overlap test).
        assert.isAtMost(r.stats.maxConcurrent["127.0.0.71"]!, 2 + 1, "never above --per-host at the server")
      }
      const profile = learnt.profiles.get("127.0.0.71")!
      assert.isAbove(profile.rejectionsPerSession, 9)
      assert.isFalse(profile.found.rejections)
      assert.strictEqual(fixed.profiles.get("127.0.0.71")!.rejectionsPerSession, 9)
      // 1000 rejections at 9 a session is 112 sessions; learning widens them as the run goes.
      assert.isAtLeast(fixed.stats.connections["127.0.0.71"]!, 112)
      assert.isBelow(learnt.stats.connections["127.0.0.71"]!, 0.7 * fixed.stats.connections["127.0.0.71"]!)
    })
  )

  it.live("a host's first group is everything of its key read at once: its first session tries them all", () =>
    Effect.gen(function* () {
      // One chunk of 1000 and one connection: the first group is all of it (not the 50 that fill a
      // first session), so the session trying wider values ramps through all of them in one go.
      const r = yield* run(host("127.0.0.75"), Policy.defaults, unknown(1000), 1)
      assert.strictEqual(r.results.length, 1000)
      const lines = r.stats.commands.filter((c) => c.host === "127.0.0.75").map((c) => c.line)
      const second = lines.findIndex(
        (l, i) => l.startsWith("MAIL FROM") && i > lines.findIndex((m) => m.startsWith("MAIL FROM"))
      )
      const first = lines.slice(0, second === -1 ? lines.length : second).filter((l) => l.startsWith("RCPT TO")).length
      assert.strictEqual(first, 1000, "RCPTs in the first transaction")
    })
  )

  it.live(
    "while a host is learnt, a shallow pipeline carries HostProfile.roundTripsPerSession pipelines a session",
    () =>
      Effect.gen(function* () {
        const spec: MailWorld.WorldSpec = {
          domains: [{ name: "all.test", mx: [{ host: "mx.all.test", preference: 10 }], catchAll: true }],
          hosts: [{ name: "mx.all.test", address: "127.0.0.74" }]
        }
        const list = Array.from({ length: 200 }, (_, i) => `user${i}@all.test`)
        const sessions = (shaping: HostProfile.Shaping) =>
          Effect.gen(function* () {
            const world = yield* MailWorld.start(spec)
            const layer = worldVerifier(world, {
              timeout: "60 seconds",
              perHost: 1,
              maxPipeline: 2,
              recipientsPerSession: 1000,
              catchAllProbe: false
            })
            const results = yield* Effect.gen(function* () {
              return yield* (yield* Verifier.Verifier).verifyMany(Stream.fromIterable(list)).pipe(Stream.runCollect)
            }).pipe(
              Effect.provide(layer),
              Effect.provideService(Policy.Policy, { ...Policy.defaults, hostShaping: shaping })
            )
            assert.strictEqual(results.length, list.length)
            const stats = yield* world.stats
            const perSession: Array<number> = []
            for (const c of stats.commands.filter((c) => c.host === "127.0.0.74")) {
              if (c.line.startsWith("MAIL FROM")) perSession.push(0)
              else if (c.line.startsWith("RCPT TO")) perSession[perSession.length - 1]!++
            }
            return perSession
          }).pipe(Effect.scoped)
        // Never settled (each session would try one more rejection), so always learning: paced.
        const learning: HostProfile.Shaping = {
          ...HostProfile.fixed,
          widen: (p) => ({ ...p, rejectionsPerSession: p.rejectionsPerSession + 1 })
        }
        const paced = yield* sessions(learning)
        const most = 2 * HostProfile.roundTripsPerSession
        assert.isAtLeast(paced.length, Math.ceil(list.length / most))
        assert.isTrue(
          paced.every((n) => n <= most),
          paced.join(",")
        )
        // Settled values are kept: the configured 1000 recipients a session, one session.
        assert.deepStrictEqual(yield* sessions(HostProfile.fixed), [list.length])
      })
  )

  it.live("a Postfix-like host (sleep past 10 errors, 421 past 20): the limit is found once, no hang-up", () =>
    Effect.gen(function* () {
      const list = unknown(200)
      const r = yield* run(
        host("127.0.0.72", { softErrorLimit: 10, errorSleep: "1 second", hardErrorLimit: 20 }),
        Policy.defaults,
        list
      )
      assert.isTrue(
        r.results.every((v) => v.verdict === "undeliverable"),
        JSON.stringify(r.results.find((v) => v.verdict !== "undeliverable"))
      )
      const profile = r.profiles.get("127.0.0.72")!
      assert.strictEqual(profile.rejectionsPerSession, 9)
      assert.isTrue(profile.found.rejections)
      // No session was cut with 421: each one ended with QUIT.
      const quits = r.stats.commands.filter((c) => c.host === "127.0.0.72" && c.line === "QUIT").length
      assert.strictEqual(quits, r.stats.connections["127.0.0.72"])
    })
  )

  it.live("452 too many recipients: learnt per transaction; every recipient answered", () =>
    Effect.gen(function* () {
      const spec: MailWorld.WorldSpec = {
        domains: [{ name: "all.test", mx: [{ host: "mx.all.test", preference: 10 }], catchAll: true }],
        hosts: [{ name: "mx.all.test", address: "127.0.0.73", behaviour: { maxRecipients: 5 } }]
      }
      const list = Array.from({ length: 40 }, (_, i) => `anyone${i}@all.test`)
      const r = yield* run(spec, Policy.defaults, list)
      assert.strictEqual(r.results.length, list.length)
      assert.isTrue(
        r.results.every((v) => v.reason === "catch_all"),
        JSON.stringify(r.results[0])
      )
      assert.strictEqual(r.profiles.get("127.0.0.73")!.recipientsPerTransaction, 5)
    })
  )
})
