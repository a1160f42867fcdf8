// `Doctor.run` on real sockets: the Node transport dials in-process SMTP servers on loopback
// (MailWorld); DNS answers from a static zone (A, PTR and DNSBL records for 127.0.0.1, which is
// the source address of every loopback connection here).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Dns, Host, NetAddress } from "effect/net"
import { MailWorld } from "@rcpt/testing"
import { Doctor } from "@rcpt/verifier"
import * as NodeSmtpTransport from "../src/NodeSmtpTransport.ts"

const world: MailWorld.WorldSpec = {
  domains: [{ name: "alpha.test", mx: [{ host: "mx.alpha.test", preference: 10 }], users: ["alice"] }],
  hosts: [
    { name: "mx.alpha.test", address: "127.0.0.2" },
    { name: "mx.closed.test", address: "127.0.0.3", behaviour: { greeting: "554" } },
    { name: "mx.down.test", address: "127.0.0.4", behaviour: { down: true } }
  ]
}

const a = (ip: string) =>
  Dns.makeRecordUnsafe("A", { address: NetAddress.ipFromStringUnsafe(ip) as NetAddress.Ipv4Address })
const ptr = (name: string) => Dns.makeRecordUnsafe("PTR", { host: Host.domainNameFromStringUnsafe(name) })
const txt = (text: string) => Dns.makeRecordUnsafe("TXT", { chunks: [text] })

const zone = {
  records: {
    "mx.alpha.test": [a("127.0.0.2")],
    "alpha.test": [
      Dns.makeRecordUnsafe("MX", { exchange: Host.domainNameFromStringUnsafe("mx.alpha.test"), priority: 10 })
    ],
    "mx.closed.test": [a("127.0.0.3")],
    "mx.down.test": [a("127.0.0.4")],
    "good.rcpt.test": [a("127.0.0.1")],
    "elsewhere.rcpt.test": [a("192.0.2.7")],
    "1.0.0.127.in-addr.arpa": [ptr("good.rcpt.test")],
    "1.0.0.127.listed.dnsbl.test": [a("127.0.0.2"), txt("listed: see https://dnsbl.test/127.0.0.1")],
    "1.0.0.127.refusing.dnsbl.test": [a("127.255.255.254")]
  }
}

const doctor = (options: Omit<Doctor.Options, "port">) =>
  Effect.gen(function* () {
    const running = yield* MailWorld.start(world)
    // The world is on loopback: opened, as the verifier's worlds are.
    const run: Doctor.Options = {
      timeout: "3 seconds",
      allowTargets: ["127.0.0.0/8"],
      ...options,
      port: running.smtpPort
    }
    return yield* Doctor.run(run).pipe(Effect.provide(Layer.merge(NodeSmtpTransport.layer, Dns.layerStatic(zone))))
  }).pipe(Effect.scoped)

const statuses = (report: Doctor.Report) => Object.fromEntries(report.checks.map((c) => [c.name, c.status]))

describe("Doctor", () => {
  it.live("a host in good standing: every check passes", () =>
    Effect.gen(function* () {
      const report = yield* doctor({ mx: "mx.alpha.test", helo: "good.rcpt.test", blocklists: ["clean.dnsbl.test"] })
      assert.deepStrictEqual(statuses(report), {
        port25: "pass",
        ehlo_address: "pass",
        ptr: "pass",
        "dnsbl:clean.dnsbl.test": "pass"
      })
      assert.isTrue(report.ok)
      assert.strictEqual(report.address, "127.0.0.1", "the connection's source address")
      assert.match(report.checks[0]!.summary, /220/)
      for (const c of report.checks) assert.isNull(c.fix)
    })
  )

  it.live("a mail domain as --mx: its MX host is dialled", () =>
    Effect.gen(function* () {
      const report = yield* doctor({ mx: "alpha.test", helo: "good.rcpt.test", blocklists: [] })
      assert.strictEqual(report.checks[0]!.status, "pass", report.checks[0]!.summary)
    })
  )

  it.live("EHLO name elsewhere, PTR not matching, listed: each a fail with its fix", () =>
    Effect.gen(function* () {
      const report = yield* doctor({
        mx: "mx.alpha.test",
        helo: "elsewhere.rcpt.test",
        blocklists: ["listed.dnsbl.test", "refusing.dnsbl.test"]
      })
      assert.deepStrictEqual(statuses(report), {
        port25: "pass",
        ehlo_address: "fail",
        ptr: "fail",
        "dnsbl:listed.dnsbl.test": "fail",
        "dnsbl:refusing.dnsbl.test": "skip"
      })
      assert.isFalse(report.ok)
      const by = new Map(report.checks.map((c) => [c.name, c]))
      assert.include(by.get("ehlo_address")!.summary, "192.0.2.7")
      assert.include(by.get("ehlo_address")!.fix, "A (or AAAA) record elsewhere.rcpt.test -> 127.0.0.1")
      assert.include(by.get("ptr")!.summary, "good.rcpt.test")
      assert.include(by.get("ptr")!.fix, "PTR")
      assert.include(by.get("dnsbl:listed.dnsbl.test")!.summary, "https://dnsbl.test/127.0.0.1")
      assert.include(by.get("dnsbl:listed.dnsbl.test")!.fix, "removal")
      assert.include(
        by.get("ehlo_address")!.summary,
        "not a public address",
        "127.0.0.1 is behind no NAT, but not public"
      )
    })
  )

  it.live("an address given by hand is the one checked; no PTR is a fail", () =>
    Effect.gen(function* () {
      const report = yield* doctor({
        mx: "mx.alpha.test",
        helo: "elsewhere.rcpt.test",
        address: "192.0.2.7",
        blocklists: []
      })
      assert.deepStrictEqual(statuses(report), { port25: "pass", ehlo_address: "pass", ptr: "fail" })
      assert.strictEqual(report.address, "192.0.2.7")
      assert.include(report.checks[2]!.summary, "no PTR record")
    })
  )

  it.live("port 25 refused, or refused at the greeting: fail with the fix", () =>
    Effect.gen(function* () {
      const down = yield* doctor({ mx: "mx.down.test", helo: "good.rcpt.test", blocklists: [] })
      assert.strictEqual(down.checks[0]!.status, "fail")
      assert.include(down.checks[0]!.summary, "refused")
      assert.include(down.checks[0]!.fix, "port 25")
      assert.deepStrictEqual(statuses(down), { port25: "fail", ehlo_address: "skip", ptr: "skip" })
      const closed = yield* doctor({ mx: "mx.closed.test", helo: "good.rcpt.test", blocklists: [] })
      assert.strictEqual(closed.checks[0]!.status, "fail")
      assert.include(closed.checks[0]!.summary, "554")
      const missing = yield* doctor({ mx: "nowhere.test", helo: "good.rcpt.test", blocklists: [] })
      assert.strictEqual(missing.checks[0]!.status, "skip")
    })
  )

  it.live("an MX in a special-purpose range is not dialled unless opened (the target policy)", () =>
    Effect.gen(function* () {
      const report = yield* doctor({ mx: "mx.alpha.test", helo: "good.rcpt.test", blocklists: [], allowTargets: [] })
      assert.strictEqual(report.checks[0]!.status, "skip")
      assert.include(report.checks[0]!.summary, "--allow-target")
      assert.isNull(report.address, "no connection was made")
    })
  )
})
