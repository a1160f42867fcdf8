import { assert, describe, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import { Dns, NetAddress } from "effect/net"
import { Address } from "@rcpt/smtp"
import * as StaticDns from "@rcpt/testing/StaticDns"
import * as MxPlan from "../src/MxPlan.ts"

const zone = StaticDns.layer({
  "alpha.test": {
    mx: [
      [20, "mx2.alpha.test"],
      [10, "mx1.alpha.test"]
    ]
  },
  "mx1.alpha.test": { a: ["192.0.2.1"] },
  "mx2.alpha.test": { a: ["192.0.2.2"], aaaa: ["2001:db8::2"] },
  "ties.test": {
    mx: [
      [10, "b1.ties.test"],
      [10, "b2.ties.test"],
      [10, "b3.ties.test"],
      [10, "b4.ties.test"],
      [5, "first.ties.test"]
    ]
  },
  "first.ties.test": { a: ["192.0.2.10"] },
  "b1.ties.test": { a: ["192.0.2.11"] },
  "b2.ties.test": { a: ["192.0.2.12"] },
  "b3.ties.test": { a: ["192.0.2.13"] },
  "b4.ties.test": { a: ["192.0.2.14"] },
  "implicit.test": { a: ["192.0.2.5"] },
  "nullmx.test": { mx: [[0, "."]] },
  "mixed.test": {
    mx: [
      [0, "."],
      [10, "mx.mixed.test"]
    ]
  },
  "mx.mixed.test": { a: ["192.0.2.6"] },
  "dangling.test": { mx: [[10, "nowhere.dangling.test"]] }
})

const domain = (d: string) => {
  const r = Address.parseDomain(d)
  if (r._tag === "Failure") throw new Error(r.failure.message)
  return r.success
}

const resolve = (d: string) => MxPlan.resolve(domain(d), { allowSpecialUse: ["test"] }).pipe(Effect.provide(zone))
const hostsOf = (plan: MxPlan.MxPlan) => (plan._tag === "Hosts" ? plan.hosts.map((h) => h.host) : [])

describe("MxPlan (RFC 5321 §5.1, RFC 7505)", () => {
  it.effect("sorts MX by preference and resolves each host's addresses", () =>
    Effect.gen(function* () {
      const plan = yield* resolve("alpha.test")
      assert.strictEqual(plan._tag, "Hosts")
      if (plan._tag !== "Hosts") return
      assert.deepStrictEqual(
        plan.hosts.map((h) => [h.host, h.preference, h.addresses]),
        [
          ["mx1.alpha.test", 10, ["192.0.2.1"]],
          ["mx2.alpha.test", 20, ["192.0.2.2", "2001:db8::2"]]
        ]
      )
      assert.isFalse(plan.implicit)
    })
  )

  it.effect("shuffles equal preferences with Random: same seed, same order; all seeds, several orders", () =>
    Effect.gen(function* () {
      const orders = new Set<string>()
      for (let seed = 0; seed < 20; seed++) {
        const plan = yield* resolve("ties.test").pipe(Random.withSeed(seed))
        const hosts = hostsOf(plan)
        assert.strictEqual(hosts[0], "first.ties.test", "the lower preference always comes first")
        assert.sameMembers(hosts.slice(1), ["b1.ties.test", "b2.ties.test", "b3.ties.test", "b4.ties.test"])
        orders.add(hosts.join())
        const again = yield* resolve("ties.test").pipe(Random.withSeed(seed))
        assert.deepStrictEqual(hostsOf(again), hosts)
      }
      assert.isAbove(orders.size, 3)
    })
  )

  it.effect("no MX: the domain's own address is an implicit MX of preference 0", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* resolve("implicit.test"), {
        _tag: "Hosts",
        hosts: [{ host: "implicit.test", preference: 0, addresses: ["192.0.2.5"] }],
        implicit: true
      })
    })
  )

  it.effect("null MX: no fallback to A/AAAA", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* resolve("nullmx.test"), { _tag: "NullMx" })
    })
  )

  it.effect("a null MX beside real ones is skipped", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(hostsOf(yield* resolve("mixed.test")), ["mx.mixed.test"])
    })
  )

  it.effect("no such domain", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* resolve("missing.test"), { _tag: "NoSuchDomain" })
    })
  )

  it.effect("MX hosts without addresses", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* resolve("dangling.test"), { _tag: "NoMailHosts", hosts: ["nowhere.dangling.test"] })
    })
  )

  it.effect("address literals go straight to the address", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* resolve("[192.0.2.9]"), {
        _tag: "Hosts",
        hosts: [{ host: "[192.0.2.9]", preference: 0, addresses: ["192.0.2.9"] }],
        implicit: true
      })
    })
  )

  describe("strictness (RFC 6761, implicit MX to routable addresses, SPF -all)", () => {
    const a = (ip: string) =>
      Dns.makeRecordUnsafe("A", { address: NetAddress.ipFromStringUnsafe(ip) as NetAddress.Ipv4Address })
    const txt = (text: string) => Dns.makeRecordUnsafe("TXT", { chunks: [text] })
    const strictZone = Dns.layerStatic({
      records: {
        "public.dev": [a("8.8.8.8")],
        "corp.dev": [a("10.0.0.5")],
        "nomail.dev": [a("8.8.4.4"), txt("v=spf1  -ALL")],
        "sends.dev": [a("8.8.4.4"), txt("v=spf1 include:_spf.example.net -all")],
        "alpha.test": [a("127.0.0.2")]
      }
    })
    const strict = (d: string, allowSpecialUse: ReadonlyArray<string> = []) =>
      MxPlan.resolve(domain(d), { allowSpecialUse }).pipe(Effect.provide(strictZone))
    const table: ReadonlyArray<readonly [string, ReadonlyArray<string>, string]> = [
      ["public.dev", [], "Hosts"],
      ["corp.dev", [], "Unroutable"],
      ["nomail.dev", [], "NoMail"],
      ["sends.dev", [], "Hosts"],
      ["alpha.test", [], "SpecialUse"],
      ["alpha.test", ["test"], "Hosts"],
      ["alpha.test", ["alpha.test"], "Hosts"],
      ["alpha.test", ["beta.test"], "SpecialUse"],
      ["localhost", [], "SpecialUse"],
      ["mail.invalid", [], "SpecialUse"],
      ["example.com", [], "SpecialUse"]
    ]
    for (const [d, allowed, tag] of table) {
      it.effect(`${d} allowing [${allowed.join(",")}] -> ${tag}`, () =>
        Effect.gen(function* () {
          const plan = yield* strict(d, allowed)
          assert.strictEqual(plan._tag, tag)
          assert.isNumber(MxPlan.resolveTime(plan))
        })
      )
    }
  })
})
