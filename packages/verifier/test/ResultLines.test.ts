// Every byte of the result lines `rcpt bulk` writes and the jobs API serves, pinned: real Verifications (scripted
// sessions of many recipients, DNS findings, the caller's rules, syntax failures) through `jsonLine` (with and
// without the transcript) and `csvLine`, compared with files under test/fixtures. A change that moves one byte of a
// result's line fails here; when the change is meant, look at the diff and rewrite the files with `vitest -u`.
// Scripted transports dial nothing real: the target policy is opened to every address here.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Random, Stream } from "effect"
import { ScriptedTransport, StaticDns } from "@rcpt/testing"
import * as Policy from "../src/Policy.ts"
import * as ResultFormat from "../src/ResultFormat.ts"
import * as Verification from "../src/Verification.ts"
import * as Verifier from "../src/Verifier.ts"
import { scriptedPolicy, scriptedVerifier } from "./helpers.ts"
import * as VerifierConfig from "../src/VerifierConfig.ts"

const zone = StaticDns.layer({
  "alpha.test": { mx: [[10, "mx1.alpha.test"]] },
  "mx1.alpha.test": { a: ["192.0.2.1"] },
  "beta.test": { mx: [[10, "mx.beta.test"]] },
  "mx.beta.test": { a: ["192.0.2.2"] },
  "contoso.test": { mx: [[0, "contoso-test.mail.protection.outlook.com"]] },
  "contoso-test.mail.protection.outlook.com": { a: ["192.0.2.3"] },
  "mailinator.com": { mx: [[10, "mail.mailinator.com"]] },
  "mail.mailinator.com": { a: ["192.0.2.4"] },
  "dns.test": { mx: [[5, "mx.dns.test"]] },
  "mx.dns.test": { a: ["192.0.2.5"] },
  "nullmx.test": { mx: [[0, "."]] },
  "catch.test": { mx: [[10, "mx.catch.test"]] },
  "mx.catch.test": { a: ["192.0.2.6"] },
  "gamma.test": { mx: [[10, "mx.gamma.test"]] },
  "mx.gamma.test": { a: ["192.0.2.7"] }
})

/** One session: greeting, EHLO, MAIL FROM:<from>, then each RCPT with its reply (lines split on "\n"), QUIT. */
const session = (host: string, from: string, rcpts: ReadonlyArray<readonly [to: string, reply: string]>) => `
  S: 220 ${host} ESMTP
  C: EHLO verifier.rcpt.test
  S: 250-${host}
  S: 250 ENHANCEDSTATUSCODES
  C: MAIL FROM:<${from}>
  S: 250 2.1.0 Ok
${rcpts
  .map(([to, reply]) => [`C: RCPT TO:<${to}>`, ...reply.split("\n").map((line) => `S: ${line}`)].join("\n"))
  .join("\n")}
  C: QUIT
  S: 221 2.0.0 Bye`

interface Scenario {
  readonly addresses: ReadonlyArray<string>
  readonly scripts: ReadonlyArray<string>
  readonly config?: Partial<VerifierConfig.VerifierConfig>
}

const alpha: ReadonlyArray<readonly [string, string]> = [
  ["alice@alpha.test", "250 2.1.5 Ok"],
  ["bob@alpha.test", "550 5.1.1 <bob@alpha.test>: Recipient address rejected: User unknown in virtual mailbox table"],
  ["info@alpha.test", "250 2.1.5 Ok"],
  ["full@alpha.test", "552 5.2.2 <full@alpha.test>: mailbox full, quota exceeded"],
  ["grey@alpha.test", "450 4.2.0 <grey@alpha.test>: Recipient address rejected: Greylisted, try again later"],
  // A reply a CSV cell and a terminal must not take as it is: a formula, quotes and commas, controls, a bidi override.
  ["eve@alpha.test", '554 5.7.1 =HYPERLINK("x"), "quoted", \u001b[31mred\u001b[0m and \u202etxt.exe'],
  ["=1+1@alpha.test", "553 5.1.3 mailbox name not allowed"],
  ["moved@alpha.test", "551 5.1.6 user has moved; try <moved@elsewhere.test>"],
  ["maybe@alpha.test", "252 2.1.5 Cannot VRFY user, but will accept message"],
  [
    "multi@alpha.test",
    "550-5.1.1 The email account that you tried to reach does not exist.\n550 5.1.1 Please check it."
  ],
  ["busy@alpha.test", "451 4.3.0 Temporary lookup failure"],
  ["gone@alpha.test", "550 5.2.1 mailbox disabled"]
]

const scenarios: ReadonlyArray<Scenario> = [
  // One session of many recipients, the transcript and the timing block on.
  {
    addresses: alpha.map(([to]) => to),
    scripts: [session("mx1.alpha.test", "", alpha)],
    config: { timing: true, transcript: true }
  },
  // The null sender refused at RCPT: asked again with the fallback sender.
  {
    addresses: ["carol@beta.test", "dave@beta.test"],
    scripts: [
      session("mx.beta.test", "", [
        ["carol@beta.test", "550 5.7.1 <>: Sender address rejected: null sender not accepted"],
        ["dave@beta.test", "550 5.7.1 <>: Sender address rejected: null sender not accepted"]
      ]),
      session("mx.beta.test", "verify@rcpt.test", [
        ["carol@beta.test", "250 2.1.5 Ok"],
        ["dave@beta.test", "550 5.1.1 <dave@beta.test>: Recipient address rejected: User unknown"]
      ])
    ]
  },
  // A provider that accepts every RCPT; a disposable domain; no transcript.
  {
    addresses: ["someone@contoso.test"],
    scripts: [
      session("contoso-test.mail.protection.outlook.com", "", [["someone@contoso.test", "250 2.1.5 Recipient OK"]])
    ],
    config: { transcript: false }
  },
  {
    addresses: ["throwaway@mailinator.com"],
    scripts: [session("mail.mailinator.com", "", [["throwaway@mailinator.com", "250 2.1.5 Ok"]])]
  },
  // A catch-all domain (its probe, twenty "a" with the Random below, accepted too).
  {
    addresses: ["x@catch.test", "y@catch.test"],
    scripts: [
      session("mx.catch.test", "", [
        ["x@catch.test", "250 2.1.5 Ok"],
        ["y@catch.test", "250 2.1.5 Ok"],
        [`${"a".repeat(20)}@catch.test`, "250 2.1.5 Ok"]
      ])
    ],
    config: { catchAllProbe: true }
  },
  // Opportunistic TLS, established.
  {
    addresses: ["tls@gamma.test"],
    scripts: [
      `S: 220 mx.gamma.test ESMTP
       C: EHLO verifier.rcpt.test
       S: 250-mx.gamma.test
       S: 250-STARTTLS
       S: 250 ENHANCEDSTATUSCODES
       C: STARTTLS
       S: 220 2.0.0 Ready to start TLS
       * tls
       C: EHLO verifier.rcpt.test
       S: 250-mx.gamma.test
       S: 250 ENHANCEDSTATUSCODES
       C: MAIL FROM:<>
       S: 250 2.1.0 Ok
       C: RCPT TO:<tls@gamma.test>
       S: 250 2.1.5 Ok
       C: QUIT
       S: 221 2.0.0 Bye`
    ]
  },
  // No session: a refused connection, a stalled server, DNS findings, the caller's rules, bad syntax.
  { addresses: ["nobody@alpha.test"], scripts: ["* refuse"] },
  {
    addresses: [
      "jane@gmial.com",
      "x@nullmx.test",
      "vip@alpha.test",
      "spam@deny.test",
      "a@dns.test",
      "b@syntax.test",
      "not an address",
      "two@@at.test",
      '"a,b"@gmial.com'
    ],
    scripts: [],
    config: { allow: ["vip@alpha.test"], deny: ["@deny.test"], depth: { "dns.test": "dns", "syntax.test": "syntax" } }
  }
]

const results = Effect.forEach(scenarios, (scenario) => {
  const transport = ScriptedTransport.make(scenario.scripts)
  return Effect.gen(function* () {
    const verifier = yield* Verifier.Verifier
    const vs = yield* verifier.verifyMany(Stream.fromIterable(scenario.addresses)).pipe(Stream.runCollect)
    // Every script was followed to its end: the results come from the sessions written here.
    const report = yield* transport.report
    expect(report.unmatched).toStrictEqual([])
    expect(report.remaining).toStrictEqual([])
    return vs
  }).pipe(
    Effect.provide(
      scriptedVerifier(transport, zone, {
        perHost: 1,
        timeout: "20 seconds",
        fallbackSender: "verify@rcpt.test",
        ...scenario.config
      })
    ),
    // The catch-all probe's local part comes from Random: with this one it is twenty "a".
    Effect.provideService(Random.Random, { nextIntUnsafe: () => 0, nextDoubleUnsafe: () => 0 }),
    Effect.provideService(Policy.Policy, scriptedPolicy)
  )
}).pipe(
  // Completion order is the engine's business: the lines are compared in the order of the inputs.
  Effect.map((all) => all.flatMap((vs, s) => scenarios[s]!.addresses.map((a) => vs.find((v) => v.address === a)!)))
)

describe("result lines", () => {
  it.effect("every verdict, reason and escape as JSON lines and CSV, byte for byte", () =>
    Effect.gen(function* () {
      const vs = yield* results
      // Every result is a valid Verification (what the constructor makes, the schema decodes back).
      for (const v of vs) expect(Verification.decode(JSON.parse(ResultFormat.jsonLine(v)))).toStrictEqual(v)
      expect(new Set(vs.map((v) => v.verdict)).size).toBe(4)
      yield* Effect.promise(() =>
        expect(vs.map((v) => ResultFormat.jsonLine(v)).join("")).toMatchFileSnapshot("fixtures/result-lines.jsonl")
      )
      yield* Effect.promise(() =>
        expect(vs.map((v) => ResultFormat.jsonLine(v, { transcript: false })).join("")).toMatchFileSnapshot(
          "fixtures/result-lines-compact.jsonl"
        )
      )
      yield* Effect.promise(() =>
        expect(ResultFormat.csvHeader + vs.map(ResultFormat.csvLine).join("")).toMatchFileSnapshot(
          "fixtures/result-lines.csv"
        )
      )
      expect(vs.map((v) => ResultFormat.line("csv", v)).join("")).toBe(vs.map(ResultFormat.csvLine).join(""))
    })
  )
})
