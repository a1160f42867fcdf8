import { assert, describe, it } from "@effect/vitest"
import { SpecialUse } from "@rcpt/verifier"

describe("SpecialUse", () => {
  describe("isGloballyRoutable", () => {
    const table: ReadonlyArray<readonly [string, boolean]> = [
      ["8.8.8.8", true],
      ["142.250.102.27", true],
      ["2a00:1450:4013:c00::1a", true],
      ["127.0.0.2", false],
      ["10.1.2.3", false],
      ["172.16.0.1", false],
      ["192.168.1.1", false],
      ["169.254.169.254", false],
      ["100.64.0.1", false],
      ["0.1.2.3", false],
      ["192.0.2.7", false],
      ["198.51.100.1", false],
      ["203.0.113.9", false],
      ["198.18.0.1", false],
      ["240.0.0.1", false],
      ["255.255.255.255", false],
      ["224.0.0.1", false],
      ["::1", false],
      ["::", false],
      ["fe80::1", false],
      ["fd00::1", false],
      ["2001:db8::1", false],
      ["::ffff:127.0.0.1", false],
      ["::ffff:8.8.8.8", true],
      ["not an ip", false],
      ["", false]
    ]
    for (const [ip, expected] of table) {
      it(`${JSON.stringify(ip)} -> ${expected}`, () => assert.strictEqual(SpecialUse.isGloballyRoutable(ip), expected))
    }
  })

  describe("specialUseName / isUnder", () => {
    const table: ReadonlyArray<readonly [string, string | undefined]> = [
      ["alpha.test", "test"],
      ["TEST", "test"],
      ["mx.alpha.test.", "test"],
      ["localhost", "localhost"],
      ["printer.local", "local"],
      ["x.onion", "onion"],
      ["router.home.arpa", "home.arpa"],
      ["example.com", "example.com"],
      ["www.example.org", "example.org"],
      ["nothing.invalid", "invalid"],
      ["example", "example"],
      ["gmail.com", undefined],
      ["contest.com", undefined],
      ["myexample.com", undefined],
      ["arpa", undefined]
    ]
    for (const [name, expected] of table) {
      it(`${name} -> ${expected}`, () => assert.strictEqual(SpecialUse.specialUseName(name), expected))
    }
    it("isUnder matches whole labels", () => {
      assert.isTrue(SpecialUse.isUnder("a.b.test", "test"))
      assert.isTrue(SpecialUse.isUnder("a.b.test", ".b.test"))
      assert.isTrue(SpecialUse.isUnder("B.TEST", "b.test"))
      assert.isFalse(SpecialUse.isUnder("ab.test", "b.test"))
    })
  })
})
