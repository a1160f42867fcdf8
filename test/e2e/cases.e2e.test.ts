// Issue 18: the cases real mail servers present, each against a real Postfix of the mail world
// (test/e2e/mail-world/README.md, "Real-server cases"), each with the verdict rcpt must give.
// Network: 127.0.0.0/8 and ::1 only (DNS 127.0.0.1:5354; SMTP on port 25 of 127.0.0.2-.9 and .13-.15, ::1).
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer, Schedule, Stream } from "effect"
import { readFileSync } from "node:fs"
import { NodeVerifier } from "@rcpt/node"
import { Policy, type Verification, Verifier } from "@rcpt/verifier"
import { assertWorldUp, dnsServer, helo, smtpPort } from "./world.ts"

// postgrey's delay is 2 s: ask again after 3 s, at most 3 more times.
const e2ePolicy = Layer.succeed(Policy.Policy, {
  ...Policy.defaults,
  greylistRetry: Schedule.spaced("3 seconds").pipe(Schedule.upTo({ times: 3 }))
})

const options = (extra: NodeVerifier.Options = {}): NodeVerifier.Options => ({
  helo,
  // The world is .test names on loopback: both refused unless opened.
  allowSpecialUse: ["test"],
  allowTargets: ["127.0.0.0/8", "::1/128"],
  port: smtpPort,
  dnsServers: [dnsServer],
  timeout: "30 seconds",
  tls: "off",
  ...extra
})

const verifyMany = (addresses: ReadonlyArray<string>, extra?: NodeVerifier.Options, policy = e2ePolicy) =>
  Effect.gen(function* () {
    const verifier = yield* Verifier.Verifier
    return yield* verifier.verifyMany(Stream.fromIterable(addresses)).pipe(Stream.runCollect)
  }).pipe(Effect.provide(Layer.merge(NodeVerifier.layer(options(extra)), policy)))

const verify = (address: string, extra?: NodeVerifier.Options, policy = e2ePolicy) =>
  verifyMany([address], extra, policy).pipe(Effect.map((results) => results[0]!))

const lines = (v: Verification.Verification) => v.transcript.map((t) => `${t.direction}: ${t.text}`)

const outcome = (v: Verification.Verification) => `${v.verdict}/${v.reason}`

/** Whether this machine's loopback has IPv6 (up.sh starts the v6.test listener only then). */
const hasIpv6Loopback = (() => {
  try {
    return /^0{31}1 /m.test(readFileSync("/proc/net/if_inet6", "utf8"))
  } catch {
    return false
  }
})()

beforeAll(assertWorldUp)

describe("e2e cases: refusals of the client, never a mailbox verdict", () => {
  it.live("554 instead of a greeting (closed.test): unknown/blocked, no MAIL sent", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@closed.test")
      assert.strictEqual(v.verdict, "unknown", v.detail)
      assert.strictEqual(v.reason, "blocked")
      assert.isFalse(lines(v).some((l) => l.startsWith("C: MAIL")))
      assert.isTrue(lines(v).some((l) => l.startsWith("S: 554 5.3.2")))
    })
  )

  it.live("DNSBL at connect (dnsblconnect.test, 554 5.7.1 blocked using ...): unknown/blocked, the list named", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@dnsblconnect.test")
      assert.strictEqual(outcome(v), "unknown/blocked", v.detail)
      assert.include(v.detail, "zen.spamhaus.org")
      assert.isNull(v.rcpt)
    })
  )

  it.live("DNSBL at RCPT (dnsblrcpt.test, 550 5.7.1 blocked using ...): unknown/blocked, the list named", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@dnsblrcpt.test")
      assert.strictEqual(outcome(v), "unknown/blocked", v.detail)
      assert.include(v.detail, "zen.spamhaus.org")
      assert.strictEqual(v.rcpt?.code, 550)
      assert.strictEqual(v.rcpt?.enhanced, "5.7.1")
      assert.notStrictEqual(v.catchAll, true)
    })
  )
})

describe("e2e cases: what a mailbox store says (mailbox.test)", () => {
  it.live("disabled 550 5.2.1, full 452 4.2.2 and 552 5.2.2, 451 4.3.0 for one recipient", () =>
    Effect.gen(function* () {
      const expected: Record<string, string> = {
        "alice@mailbox.test": "deliverable/accepted",
        "disabled@mailbox.test": "undeliverable/mailbox_disabled",
        "full@mailbox.test": "risky/mailbox_full",
        "overquota@mailbox.test": "risky/mailbox_full",
        "later@mailbox.test": "unknown/temporary_failure",
        "nobody@mailbox.test": "undeliverable/mailbox_unknown"
      }
      // No greylist retries: the 451 is reported at once, with when to ask again.
      const results = yield* verifyMany(
        Object.keys(expected),
        {},
        Layer.succeed(Policy.Policy, { ...Policy.defaults, greylistRetry: Schedule.recurs(0) })
      )
      assert.deepStrictEqual(
        Object.fromEntries(results.map((v) => [v.address, outcome(v)])),
        expected,
        results.map((v) => v.detail).join("\n")
      )
      const byAddress = new Map(results.map((v) => [v.address, v]))
      assert.deepStrictEqual(byAddress.get("disabled@mailbox.test")?.rcpt?.enhanced, "5.2.1")
      assert.isTrue(byAddress.get("full@mailbox.test")?.retryable)
      const later = byAddress.get("later@mailbox.test")!
      assert.isTrue(later.retryable)
      assert.strictEqual(later.rcpt?.code, 451)
      assert.strictEqual(byAddress.get("alice@mailbox.test")?.catchAll, false)
      assert.isString(later.retryAfter, "an unknown result says when to ask again")
      assert.isAbove(Date.parse(later.retryAfter!), Date.parse(later.startedAt))
      assert.isNull(byAddress.get("alice@mailbox.test")?.retryAfter)
      assert.strictEqual(byAddress.get("alice@mailbox.test")?.catchAllProbe, "refused")
    })
  )
})

describe("e2e cases: MX targets that are not plain", () => {
  it.live("two MX of equal preference, one dead (equal.test): deliverable whichever is tried first", () =>
    Effect.gen(function* () {
      for (let i = 0; i < 3; i++) {
        const v = yield* verify("alice@equal.test")
        assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
        assert.strictEqual(v.mx?.host, "mx2.equal.test")
        assert.strictEqual(v.mx?.preference, 10)
        const hosts = v.attempts.map((a) => a.host)
        assert.isTrue(
          hosts.join() === "mx2.equal.test" || hosts.join() === "mx1.equal.test,mx2.equal.test",
          hosts.join()
        )
      }
    })
  )

  it.live("an MX name with no address, then a working one (noaddr.test): the working one answers", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@noaddr.test")
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.strictEqual(v.mx?.host, "mx.noaddr.test")
      assert.strictEqual(v.mx?.preference, 20)
    })
  )

  it.live("an MX name that is a CNAME (cname.test -> mx.alpha.test): followed", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@cname.test")
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.strictEqual(v.mx?.host, "mail.cname.test")
      assert.strictEqual(v.mx?.address, "127.0.0.2")
    })
  )

  it.live.skipIf(!hasIpv6Loopback)("an MX host with only an AAAA record, ::1 (v6.test): asked over IPv6", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@v6.test")
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.strictEqual(v.mx?.address, "::1")
      assert.include(lines(v), "S: 220 mx.v6.test ESMTP Postfix")
    })
  )
})

describe("e2e cases: internationalised addresses", () => {
  it.live("an IDN domain given in Unicode (bücher.test), published as its A-label: asked as the A-label", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@bücher.test")
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.strictEqual(v.normalized, "alice@xn--bcher-kva.test")
      assert.include(lines(v), "C: RCPT TO:<alice@xn--bcher-kva.test>")
    })
  )

  it.live("a UTF-8 local part at a Postfix with smtputf8_enable = yes (utf8.test): existing and unknown", () =>
    Effect.gen(function* () {
      const results = yield* verifyMany(["josé@utf8.test", "zoë@utf8.test"])
      const by = new Map(results.map((v) => [v.address, v]))
      const jose = by.get("josé@utf8.test")!
      const zoe = by.get("zoë@utf8.test")!
      assert.strictEqual(outcome(jose), "deliverable/accepted", jose.detail)
      assert.strictEqual(outcome(zoe), "undeliverable/mailbox_unknown", zoe.detail)
      assert.isTrue(
        lines(jose).some((l) => /^C: MAIL FROM:<.*> SMTPUTF8$/.test(l)),
        lines(jose).join("\n")
      )
      assert.include(lines(jose), "C: RCPT TO:<josé@utf8.test>")
    })
  )
})

describe("e2e cases: the null sender refused", () => {
  it.live(
    "at MAIL (nullsender.test, 553 5.7.1): asked again with a real sender, deliverable, both in the evidence",
    () =>
      Effect.gen(function* () {
        const v = yield* verify("alice@nullsender.test")
        assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
        const t = lines(v)
        assert.include(t, `C: MAIL FROM:<postmaster@${helo}>`)
        assert.deepStrictEqual(
          v.attempts.map((a) => a.outcome),
          ["sender_rejected", "accepted"]
        )
        assert.include(v.attempts[0]!.detail, "553 5.7.1 <>: Sender address rejected")
        assert.deepStrictEqual(v.sender, { nullRefused: true, used: `postmaster@${helo}` })
      })
  )

  it.live("at RCPT (nullrcpt.test, 550 5.7.1 Sender address rejected): never a mailbox verdict from it", () =>
    Effect.gen(function* () {
      const results = yield* verifyMany(["alice@nullrcpt.test", "nobody@nullrcpt.test"])
      const [alice, nobody] = [
        results.find((r) => r.address.startsWith("alice"))!,
        results.find((r) => r.address.startsWith("nobody"))!
      ]
      assert.strictEqual(outcome(alice), "deliverable/accepted", alice.detail)
      assert.strictEqual(outcome(nobody), "undeliverable/mailbox_unknown", nobody.detail)
      assert.strictEqual(nobody.rcpt?.enhanced, "5.1.1", "the verdict comes from the real sender's transaction")
      for (const v of [alice, nobody]) {
        assert.deepStrictEqual(v.sender, { nullRefused: true, used: `postmaster@${helo}` })
        assert.include(lines(v), `C: MAIL FROM:<postmaster@${helo}>`)
      }
    })
  )

  it.live("a configured sender is the one used for the second try", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@nullsender.test", { fallbackSender: "verify@e2e.rcpt.test" })
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.include(lines(v), "C: MAIL FROM:<verify@e2e.rcpt.test>")
      assert.deepStrictEqual(v.sender, { nullRefused: true, used: "verify@e2e.rcpt.test" })
    })
  )
})

describe("e2e cases: catch-all", () => {
  it.live("a catch-all that greylists the probe (greycatch.test): the address accepted, catch-all inconclusive", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@greycatch.test", {}, Layer.succeed(Policy.Policy, Policy.defaults))
      assert.strictEqual(v.rcpt?.code, 250)
      assert.strictEqual(v.catchAllProbe, "inconclusive")
      assert.isNull(v.catchAll)
      assert.strictEqual(outcome(v), "deliverable/accepted", v.detail)
      assert.isTrue(
        lines(v).some((l) => l.startsWith("S: 450 4.2.0")),
        lines(v).join("\n")
      )
    })
  )

  it.live("catchall.test: accepted the probe; alpha.test: refused it; catch-all probe off: not checked", () =>
    Effect.gen(function* () {
      const [open] = yield* verifyMany(["someone@catchall.test"])
      assert.strictEqual(open!.catchAllProbe, "accepted")
      const [closed] = yield* verifyMany(["alice@alpha.test"])
      assert.strictEqual(closed!.catchAllProbe, "refused")
      const [off] = yield* verifyMany(["alice@alpha.test"], { catchAllProbe: false })
      assert.strictEqual(off!.catchAllProbe, "not_checked")
    })
  )
})

describe("e2e cases: DNS strictness", () => {
  it.live("no MX, an A record and SPF v=spf1 -all (spfnone.test): undeliverable, no connection", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@spfnone.test")
      assert.strictEqual(outcome(v), "undeliverable/no_mail", v.detail)
      assert.deepStrictEqual(v.transcript, [])
    })
  )

  it.live(
    "special-use names not allowed (localhost, .invalid, .test without the allowance): refused, nothing asked",
    () =>
      Effect.gen(function* () {
        const results = yield* verifyMany(["root@localhost", "a@b.invalid", "alice@alpha.test"], {
          allowSpecialUse: []
        })
        assert.strictEqual(results.length, 3)
        for (const v of results) {
          assert.strictEqual(outcome(v), "undeliverable/special_use", v.detail)
          assert.deepStrictEqual(v.transcript, [])
        }
      })
  )

  it.live("the timing block, on request: DNS, connect, SMTP per phase, connections", () =>
    Effect.gen(function* () {
      const v = yield* verify("alice@alpha.test", { timing: true })
      assert.isNotNull(v.timing)
      assert.strictEqual(v.timing!.connections, 1)
      assert.containsAllKeys(v.timing!.smtpMs, ["AwaitGreeting", "AwaitEhlo"])
      const off = yield* verify("alice@alpha.test")
      assert.isNull(off.timing)
    })
  )

  it.live("allow, deny and depth rules: settled without asking", () =>
    Effect.gen(function* () {
      const results = yield* verifyMany(
        ["x@alpha.test", "bob@alpha.test", "alice@mailbox.test", "nobody@implicit.test"],
        {
          allow: ["x@alpha.test"],
          deny: ["@alpha.test"],
          depth: { "mailbox.test": "dns", "implicit.test": "syntax" }
        }
      )
      const by = Object.fromEntries(results.map((v) => [v.address, outcome(v)]))
      assert.deepStrictEqual(by, {
        "x@alpha.test": "deliverable/allowed",
        "bob@alpha.test": "undeliverable/denied",
        "alice@mailbox.test": "unknown/not_checked",
        "nobody@implicit.test": "unknown/not_checked"
      })
      for (const v of results) assert.deepStrictEqual(v.transcript, [], v.address)
    })
  )
})
