// `build` (internal/build.ts) makes its Verifications without the class constructor's checks (internal/trusted.ts)
// and shares per-group parts between them (`memo`). As a table over every verdict and reason (the SMTP outcomes, the
// verifier's findings, the judge's rules), with and without a session, TLS, VRFY, timing, retryAfter: what it makes
// is what the checked constructor makes of the same fields (schema-valid, equal by value, the same JSON byte for
// byte), and the same with the memo as without.
import * as v8 from "node:v8"
import { assert, describe, it } from "@effect/vitest"
import { Equal, Option } from "effect"
import { Address, Classify, Reply, type Session } from "@rcpt/smtp"
import { Signals } from "@rcpt/signals"
import * as Judgement from "../src/Judgement.ts"
import * as Policy from "../src/Policy.ts"
import * as Verification from "../src/Verification.ts"
import { build, type BuildInput, memo } from "../src/internal/build.ts"
import type { Findings } from "../src/internal/check.ts"
import { noTiming } from "../src/internal/timing.ts"
import { trusted } from "../src/internal/trusted.ts"

const mailbox = (text: string) => {
  const parsed = Address.parse(text)
  if (parsed._tag === "Failure") throw new Error(text)
  return parsed.success
}

const signals = Signals.defaultSignals()

/** A finished session of the given recipients (the RCPT reply of each), ending as given. */
const session = (
  rcpts: ReadonlyArray<readonly [address: string, reply: Reply.Reply | undefined]>,
  tls: Session.TlsStatus,
  vrfy?: Reply.Reply
): Session.SessionResult => ({
  recipients: rcpts.map(([address, reply]) => ({
    mailbox: mailbox(address),
    rcpt: Option.fromUndefinedOr(reply),
    vrfy: Option.fromUndefinedOr(vrfy),
    skipped: reply === undefined ? Option.some("Postponed") : Option.none()
  })),
  probes: [],
  greeting: Option.none(),
  capabilities: Option.none(),
  tls,
  end: { _tag: "Completed" },
  transcript: [
    { direction: "*", text: "connected" },
    { direction: "S", text: "220 mx" },
    ...rcpts.flatMap(([address, reply], recipient): Array<Session.TranscriptEntry> => [
      { direction: "C", text: `RCPT TO:<${address}>`, recipient },
      ...(reply === undefined ? [] : [{ direction: "S" as const, text: Reply.format(reply), recipient }])
    ]),
    { direction: "C", text: "QUIT" }
  ],
  parked: Option.none(),
  resets: 0
})

const established: Session.TlsStatus = {
  _tag: "Established",
  info: {
    protocol: "TLSv1.3",
    cipher: "TLS_AES_256_GCM_SHA384",
    authorized: false,
    authorizationError: Option.some("self-signed")
  }
}

/** The evidence of recipient `index` of a session with the given MX host. */
const findings = (
  result: Session.SessionResult,
  index: number,
  outcome: Verification.Outcome,
  host = "mx1.alpha.test",
  sender = { nullRefused: false, used: "" }
): Findings => ({
  outcome,
  session: Option.some({ result, index }),
  mx: Option.some({ host: { host, preference: 10, addresses: ["192.0.2.1"] }, address: "192.0.2.1" }),
  attempts: [{ host, address: "192.0.2.1", outcome: outcome.reason, detail: "completed" }],
  timing: {
    ...noTiming(),
    connectMs: 1.4,
    tlsMs: 0.6,
    phases: { AwaitGreeting: 2.5, AwaitRcpt: 7.49 },
    connections: 1
  },
  sender
})

const verdicts = ["deliverable", "undeliverable", "risky", "unknown"] as const
const outcomeReasons = [...Classify.reasons, ...Verification.findingReasons]

const base = (address: string): BuildInput => ({
  address,
  mailbox: mailbox(address),
  startedAt: 1_700_000_000_000,
  now: 1_700_000_001_234.6,
  outcome: { verdict: "unknown", reason: "timeout", retryable: true },
  implicit: false,
  catchAll: null,
  signals,
  judge: Judgement.defaultJudge
})

const reply550 = Reply.make(550, ["5.1.1 <x@alpha.test>: Recipient address rejected: User unknown"])
const reply250 = Reply.make(250, ["2.1.5 Ok"])
const shared = session(
  [
    ["a@alpha.test", reply250],
    ["b@alpha.test", reply550],
    ["info@alpha.test", reply250],
    ["c@alpha.test", undefined]
  ],
  established,
  Reply.make(252, ["2.1.5 Cannot VRFY user"])
)
const accepted: Verification.Outcome = { verdict: "deliverable", reason: "accepted", retryable: false }

// Every verdict with every outcome reason, no session (DNS, syntax, connection findings; a judge passes them on).
const bare: ReadonlyArray<BuildInput> = verdicts.flatMap((verdict) =>
  outcomeReasons.map((reason, k) => ({
    ...base(`user${k}@alpha.test`),
    outcome: { verdict, reason, retryable: k % 2 === 0 },
    detail: k % 3 === 0 ? `the detail of ${reason}` : undefined,
    retryAfter: Policy.retryAfter,
    dnsMs: k % 4 === 0 ? 12.5 : undefined,
    catchAll: k % 3 === 0 ? true : k % 3 === 1 ? false : null
  }))
)

// A session's recipients, with its TLS, VRFY, transcript, timing; the judge's reasons.
const withSession: ReadonlyArray<BuildInput> = [
  ...shared.recipients.map((r, index) => ({
    ...base(r.mailbox.address),
    outcome: Classify.recipient(shared, index),
    evidence: findings(shared, index, Classify.recipient(shared, index)),
    port: 2525,
    catchAll: false,
    catchAllProbe: "refused" as const,
    retryAfter: Policy.retryAfter,
    dnsMs: 3,
    mxHosts: ["mx1.alpha.test", "mx2.alpha.test"],
    transcript: index % 2 === 0
  })),
  // catch_all
  { ...base("a@alpha.test"), outcome: accepted, evidence: findings(shared, 0, accepted), catchAll: true },
  // accepts_all, and a provider by MX host
  {
    ...base("someone@contoso.test"),
    outcome: accepted,
    evidence: findings(shared, 0, accepted, "contoso-test.mail.protection.outlook.com"),
    mxHosts: ["contoso-test.mail.protection.outlook.com"]
  },
  // provider (a rule for a provider that does not accept everything)
  {
    ...base("someone@proof.test"),
    outcome: accepted,
    evidence: findings(shared, 0, accepted, "mx1.pphosted.com"),
    mxHosts: ["mx1.pphosted.com"],
    judge: Judgement.make({ providers: { proofpoint: "risky" } })
  },
  // disposable, role_account, a typo suggestion, a free provider, the null sender refused
  { ...base("x@mailinator.com"), outcome: accepted, evidence: findings(shared, 0, accepted, "mail.mailinator.com") },
  {
    ...base("info@alpha.test"),
    outcome: accepted,
    evidence: findings(shared, 2, accepted, "mx1.alpha.test", { nullRefused: true, used: "verify@rcpt.test" }),
    judge: Judgement.make({ roleAccount: "risky" })
  },
  { ...base("jane@gmial.com"), outcome: { verdict: "undeliverable", reason: "no_such_domain", retryable: false } },
  {
    ...base("jane@gmail.com"),
    outcome: accepted,
    evidence: findings(shared, 0, accepted, "gmail-smtp-in.l.google.com")
  },
  // A judge whose score is out of range, and no mailbox at all (bad syntax).
  { ...base("a@alpha.test"), judge: () => ({ verdict: "unknown", reason: "timeout", score: 1e9 }) },
  {
    ...base("a@alpha.test"),
    address: "not an address",
    mailbox: undefined,
    detail: "no @",
    outcome: { verdict: "undeliverable", reason: "syntax", retryable: false }
  }
]

const cases = [...bare, ...withSession]

describe("build: results without the constructor's checks", () => {
  it("covers every verdict and every reason", () => {
    const made = cases.map((input) => build(input))
    assert.sameMembers([...new Set(made.map((v) => v.verdict))], [...verdicts])
    assert.sameMembers([...new Set(made.map((v) => v.reason))], [...Verification.Reason.literals])
  })

  it("makes what the checked constructor makes: instanceof, equal by value, the same JSON", () => {
    for (const input of cases) {
      const v = build(input)
      // The constructor parses and checks every field: it throws on anything the schema refuses.
      const checked = new Verification.Verification(Verification.encode(v))
      assert.instanceOf(v, Verification.Verification)
      assert.isTrue(Equal.equals(v, checked), input.address)
      assert.deepStrictEqual(v, checked)
      assert.strictEqual(JSON.stringify(v), JSON.stringify(checked))
      assert.strictEqual(String(v), String(checked))
    }
  })

  it("the same with the group's memo as without, in any order", () => {
    for (const group of [bare, withSession]) {
      const one = memo()
      const twice = [...group, ...group].map((input) => build(input, one))
      const alone = group.map((input) => build(input))
      for (const [k, v] of twice.entries()) assert.deepStrictEqual(v, alone[k % group.length])
    }
  })

  it("results with the same RCPT reply from the same host share its evidence and detail; others do not", () => {
    const other = Reply.make(550, ["5.1.1 <y@alpha.test>: Recipient address rejected: User unknown"])
    const one = session(
      [
        ["a@alpha.test", reply250],
        ["b@alpha.test", Reply.make(250, ["2.1.5 Ok"])],
        ["c@alpha.test", reply550],
        ["d@alpha.test", other]
      ],
      { _tag: "Plaintext" }
    )
    const inputs = one.recipients.map((r, index) => {
      const outcome = Classify.recipient(one, index)
      return { ...base(r.mailbox.address), outcome, evidence: findings(one, index, outcome) }
    })
    const shared = memo()
    const [a, b, c, d] = inputs.map((input) => build(input, shared))
    // Two 250s with the same text (two replies, one content): one evidence, one detail.
    assert.strictEqual(a!.rcpt, b!.rcpt)
    assert.strictEqual(a!.detail, b!.detail)
    // Two 550s that differ in the mailbox they echo: each its own.
    assert.notStrictEqual(c!.rcpt, d!.rcpt)
    assert.notStrictEqual(c!.detail, d!.detail)
    assert.strictEqual(
      c!.detail,
      "mx1.alpha.test [192.0.2.1] answered RCPT with 550 <x@alpha.test>: Recipient address rejected: User unknown"
    )
    assert.strictEqual(
      d!.detail,
      "mx1.alpha.test [192.0.2.1] answered RCPT with 550 <y@alpha.test>: Recipient address rejected: User unknown"
    )
    inputs.forEach((input, k) => assert.deepStrictEqual([a, b, c, d][k], build(input)))
  })

  it("keeps nothing of its input: one input may be reused for the next address (Bulk.finish does)", () => {
    const input = { ...withSession[0]! }
    const v = build(input, memo())
    const before = JSON.stringify(v)
    Object.assign(input, withSession[1]!)
    build(input, memo())
    assert.strictEqual(JSON.stringify(v), before)
  })

  it("trusted: the fields as own properties, in the schema's key order", () => {
    const v = build(withSession[0]!)
    const copy = trusted(Verification.encode(v))
    assert.deepStrictEqual(Object.keys(copy), Object.keys(Verification.Verification.fields))
    assert.isTrue(Equal.equals(copy, v))
  })

  // Memory, not behaviour: a dictionary-mode result costs about 1.6 KB more, 8 MB in the bulk engine's duplicate cache.
  it("build: a result keeps its fields in-object (V8 fast properties, not a dictionary)", () => {
    v8.setFlagsFromString("--allow-natives-syntax")
    const hasFastProperties = new Function("o", "return %HasFastProperties(o)") as (o: unknown) => boolean
    for (const input of withSession) assert.isTrue(hasFastProperties(build(input, memo())), input.address)
    // What trusted did before: the check can fail.
    const copied = Object.assign(
      Object.create(Verification.Verification.prototype),
      Verification.encode(build(withSession[0]!))
    )
    assert.isFalse(hasFastProperties(copied))
  })
})
