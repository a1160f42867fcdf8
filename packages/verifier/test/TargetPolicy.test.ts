// The target policy as a table: every special-purpose block refused with its registry name,
// embedded IPv4 judged by the address it carries, global unicast allowed, --allow-target opening.
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { TargetPolicy } from "../src/index.ts"

/** [address, the refusing range's CIDR or "allowed", the embedded IPv4's range (if judged)] */
const cases: ReadonlyArray<readonly [string, string, string?]> = [
  // IPv4 special-purpose registry
  ["0.0.0.0", "0.0.0.0/8"],
  ["0.1.2.3", "0.0.0.0/8"],
  ["10.0.0.1", "10.0.0.0/8"],
  ["10.255.255.255", "10.0.0.0/8"],
  ["100.64.0.1", "100.64.0.0/10"],
  ["100.127.255.255", "100.64.0.0/10"],
  ["127.0.0.1", "127.0.0.0/8"],
  ["127.255.255.254", "127.0.0.0/8"],
  ["169.254.169.254", "169.254.0.0/16"],
  ["172.16.0.1", "172.16.0.0/12"],
  ["172.31.255.255", "172.16.0.0/12"],
  ["192.0.0.170", "192.0.0.0/24"],
  ["192.0.2.1", "192.0.2.0/24"],
  ["192.88.99.1", "192.88.99.0/24"],
  ["192.168.1.1", "192.168.0.0/16"],
  ["198.18.0.1", "198.18.0.0/15"],
  ["198.19.255.255", "198.18.0.0/15"],
  ["198.51.100.7", "198.51.100.0/24"],
  ["203.0.113.9", "203.0.113.0/24"],
  ["224.0.0.1", "224.0.0.0/4"],
  ["239.255.255.250", "224.0.0.0/4"],
  ["240.0.0.1", "240.0.0.0/4"],
  ["255.255.255.255", "255.255.255.255/32"],
  // just outside the blocks: global unicast
  ["8.8.8.8", "allowed"],
  ["9.255.255.255", "allowed"],
  ["11.0.0.0", "allowed"],
  ["100.63.255.255", "allowed"],
  ["100.128.0.0", "allowed"],
  ["172.15.255.255", "allowed"],
  ["172.32.0.0", "allowed"],
  ["169.253.255.255", "allowed"],
  ["192.0.1.1", "allowed"],
  ["198.17.255.255", "allowed"],
  ["198.20.0.0", "allowed"],
  ["223.255.255.255", "allowed"],
  // IPv6 registry
  ["::", "::/128"],
  ["::1", "::1/128"],
  ["fc00::1", "fc00::/7"],
  ["fd12:3456::1", "fc00::/7"],
  ["fe80::1", "fe80::/10"],
  ["fe80::1%eth0", "fe80::/10"],
  ["febf::1", "fe80::/10"],
  ["ff02::1", "ff00::/8"],
  ["2001:db8::25", "2001:db8::/32"],
  ["3fff::1", "3fff::/20"],
  ["100::1", "100::/64"],
  ["64:ff9b:1::1", "64:ff9b:1::/48"],
  ["2001:2::1", "2001::/23"],
  ["5f00::1", "5f00::/16"],
  ["4000::1", "::/0"],
  ["e000::1", "::/0"],
  ["2a00:1450:4001::1b", "allowed"],
  ["2606:4700::1111", "allowed"],
  // IPv4 inside IPv6: judged by the IPv4 address
  ["::ffff:127.0.0.1", "::ffff:0:0/96", "127.0.0.0/8"],
  ["::ffff:7f00:1", "::ffff:0:0/96", "127.0.0.0/8"],
  ["::ffff:169.254.169.254", "::ffff:0:0/96", "169.254.0.0/16"],
  ["::ffff:10.1.2.3", "::ffff:0:0/96", "10.0.0.0/8"],
  ["::ffff:0.0.0.0", "::ffff:0:0/96", "0.0.0.0/8"],
  ["::ffff:8.8.8.8", "allowed"],
  ["::127.0.0.1", "::/96", "127.0.0.0/8"],
  ["::7f00:1", "::/96", "127.0.0.0/8"],
  ["::10.0.0.1", "::/96", "10.0.0.0/8"],
  ["::ffff:0:192.168.0.1", "::ffff:0:0:0/96", "192.168.0.0/16"],
  ["64:ff9b::127.0.0.1", "64:ff9b::/96", "127.0.0.0/8"],
  ["64:ff9b::a9fe:a9fe", "64:ff9b::/96", "169.254.0.0/16"],
  ["64:ff9b::8.8.8.8", "allowed"],
  ["2002:7f00:1::1", "2002::/16", "127.0.0.0/8"],
  ["2002:c0a8:101::1", "2002::/16", "192.168.0.0/16"],
  ["2002:808:808::1", "allowed"],
  // Teredo: the client address XOR ffff:ffff; 80ff:fffe is 127.0.0.1 obfuscated
  ["2001:0:4136:e378:8000:63bf:80ff:fffe", "2001::/32", "127.0.0.0/8"],
  ["2001:0:4136:e378:8000:63bf:f7f7:f7f7", "allowed"],
  // not IP addresses in standard form: refused, never resolved
  ["127.1", "not an IP"],
  ["0x7f.0.0.1", "not an IP"],
  ["0177.0.0.1", "not an IP"],
  ["2130706433", "not an IP"],
  ["localhost", "not an IP"],
  ["", "not an IP"]
]

describe("TargetPolicy.judge (strict)", () => {
  const rows = cases.map(([address, expected, embedded]) => ({ address, expected, embedded }))
  it.each(rows)("$address -> $expected $embedded", ({ address, expected, embedded }) => {
    const decision = TargetPolicy.judge(TargetPolicy.strict, address)
    if (expected === "allowed") return assert.strictEqual(decision._tag, "Allowed")
    assert.strictEqual(decision._tag, "Refused")
    if (decision._tag !== "Refused") return
    if (expected === "not an IP") {
      assert.isUndefined(decision.range)
      return assert.include(decision.detail, "not an IP address")
    }
    assert.strictEqual(decision.range?.cidr, expected)
    assert.include(decision.detail, expected)
    assert.include(decision.detail, decision.range!.name)
    assert.strictEqual(decision.embedded?.range.cidr, embedded)
    if (embedded !== undefined) assert.include(decision.detail, embedded)
  })

  it("an address literal in brackets is judged like the bare address", () => {
    assert.strictEqual(TargetPolicy.judge(TargetPolicy.strict, "[127.0.0.1]")._tag, "Refused")
    assert.strictEqual(TargetPolicy.judge(TargetPolicy.strict, "[::ffff:127.0.0.1]")._tag, "Refused")
  })
})

describe("TargetPolicy.make / --allow-target", () => {
  const policy = (...cidrs: Array<string>) => Result.getOrThrow(TargetPolicy.make(cidrs))
  const table: ReadonlyArray<readonly [ReadonlyArray<string>, string, boolean]> = [
    [["127.0.0.0/8"], "127.0.0.1", true],
    [["127.0.0.0/8"], "127.1.2.3", true],
    [["127.0.0.0/8"], "::1", false],
    [["127.0.0.0/8"], "::ffff:127.0.0.1", true],
    [["127.0.0.0/8"], "10.0.0.1", false],
    [["127.0.0.1"], "127.0.0.1", true],
    [["127.0.0.1"], "127.0.0.2", false],
    [["10.1.0.0/16"], "10.1.200.3", true],
    [["10.1.0.0/16"], "10.2.0.1", false],
    [["10.1.2.3/16"], "10.1.9.9", true],
    [["::1/128"], "::1", true],
    [["fd00::/8"], "fd00::25", true],
    [["fd00::/8"], "fc00::25", false],
    [["0.0.0.0/0", "::/0"], "169.254.169.254", true],
    [["0.0.0.0/0", "::/0"], "fe80::1", true]
  ]
  it.each(table)("allow %j: %s -> %s", (allow, address, ok) => {
    assert.strictEqual(TargetPolicy.isAllowed(policy(...allow), address), ok)
  })

  it("normalises each block to its network", () => {
    assert.deepStrictEqual(
      policy("10.1.2.3/16", "::1", "FD00::1/8").allow.map((c) => c.text),
      ["10.1.0.0/16", "::1/128", "fd00::/8"]
    )
  })

  it.each(["", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/8/8", "127.1/8", "host.example/8", "10.0.0.0/x"])(
    "refuses %j",
    (text) => {
      const made = TargetPolicy.make([text])
      assert.isTrue(Result.isFailure(made))
      if (Result.isFailure(made)) assert.include(made.failure.message, "not a CIDR block")
    }
  )

  it("the named policies", () => {
    assert.isTrue(TargetPolicy.isAllowed(TargetPolicy.loopback, "127.0.0.5"))
    assert.isTrue(TargetPolicy.isAllowed(TargetPolicy.loopback, "::1"))
    assert.isFalse(TargetPolicy.isAllowed(TargetPolicy.loopback, "10.0.0.1"))
    assert.isTrue(TargetPolicy.isAllowed(TargetPolicy.any, "10.0.0.1"))
  })
})
