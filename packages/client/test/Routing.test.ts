// Routing data: decoding (what is refused, with which message), matching by MX suffix and by
// provider, fallbacks to the default, and the router's EHLO name order over a source pool.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Result } from "effect"
import * as Proxy from "../src/Proxy.ts"
import * as Router from "../src/Router.ts"
import * as Routing from "../src/Routing.ts"

const decode = (input: unknown) => Result.getOrThrow(Routing.decode(input))

const file = {
  proxies: { a: "socks5://u:secret@127.0.0.1:1080" },
  providers: { corp: [".mx.corp.test"] },
  default: { sourceAddresses: ["127.0.0.2", { address: "127.0.0.3", helo: "out3.test" }], mailFrom: "v@example.test" },
  rules: [
    { name: "google", match: { provider: "google" }, proxy: "a" },
    { match: { mx: ["*.example.net", "example.org."] }, transport: "direct", helo: "verify.example.test" },
    { name: "corp", match: { provider: ["corp"] }, proxy: "socks5h://127.0.0.1:9050", sourceAddresses: ["127.0.0.9"] },
    { name: "default-proxy", match: { mx: [".proxied.test"] }, transport: "socks5" }
  ]
}

describe("Routing.resolve", () => {
  const routing = decode(file)
  const table: ReadonlyArray<
    readonly [string, { rule: string; proxy: string | undefined; sources: ReadonlyArray<string>; helo?: string }]
  > = [
    [
      "aspmx.l.google.com",
      { rule: "google", proxy: "socks5://u:***@127.0.0.1:1080", sources: ["127.0.0.2", "127.0.0.3"] }
    ],
    [
      "ALT1.ASPMX.L.GOOGLE.COM.",
      { rule: "google", proxy: "socks5://u:***@127.0.0.1:1080", sources: ["127.0.0.2", "127.0.0.3"] }
    ],
    ["google.com", { rule: "google", proxy: "socks5://u:***@127.0.0.1:1080", sources: ["127.0.0.2", "127.0.0.3"] }],
    ["notgoogle.com", { rule: "default", proxy: undefined, sources: ["127.0.0.2", "127.0.0.3"] }],
    [
      "mx.example.net",
      { rule: "rules[1]", proxy: undefined, sources: ["127.0.0.2", "127.0.0.3"], helo: "verify.example.test" }
    ],
    [
      "example.org",
      { rule: "rules[1]", proxy: undefined, sources: ["127.0.0.2", "127.0.0.3"], helo: "verify.example.test" }
    ],
    ["in1.mx.corp.test", { rule: "corp", proxy: "socks5h://127.0.0.1:9050", sources: ["127.0.0.9"] }],
    ["mx.proxied.test", { rule: "default-proxy", proxy: undefined, sources: ["127.0.0.2", "127.0.0.3"] }]
  ]
  for (const [host, expected] of table) {
    it(`${host} -> ${expected.rule}`, () => {
      const resolved = Routing.resolve(routing, host)
      assert.strictEqual(resolved.rule, expected.rule)
      assert.strictEqual(Option.getOrUndefined(Option.map(resolved.proxy, (p) => Proxy.format(p))), expected.proxy)
      assert.deepStrictEqual(
        resolved.sources.map((s) => s.address),
        expected.sources
      )
      assert.strictEqual(Option.getOrUndefined(resolved.helo), expected.helo)
      assert.strictEqual(Option.getOrUndefined(resolved.mailFrom), "v@example.test")
    })
  }

  it("a default proxy from the flags applies to the default and to transport socks5, not to direct rules", () => {
    const flagged = Routing.withDefaults(decode(file), { proxy: { host: "127.0.0.1", port: 1999, resolve: "local" } })
    assert.strictEqual(
      Routing.resolve(flagged, "mx.proxied.test").proxy.pipe(
        Option.map((p) => p.port),
        Option.getOrUndefined
      ),
      1999
    )
    assert.strictEqual(
      Routing.resolve(flagged, "mx.other.test").proxy.pipe(
        Option.map((p) => p.port),
        Option.getOrUndefined
      ),
      1999
    )
    assert.isTrue(Option.isNone(Routing.resolve(flagged, "mx.example.net").proxy))
  })

  it("the file's default wins over the flags' defaults", () => {
    const flagged = Routing.withDefaults(decode(file), { sources: [{ address: "127.0.0.50" }], helo: "flag.test" })
    assert.deepStrictEqual(
      Routing.resolve(flagged, "x.test").sources.map((s) => s.address),
      ["127.0.0.2", "127.0.0.3"]
    )
    assert.strictEqual(Option.getOrUndefined(Routing.resolve(flagged, "x.test").defaultHelo), "flag.test")
  })
})

describe("Routing.decode refuses", () => {
  const bad: ReadonlyArray<readonly [string, unknown, RegExp]> = [
    ["a non-object", "socks5://x", /Expected/],
    ["a bad proxy URL", { proxies: { a: "http://x:1" } }, /proxy "a": unsupported scheme/],
    ["an unknown proxy name", { rules: [{ match: { mx: [".a.test"] }, proxy: "nope" }] }, /neither a name/],
    ["an unknown provider", { rules: [{ match: { provider: "aol" } }] }, /unknown provider "aol"/],
    ["an empty match", { rules: [{ match: {} }] }, /needs "mx" suffixes or a "provider"/],
    ["a bad source address", { default: { sourceAddresses: ["host.test"] } }, /not an IP address/],
    [
      "duplicate rule names",
      {
        rules: [
          { name: "x", match: { mx: [".a"] } },
          { name: "x", match: { mx: [".b"] } }
        ]
      },
      /unique/
    ],
    ["an unknown selection", { default: { selection: "random" } }, /Expected/],
    ["a helo with CR LF", { default: { helo: "a.test\r\nRCPT TO:<x@y>" } }, /helo .* is not a domain name/],
    ["a mailFrom that is no address", { rules: [{ match: { mx: [".a"] }, mailFrom: "not an address" }] }, /mailFrom/]
  ]
  for (const [title, input, message] of bad) {
    it(title, () => {
      const result = Routing.decode(input)
      assert.isTrue(Result.isFailure(result))
      if (Result.isFailure(result)) {
        assert.match(result.failure.message, message)
        assert.notInclude(result.failure.message, "secret")
      }
    })
  }
})

describe("Routing.check", () => {
  it("transport socks5 needs a proxy: its own, or the default's (from the file or the flags)", () => {
    const routing = decode({ rules: [{ name: "p", match: { mx: [".a.test"] }, transport: "socks5" }] })
    const checked = Routing.check(routing)
    assert.isTrue(Result.isFailure(checked))
    if (Result.isFailure(checked)) assert.match(checked.failure.message, /p: transport socks5 needs a proxy/)
    const flagged = Routing.withDefaults(routing, { proxy: { host: "127.0.0.1", port: 1080, resolve: "local" } })
    assert.isTrue(Result.isSuccess(Routing.check(flagged)))
  })
})

describe("Router", () => {
  it.effect("without a router layer: direct, nothing set", () =>
    Effect.gen(function* () {
      const router = yield* Router.Router
      const route = yield* Effect.scoped(router.route("mx.test"))
      assert.strictEqual(route.rule, "default")
      assert.isTrue(Option.isNone(route.proxy) && Option.isNone(route.localAddress) && Option.isNone(route.helo))
    })
  )

  it.effect("EHLO name: the rule's, else the source's (given or PTR), else the default's", () =>
    Effect.gen(function* () {
      const routing = decode({
        default: {
          helo: "default.test",
          sourceAddresses: [{ address: "127.0.0.2", helo: "two.test" }, "127.0.0.3", "127.0.0.4"]
        },
        rules: [{ match: { mx: [".ruled.test"] }, helo: "rule.test", sourceAddresses: ["127.0.0.5"] }]
      })
      const router = yield* Router.make(routing, {
        reverse: (address) => Effect.succeed(address === "127.0.0.3" ? Option.some("three.ptr.test") : Option.none())
      })
      const helos: Array<[string, string]> = []
      for (let i = 0; i < 3; i++) {
        const route = yield* Effect.scoped(router.route("mx.other.test"))
        helos.push([Option.getOrThrow(route.localAddress), Option.getOrThrow(route.helo)])
      }
      assert.deepStrictEqual(helos, [
        ["127.0.0.2", "two.test"],
        ["127.0.0.3", "three.ptr.test"],
        ["127.0.0.4", "default.test"]
      ])
      const ruled = yield* Effect.scoped(router.route("mx.ruled.test"))
      assert.deepStrictEqual(
        [Option.getOrThrow(ruled.localAddress), Option.getOrThrow(ruled.helo)],
        ["127.0.0.5", "rule.test"]
      )
    })
  )
})
