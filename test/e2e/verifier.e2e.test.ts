// The verifier against real MTAs: NodeVerifier (TCP/TLS transport, DNS at the world's dnsmasq)
// against the loopback mail world of test/e2e/mail-world (Postfix 3.7, OpenSMTPD 6.8, postgrey,
// dnsmasq). The same scenarios as packages/node/test/Verifier.integration.test.ts, with the real
// servers' real replies, limits and quirks. Network: 127.0.0.0/8 only (DNS 127.0.0.1:5354, SMTP
// on port 25 of 127.0.0.2-.9).
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer, Schedule, Stream } from "effect"
import { readFileSync } from "node:fs"
import { NodeVerifier } from "@rcpt/node"
import { HostProfile, Policy, type Verification, Verifier } from "@rcpt/verifier"
import { assertWorldUp, dnsServer, helo, letters, smtpPort, stateDir } from "./world.ts"

// postgrey's delay is 2 s: ask again after 3 s, at most 3 more times.
const e2ePolicy = Layer.succeed(Policy.Policy, {
  ...Policy.defaults,
  greylistRetry: Schedule.spaced("3 seconds").pipe(Schedule.upTo({ times: 3 }))
})

const withVerifier = <A, E>(
  options: NodeVerifier.Options,
  f: (verifier: Verifier.Verifier["Service"]) => Effect.Effect<A, E>,
  policy: Layer.Layer<never> = e2ePolicy
) =>
  Effect.gen(function* () {
    return yield* f(yield* Verifier.Verifier)
  }).pipe(
    Effect.provide(
      Layer.merge(
        NodeVerifier.layer({
          // The servers are on loopback, which the target policy refuses unless opened.
          allowTargets: ["127.0.0.0/8"],
          helo,
          allowSpecialUse: ["test"],
          port: smtpPort,
          dnsServers: [dnsServer],
          timeout: "30 seconds",
          ...options
        }),
        policy
      )
    )
  )

const verify = (address: string, options: NodeVerifier.Options, policy?: Layer.Layer<never>) =>
  withVerifier(options, (v) => v.verify(address), policy)

const verifyMany = (addresses: ReadonlyArray<string>, options: NodeVerifier.Options) =>
  withVerifier(options, (v) => v.verifyMany(Stream.fromIterable(addresses)).pipe(Stream.runCollect))

const lines = (v: Verification.Verification) => v.transcript.map((t) => `${t.direction}: ${t.text}`)

const outcome = (v: Verification.Verification) => `${v.verdict}/${v.reason}`

/** "verdict/reason" -> how many results have it. */
const tally = (results: ReadonlyArray<Verification.Verification>) => {
  const counts: Record<string, number> = {}
  for (const v of results) counts[outcome(v)] = (counts[outcome(v)] ?? 0) + 1
  return counts
}

/** Each address exactly once among the results. */
const assertOncePerAddress = (results: ReadonlyArray<Verification.Verification>, addresses: ReadonlyArray<string>) => {
  assert.strictEqual(results.length, addresses.length, "one result per address")
  const seen = new Map<string, number>()
  for (const r of results) seen.set(r.address, (seen.get(r.address) ?? 0) + 1)
  const twice = [...seen].filter(([, n]) => n > 1).map(([a]) => a)
  assert.deepStrictEqual(twice, [], "no address answered twice")
  assert.sameMembers(
    results.map((r) => r.address),
    [...addresses]
  )
}

/**
 * Not pipelined: every command the client sent (QUIT aside, whose reply may never be read) is
 * answered before the next one goes out.
 */
const assertLockStep = (v: Verification.Verification) => {
  const t = lines(v).filter((l) => !l.startsWith("*"))
  t.forEach((line, i) => {
    if (line.startsWith("C: ") && line !== "C: QUIT") {
      assert.match(t[i + 1] ?? "(end)", /^S: /, `"${line}" was followed by "${t[i + 1]}" before its reply`)
    }
  })
}

// One run of the suite: letters only, so postgrey sees a new sender (see world.ts `letters`).
const run = letters(10)

beforeAll(assertWorldUp)

describe("Verifier e2e: Postfix, plain accept and reject (alpha.test)", () => {
  it.live("an existing mailbox: deliverable/accepted, with its evidence", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@alpha.test", { tls: "opportunistic" })
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.deepStrictEqual(v.mx, {
        host: "mx.alpha.test",
        preference: 10,
        address: "127.0.0.2",
        port: 25,
        implicit: false
      })
      assert.deepStrictEqual(v.rcpt, { code: 250, enhanced: "2.1.5", text: "Ok" })
      assert.strictEqual(v.catchAll, false, "the catch-all probe got 550 5.1.1")
      assert.strictEqual(v.tls.status, "none", "127.0.0.2 offers no STARTTLS")
      assert.isNull(v.vrfy)
      const t = lines(v)
      assert.include(t, "S: 220 mx.alpha.test ESMTP Postfix")
      assert.include(t, `C: EHLO ${helo}`)
      assert.include(t, "C: MAIL FROM:<>")
      assert.include(t, "C: RCPT TO:<alice@alpha.test>")
      assert.notInclude(t, "C: STARTTLS")
      assert.isTrue(
        t.some((l) => l.startsWith("S: 221")),
        t.join("\n")
      )
    })
  )

  it.live("an unknown mailbox: Postfix's 550 5.1.1 is undeliverable/mailbox_unknown", () =>
    Effect.gen(function* () {
      const v = yield* verify("nobody@alpha.test", { tls: "off" })
      assert.strictEqual(outcome(v), "undeliverable/mailbox_unknown", v.detail)
      assert.strictEqual(v.rcpt?.code, 550)
      assert.strictEqual(v.rcpt?.enhanced, "5.1.1")
      assert.include(v.rcpt?.text, "User unknown in virtual mailbox table")
      assert.isFalse(v.retryable)
      assert.strictEqual(v.catchAll, false)
    })
  )
})

describe("Verifier e2e: DNS cases", () => {
  it.live("catch-all domain (catchall.test): risky/catch_all, the probe was accepted too", () =>
    Effect.gen(function* () {
      const v = yield* verify(`${run}@catchall.test`, { tls: "opportunistic" })
      assert.strictEqual(outcome(v), "risky/catch_all", v.detail)
      assert.strictEqual(v.catchAll, true)
      assert.strictEqual(v.rcpt?.code, 250)
      const rcpts = lines(v).filter((l) => l.startsWith("C: RCPT TO:"))
      assert.strictEqual(rcpts.length, 2, `the address and one probe: ${rcpts.join(", ")}`)
    })
  )

  it.live("MX failover (failover.test): MX 10 refuses the connection, MX 20 answers", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@failover.test", { tls: "opportunistic" })
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.deepStrictEqual(v.mx, {
        host: "mx.failover.test",
        preference: 20,
        address: "127.0.0.2",
        port: 25,
        implicit: false
      })
      assert.deepStrictEqual(
        v.attempts.map((a) => [a.host, a.address, a.outcome]),
        [
          ["dead.failover.test", "127.0.0.9", "connection_failed"],
          ["mx.failover.test", "127.0.0.2", "accepted"]
        ]
      )
      assert.match(v.attempts[0]!.detail, /refused|ECONNREFUSED/i)
    })
  )

  it.live("implicit MX (implicit.test: an A record, no MX): the domain's own address is asked", () =>
    Effect.gen(function* () {
      const alice = yield* verify("alice@implicit.test", { tls: "off" })
      assert.strictEqual(outcome(alice), "deliverable/accepted", alice.detail)
      assert.deepStrictEqual(alice.mx, {
        host: "implicit.test",
        preference: 0,
        address: "127.0.0.2",
        port: 25,
        implicit: true
      })
      const nobody = yield* verify("nobody@implicit.test", { tls: "off" })
      assert.strictEqual(outcome(nobody), "undeliverable/mailbox_unknown", nobody.detail)
    })
  )

  it.live("null MX (nullmx.test, MX 0 .): undeliverable/null_mx without any connection", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@nullmx.test", { tls: "opportunistic" })
      assert.strictEqual(outcome(v), "undeliverable/null_mx", v.detail)
      assert.isNull(v.mx)
      assert.isNull(v.rcpt)
      assert.deepStrictEqual(v.attempts, [])
      assert.deepStrictEqual(v.transcript, [])
    })
  )

  it.live("NXDOMAIN: undeliverable/no_such_domain without any connection", () =>
    Effect.gen(function* () {
      const v = yield* verify(`alice@${run}.test`, { tls: "opportunistic" })
      assert.strictEqual(outcome(v), "undeliverable/no_such_domain", v.detail)
      assert.isNull(v.mx)
      assert.deepStrictEqual(v.attempts, [])
      assert.deepStrictEqual(v.transcript, [])
    })
  )
})

describe("Verifier e2e: greylisting (postgrey behind Postfix, 2 s delay)", () => {
  it.live("first 450 4.2.0, then accepted on the retry schedule: attempts [greylisted, accepted]", () =>
    Effect.gen(function* () {
      // A sender postgrey has never seen (letters only), so this triplet is new even in a world
      // that was not restarted.
      const v = yield* verify("alice@greylist.test", { tls: "off", mailFrom: `e2e-grey-${run}@e2e.rcpt.test` })
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.deepStrictEqual(
        v.attempts.map((a) => [a.host, a.outcome]),
        [
          ["mx.greylist.test", "greylisted"],
          ["mx.greylist.test", "accepted"]
        ]
      )
      assert.deepStrictEqual(v.rcpt, { code: 250, enhanced: "2.1.5", text: "Ok" })
      assert.isAtLeast(v.durationMs, 2000, "the retry waited out postgrey's delay")
    })
  )

  it.live("no time left for a retry: unknown/greylisted, retryable, with postgrey's own reply", () =>
    Effect.gen(function* () {
      // The stock policy waits ~30 s before asking again; with a 5 s deadline it gives up at once.
      const v = yield* verify(
        "alice@greylist.test",
        { tls: "off", mailFrom: `e2e-late-${run}@e2e.rcpt.test`, timeout: "5 seconds" },
        Layer.succeed(Policy.Policy, Policy.defaults)
      )
      assert.strictEqual(outcome(v), "unknown/greylisted", v.detail)
      assert.isTrue(v.retryable)
      assert.strictEqual(v.rcpt?.code, 450)
      assert.strictEqual(v.rcpt?.enhanced, "4.2.0")
      assert.include(v.rcpt?.text, "Greylisted")
      assert.deepStrictEqual(
        v.attempts.map((a) => a.outcome),
        ["greylisted"]
      )
    })
  )

  it.live("an unknown mailbox on the greylisted domain: 550 at once, no retry", () =>
    Effect.gen(function* () {
      const v = yield* verify("nobody@greylist.test", { tls: "off", mailFrom: `e2e-grey-${run}@e2e.rcpt.test` })
      assert.strictEqual(outcome(v), "undeliverable/mailbox_unknown", v.detail)
      assert.strictEqual(v.attempts.length, 1)
    })
  )
})

describe("Verifier e2e: TLS", () => {
  it.live("STARTTLS with a self-signed certificate (tls.test): established, not authorized, answered", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@tls.test", { tls: "opportunistic" })
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.strictEqual(v.tls.status, "established")
      assert.strictEqual(v.tls.authorized, false, "self-signed: recorded, not fatal")
      assert.isNotNull(v.tls.error)
      assert.match(v.tls.protocol ?? "", /^TLSv1\.[23]$/)
      const t = lines(v)
      const starttls = t.indexOf("C: STARTTLS")
      assert.isAtLeast(starttls, 0, t.join("\n"))
      assert.strictEqual(t.filter((l) => l === `C: EHLO ${helo}`).length, 2, "EHLO again after the handshake")
      assert.isAbove(t.indexOf("C: RCPT TO:<alice@tls.test>"), starttls)
    })
  )

  it.live("STARTTLS with the world's certificate as a trusted CA: authorized", () =>
    Effect.gen(function* () {
      const ca = readFileSync(`${stateDir}/tls/cert.pem`, "utf8")
      const v = yield* verify("alice@tls.test", { tls: "opportunistic", ca: [ca] })
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.strictEqual(v.tls.status, "established")
      assert.strictEqual(v.tls.authorized, true, `${v.tls.error}`)
    })
  )

  it.live("TLS off: no STARTTLS although offered", () =>
    Effect.gen(function* () {
      const v = yield* verify("nobody@tls.test", { tls: "off" })
      assert.strictEqual(outcome(v), "undeliverable/mailbox_unknown", v.detail)
      assert.strictEqual(v.tls.status, "none")
      assert.notInclude(lines(v), "C: STARTTLS")
    })
  )

  it.live("TLS required here, not offered by the server (alpha.test): unknown/tls_required, no MAIL", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@alpha.test", { tls: "required" })
      assert.strictEqual(outcome(v), "unknown/tls_required", v.detail)
      assert.isFalse(lines(v).some((l) => l.startsWith("C: MAIL")))
    })
  )

  it.live("a server that requires TLS (tlsonly.test), TLS off here: unknown/tls_required from the 530", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@tlsonly.test", { tls: "off" })
      assert.strictEqual(outcome(v), "unknown/tls_required", v.detail)
      assert.isTrue(
        lines(v).some((l) => l.startsWith("S: 530 5.7.0 Must issue a STARTTLS command first")),
        lines(v).join("\n")
      )
    })
  )

  it.live("a server that requires TLS (tlsonly.test), opportunistic TLS: deliverable", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@tlsonly.test", { tls: "opportunistic" })
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.strictEqual(v.tls.status, "established")
      const nobody = yield* verify("nobody@tlsonly.test", { tls: "required" })
      assert.strictEqual(outcome(nobody), "undeliverable/mailbox_unknown", nobody.detail)
    })
  )
})

describe("Verifier e2e: VRFY (vrfy.test, VRFY enabled: 252 for alice, 550 for others)", () => {
  // Postfix answers every RCPT here with a clear 250 or 550, so VRFY, a fallback for RCPT replies
  // that settle nothing (252, policy blocks), must never be sent. No real server of the world
  // gives an ambiguous RCPT reply, so the "VRFY is sent" branch is covered by the in-process tests only.
  it.live("vrfy on, RCPT 250: deliverable, VRFY not sent", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@vrfy.test", { tls: "opportunistic", vrfy: true })
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.isNull(v.vrfy)
      assert.isFalse(
        lines(v).some((l) => l.startsWith("C: VRFY")),
        lines(v).join("\n")
      )
    })
  )

  it.live("vrfy on, RCPT 550: undeliverable, VRFY not sent", () =>
    Effect.gen(function* () {
      const v = yield* verify("nobody@vrfy.test", { tls: "opportunistic", vrfy: true })
      assert.strictEqual(outcome(v), "undeliverable/mailbox_unknown", v.detail)
      assert.isNull(v.vrfy)
      assert.isFalse(lines(v).some((l) => l.startsWith("C: VRFY")))
    })
  )
})

describe("Verifier e2e: OpenSMTPD's dialect (opensmtpd.test, no PIPELINING)", () => {
  it.live("alice: 250 2.1.5 Destination address valid -> deliverable; one command at a time", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@opensmtpd.test", { tls: "opportunistic" })
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.strictEqual(v.rcpt?.code, 250)
      assert.include(v.rcpt?.text, "Destination address valid")
      assert.include(lines(v), "S: 220 mx.opensmtpd.test ESMTP OpenSMTPD")
      assert.isFalse(lines(v).some((l) => /PIPELINING/i.test(l) && l.startsWith("S: 250")))
      assert.strictEqual(v.catchAll, false, "the probe got 550 Invalid recipient")
      assertLockStep(v)
    })
  )

  it.live("unknown: '550 Invalid recipient' (no enhanced code) -> undeliverable/mailbox_unknown", () =>
    Effect.gen(function* () {
      const v = yield* verify("nobody@opensmtpd.test", { tls: "off" })
      assert.strictEqual(outcome(v), "undeliverable/mailbox_unknown", v.detail)
      assert.strictEqual(v.rcpt?.code, 550)
      assert.isNull(v.rcpt?.enhanced)
      assert.include(v.rcpt?.text, "Invalid recipient")
      assertLockStep(v)
    })
  )

  it.live("many recipients in one session, never pipelined: every one answered", () =>
    Effect.gen(function* () {
      const addresses = ["alice@opensmtpd.test", ...Array.from({ length: 24 }, (_, i) => `x${i}-${run}@opensmtpd.test`)]
      const results = yield* verifyMany(addresses, { tls: "opportunistic" })
      assertOncePerAddress(results, addresses)
      assert.deepStrictEqual(tally(results), {
        "deliverable/accepted": 1,
        "undeliverable/mailbox_unknown": 24
      })
      for (const v of results) {
        assertLockStep(v)
        assert.isFalse(
          lines(v).some((l) => l.includes("Pipelining not supported")),
          lines(v).join("\n")
        )
      }
    })
  )
})

describe("Verifier e2e: Postfix's limits", () => {
  it.live(
    "bulk.test: 200 unknown addresses; a new session every 9 rejections keeps clear of Postfix's error limits",
    () =>
      Effect.gen(function* () {
        const addresses = Array.from({ length: 200 }, (_, i) => `nx${i}-${run}@bulk.test`)
        const started = Date.now()
        const results = yield* verifyMany(addresses, { tls: "off", timeout: "150 seconds" })
        const seconds = (Date.now() - started) / 1000
        assertOncePerAddress(results, addresses)
        assert.deepStrictEqual(tally(results), { "undeliverable/mailbox_unknown": 200 })
        for (const v of results) assert.strictEqual(v.rcpt?.code, 550, v.address)
        // Under smtpd_soft_error_limit (10) no reply is slowed, and the 421 of the hard limit never comes.
        assert.isFalse(
          results.some((v) => v.attempts.some((a) => a.outcome === "service_unavailable")),
          "no session reached Postfix's hard error limit"
        )
        console.log(`bulk.test: 200 answers in ${seconds.toFixed(1)} s`)
      }),
    180_000
  )

  it.live(
    "bulk.test without the client's own limit, learning nothing: the 421 after 20 errors costs a reconnect, no answer lost",
    () =>
      Effect.gen(function* () {
        const addresses = Array.from({ length: 40 }, (_, i) => `nz${i}-${run}@bulk.test`)
        // The fixed shaping: no session tries wider values, so none leaves at the first slowed reply.
        const fixed = Layer.succeed(Policy.Policy, { ...Policy.defaults, hostShaping: HostProfile.fixed })
        const results = yield* withVerifier(
          { tls: "off", timeout: "150 seconds", maxErrorsPerSession: 1000 },
          (v) => v.verifyMany(Stream.fromIterable(addresses)).pipe(Stream.runCollect),
          fixed
        )
        assertOncePerAddress(results, addresses)
        assert.deepStrictEqual(tally(results), { "undeliverable/mailbox_unknown": 40 })
        for (const v of results) {
          assert.strictEqual(v.rcpt?.code, 550, v.address)
          assert.strictEqual(v.attempts.at(-1)?.outcome, "mailbox_unknown", v.address)
        }
        const reconnected = results.filter((v) => v.attempts.some((a) => a.outcome === "service_unavailable"))
        assert.isAbove(reconnected.length, 0, "some addresses went through a 421 and a new session")
        assert.isTrue(
          results.some((v) => v.attempts.some((a) => a.detail.includes("421 4.7.0"))),
          "the 421 4.7.0 Error: too many errors is in the evidence"
        )
      }),
    180_000
  )

  it.live(
    "bulk.test without the client's own limit: the trying session leaves at the first slowed reply, before the 421",
    () =>
      Effect.gen(function* () {
        const addresses = Array.from({ length: 40 }, (_, i) => `nl${i}-${run}@bulk.test`)
        const results = yield* verifyMany(addresses, { tls: "off", timeout: "150 seconds", maxErrorsPerSession: 1000 })
        assertOncePerAddress(results, addresses)
        assert.deepStrictEqual(tally(results), { "undeliverable/mailbox_unknown": 40 })
        for (const v of results) assert.strictEqual(v.rcpt?.code, 550, v.address)
        // Postfix slowed its replies after 10 errors; the session left with RCPTs in flight rather
        // than wait a second for each of them and meet the hard limit.
        assert.isFalse(
          results.some((v) => v.attempts.some((a) => a.outcome === "service_unavailable" || a.detail.includes("421"))),
          "no session reached Postfix's hard error limit"
        )
        assert.isTrue(
          results.some((v) => v.attempts.some((a) => a.detail === "Closed in AwaitRcpt")),
          "some addresses were in flight when the session left, and were asked again"
        )
      }),
    180_000
  )

  it.live("limit.test (smtpd_recipient_limit=5): u1..u20 all deliverable; the 452 4.5.3 opens a new transaction", () =>
    Effect.gen(function* () {
      const addresses = Array.from({ length: 20 }, (_, i) => `u${i + 1}@limit.test`)
      const results = yield* verifyMany(addresses, { tls: "opportunistic" })
      assertOncePerAddress(results, addresses)
      assert.deepStrictEqual(tally(results), { "deliverable/accepted": 20 })
      for (const v of results) assert.deepStrictEqual(v.rcpt, { code: 250, enhanced: "2.1.5", text: "Ok" }, v.address)
      const all = results.flatMap(lines)
      assert.isTrue(
        all.some((l) => l.startsWith("S: 452 4.5.3")),
        "the server did refuse the 6th recipient"
      )
      assert.isTrue(
        all.some((l) => l === "C: RSET"),
        "a new transaction after RSET"
      )
    })
  )
})

describe("Verifier e2e: verifyMany across the world", () => {
  it.live("mixed domains, duplicates and a syntax error: one result per input, each right", () =>
    Effect.gen(function* () {
      const expected: ReadonlyArray<readonly [string, string]> = [
        ["alice@alpha.test", "deliverable/accepted"],
        ["bob@alpha.test", "deliverable/accepted"],
        ["carol@alpha.test", "undeliverable/mailbox_unknown"],
        ["alice@alpha.test", "deliverable/accepted"],
        ["Alice@ALPHA.test", "deliverable/accepted"],
        [`${run}@catchall.test`, "risky/catch_all"],
        ["alice@failover.test", "deliverable/accepted"],
        ["alice@implicit.test", "deliverable/accepted"],
        ["alice@nullmx.test", "undeliverable/null_mx"],
        [`alice@nx-${run}.test`, "undeliverable/no_such_domain"],
        ["alice@tls.test", "deliverable/accepted"],
        ["alice@tlsonly.test", "deliverable/accepted"],
        ["alice@vrfy.test", "deliverable/accepted"],
        ["u7@limit.test", "deliverable/accepted"],
        ["alice@opensmtpd.test", "deliverable/accepted"],
        ["nobody@opensmtpd.test", "undeliverable/mailbox_unknown"],
        ["bob@bulk.test", "deliverable/accepted"],
        ["not an address", "undeliverable/syntax"]
      ]
      const results = yield* verifyMany(
        expected.map(([a]) => a),
        { tls: "opportunistic" }
      )
      assert.strictEqual(results.length, expected.length)
      assert.sameDeepMembers(
        results.map((v) => [v.address, outcome(v)]),
        expected.map(([a, o]) => [a, o])
      )
    })
  )
})
