// The verifier end to end on real sockets: NodeVerifier (TCP/TLS transport, NodeDns pointed at
// an in-process DNS server) against in-process SMTP servers on loopback (MailWorld).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schedule, Stream } from "effect"
import { MailWorld } from "@rcpt/testing"
import { Policy, Verifier } from "@rcpt/verifier"
import * as NodeVerifier from "../src/NodeVerifier.ts"

const fastGreylist = Layer.succeed(Policy.Policy, {
  ...Policy.defaults,
  greylistRetry: Schedule.spaced("100 millis").pipe(Schedule.upTo({ times: 3 }))
})

const withWorld = <A, E>(
  f: (verifier: Verifier.Verifier["Service"], world: MailWorld.World) => Effect.Effect<A, E>,
  options: NodeVerifier.Options = {},
  spec: MailWorld.WorldSpec = MailWorld.demo
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
      ...options
    })
    return yield* Effect.gen(function* () {
      return yield* f(yield* Verifier.Verifier, world)
    }).pipe(Effect.provide(Layer.merge(layer, fastGreylist)))
  }).pipe(Effect.scoped)

const verdictOf = (address: string, options: NodeVerifier.Options = {}) => withWorld((v) => v.verify(address), options)

describe("Verifier against real servers on loopback", () => {
  const table: ReadonlyArray<readonly [string, string, string]> = [
    ["alice@alpha.test", "deliverable", "accepted"],
    ["nobody@alpha.test", "undeliverable", "mailbox_unknown"],
    ["carol@alpha.test", "risky", "mailbox_full"],
    ["dave@alpha.test", "undeliverable", "mailbox_disabled"],
    ["anything@catchall.test", "risky", "catch_all"],
    ["alice@nullmx.test", "undeliverable", "null_mx"],
    ["alice@nowhere.test", "undeliverable", "no_such_domain"],
    ["alice@implicit.test", "deliverable", "accepted"],
    ["alice@failover.test", "deliverable", "accepted"],
    ["alice@greylist.test", "deliverable", "accepted"],
    ["alice@tlsonly.test", "deliverable", "accepted"],
    ["not an address", "undeliverable", "syntax"]
  ]
  for (const [address, verdict, reason] of table) {
    it.live(`${address} -> ${verdict}/${reason}`, () =>
      Effect.gen(function* () {
        const v = yield* verdictOf(address)
        assert.strictEqual(`${v.verdict}/${v.reason}`, `${verdict}/${reason}`, v.detail)
      })
    )
  }

  it.live("evidence: MX host, RCPT reply, TLS, transcript", () =>
    Effect.gen(function* () {
      const v = yield* verdictOf("alice@alpha.test")
      assert.deepStrictEqual(v.mx, {
        host: "mx1.alpha.test",
        preference: 10,
        address: "127.0.0.2",
        port: v.mx!.port,
        implicit: false
      })
      assert.strictEqual(v.rcpt?.code, 250)
      assert.strictEqual(v.rcpt?.enhanced, "2.1.5")
      assert.strictEqual(v.tls.status, "established")
      assert.strictEqual(v.tls.authorized, false, "a self-signed certificate is recorded, not fatal")
      assert.strictEqual(v.catchAll, false)
      const lines = v.transcript.map((t) => `${t.direction}: ${t.text}`)
      assert.include(lines, "C: RCPT TO:<alice@alpha.test>")
      assert.include(lines, "C: STARTTLS")
      assert.isTrue(lines.some((l) => l.startsWith("S: 221")))
    })
  )

  it.live("failover: the dead MX is an attempt, the live one answers", () =>
    Effect.gen(function* () {
      const v = yield* verdictOf("alice@failover.test")
      assert.strictEqual(v.mx?.host, "mx1.alpha.test")
      assert.deepStrictEqual(
        v.attempts.map((a) => [a.host, a.outcome]),
        [
          ["mx1.failover.test", "connection_failed"],
          ["mx1.alpha.test", "accepted"]
        ]
      )
    })
  )

  it.live("greylisting: a 450 first, then accepted on the retry schedule", () =>
    Effect.gen(function* () {
      const v = yield* verdictOf("alice@greylist.test")
      assert.deepStrictEqual(
        v.attempts.map((a) => a.outcome),
        ["greylisted", "accepted"]
      )
    })
  )

  it.live("TLS required by the server, TLS off here: unknown / tls_required", () =>
    Effect.gen(function* () {
      const v = yield* verdictOf("alice@tlsonly.test", { tls: "off" })
      assert.strictEqual(`${v.verdict}/${v.reason}`, "unknown/tls_required")
    })
  )

  it.live("TLS required here, not offered there: unknown / tls_required, no MAIL sent", () =>
    Effect.gen(function* () {
      const v = yield* verdictOf("nobody@catchall.test", { tls: "required" })
      assert.strictEqual(`${v.verdict}/${v.reason}`, "unknown/tls_required")
      assert.isFalse(v.transcript.some((t) => t.text.startsWith("MAIL")))
    })
  )

  it.live("VRFY fallback is off by default and does not disturb a clear answer", () =>
    Effect.gen(function* () {
      const v = yield* verdictOf("bob@vrfy.test", { vrfy: true })
      assert.strictEqual(v.verdict, "deliverable")
      assert.isNull(v.vrfy)
    })
  )

  it.live("catch-all is probed once per domain and cached", () =>
    withWorld((v, world) =>
      Effect.gen(function* () {
        const first = yield* v.verify("a@catchall.test")
        const second = yield* v.verify("b@catchall.test")
        assert.strictEqual(first.reason, "catch_all")
        assert.strictEqual(second.reason, "catch_all")
        const stats = yield* world.stats
        assert.strictEqual(stats.rcptCommands["127.0.0.3"], 3, "two real RCPTs and one probe")
      })
    )
  )

  it.live("verifyMany: one session for many recipients of a domain", () =>
    withWorld((v, world) =>
      Effect.gen(function* () {
        const addresses = [
          ...Array.from({ length: 30 }, (_, i) => `user${i}@alpha.test`),
          "alice@alpha.test",
          "bob@alpha.test",
          "alice@alpha.test"
        ]
        const results = yield* v.verifyMany(Stream.fromIterable(addresses)).pipe(Stream.runCollect)
        assert.strictEqual(results.length, addresses.length)
        assert.sameMembers(
          results.map((r) => r.address),
          addresses
        )
        const stats = yield* world.stats
        // 30 unknown mailboxes: a new session after every 9 rejections (maxErrorsPerSession), no more.
        assert.isAtMost(stats.connections["127.0.0.2"]!, 5, "far fewer connections than addresses")
        assert.strictEqual(results.filter((r) => r.verdict === "deliverable").length, 3)
      })
    )
  )

  it.live("verifyMany: domains sharing an MX host share its sessions, each probed once", () =>
    withWorld(
      (v, world) =>
        Effect.gen(function* () {
          const addresses = ["alice@one.test", "bob@two.test", "x@one.test", "y@two.test", "carol@one.test"]
          const results = yield* v.verifyMany(Stream.fromIterable(addresses)).pipe(Stream.runCollect)
          const by = new Map(results.map((r) => [r.address, `${r.verdict}/${r.reason}`]))
          assert.strictEqual(by.get("alice@one.test"), "deliverable/accepted")
          assert.strictEqual(by.get("x@one.test"), "undeliverable/mailbox_unknown")
          assert.strictEqual(by.get("bob@two.test"), "risky/catch_all")
          assert.strictEqual(by.get("y@two.test"), "risky/catch_all")
          const stats = yield* world.stats
          assert.strictEqual(stats.connections["127.0.0.41"], 1, "one session for both domains")
          const rcpts = stats.commands.filter((c) => c.host === "127.0.0.41" && c.line.startsWith("RCPT TO:"))
          assert.strictEqual(rcpts.length, addresses.length + 2, "every address once, and one probe per domain")
          for (const domain of ["one.test", "two.test"]) {
            const probes = rcpts.filter(
              (c) => c.line.endsWith(`@${domain}>`) && !addresses.some((a) => c.line.includes(`<${a}>`))
            )
            assert.strictEqual(probes.length, 1, `one probe for ${domain}`)
          }
        }),
      {},
      {
        domains: [
          { name: "one.test", mx: [{ host: "mx.shared.test", preference: 10 }], users: ["alice", "carol"] },
          { name: "two.test", mx: [{ host: "mx.shared.test", preference: 10 }], catchAll: true }
        ],
        hosts: [{ name: "mx.shared.test", address: "127.0.0.41" }]
      }
    )
  )
})

describe("a host that takes fewer connections than --per-host", () => {
  /** 2 sessions side by side, 10 recipients each, to `count` users of `domain` on one MX host behaving so. */
  const onHost = (
    domain: string,
    address: string,
    behaviour: NonNullable<MailWorld.HostSpec["behaviour"]>,
    count: number
  ) => {
    const users = Array.from({ length: count }, (_, i) => `user${i}`)
    return withWorld(
      (v, world) =>
        Effect.all([
          v.verifyMany(Stream.fromIterable(users.map((u) => `${u}@${domain}`))).pipe(Stream.runCollect),
          world.stats
        ]),
      { perHost: 2, recipientsPerSession: 10 },
      {
        domains: [{ name: domain, mx: [{ host: `mx.${domain}`, preference: 10 }], users }],
        hosts: [{ name: `mx.${domain}`, address, behaviour }]
      }
    )
  }

  it.live("the second connection refused at the greeting (421): the first goes on, every address answered", () =>
    Effect.gen(function* () {
      const [results, stats] = yield* onHost("one.test", "127.0.0.95", { maxConnectionsPerClient: 1 }, 60)
      const verdicts = new Map<string, number>()
      for (const v of results)
        verdicts.set(`${v.verdict}/${v.reason}`, (verdicts.get(`${v.verdict}/${v.reason}`) ?? 0) + 1)
      assert.deepStrictEqual(Object.fromEntries(verdicts), { "deliverable/accepted": 60 })
      // One connection refused, one that carried every address once (and the domain's probe).
      assert.isAtMost(stats.connections["127.0.0.95"]!, 2)
      assert.strictEqual(stats.rcptCommands["127.0.0.95"], 61)
    })
  )

  it.live("a host that refuses every connection at the greeting: a few tries, then unknown (no reconnect storm)", () =>
    Effect.gen(function* () {
      const [results, stats] = yield* onHost("busy.test", "127.0.0.96", { greeting: "421" }, 20)
      for (const v of results) assert.strictEqual(`${v.verdict}/${v.reason}`, "unknown/service_unavailable")
      // The two sessions side by side, then Policy.connectionRetries more, not Policy.maxReconnects.
      assert.isAtMost(stats.connections["127.0.0.96"]!, 2 + Policy.connectionRetries)
    })
  )
})

describe("certificate checks", () => {
  it.live("with the world's certificate as CA the MX's certificate verifies, by name and by IP literal", () =>
    withWorld(
      (v) =>
        Effect.gen(function* () {
          const byName = yield* v.verify("alice@alpha.test")
          assert.strictEqual(byName.tls.status, "established")
          assert.strictEqual(byName.tls.authorized, true, byName.tls.error ?? "")
          const byLiteral = yield* v.verify("postmaster@[127.0.0.2]")
          assert.strictEqual(byLiteral.tls.status, "established")
          assert.strictEqual(byLiteral.tls.authorized, true, byLiteral.tls.error ?? "")
        }),
      { ca: [MailWorld.certificate] }
    )
  )
})
