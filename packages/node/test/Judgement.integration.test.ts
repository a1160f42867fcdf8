// Accept-all providers and recognised providers end to end: MX hosts named like Microsoft 365's
// and Proofpoint's, on loopback, through the real NodeVerifier; the default judge beside custom ones.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as MailWorld from "@rcpt/testing/MailWorld"
import { Judgement, Verifier } from "@rcpt/verifier"
import * as NodeVerifier from "../src/NodeVerifier.ts"

const m365World: MailWorld.WorldSpec = {
  domains: [
    // Directory-based edge blocking: unknown recipients are refused, so the probe is too.
    {
      name: "contoso.test",
      mx: [{ host: "contoso-test.mail.protection.outlook.com", preference: 0 }],
      users: ["alice"]
    },
    // A tenant that accepts everything.
    {
      name: "fabrikam.test",
      mx: [{ host: "fabrikam-test.mail.protection.outlook.com", preference: 0 }],
      catchAll: true
    },
    // Behind a security gateway; the backup MX is a host nobody knows.
    {
      name: "gated.test",
      mx: [
        { host: "mx0a-0042.pphosted.com", preference: 10 },
        { host: "backup.gated.test", preference: 20 }
      ],
      users: ["bob"]
    },
    { name: "plain.test", mx: [{ host: "mx.plain.test", preference: 10 }], users: ["carol"] }
  ],
  hosts: [
    { name: "contoso-test.mail.protection.outlook.com", address: "127.0.0.2" },
    { name: "fabrikam-test.mail.protection.outlook.com", address: "127.0.0.3" },
    { name: "mx0a-0042.pphosted.com", address: "127.0.0.4" },
    { name: "backup.gated.test", address: "127.0.0.6" },
    { name: "mx.plain.test", address: "127.0.0.5" }
  ]
}

describe("accept-all providers end to end (MailWorld, NodeVerifier)", () => {
  const verifyAll = (addresses: ReadonlyArray<string>, options: NodeVerifier.Options = {}) =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(m365World)
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
        const verifier = yield* Verifier.Verifier
        return yield* Effect.forEach(addresses, (a) => verifier.verify(a))
      }).pipe(Effect.provide(layer))
    }).pipe(Effect.scoped)

  const summary = (v: { verdict: string; reason: string; score: number }) => `${v.verdict}/${v.reason}/${v.score}`

  it.live("the probe decides when it can: refused -> deliverable, accepted -> catch_all", () =>
    Effect.gen(function* () {
      const results = yield* verifyAll(["alice@contoso.test", "nobody@contoso.test", "anyone@fabrikam.test"])
      assert.deepStrictEqual(
        results.map((v) => [v.address, v.signals.acceptsAllProvider, v.catchAll, summary(v)]),
        [
          ["alice@contoso.test", "Microsoft 365", false, "deliverable/accepted/95"],
          ["nobody@contoso.test", "Microsoft 365", false, "undeliverable/mailbox_unknown/2"],
          ["anyone@fabrikam.test", "Microsoft 365", true, "risky/catch_all/55"]
        ]
      )
    })
  )

  it.live("without the probe a 250 from Microsoft 365 proves little: risky / accepts_all", () =>
    Effect.gen(function* () {
      const results = yield* verifyAll(["alice@contoso.test", "anyone@fabrikam.test"], { catchAllProbe: false })
      assert.deepStrictEqual(
        results.map((v) => [v.catchAll, summary(v)]),
        [
          [null, "risky/accepts_all/60"],
          [null, "risky/accepts_all/60"]
        ]
      )
    })
  )

  it.live("a custom policy that trusts the provider, side by side with the default", () =>
    Effect.gen(function* () {
      const trusting = Judgement.make({ acceptsAll: "deliverable" })
      const [v] = yield* verifyAll(["alice@contoso.test"], { catchAllProbe: false }).pipe(
        Effect.provide(Judgement.layer(trusting))
      )
      assert.strictEqual(summary(v!), "deliverable/accepted/60")
    })
  )

  it.live("the provider recognised from the MX hosts is in the result, gateways included; none for unknown hosts", () =>
    Effect.gen(function* () {
      // Without the probe: the provider field is the point here (the probe's part is the first test's).
      const results = yield* verifyAll(
        ["alice@contoso.test", "bob@gated.test", "nobody@gated.test", "carol@plain.test"],
        { catchAllProbe: false }
      )
      assert.deepStrictEqual(
        results.map((v) => [v.address, v.provider, summary(v)]),
        [
          [
            "alice@contoso.test",
            {
              id: "microsoft-365",
              name: "Microsoft 365 (Exchange Online Protection)",
              kind: "mailbox-provider",
              acceptsAll: true,
              mxHost: "contoso-test.mail.protection.outlook.com"
            },
            "risky/accepts_all/60"
          ],
          [
            "bob@gated.test",
            {
              id: "proofpoint",
              name: "Proofpoint",
              kind: "security-gateway",
              acceptsAll: false,
              mxHost: "mx0a-0042.pphosted.com"
            },
            "deliverable/accepted/95"
          ],
          [
            "nobody@gated.test",
            {
              id: "proofpoint",
              name: "Proofpoint",
              kind: "security-gateway",
              acceptsAll: false,
              mxHost: "mx0a-0042.pphosted.com"
            },
            "undeliverable/mailbox_unknown/2"
          ],
          ["carol@plain.test", null, "deliverable/accepted/95"]
        ]
      )
    })
  )

  it.live(
    "a policy by provider: the gateway's 250 risky (reason provider), Microsoft 365's trusted; the rest as before",
    () =>
      Effect.gen(function* () {
        const judge = Judgement.make({ providers: { proofpoint: "risky", "microsoft-365": "deliverable" } })
        const results = yield* verifyAll(
          ["bob@gated.test", "anyone@fabrikam.test", "alice@contoso.test", "carol@plain.test"],
          {
            catchAllProbe: false
          }
        ).pipe(Effect.provide(Judgement.layer(judge)))
        assert.deepStrictEqual(results.map(summary), [
          "risky/provider/95",
          "deliverable/accepted/60",
          "deliverable/accepted/60",
          "deliverable/accepted/95"
        ])
        assert.include(results[0]!.detail, "Proofpoint")
      })
  )
})
