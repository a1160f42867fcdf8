// The catch-all probe in bulk against real servers on loopback (MailWorld): one session carries a
// domain's probe at a time, and a session cut short before the probe's answer hands it back, so
// that it is asked again (bounded by Policy.probeRetries) before any result of the domain is out.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { MailWorld } from "@rcpt/testing"
import { HostProfile, Policy, Verifier } from "@rcpt/verifier"
import type * as NodeVerifier from "../src/NodeVerifier.ts"
import { worldVerifier } from "./helpers.ts"

const run = (
  spec: MailWorld.WorldSpec,
  addresses: ReadonlyArray<string>,
  options: NodeVerifier.Options = {},
  policy: Policy.Policies = Policy.defaults,
  stream: Verifier.VerifyManyOptions = {}
) =>
  Effect.gen(function* () {
    const world = yield* MailWorld.start(spec)
    const layer = worldVerifier(world, { timeout: "20 seconds", ...options })
    return yield* Effect.gen(function* () {
      const verifier = yield* Verifier.Verifier
      const results = yield* verifier.verifyMany(Stream.fromIterable(addresses), stream).pipe(Stream.runCollect)
      const stats = yield* world.stats
      const rcpts = stats.commands.filter((c) => c.line.startsWith("RCPT TO:")).map((c) => c.line)
      // The probes are the RCPTs of addresses not on the list.
      const probes = rcpts.filter((line) => !addresses.some((a) => line === `RCPT TO:<${a}>`))
      return {
        by: new Map(
          Array.from(results, (v) => [v.address, `${v.verdict}/${v.reason}/${v.catchAll}/${v.catchAllProbe}`])
        ),
        probes,
        connections: stats.connections
      }
    }).pipe(Effect.provide(layer), Effect.provideService(Policy.Policy, policy))
  }).pipe(Effect.scoped)

// kept.test has only real users; gone.test only unknown ones. Both on one host, which hangs up
// (421) on the command after its second error reply: the session's probe for kept.test comes after
// gone.test's two 550s and is cut, though alice was accepted.
const cutting: MailWorld.WorldSpec = {
  domains: [
    { name: "kept.test", mx: [{ host: "mx.cut.test", preference: 10 }], users: ["alice"] },
    { name: "gone.test", mx: [{ host: "mx.cut.test", preference: 10 }] }
  ],
  hosts: [{ name: "mx.cut.test", address: "127.0.0.91", behaviour: { hardErrorLimit: 2 } }]
}
const cutList = ["alice@kept.test", "x1@gone.test", "x2@gone.test"]

describe("catch-all probes in bulk", { timeout: 60_000 }, () => {
  it.live("a session cut before the probe's answer: the probe is asked again, the domain is not catch-all", () =>
    Effect.gen(function* () {
      const r = yield* run(cutting, cutList, { maxErrorsPerSession: 5 })
      assert.deepStrictEqual(Object.fromEntries(r.by), {
        "alice@kept.test": "deliverable/accepted/false/refused",
        "x1@gone.test": "undeliverable/mailbox_unknown/false/refused",
        "x2@gone.test": "undeliverable/mailbox_unknown/false/refused"
      })
      assert.lengthOf(
        r.probes.filter((p) => p.endsWith("@kept.test>")),
        2,
        "kept.test's probe: cut once, asked once more"
      )
    })
  )

  it.live("Policy.probeRetries 0: the cut probe is not asked again, and the evidence says inconclusive", () =>
    Effect.gen(function* () {
      const r = yield* run(cutting, cutList, { maxErrorsPerSession: 5 }, { ...Policy.defaults, probeRetries: 0 })
      assert.strictEqual(r.by.get("alice@kept.test"), "deliverable/accepted/null/inconclusive")
      assert.lengthOf(
        r.probes.filter((p) => p.endsWith("@kept.test>")),
        1
      )
    })
  )

  it.live("sessions side by side: one of them carries the domain's probe, not each", () =>
    Effect.gen(function* () {
      const users = ["alice", "bob", "carol", "dave", "erin", "frank"]
      const r = yield* run(
        {
          domains: [{ name: "many.test", mx: [{ host: "mx.many.test", preference: 10 }], users }],
          hosts: [{ name: "mx.many.test", address: "127.0.0.92" }]
        },
        users.map((u) => `${u}@many.test`),
        { perHost: 3, recipientsPerSession: 2 },
        // Fixed values: three sessions of two, none widened to take all six.
        { ...Policy.defaults, hostShaping: HostProfile.fixed }
      )
      for (const u of users) assert.strictEqual(r.by.get(`${u}@many.test`), "deliverable/accepted/false/refused")
      assert.strictEqual(r.connections["127.0.0.92"], 3, "three sessions side by side")
      assert.lengthOf(r.probes, 1, `one probe for many.test: ${r.probes.join(", ")}`)
    })
  )

  it.live("groups of a fresh catch-all domain in flight together: its probe is asked once in the run", () =>
    Effect.gen(function* () {
      // A window of 6 sends groups of 2: the first three are out before the first session is
      // greeted (the host greets after 200 ms), each booking the domain's probe. One connection:
      // the second group's session starts after the first one's probe was answered, and learns
      // it from the run's memory (each group asked it before).
      const addresses = Array.from({ length: 30 }, (_, i) => `user${i}@wide.test`)
      const r = yield* run(
        {
          domains: [{ name: "wide.test", mx: [{ host: "mx.wide.test", preference: 10 }], catchAll: true }],
          hosts: [{ name: "mx.wide.test", address: "127.0.0.94", behaviour: { greetingDelay: "200 millis" } }]
        },
        addresses,
        { perHost: 1 },
        Policy.defaults,
        { window: 6 }
      )
      for (const a of addresses) assert.strictEqual(r.by.get(a), "risky/catch_all/true/accepted")
      assert.lengthOf(r.probes, 1, `one probe for wide.test: ${r.probes.join(", ")}`)
    })
  )

  it.live("the holder had no accepted recipient, another session had: the probe goes with that one again", () =>
    Effect.gen(function* () {
      // Two sessions of one recipient side by side: carol's (full mailbox) holds the probe, which
      // the server is never asked (no recipient of the domain accepted there); alice's is accepted
      // in the other session, so the probe is due and goes in a third with alice asked again.
      const r = yield* run(
        {
          domains: [
            { name: "mix.test", mx: [{ host: "mx.mix.test", preference: 10 }], users: ["alice"], full: ["carol"] }
          ],
          hosts: [{ name: "mx.mix.test", address: "127.0.0.93" }]
        },
        ["carol@mix.test", "alice@mix.test"],
        { perHost: 2, recipientsPerSession: 1 },
        { ...Policy.defaults, hostShaping: HostProfile.fixed }
      )
      assert.strictEqual(r.by.get("alice@mix.test"), "deliverable/accepted/false/refused")
      assert.strictEqual(r.by.get("carol@mix.test"), "risky/mailbox_full/false/refused")
      assert.lengthOf(r.probes, 1)
    })
  )
})
