import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { Providers, Signals } from "../src/index.ts"

describe("Providers.recognize", () => {
  // [MX hosts in preference order, expected id or null, kind, acceptsAll]
  const table: ReadonlyArray<readonly [ReadonlyArray<string>, string | null, Providers.ProviderKind?, boolean?]> = [
    [["aspmx.l.google.com", "alt1.aspmx.l.google.com"], "google", "mailbox-provider", false],
    [["smtp.google.com."], "google", "mailbox-provider", false],
    [["ASPMX2.GOOGLEMAIL.COM"], "google"],
    [["contoso-com.mail.protection.outlook.com"], "microsoft-365", "mailbox-provider", true],
    [["contoso-com.k-v1.mx.microsoft"], "microsoft-365", "mailbox-provider", true],
    [["hotmail-com.olc.protection.outlook.com"], "outlook-com", "mailbox-provider", false],
    [["mta5.am0.yahoodns.net", "mta6.am0.yahoodns.net"], "yahoo", "mailbox-provider", true],
    [["mx-aol.mail.gm0.yahoodns.net"], "yahoo"],
    [["mx.zoho.com"], "zoho"],
    [["mx2.zoho.eu"], "zoho"],
    [["mx01.mail.icloud.com"], "icloud"],
    [["in1-smtp.messagingengine.com"], "fastmail"],
    [["mail.protonmail.ch", "mailsec.protonmail.ch"], "proton"],
    [["mx.yandex.net"], "yandex"],
    [["mxs.mail.ru"], "mail-ru", "mailbox-provider", true],
    [["mx00.gmx.net"], "gmx-webde"],
    [["mx-ha03.web.de"], "gmx-webde"],
    [["mx00.ionos.de"], "ionos"],
    [["inbound-smtp.eu-west-1.amazonaws.com"], "amazon-workmail"],
    [["mx0a-00123456.pphosted.com", "mx0b-00123456.pphosted.com"], "proofpoint", "security-gateway", false],
    [["mx1-us1.ppe-hosted.com"], "proofpoint", "security-gateway"],
    [["eu-smtp-inbound-1.mimecast.com"], "mimecast", "security-gateway"],
    [["d123456a.ess.barracudanetworks.com"], "barracuda", "security-gateway"],
    [["mx1.hc1234-56.iphmx.com"], "cisco", "security-gateway"],
    [["cluster1.eu.messagelabs.com"], "broadcom-messagelabs", "security-gateway"],
    [["example-com.in.tmes.trendmicro.com"], "trend-micro", "security-gateway"],
    [["mx-01-eu-west-1.prod.hydra.sophos.com"], "sophos", "security-gateway"],
    // The first host (preference order) that names a provider wins; unknown ones are skipped.
    [["mx.example.org", "eu-smtp-inbound-1.mimecast.com", "aspmx.l.google.com"], "mimecast"],
    // Label boundaries: a look-alike is not the provider.
    [["evilmail.protection.outlook.com"], null],
    [["notgoogle.com"], null],
    [["google.com.example.net"], null],
    [["ec2-192-0-2-1.compute-1.amazonaws.com"], null],
    [["mx.example.org"], null],
    [[""], null],
    [[], null]
  ]
  for (const [hosts, id, kind, acceptsAll] of table) {
    it(`${JSON.stringify(hosts)} -> ${id}`, () => {
      const found = Providers.recognize(hosts)
      assert.strictEqual(Option.getOrNull(Option.map(found, (p) => p.id)), id)
      if (kind !== undefined) assert.strictEqual(Option.getOrThrow(found).kind, kind)
      if (acceptsAll !== undefined) assert.strictEqual(Option.getOrThrow(found).acceptsAll, acceptsAll)
    })
  }

  it("names the MX host that matched, normalised", () => {
    const found = Option.getOrThrow(Providers.recognize(["mx.example.org", "MX01.Mail.iCloud.com."]))
    assert.deepStrictEqual(found, {
      id: "icloud",
      name: "iCloud Mail",
      kind: "mailbox-provider",
      acceptsAll: false,
      mxHost: "mx01.mail.icloud.com"
    })
  })
})

describe("Providers.make", () => {
  it("adds entries, replaces built-in ones by id and drops removed ones", () => {
    const providers = Providers.make({
      add: [
        {
          id: "acme-gw",
          name: "Acme Gateway",
          kind: "security-gateway",
          acceptsAll: true,
          mxSuffixes: [".gw.acme.test"]
        },
        {
          id: "Google",
          name: "Google (tenant)",
          kind: "mailbox-provider",
          acceptsAll: true,
          mxSuffixes: ["google.com"]
        }
      ],
      remove: ["MIMECAST"]
    })
    assert.strictEqual(Option.getOrThrow(providers.recognize(["eu1.gw.acme.test"])).name, "Acme Gateway")
    assert.isTrue(Option.getOrThrow(providers.recognize(["aspmx.l.google.com"])).acceptsAll)
    assert.isTrue(Option.isNone(providers.recognize(["eu-smtp-inbound-1.mimecast.com"])))
    assert.isTrue(Option.isSome(Providers.recognize(["eu-smtp-inbound-1.mimecast.com"])), "the default is untouched")
  })

  it("every built-in entry is well-formed and its ids and suffixes are unique", () => {
    const entries = Providers.builtIn()
    assert.strictEqual(new Set(entries.map((p) => p.id)).size, entries.length)
    const suffixes = entries.flatMap((p) => p.mxSuffixes)
    assert.strictEqual(new Set(suffixes).size, suffixes.length)
    for (const p of entries) {
      assert.match(p.id, /^[a-z0-9-]+$/)
      assert.isAbove(p.mxSuffixes.length, 0)
    }
  })

  it("agrees with the accept-all list: a provider there accepts all here", () => {
    const signals = Signals.make()
    const hosts = [
      "contoso-com.mail.protection.outlook.com",
      "mta5.am0.yahoodns.net",
      "mxs.mail.ru",
      "aspmx.l.google.com",
      "mx01.mail.icloud.com"
    ]
    for (const host of hosts) {
      const provider = Option.getOrThrow(Providers.defaultProviders().byHost(host))
      assert.strictEqual(provider.acceptsAll, Option.isSome(signals.acceptAllProvider(host)), host)
    }
  })
})
