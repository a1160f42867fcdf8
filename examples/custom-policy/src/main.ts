/**
 * A verification policy of one's own, side by side with the default one, offline: an in-process mail world (DNS and
 * SMTP servers on loopback, `MailWorld.demo` plus two Microsoft 365 tenants and a disposable domain) and the Node
 * verifier pointed at it.
 *
 * Run it from the repository root: `npx node examples/custom-policy/src/main.ts`.
 *
 * @since 0.1.0
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { NodeVerifier } from "@rcpt/node"
import * as MailWorld from "@rcpt/testing/MailWorld"
import { Judgement, type Verification, Verifier } from "@rcpt/verifier"

/**
 * Our policy, for a newsletter that would rather keep a questionable address than lose a reader:
 * - a catch-all domain's 250 is good enough, and so is Microsoft 365's;
 * - role accounts are fine (that is the default already: said here to be explicit);
 * - disposable addresses are refused outright;
 * - and the scores say that we trust catch-all and Microsoft 365 answers more than the default does.
 */
const newsletter: Judgement.Judge = Judgement.make({
  catchAll: "deliverable",
  acceptsAll: "deliverable",
  roleAccount: "ok",
  disposable: "undeliverable",
  scores: { catchAll: 75, acceptsAll: 80 }
})

/** Any function will do, too: here, free-mail providers are risky for business sign-ups, everything else as default. */
const businessOnly: Judgement.Judge = (evidence) => {
  const judgement = Judgement.defaultJudge(evidence)
  return evidence.signals.freeProvider && judgement.verdict === "deliverable"
    ? { ...judgement, verdict: "risky", score: Math.max(0, judgement.score - 30) }
    : judgement
}

/** The demo world, plus Microsoft 365 tenants and a disposable-address service (names only in the world's DNS). */
const world: MailWorld.WorldSpec = {
  domains: [
    ...MailWorld.demo.domains,
    // Directory-based edge blocking: unknown recipients (and so the catch-all probe) are refused.
    {
      name: "contoso.test",
      mx: [{ host: "contoso-test.mail.protection.outlook.com", preference: 0 }],
      users: ["jane"]
    },
    // A tenant that accepts every recipient.
    {
      name: "fabrikam.test",
      mx: [{ host: "fabrikam-test.mail.protection.outlook.com", preference: 0 }],
      catchAll: true
    },
    { name: "mailinator.com", mx: [{ host: "mail.mailinator.com", preference: 10 }], users: ["bob"] },
    { name: "gmail.com", mx: [{ host: "gmail-smtp-in.l.google.com", preference: 5 }], users: ["jane.doe"] }
  ],
  hosts: [
    ...MailWorld.demo.hosts,
    { name: "contoso-test.mail.protection.outlook.com", address: "127.0.0.9" },
    { name: "fabrikam-test.mail.protection.outlook.com", address: "127.0.0.10" },
    { name: "mail.mailinator.com", address: "127.0.0.11" },
    { name: "gmail-smtp-in.l.google.com", address: "127.0.0.12" }
  ]
}

const addresses = [
  "alice@alpha.test",
  "zed@alpha.test",
  "anyone@catchall.test",
  "info@catchall.test",
  "jane@contoso.test",
  "someone@fabrikam.test",
  "bob@mailinator.com",
  "jane.doe@gmail.com",
  "jane@gmial.com"
]

const judges: ReadonlyArray<readonly [string, Judgement.Judge]> = [
  ["default", Judgement.defaultJudge],
  ["newsletter", newsletter],
  ["business only", businessOnly]
]

const cell = (v: Verification.Verification) => `${v.verdict}/${v.reason} ${v.score}`

const signalsOf = (v: Verification.Verification) =>
  [
    v.signals.roleAccount ? "role" : "",
    v.signals.freeProvider ? "free" : "",
    v.signals.disposable ? "disposable" : "",
    v.catchAll === true ? "catch-all" : "",
    v.signals.acceptsAllProvider ?? "",
    v.signals.suggestion === null ? "" : `did you mean ${v.signals.suggestion}?`
  ]
    .filter((s) => s !== "")
    .join(", ")

const program = Effect.gen(function* () {
  const mail = yield* MailWorld.start(world)
  const rows = yield* Effect.gen(function* () {
    const verifier = yield* Verifier.Verifier
    return yield* Effect.forEach(addresses, (address) =>
      // The judge is read from the caller's context on every call: one verifier, several policies.
      Effect.forEach(judges, ([, judge]) =>
        verifier.verify(address).pipe(Effect.provideService(Judgement.Judgement, judge))
      )
    )
  }).pipe(
    Effect.provide(
      NodeVerifier.layer({
        // The servers are on loopback, which the target policy refuses unless opened.
        allowTargets: ["127.0.0.0/8"],
        helo: "verifier.rcpt.test",
        allowSpecialUse: ["test"],
        port: mail.smtpPort,
        dnsServers: [mail.dns],
        timeout: "10 seconds"
      })
    )
  )
  const header = ["address", ...judges.map(([name]) => name), "signals"]
  const table = [header, ...rows.map((results) => [results[0]!.address, ...results.map(cell), signalsOf(results[0]!)])]
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
  for (const row of table)
    yield* Console.log(
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd()
    )
}).pipe(Effect.scoped)

NodeRuntime.runMain(program)
