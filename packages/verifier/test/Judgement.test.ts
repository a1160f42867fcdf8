import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import { Classify } from "@rcpt/smtp"
import * as Judgement from "../src/Judgement.ts"
import type { Signals } from "../src/Verification.ts"

const none: Signals = {
  disposable: false,
  roleAccount: false,
  freeProvider: false,
  suggestion: null,
  acceptsAllProvider: null
}
const ok = { verdict: "deliverable", reason: "accepted", retryable: false } as const

describe("Judgement.defaultJudge", () => {
  const table: ReadonlyArray<readonly [string, Judgement.Evidence, Judgement.Ruling]> = [
    [
      "accepted",
      { smtp: ok, catchAll: false, signals: none },
      { verdict: "deliverable", reason: "accepted", score: 95 }
    ],
    [
      "accepted, catch-all untested",
      { smtp: ok, catchAll: null, signals: none },
      { verdict: "deliverable", reason: "accepted", score: 95 }
    ],
    ["catch-all", { smtp: ok, catchAll: true, signals: none }, { verdict: "risky", reason: "catch_all", score: 55 }],
    [
      "accepts-all provider",
      { smtp: ok, catchAll: null, signals: { ...none, acceptsAllProvider: "Microsoft 365" } },
      { verdict: "risky", reason: "accepts_all", score: 60 }
    ],
    [
      "accepts-all provider but the probe was refused",
      { smtp: ok, catchAll: false, signals: { ...none, acceptsAllProvider: "Microsoft 365" } },
      { verdict: "deliverable", reason: "accepted", score: 95 }
    ],
    [
      "disposable",
      { smtp: ok, catchAll: false, signals: { ...none, disposable: true } },
      { verdict: "risky", reason: "disposable", score: 30 }
    ],
    [
      "role account",
      { smtp: ok, catchAll: false, signals: { ...none, roleAccount: true } },
      { verdict: "deliverable", reason: "accepted", score: 85 }
    ],
    [
      "free provider",
      { smtp: ok, catchAll: false, signals: { ...none, freeProvider: true } },
      { verdict: "deliverable", reason: "accepted", score: 95 }
    ],
    [
      "unknown mailbox",
      {
        smtp: { verdict: "undeliverable", reason: "mailbox_unknown", retryable: false },
        catchAll: false,
        signals: { ...none, roleAccount: true }
      },
      { verdict: "undeliverable", reason: "mailbox_unknown", score: 2 }
    ],
    [
      "greylisted",
      { smtp: { verdict: "unknown", reason: "greylisted", retryable: true }, catchAll: null, signals: none },
      { verdict: "unknown", reason: "greylisted", score: 40 }
    ],
    [
      "blocked",
      { smtp: { verdict: "unknown", reason: "blocked", retryable: false }, catchAll: null, signals: none },
      { verdict: "unknown", reason: "blocked", score: 30 }
    ],
    [
      "full mailbox at a disposable domain",
      {
        smtp: { verdict: "risky", reason: "mailbox_full", retryable: false },
        catchAll: null,
        signals: { ...none, disposable: true }
      },
      { verdict: "risky", reason: "mailbox_full", score: 30 }
    ]
  ]
  for (const [name, evidence, expected] of table) {
    it(name, () => assert.deepStrictEqual(Judgement.defaultJudge(evidence), expected))
  }
})

// The rules as the module documentation states them, written out longhand: the oracle for `make()`.
const documented: Judgement.Judge = ({ smtp, catchAll, signals }) => {
  let verdict: Judgement.Ruling["verdict"] = smtp.verdict
  let reason: Judgement.Ruling["reason"] = smtp.reason
  let score = { deliverable: 95, risky: 50, unknown: 40, undeliverable: 2 }[verdict]
  if (verdict === "deliverable") {
    if (catchAll === true) {
      verdict = "risky"
      reason = "catch_all"
      score = 55
    } else if (signals.acceptsAllProvider !== null && catchAll !== false) {
      verdict = "risky"
      reason = "accepts_all"
      score = 60
    } else if (signals.disposable) {
      verdict = "risky"
      reason = "disposable"
      score = 30
    }
  }
  if (verdict === "unknown" && !smtp.retryable) score = 30
  if (signals.roleAccount && verdict !== "undeliverable") score -= 10
  if (signals.disposable && verdict !== "undeliverable" && reason !== "disposable") score -= 20
  return { verdict, reason, score: Math.max(0, Math.min(100, score)) }
}

const outcome: fc.Arbitrary<Classify.Outcome> = fc.record({
  verdict: fc.constantFrom("deliverable", "undeliverable", "risky", "unknown"),
  reason: fc.constantFrom(...Classify.reasons),
  retryable: fc.boolean()
})

const evidence: fc.Arbitrary<Judgement.Evidence> = fc.record({
  smtp: outcome,
  catchAll: fc.constantFrom(true, false, null),
  signals: fc.record({
    disposable: fc.boolean(),
    roleAccount: fc.boolean(),
    freeProvider: fc.boolean(),
    suggestion: fc.constantFrom(null, "gmail.com"),
    acceptsAllProvider: fc.constantFrom(null, "Microsoft 365")
  })
})

describe("Judgement.make", () => {
  it("make() and make(defaultRules) are the documented default, for any evidence", () => {
    fc.assert(
      fc.property(evidence, (e) => {
        assert.deepStrictEqual(Judgement.defaultJudge(e), documented(e))
        assert.deepStrictEqual(Judgement.make()(e), documented(e))
        assert.deepStrictEqual(
          Judgement.make({ ...Judgement.defaultRules, scores: Judgement.defaultScores })(e),
          documented(e)
        )
      }),
      { numRuns: 3000 }
    )
  })

  it("scores are integers within 0-100 whatever the numbers given", () => {
    const scores = fc.record({
      deliverable: fc.double({ min: -500, max: 500, noNaN: true }),
      catchAll: fc.double({ min: -500, max: 500, noNaN: true }),
      roleAccountPenalty: fc.double({ min: -500, max: 500, noNaN: true }),
      disposablePenalty: fc.double({ min: -500, max: 500, noNaN: true })
    })
    fc.assert(
      fc.property(evidence, scores, (e, s) => {
        const { score } = Judgement.make({ scores: s })(e)
        assert.isTrue(Number.isInteger(score) && score >= 0 && score <= 100, String(score))
      })
    )
  })

  it("a rule never turns an undeliverable outcome into anything else", () => {
    const rules = fc.record({
      catchAll: fc.constantFrom("risky", "deliverable"),
      acceptsAll: fc.constantFrom("risky", "deliverable"),
      disposable: fc.constantFrom("risky", "ok", "undeliverable"),
      roleAccount: fc.constantFrom("ok", "risky", "undeliverable")
    } as const)
    fc.assert(
      fc.property(evidence, rules, (e, r) => {
        const j = Judgement.make(r)({
          ...e,
          smtp: { verdict: "undeliverable", reason: "mailbox_unknown", retryable: false }
        })
        assert.deepStrictEqual([j.verdict, j.reason], ["undeliverable", "mailbox_unknown"])
      })
    )
  })

  const catchAll = { smtp: ok, catchAll: true, signals: none }
  const m365 = { smtp: ok, catchAll: null, signals: { ...none, acceptsAllProvider: "Microsoft 365" } }
  const role = { smtp: ok, catchAll: false, signals: { ...none, roleAccount: true } }
  const m365Provider = {
    id: "microsoft-365",
    name: "Microsoft 365",
    kind: "mailbox-provider",
    acceptsAll: true,
    mxHost: "contoso-com.mail.protection.outlook.com"
  } as const
  const proofpoint = {
    id: "proofpoint",
    name: "Proofpoint",
    kind: "security-gateway",
    acceptsAll: false,
    mxHost: "mx0a-001.pphosted.com"
  } as const
  const atM365 = { ...m365, provider: m365Provider }
  const atGateway = { smtp: ok, catchAll: false, signals: none, provider: proofpoint }
  const refusedAtGateway = {
    ...atGateway,
    smtp: { verdict: "undeliverable", reason: "mailbox_unknown", retryable: false } as const
  }
  const disposable = { smtp: ok, catchAll: false, signals: { ...none, disposable: true } }
  const greylistedDisposable = {
    smtp: { verdict: "unknown", reason: "greylisted", retryable: true } as const,
    catchAll: null,
    signals: { ...none, disposable: true }
  }
  const fullRole = {
    smtp: { verdict: "risky", reason: "mailbox_full", retryable: false } as const,
    catchAll: null,
    signals: { ...none, roleAccount: true }
  }
  const table: ReadonlyArray<readonly [string, Judgement.Rules, Judgement.Evidence, string]> = [
    ["catch-all treated as deliverable", { catchAll: "deliverable" }, catchAll, "deliverable/accepted/55"],
    ["catch-all risky (default)", {}, catchAll, "risky/catch_all/55"],
    ["accepts-all treated as deliverable", { acceptsAll: "deliverable" }, m365, "deliverable/accepted/60"],
    ["accepts-all risky (default)", {}, m365, "risky/accepts_all/60"],
    [
      "provider rule: Microsoft 365's 250 taken at its word",
      { providers: { "microsoft-365": "deliverable" } },
      atM365,
      "deliverable/accepted/60"
    ],
    ["provider rule: a gateway's 250 risky", { providers: { proofpoint: "risky" } }, atGateway, "risky/provider/95"],
    [
      "provider rule for another provider: acceptsAll decides",
      { providers: { proofpoint: "risky" } },
      atM365,
      "risky/accepts_all/60"
    ],
    [
      "provider rule risky where acceptsAll is deliverable: accepts_all",
      { acceptsAll: "deliverable", providers: { "microsoft-365": "risky" } },
      atM365,
      "risky/accepts_all/60"
    ],
    [
      "catch-all decides before a provider rule",
      { providers: { proofpoint: "deliverable" } },
      { ...atGateway, catchAll: true },
      "risky/catch_all/55"
    ],
    [
      "a provider rule leaves a refusal alone",
      { providers: { proofpoint: "risky" } },
      refusedAtGateway,
      "undeliverable/mailbox_unknown/2"
    ],
    ["no provider rule: a gateway's 250 is deliverable (default)", {}, atGateway, "deliverable/accepted/95"],
    ["role accounts risky", { roleAccount: "risky" }, role, "risky/role_account/85"],
    ["role accounts refused", { roleAccount: "undeliverable" }, role, "undeliverable/role_account/85"],
    ["role accounts fine (default)", {}, role, "deliverable/accepted/85"],
    ["disposable fine", { disposable: "ok" }, disposable, "deliverable/accepted/30"],
    ["disposable refused", { disposable: "undeliverable" }, disposable, "undeliverable/disposable/30"],
    [
      "disposable refused even when greylisted",
      { disposable: "undeliverable" },
      greylistedDisposable,
      "undeliverable/disposable/20"
    ],
    ["disposable risky leaves a greylisted answer alone", {}, greylistedDisposable, "unknown/greylisted/20"],
    ["role risky leaves a full mailbox alone", { roleAccount: "risky" }, fullRole, "risky/mailbox_full/40"],
    [
      "catch-all and role both risky: catch-all, listed first",
      { roleAccount: "risky" },
      { ...catchAll, signals: { ...none, roleAccount: true } },
      "risky/catch_all/45"
    ],
    [
      "catch-all deliverable but role risky: role",
      { catchAll: "deliverable", roleAccount: "risky" },
      { ...catchAll, signals: { ...none, roleAccount: true } },
      "risky/role_account/45"
    ],
    [
      "the most severe wins: a refused disposable over a risky catch-all",
      { disposable: "undeliverable" },
      { ...catchAll, signals: { ...none, disposable: true } },
      "undeliverable/disposable/35"
    ],
    [
      "the probe refused: the provider's reputation does not count",
      {},
      { ...m365, catchAll: false },
      "deliverable/accepted/95"
    ],
    ["scores replaced", { scores: { deliverable: 99, roleAccountPenalty: 0 } }, role, "deliverable/accepted/99"],
    ["scores clamped", { scores: { catchAll: 140 } }, catchAll, "risky/catch_all/100"]
  ]
  for (const [name, rules, e, expected] of table) {
    it(name, () => {
      const j = Judgement.make(rules)(e)
      assert.strictEqual(`${j.verdict}/${j.reason}/${j.score}`, expected)
    })
  }
})

describe("Judgement.Judgement", () => {
  it.effect("defaults to defaultJudge; Judgement.layer replaces it", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* Judgement.Judgement, Judgement.defaultJudge)
      const mine = Judgement.make({ roleAccount: "risky" })
      const read = Effect.gen(function* () {
        return yield* Judgement.Judgement
      })
      const provided = yield* Effect.provide(read, Judgement.layer(mine))
      assert.strictEqual(provided, mine)
    })
  )
})

// End to end on real sockets: in-process DNS and SMTP servers on loopback whose MX hosts are named like Microsoft
// 365's (the names exist only in the world's DNS), and the Node verifier.
