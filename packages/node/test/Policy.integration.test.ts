// Every Policy field is consulted: a replaced `shouldFailover` or `maxReconnects` changes what the
// verifier does against real servers on loopback (MailWorld), seen in its results and in what the
// servers saw.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { MailWorld } from "@rcpt/testing"
import { HostProfile, Policy, Verifier } from "@rcpt/verifier"
import * as NodeVerifier from "../src/NodeVerifier.ts"

const withWorld = <A, E>(
  spec: MailWorld.WorldSpec,
  policy: Policy.Policies,
  f: (verifier: Verifier.Verifier["Service"], world: MailWorld.World) => Effect.Effect<A, E>,
  options: NodeVerifier.Options = {}
) =>
  Effect.gen(function* () {
    const world = yield* MailWorld.start(spec)
    const layer = NodeVerifier.layer({
      // The servers are on loopback, which the target policy refuses unless opened.
      allowTargets: ["127.0.0.0/8"],
      helo: "verifier.rcpt.test",
      allowSpecialUse: ["test"],
      port: world.smtpPort,
      dnsServers: [world.dns],
      timeout: "10 seconds",
      catchAllProbe: false,
      ...options
    })
    return yield* Effect.flatMap(Verifier.Verifier, (v) => f(v, world)).pipe(
      Effect.provide(layer),
      Effect.provideService(Policy.Policy, policy)
    )
  }).pipe(Effect.scoped)

// A first MX that is down or says 421 at once, then a live one.
const failoverWorld: MailWorld.WorldSpec = {
  domains: [
    {
      name: "down.test",
      mx: [
        { host: "mx1.down.test", preference: 10 },
        { host: "mx2.live.test", preference: 20 }
      ],
      users: ["alice"]
    },
    {
      name: "busy.test",
      mx: [
        { host: "mx1.busy.test", preference: 10 },
        { host: "mx2.live.test", preference: 20 }
      ],
      users: ["alice"]
    }
  ],
  hosts: [
    { name: "mx1.down.test", address: "127.0.0.61", behaviour: { down: true } },
    { name: "mx1.busy.test", address: "127.0.0.62", behaviour: { greeting: "421" } },
    { name: "mx2.live.test", address: "127.0.0.63" }
  ]
}

describe("Policy.shouldFailover is consulted", () => {
  for (const [address, first, refused] of [
    ["alice@down.test", "ConnectFailed", "unknown/connection_failed"],
    ["alice@busy.test", "Session", "unknown/service_unavailable"]
  ] as const) {
    it.live(`${address}: the default fails over; a policy that says no stops at the first MX`, () =>
      Effect.gen(function* () {
        const byDefault = yield* withWorld(failoverWorld, Policy.defaults, (v) => v.verify(address))
        assert.strictEqual(`${byDefault.verdict}/${byDefault.reason}`, "deliverable/accepted", byDefault.detail)
        assert.strictEqual(byDefault.mx?.host, "mx2.live.test")

        const asked: Array<string> = []
        const stay: Policy.Policies = {
          ...Policy.defaults,
          shouldFailover: (attempt) => {
            asked.push(attempt._tag)
            return false
          }
        }
        const { result, stats } = yield* withWorld(failoverWorld, stay, (v, world) =>
          Effect.all({ result: v.verify(address), stats: world.stats })
        )
        assert.deepStrictEqual(asked, [first], "asked once, about the first MX's attempt")
        assert.strictEqual(result.attempts.length, 1)
        assert.strictEqual(stats.connections["127.0.0.63"] ?? 0, 0, "the second MX was never dialled")
        assert.notStrictEqual(result.verdict, "deliverable")
        assert.strictEqual(`${result.verdict}/${result.reason}`, refused, result.detail)
      })
    )
  }
})

describe("Policy.maxReconnects is consulted", () => {
  // A server that hangs up (421) after two rejected RCPTs; the client's own error limit is off.
  const strict: MailWorld.WorldSpec = {
    domains: [{ name: "strict.test", mx: [{ host: "mx.strict.test", preference: 10 }], users: ["alice"] }],
    hosts: [{ name: "mx.strict.test", address: "127.0.0.64", behaviour: { hardErrorLimit: 2 } }]
  }
  const unknown = Array.from({ length: 10 }, (_, i) => `nobody${i}@strict.test`)

  for (const maxReconnects of [0, 2, 20]) {
    it.live(`maxReconnects ${maxReconnects}: at most ${maxReconnects + 1} sessions to one address`, () =>
      withWorld(
        strict,
        // Fixed sessions: learning would stop short of the server's limit, and no session would be cut.
        { ...Policy.defaults, maxReconnects, hostShaping: HostProfile.fixed },
        (v, world) =>
          Effect.gen(function* () {
            const results = yield* v.verifyMany(Stream.fromIterable(unknown)).pipe(Stream.runCollect)
            const stats = yield* world.stats
            const sessions = Math.min(maxReconnects + 1, 5)
            assert.strictEqual(stats.connections["127.0.0.64"], sessions)
            const undeliverable = results.filter((r) => r.verdict === "undeliverable").length
            assert.strictEqual(undeliverable, 2 * sessions, "two answered per session")
            assert.strictEqual(results.filter((r) => r.verdict === "unknown").length, unknown.length - undeliverable)
          }),
        { maxErrorsPerSession: 100 }
      )
    )
  }
})

describe("Policy.retryAfter is consulted", () => {
  const world: MailWorld.WorldSpec = {
    domains: [{ name: "busy.test", mx: [{ host: "mx1.busy.test", preference: 10 }], users: ["alice"] }],
    hosts: [{ name: "mx1.busy.test", address: "127.0.0.65", behaviour: { greeting: "421" } }]
  }
  it.live("the default suggests a time for an unknown, retryable result; a replaced one changes it", () =>
    Effect.gen(function* () {
      const byDefault = yield* withWorld(world, Policy.defaults, (v) => v.verify("alice@busy.test"))
      assert.strictEqual(byDefault.verdict, "unknown")
      assert.isString(byDefault.retryAfter)
      const tenMinutes = Date.parse(byDefault.retryAfter!) - Date.parse(byDefault.startedAt)
      assert.isAtLeast(tenMinutes, 10 * 60_000 - 1000, "service_unavailable: 10 minutes by default")

      const seen: Array<string> = []
      const custom = yield* withWorld(
        world,
        {
          ...Policy.defaults,
          retryAfter: (outcome) => {
            seen.push(outcome.reason)
            return "2 hours"
          }
        },
        (v) => v.verify("alice@busy.test")
      )
      assert.deepStrictEqual(seen, ["service_unavailable"])
      const twoHours = Date.parse(custom.retryAfter!) - Date.parse(custom.startedAt)
      assert.isAtLeast(twoHours, 2 * 3_600_000 - 1000)
      const none = yield* withWorld(world, { ...Policy.defaults, retryAfter: () => null }, (v) =>
        v.verify("alice@busy.test")
      )
      assert.isNull(none.retryAfter)
    })
  )
})

describe("Policy.domainRules is consulted", () => {
  const world: MailWorld.WorldSpec = {
    domains: [{ name: "alpha.test", mx: [{ host: "mx.alpha.test", preference: 10 }], users: ["alice"] }],
    hosts: [{ name: "mx.alpha.test", address: "127.0.0.66" }]
  }
  it.live("allow, deny and depth from the policy: no connection for any of them", () =>
    Effect.gen(function* () {
      const rules: Policy.Policies = {
        ...Policy.defaults,
        domainRules: { allow: ["nobody@alpha.test"], deny: ["alice@alpha.test"], depth: {}, defaultDepth: "dns" }
      }
      const { results, stats } = yield* withWorld(world, rules, (v, w) =>
        Effect.all({
          results: v
            .verifyMany(Stream.fromIterable(["nobody@alpha.test", "alice@alpha.test", "bob@alpha.test"]))
            .pipe(Stream.runCollect),
          stats: w.stats
        })
      )
      assert.deepStrictEqual(Object.fromEntries(results.map((r) => [r.address, `${r.verdict}/${r.reason}`])), {
        "nobody@alpha.test": "deliverable/allowed",
        "alice@alpha.test": "undeliverable/denied",
        "bob@alpha.test": "unknown/not_checked"
      })
      assert.strictEqual(stats.connections["127.0.0.66"] ?? 0, 0)
      const byDefault = yield* withWorld(world, Policy.defaults, (v) => v.verify("nobody@alpha.test"))
      assert.strictEqual(`${byDefault.verdict}/${byDefault.reason}`, "undeliverable/mailbox_unknown")
    })
  )
})
