import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { createRequire } from "node:module"
import * as fc from "fast-check"
import { Signals } from "../src/index.ts"
import { distance } from "../src/internal/distance.ts"
import { normaliseDomain, normaliseLocalPart } from "../src/internal/normalise.ts"

const signals = Signals.make()

describe("isDisposable", () => {
  const table: ReadonlyArray<readonly [string, boolean]> = [
    ["mailinator.com", true],
    ["MAILINATOR.COM", true],
    ["mailinator.com.", true],
    [" yopmail.com ", true],
    ["guerrillamail.com", true],
    ["10minutemail.com", true],
    ["sharklasers.com", true],
    ["inbox.mailinator.com", true],
    ["a.b.c.Mailinator.com", true],
    ["gmail.com", false],
    ["example.com", false],
    ["xmailinator.com", false],
    ["mailinator.com.example.org", false],
    ["com", false],
    ["", false]
  ]
  for (const [domain, expected] of table) {
    it(`${JSON.stringify(domain)} -> ${expected}`, () => {
      assert.strictEqual(signals.isDisposable(domain), expected)
    })
  }
})

describe("isFreeProvider", () => {
  const table: ReadonlyArray<readonly [string, boolean]> = [
    ["gmail.com", true],
    ["GMail.Com", true],
    ["gmail.com.", true],
    ["yahoo.com", true],
    ["hotmail.com", true],
    ["outlook.com", true],
    ["icloud.com", true],
    ["gmx.de", true],
    ["mail.ru", true],
    ["protonmail.com", true],
    ["microsoft.com", false],
    ["example.com", false],
    ["mail.google.com", false],
    ["alumni.gmail.com", false],
    ["gmail.com.example.org", false],
    ["", false]
  ]
  for (const [domain, expected] of table) {
    it(`${JSON.stringify(domain)} -> ${expected}`, () => {
      assert.strictEqual(signals.isFreeProvider(domain), expected)
    })
  }
})

describe("isRoleAccount", () => {
  const table: ReadonlyArray<readonly [string, boolean]> = [
    ["info", true],
    ["INFO", true],
    ["Info+newsletter", true],
    ["admin", true],
    ["no-reply", true],
    ["noreply", true],
    ["NoReply+bounces", true],
    ["postmaster", true],
    ["abuse", true],
    ["webmaster", true],
    ["sales+eu", true],
    ["john", false],
    ["jane.doe", false],
    ["infox", false],
    ["information-desk", false],
    ["john+info", false],
    ["+info", false],
    ["alexa", false],
    ["", false]
  ]
  for (const [localPart, expected] of table) {
    it(`${JSON.stringify(localPart)} -> ${expected}`, () => {
      assert.strictEqual(signals.isRoleAccount(localPart), expected)
    })
  }
})

describe("suggestDomain", () => {
  const table: ReadonlyArray<readonly [string, string | undefined]> = [
    ["gmial.com", "gmail.com"],
    ["gmai.com", "gmail.com"],
    ["gnail.com", "gmail.com"],
    ["gmaill.com", "gmail.com"],
    ["gmail.co", "gmail.com"],
    ["gmail.con", "gmail.com"],
    ["gmail.cmo", "gmail.com"],
    ["gmial.con", "gmail.com"],
    ["GMIAL.COM.", "gmail.com"],
    ["hotmial.com", "hotmail.com"],
    ["hotmai.com", "hotmail.com"],
    ["hotmail.co", "hotmail.com"],
    ["yaho.com", "yahoo.com"],
    ["yahooo.com", "yahoo.com"],
    ["outlok.com", "outlook.com"],
    ["iclod.com", "icloud.com"],
    ["aol.con", "aol.com"],
    ["comcast.ne", "comcast.net"],
    ["hotmail.co.uj", "hotmail.co.uk"],
    // Correct domains, including ones close to a major provider.
    ["gmail.com", undefined],
    ["yahoo.co.uk", undefined],
    ["mail.com", undefined],
    ["email.com", undefined],
    ["ymail.com", undefined],
    ["hotmail.es", undefined],
    // Unrelated domains.
    ["example.com", undefined],
    ["acme.com", undefined],
    ["ms.com", undefined],
    ["love.com", undefined],
    ["horizon.net", undefined],
    ["eastmail.com", undefined],
    // Too far, or not a slip in the first label.
    ["gmaiiil.com", undefined],
    ["mail.gmial.com", undefined],
    ["", undefined]
  ]
  for (const [domain, expected] of table) {
    it(`${JSON.stringify(domain)} -> ${expected ?? "none"}`, () => {
      assert.deepStrictEqual(signals.suggestDomain(domain), Option.fromNullishOr(expected))
    })
  }
})

describe("suggestDomain for a domain with no mail hosts (resolves: false)", () => {
  const table: ReadonlyArray<readonly [string, string | undefined, string | undefined]> = [
    // [domain, suggested when it resolves, suggested when it does not]
    ["gmial.com", "gmail.com", "gmail.com"],
    ["gmaiiil.com", undefined, "gmail.com"],
    ["gmaiil.con", "gmail.com", "gmail.com"],
    ["gmaiiil.con", undefined, "gmail.com"],
    ["hotmaiill.co", undefined, "hotmail.com"],
    ["eastmail.com", undefined, undefined],
    ["aoll.com", undefined, "aol.com"],
    ["lve.com", undefined, "live.com"],
    ["gmaiiiil.com", undefined, undefined],
    ["gmaiiil.cmo.uk", undefined, undefined],
    ["example.com", undefined, undefined],
    ["mail.gmial.com", undefined, undefined],
    ["gmail.com", undefined, undefined],
    ["mail.com", undefined, undefined]
  ]
  for (const [domain, resolving, dead] of table) {
    it(`${domain}: ${resolving ?? "none"} / ${dead ?? "none"}`, () => {
      assert.deepStrictEqual(signals.suggestDomain(domain), Option.fromNullishOr(resolving))
      assert.deepStrictEqual(signals.suggestDomain(domain, { resolves: true }), Option.fromNullishOr(resolving))
      assert.deepStrictEqual(signals.suggestDomain(domain, { resolves: false }), Option.fromNullishOr(dead))
    })
  }

  it("evaluate passes the option on", () => {
    const s = Signals.defaultSignals()
    assert.deepStrictEqual(Signals.evaluate(s, "jane", "gmaiiil.com").suggestion, Option.none())
    assert.deepStrictEqual(
      Signals.evaluate(s, "jane", "gmaiiil.com", { resolves: false }).suggestion,
      Option.some("gmail.com")
    )
  })
})

describe("acceptAllProvider", () => {
  const table: ReadonlyArray<readonly [string, string | undefined]> = [
    ["foo-com.mail.protection.outlook.com.", "Microsoft 365"],
    ["contoso-com.mail.protection.outlook.com", "Microsoft 365"],
    ["CONTOSO-COM.MAIL.PROTECTION.OUTLOOK.COM", "Microsoft 365"],
    ["mta5.am0.yahoodns.net", "Yahoo"],
    ["mx-aol.mail.gm0.yahoodns.net.", "Yahoo"],
    ["mxs.mail.ru", "Mail.ru"],
    ["evil-outlook.com", undefined],
    ["evilmail.protection.outlook.com", undefined],
    ["foo.mail.protection.outlook.com.example.org", undefined],
    ["eur.olc.protection.outlook.com", undefined],
    ["gmail-smtp-in.l.google.com", undefined],
    ["emx.mail.ru", undefined],
    ["notyahoodns.net", undefined],
    ["", undefined]
  ]
  for (const [host, expected] of table) {
    it(`${JSON.stringify(host)} -> ${expected ?? "none"}`, () => {
      const found = signals.acceptAllProvider(host)
      assert.deepStrictEqual(
        Option.map(found, (p) => p.name),
        Option.fromNullishOr(expected)
      )
    })
  }

  it("every built-in provider explains itself", () => {
    for (const host of ["x.mail.protection.outlook.com", "mta5.am0.yahoodns.net", "mxs.mail.ru"]) {
      const provider = Option.getOrThrow(signals.acceptAllProvider(host))
      assert.isAbove(provider.why.length, 40)
    }
  })
})

describe("config", () => {
  it("adds and removes disposable domains, subdomains included", () => {
    const s = Signals.make({ disposable: { add: ["Burner.Example"], remove: ["mailinator.com"] } })
    assert.isTrue(s.isDisposable("burner.example"))
    assert.isTrue(s.isDisposable("x.burner.example"))
    assert.isFalse(s.isDisposable("mailinator.com"))
    assert.isFalse(s.isDisposable("inbox.mailinator.com"))
    assert.isTrue(s.isDisposable("yopmail.com"))
  })

  it("takes a lone string as one entry, not as its characters", () => {
    const s = Signals.make({ free: { add: "corp-mail.example" } })
    assert.isTrue(s.isFreeProvider("corp-mail.example"))
    assert.isFalse(s.isFreeProvider("c"))
  })

  it("adds and removes free providers", () => {
    const s = Signals.make({ free: { add: ["corp-mail.example"], remove: ["GMAIL.COM"] } })
    assert.isTrue(s.isFreeProvider("corp-mail.example"))
    assert.isFalse(s.isFreeProvider("gmail.com"))
    assert.isTrue(s.isFreeProvider("yahoo.com"))
  })

  it("removes an entry that is both added and removed", () => {
    const s = Signals.make({ free: { add: ["x.example"], remove: ["x.example"] } })
    assert.isFalse(s.isFreeProvider("x.example"))
  })

  it("adds and removes role names", () => {
    const s = Signals.make({ role: { add: ["Kundendienst"], remove: ["info"] } })
    assert.isTrue(s.isRoleAccount("kundendienst+de"))
    assert.isFalse(s.isRoleAccount("info"))
    assert.isTrue(s.isRoleAccount("admin"))
  })

  it("a free domain added by config is never corrected", () => {
    assert.deepStrictEqual(signals.suggestDomain("gmial.com"), Option.some("gmail.com"))
    const s = Signals.make({ free: { add: ["gmial.com"] } })
    assert.deepStrictEqual(s.suggestDomain("gmial.com"), Option.none())
  })

  it("adds and removes accept-all providers", () => {
    const s = Signals.make({
      acceptAll: {
        add: [{ name: "Example Gateway", mxSuffix: "MX.Gateway.Example.", why: "test" }],
        remove: "microsoft 365"
      }
    })
    assert.deepStrictEqual(
      Option.map(s.acceptAllProvider("eu1.mx.gateway.example"), (p) => p.name),
      Option.some("Example Gateway")
    )
    assert.deepStrictEqual(
      Option.map(s.acceptAllProvider("mx.gateway.example"), (p) => p.name),
      Option.some("Example Gateway")
    )
    assert.isTrue(Option.isNone(s.acceptAllProvider("foo-com.mail.protection.outlook.com")))
    assert.isTrue(Option.isSome(s.acceptAllProvider("mta5.am0.yahoodns.net")))
  })

  it("leaves other instances alone", () => {
    Signals.make({ disposable: { remove: ["mailinator.com"] } })
    assert.isTrue(signals.isDisposable("mailinator.com"))
    assert.isTrue(Signals.make().isDisposable("mailinator.com"))
  })
})

describe("defaultSignals and evaluate", () => {
  it("memoises the default instance", () => {
    assert.strictEqual(Signals.defaultSignals(), Signals.defaultSignals())
  })

  it("evaluates every signal for an address", () => {
    const s = Signals.defaultSignals()
    assert.deepStrictEqual(Signals.evaluate(s, "Info+x", "gmial.com"), {
      disposable: true,
      freeProvider: false,
      roleAccount: true,
      suggestion: Option.some("gmail.com")
    })
    assert.deepStrictEqual(Signals.evaluate(s, "jane.doe", "gmail.com"), {
      disposable: false,
      freeProvider: true,
      roleAccount: false,
      suggestion: Option.none()
    })
    assert.deepStrictEqual(Signals.evaluate(s, "jane.doe", "example.com"), {
      disposable: false,
      freeProvider: false,
      roleAccount: false,
      suggestion: Option.none()
    })
  })
})

describe("distance", () => {
  const table: ReadonlyArray<readonly [string, string, number, number]> = [
    ["gmail", "gmail", 2, 0],
    ["gmial", "gmail", 2, 1],
    ["gmai", "gmail", 2, 1],
    ["gmaill", "gmail", 2, 1],
    ["gnail", "gmail", 2, 1],
    ["hotmial", "hotmail", 2, 1],
    ["ca", "abc", 5, 3],
    ["kitten", "sitting", 5, 3],
    ["kitten", "sitting", 2, 3],
    ["a", "abcdef", 2, 3],
    ["", "abc", 5, 3]
  ]
  for (const [a, b, max, expected] of table) {
    it(`${a} ~ ${b} (max ${max}) = ${expected}`, () => {
      assert.strictEqual(distance(a, b, max), expected)
      assert.strictEqual(distance(b, a, max), expected)
    })
  }
})

// The textbook optimal-string-alignment recurrence over a full matrix, without early exits.
const reference = (a: string, b: string): number => {
  const d: Array<Array<number>> = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0))
  )
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}

describe("distance against the full recurrence", () => {
  it("agrees, capped at max + 1", () => {
    const word = fc.string({ unit: fc.constantFrom("a", "b", "c", "m"), maxLength: 9 })
    fc.assert(
      fc.property(word, word, fc.integer({ min: 0, max: 4 }), (a, b, max) => {
        assert.strictEqual(distance(a, b, max), Math.min(reference(a, b), max + 1))
      }),
      { numRuns: 2000 }
    )
  })
})

// The list packages, as `make` loads them.
const fromSignals = createRequire(new URL("../src/Signals.ts", import.meta.url))

describe("the packaged lists", () => {
  // `make` puts them in its sets as they are: an entry not in normal form would never match.
  it("are normalised already (lower-case, trimmed, no trailing dot, no +tag)", () => {
    const lists: ReadonlyArray<readonly [string, ReadonlyArray<string>, (s: string) => string]> = [
      [
        "disposable-email-domains-js",
        (
          fromSignals("disposable-email-domains-js") as typeof import("disposable-email-domains-js")
        ).disposableEmailBlocklist(),
        normaliseDomain
      ],
      [
        "free-email-domains-typescript",
        (fromSignals("free-email-domains-typescript") as typeof import("free-email-domains-typescript"))
          .freeEmailDomains,
        normaliseDomain
      ],
      [
        "role-based-email-addresses",
        fromSignals("role-based-email-addresses") as ReadonlyArray<string>,
        normaliseLocalPart
      ]
    ]
    for (const [name, list, normalise] of lists) {
      assert.isAbove(list.length, 500, name)
      assert.deepStrictEqual(
        list.filter((entry) => entry !== normalise(entry)),
        [],
        name
      )
    }
  })

  it("and what a config adds is normalised", () => {
    const signals = Signals.make({ disposable: { add: [" Throwaway.EXAMPLE. "] }, role: { add: ["Hostmaster+x"] } })
    assert.isTrue(Signals.evaluate(signals, "hostmaster", "throwaway.example").disposable)
    assert.isTrue(Signals.evaluate(signals, "hostmaster", "throwaway.example").roleAccount)
  })
})
