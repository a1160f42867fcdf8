import { assert, describe, it } from "@effect/vitest"
import { DomainRules } from "@rcpt/verifier"

const rules: DomainRules.DomainRules = {
  allow: ["vip@corp.example", "partner.example", "@exact.example"],
  deny: ["corp.example", "bad.example", "sub.partner.example", "vip@exact.example", "exact.example"],
  depth: { "big.example": "dns", "@syntax.example": "syntax", "x@big.example": "smtp" },
  defaultDepth: "smtp"
}

describe("DomainRules.decide", () => {
  const table: ReadonlyArray<
    readonly [address: string, domain: string, action: string, depth: string, pattern: string | null]
  > = [
    ["a@gmail.com", "gmail.com", "check", "smtp", null],
    ["vip@corp.example", "corp.example", "allow", "smtp", "vip@corp.example"],
    ["VIP@Corp.Example", "Corp.Example", "allow", "smtp", "vip@corp.example"],
    ["other@corp.example", "corp.example", "deny", "smtp", "corp.example"],
    ["a@mx.bad.example", "mx.bad.example", "deny", "smtp", "bad.example"],
    ["a@notbad.example", "notbad.example", "check", "smtp", null],
    ["a@partner.example", "partner.example", "allow", "smtp", "partner.example"],
    ["a@sub.partner.example", "sub.partner.example", "deny", "smtp", "sub.partner.example"],
    ["a@exact.example", "exact.example", "allow", "smtp", "@exact.example"],
    ["vip@exact.example", "exact.example", "deny", "smtp", "vip@exact.example"],
    ["a@sub.exact.example", "sub.exact.example", "deny", "smtp", "exact.example"],
    ["a@big.example", "big.example", "check", "dns", null],
    ["a@mx.big.example", "mx.big.example", "check", "dns", null],
    ["x@big.example", "big.example", "check", "smtp", null],
    ["a@syntax.example", "syntax.example", "check", "syntax", null],
    ["a@sub.syntax.example", "sub.syntax.example", "check", "smtp", null]
  ]
  for (const [address, domain, action, depth, pattern] of table) {
    it(`${address} -> ${action} ${depth}`, () => {
      assert.deepStrictEqual(DomainRules.decide(rules, address, domain), {
        action,
        depth,
        pattern
      } as DomainRules.Decision)
    })
  }

  it("same specificity: deny wins", () => {
    const r = { ...DomainRules.empty, allow: ["x.example"], deny: ["x.example"] }
    assert.strictEqual(DomainRules.decide(r, "a@x.example", "x.example").action, "deny")
  })

  // No rules at all: every address is checked to the default depth (a decision made once per depth).
  for (const depth of DomainRules.depths) {
    it(`no rules: check to ${depth}`, () => {
      const r = { ...DomainRules.empty, defaultDepth: depth }
      for (const [address, domain] of [
        ["a@x.example", "x.example"],
        ["vip@corp.example", "corp.example"]
      ] as const) {
        assert.deepStrictEqual(DomainRules.decide(r, address, domain), { action: "check", depth, pattern: null })
      }
    })
  }

  it("a depth rule alone is still read", () => {
    const r = { ...DomainRules.empty, depth: { "x.example": "dns" as const } }
    assert.deepStrictEqual(DomainRules.decide(r, "a@x.example", "x.example"), {
      action: "check",
      depth: "dns",
      pattern: null
    })
    assert.strictEqual(DomainRules.decide(r, "a@y.example", "y.example").depth, "smtp")
  })

  it("the default depth applies where no pattern matches", () => {
    const r = { ...DomainRules.empty, defaultDepth: "dns" as const }
    assert.strictEqual(DomainRules.decide(r, "a@x.example", "x.example").depth, "dns")
  })
})

describe("DomainRules.parseDepths", () => {
  it("pattern=depth pairs", () => {
    assert.deepStrictEqual(DomainRules.parseDepths(["Big.Example=dns", "@s.example= syntax"]), {
      "big.example": "dns",
      "@s.example": "syntax"
    })
  })
  for (const bad of ["big.example", "=dns", "a=b=c", "x.example=deep", "x.example="]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.isUndefined(DomainRules.parseDepths([bad])))
  }
})
