// Risk signals and verification policies through the public API: Verifier.verify over the scripted
// transport and a static zone, with RiskSignals and Judgement provided from the caller's context.
// Scripted transports dial nothing real: the target policy is opened to every address here.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Random } from "effect"
import { Signals } from "@rcpt/signals"
import * as ScriptedTransport from "@rcpt/testing/ScriptedTransport"
import * as StaticDns from "@rcpt/testing/StaticDns"
import * as Judgement from "../src/Judgement.ts"
import type { Verification } from "../src/Verification.ts"
import * as Verifier from "../src/Verifier.ts"
import * as VerifierConfig from "../src/VerifierConfig.ts"

const zone = StaticDns.layer({
  "alpha.test": { mx: [[10, "mx1.alpha.test"]] },
  "mx1.alpha.test": { a: ["192.0.2.1"] },
  "gmail.com": { mx: [[5, "gmail-smtp-in.l.google.com"]] },
  "gmail-smtp-in.l.google.com": { a: ["192.0.2.2"] },
  "mailinator.com": { mx: [[10, "mail.mailinator.com"]] },
  "mail.mailinator.com": { a: ["192.0.2.3"] },
  "yaho.com": { mx: [[10, "mx.yaho.com"]] },
  "mx.yaho.com": { a: ["192.0.2.4"] },
  "hotmaiill.com": { mx: [[10, "mx.hotmaiill.com"]] },
  "mx.hotmaiill.com": { a: ["192.0.2.5"] },
  // A Microsoft 365 tenant: its MX name exists only in this zone.
  "contoso.test": { mx: [[0, "contoso-test.mail.protection.outlook.com"]] },
  "contoso-test.mail.protection.outlook.com": { a: ["192.0.2.6"] },
  "nullmx.test": { mx: [[0, "."]] }
  // gmial.com, gmaiiil.com: NXDOMAIN.
})

// The catch-all probe's local part comes from Random: with this one it is twenty "a".
const fixedRandom = Effect.provideService(Random.Random, { nextIntUnsafe: () => 0, nextDoubleUnsafe: () => 0 })
const probeOf = (domain: string) => `${"a".repeat(20)}@${domain}`

type ProbeReply = "none" | string

/** One session: the real RCPT gets `rcpt`; the probe, when a reply is given, follows it. */
const session = (to: string, rcpt: string, probe: ProbeReply = "none") => {
  const domain = to.slice(to.lastIndexOf("@") + 1)
  return `
    S: 220 mx ESMTP
    C: EHLO verifier.rcpt.test
    S: 250 mx
    C: MAIL FROM:<>
    S: 250 2.1.0 Ok
    C: RCPT TO:<${to}>
    S: ${rcpt}
    ${probe === "none" ? "" : `C: RCPT TO:<${probeOf(domain)}>\n    S: ${probe}`}
    C: QUIT
    S: 221 2.0.0 Bye
  `
}

const ok = "250 2.1.5 Ok"
const unknownUser = "550 5.1.1 <x>: Recipient address rejected: User unknown in virtual mailbox table"
const dbeb =
  "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [AM0PR01MB0001.eurprd01.prod.outlook.com]"

/** Verifies one address against `scripts` with a fresh verifier; the scripts must be played to the end. */
const verify = (
  address: string,
  scripts: ReadonlyArray<string>,
  config: Partial<VerifierConfig.VerifierConfig> = {}
) => {
  const transport = ScriptedTransport.make(scripts)
  const layer = Verifier.layer.pipe(
    Layer.provide([
      VerifierConfig.layer({
        helo: "verifier.rcpt.test",
        allowSpecialUse: ["test"],
        allowTargets: ["0.0.0.0/0", "::/0"],
        port: 25,
        ...config
      }),
      zone,
      transport.layer
    ])
  )
  return Effect.gen(function* () {
    const verifier = yield* Verifier.Verifier
    const result = yield* verifier.verify(address)
    const report = yield* transport.report
    assert.deepStrictEqual(report.unmatched, [], "the client followed the script")
    assert.deepStrictEqual(report.remaining, [], "the script was played to the end")
    return result
  }).pipe(Effect.provide(layer), fixedRandom)
}

/** An accepted address on a domain whose probe is refused: the usual case. */
const accepted = (address: string) => verify(address, [session(address, ok, unknownUser)])

const summary = (v: Verification) => `${v.verdict}/${v.reason}/${v.score}`

const noSignals = {
  disposable: false,
  roleAccount: false,
  freeProvider: false,
  suggestion: null,
  acceptsAllProvider: null
}

describe("signals on every Verification", () => {
  it.effect("none: an ordinary accepted mailbox", () =>
    Effect.gen(function* () {
      const v = yield* accepted("alice@alpha.test")
      assert.deepStrictEqual(v.signals, noSignals)
      assert.strictEqual(v.catchAll, false)
      assert.strictEqual(summary(v), "deliverable/accepted/95")
    })
  )

  for (const local of ["admin", "info", "noreply", "no-reply", "postmaster", "Sales+eu"]) {
    it.effect(`role account: ${local}@ stays deliverable, 10 points lower`, () =>
      Effect.gen(function* () {
        const v = yield* accepted(`${local}@alpha.test`)
        assert.deepStrictEqual(v.signals, { ...noSignals, roleAccount: true })
        assert.strictEqual(summary(v), "deliverable/accepted/85")
      })
    )
  }

  it.effect("free provider: shown, changes nothing", () =>
    Effect.gen(function* () {
      const v = yield* accepted("jane.doe@gmail.com")
      assert.deepStrictEqual(v.signals, { ...noSignals, freeProvider: true })
      assert.strictEqual(summary(v), "deliverable/accepted/95")
    })
  )

  it.effect("disposable: an accepted mailbox is risky / disposable", () =>
    Effect.gen(function* () {
      const v = yield* accepted("bob@mailinator.com")
      assert.isTrue(v.signals.disposable)
      assert.strictEqual(summary(v), "risky/disposable/30")
    })
  )

  it.effect("disposable and unknown mailbox: undeliverable stays undeliverable", () =>
    Effect.gen(function* () {
      const v = yield* verify("bob@mailinator.com", [session("bob@mailinator.com", unknownUser)])
      assert.isTrue(v.signals.disposable)
      assert.strictEqual(summary(v), "undeliverable/mailbox_unknown/2")
    })
  )

  it.effect("typo, domain resolves: a near-miss of a major provider is suggested", () =>
    Effect.gen(function* () {
      const v = yield* accepted("jane@yaho.com")
      assert.strictEqual(v.signals.suggestion, "yahoo.com")
      assert.strictEqual(v.verdict, "deliverable", "the suggestion does not change the verdict")
    })
  )

  it.effect("typo, domain resolves: two slips in the label are not suggested", () =>
    Effect.gen(function* () {
      const v = yield* accepted("jane@hotmaiill.com")
      assert.isNull(v.signals.suggestion)
    })
  )

  const dead: ReadonlyArray<readonly [string, string, string]> = [
    ["jane@gmial.com", "gmail.com", "undeliverable/no_such_domain/2"],
    ["jane@gmaiiil.com", "gmail.com", "undeliverable/no_such_domain/2"],
    ["jane@nullmx.test", "", "undeliverable/null_mx/2"]
  ]
  for (const [address, suggestion, expected] of dead) {
    it.effect(`typo, domain takes no mail: ${address} -> ${suggestion || "no suggestion"}`, () =>
      Effect.gen(function* () {
        const v = yield* verify(address, [])
        assert.strictEqual(v.signals.suggestion, suggestion === "" ? null : suggestion)
        assert.strictEqual(summary(v), expected)
      })
    )
  }

  it.effect("catch-all: the probe is accepted too -> risky / catch_all", () =>
    Effect.gen(function* () {
      const v = yield* verify("anyone@alpha.test", [session("anyone@alpha.test", ok, ok)])
      assert.strictEqual(v.catchAll, true)
      assert.strictEqual(summary(v), "risky/catch_all/55")
    })
  )

  it.effect("syntax error: no signals at all", () =>
    Effect.gen(function* () {
      const v = yield* verify("info@@gmial.com", [])
      assert.deepStrictEqual(v.signals, noSignals)
      assert.strictEqual(summary(v), "undeliverable/syntax/2")
    })
  )
})

describe("providers that accept every RCPT (Microsoft 365 by MX host suffix)", () => {
  const address = "jane@contoso.test"
  const table: ReadonlyArray<readonly [string, ReadonlyArray<string>, Partial<VerifierConfig.VerifierConfig>, string]> =
    [
      [
        "probe off: a 250 proves little -> risky / accepts_all",
        [session(address, ok)],
        { catchAllProbe: false },
        "risky/accepts_all/60"
      ],
      [
        "probe refused (directory-based edge blocking): deliverable",
        [session(address, ok, dbeb)],
        {},
        "deliverable/accepted/95"
      ],
      ["probe accepted: the tenant is catch-all", [session(address, ok, ok)], {}, "risky/catch_all/55"],
      [
        "probe greylisted: says nothing -> risky / accepts_all",
        [session(address, ok, "451 4.7.500 Server busy")],
        {},
        "risky/accepts_all/60"
      ],
      [
        "mailbox refused: undeliverable whatever the provider",
        [session(address, dbeb)],
        {},
        "undeliverable/mailbox_unknown/2"
      ]
    ]
  for (const [name, scripts, config, expected] of table) {
    it.effect(name, () =>
      Effect.gen(function* () {
        const v = yield* verify(address, scripts, config)
        assert.strictEqual(v.signals.acceptsAllProvider, "Microsoft 365")
        assert.strictEqual(v.mx?.host, "contoso-test.mail.protection.outlook.com")
        assert.strictEqual(summary(v), expected)
      })
    )
  }

  it.effect("a provider removed from the list is judged like any other host", () =>
    Effect.gen(function* () {
      const v = yield* verify(address, [session(address, ok)], { catchAllProbe: false }).pipe(
        Effect.provideService(Verifier.RiskSignals, Signals.make({ acceptAll: { remove: ["Microsoft 365"] } }))
      )
      assert.isNull(v.signals.acceptsAllProvider)
      assert.strictEqual(summary(v), "deliverable/accepted/95")
    })
  )
})

describe("the lists are the caller's: Verifier.RiskSignals", () => {
  it.effect("entries added and removed", () =>
    Effect.gen(function* () {
      const custom = Signals.make({
        role: { remove: ["info"], add: ["kundendienst"] },
        disposable: { add: ["alpha.test"], remove: ["mailinator.com"] },
        free: { add: ["alpha.test"] },
        acceptAll: { add: [{ name: "Alpha Gateway", mxSuffix: ".alpha.test", why: "test" }] }
      })
      const provide = Effect.provideService(Verifier.RiskSignals, custom)
      const info = yield* accepted("info@alpha.test").pipe(provide)
      assert.deepStrictEqual(info.signals, {
        disposable: true,
        roleAccount: false,
        freeProvider: true,
        suggestion: null,
        acceptsAllProvider: "Alpha Gateway"
      })
      const kd = yield* accepted("kundendienst@gmail.com").pipe(provide)
      assert.isTrue(kd.signals.roleAccount)
      const bob = yield* accepted("bob@mailinator.com").pipe(provide)
      assert.isFalse(bob.signals.disposable)
      assert.strictEqual(summary(bob), "deliverable/accepted/95")
    })
  )

  it.effect("the provider table: built in (gmail.com -> google), extended, an entry dropped", () =>
    Effect.gen(function* () {
      const gmail = yield* accepted("bob@gmail.com")
      assert.strictEqual(gmail.provider?.id, "google")
      assert.strictEqual(gmail.provider?.mxHost, "gmail-smtp-in.l.google.com")
      assert.isNull((yield* accepted("bob@alpha.test")).provider)
      const custom = Signals.make({
        providers: {
          add: [
            {
              id: "alpha-mail",
              name: "Alpha Mail",
              kind: "mailbox-provider",
              acceptsAll: false,
              mxSuffixes: ["alpha.test"]
            }
          ],
          remove: ["google"]
        }
      })
      const provide = Effect.provideService(Verifier.RiskSignals, custom)
      assert.deepStrictEqual((yield* accepted("bob@alpha.test").pipe(provide)).provider, {
        id: "alpha-mail",
        name: "Alpha Mail",
        kind: "mailbox-provider",
        acceptsAll: false,
        mxHost: "mx1.alpha.test"
      })
      assert.isNull((yield* accepted("bob@gmail.com").pipe(provide)).provider)
    })
  )
})

describe("policies: Judgement.Judgement", () => {
  it.effect("role accounts risky for us (Judgement.layer)", () =>
    Effect.gen(function* () {
      const v = yield* accepted("info@alpha.test").pipe(
        Effect.provide(Judgement.layer(Judgement.make({ roleAccount: "risky" })))
      )
      assert.strictEqual(summary(v), "risky/role_account/85")
    })
  )

  it.effect("catch-all taken as deliverable; the score still says what the evidence is worth", () =>
    Effect.gen(function* () {
      const v = yield* verify("anyone@alpha.test", [session("anyone@alpha.test", ok, ok)]).pipe(
        Effect.provideService(Judgement.Judgement, Judgement.make({ catchAll: "deliverable" }))
      )
      assert.strictEqual(v.catchAll, true)
      assert.strictEqual(summary(v), "deliverable/accepted/55")
    })
  )

  it.effect("Microsoft 365 taken as deliverable, scored higher", () =>
    Effect.gen(function* () {
      const judge = Judgement.make({ acceptsAll: "deliverable", scores: { acceptsAll: 80 } })
      const v = yield* verify("jane@contoso.test", [session("jane@contoso.test", ok)], { catchAllProbe: false }).pipe(
        Effect.provideService(Judgement.Judgement, judge)
      )
      assert.strictEqual(summary(v), "deliverable/accepted/80")
    })
  )

  it.effect("disposable refused outright", () =>
    Effect.gen(function* () {
      const v = yield* accepted("bob@mailinator.com").pipe(
        Effect.provideService(Judgement.Judgement, Judgement.make({ disposable: "undeliverable" }))
      )
      assert.strictEqual(summary(v), "undeliverable/disposable/30")
    })
  )

  it.effect("any function: free providers risky for a business sign-up", () =>
    Effect.gen(function* () {
      const seen: Array<Judgement.Evidence> = []
      const business: Judgement.Judge = (evidence) => {
        seen.push(evidence)
        const j = Judgement.defaultJudge(evidence)
        return evidence.signals.freeProvider && j.verdict === "deliverable" ? { ...j, verdict: "risky", score: 40 } : j
      }
      const provide = Effect.provideService(Judgement.Judgement, business)
      const free = yield* accepted("jane@gmail.com").pipe(provide)
      const corporate = yield* accepted("jane@alpha.test").pipe(provide)
      assert.strictEqual(summary(free), "risky/accepted/40")
      assert.strictEqual(summary(corporate), "deliverable/accepted/95")
      assert.deepStrictEqual(
        seen.map((e) => [e.smtp.reason, e.catchAll, e.signals.freeProvider]),
        [
          ["accepted", false, true],
          ["accepted", false, false]
        ]
      )
    })
  )

  const wild: ReadonlyArray<readonly [number, number]> = [
    [72.6, 73],
    [250, 100],
    [-5, 0],
    [Number.NaN, 0],
    [Number.POSITIVE_INFINITY, 0]
  ]
  for (const [given, kept] of wild) {
    it.effect(`a judge's score of ${given} is kept as ${kept}: no judge can break a result`, () =>
      Effect.gen(function* () {
        const v = yield* accepted("alice@alpha.test").pipe(
          Effect.provideService(Judgement.Judgement, (e) => ({ ...Judgement.defaultJudge(e), score: given }))
        )
        assert.strictEqual(v.score, kept)
      })
    )
  }

  it.effect("the judge is read per verification, not fixed when the verifier is built", () =>
    Effect.gen(function* () {
      const transport = ScriptedTransport.make([
        session("info@alpha.test", ok, unknownUser),
        session("info@alpha.test", ok)
      ])
      const layer = Verifier.layer.pipe(
        Layer.provide([
          VerifierConfig.layer({
            helo: "verifier.rcpt.test",
            allowSpecialUse: ["test"],
            allowTargets: ["0.0.0.0/0", "::/0"],
            port: 25
          }),
          zone,
          transport.layer
        ])
      )
      const [before, after] = yield* Effect.gen(function* () {
        const verifier = yield* Verifier.Verifier
        const before = yield* verifier.verify("info@alpha.test")
        const after = yield* verifier
          .verify("info@alpha.test")
          .pipe(Effect.provideService(Judgement.Judgement, Judgement.make({ roleAccount: "risky" })))
        return [before, after] as const
      }).pipe(Effect.provide(layer), fixedRandom)
      assert.strictEqual(summary(before), "deliverable/accepted/85")
      assert.strictEqual(summary(after), "risky/role_account/85")
    })
  )
})
