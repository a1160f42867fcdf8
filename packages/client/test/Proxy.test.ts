// Proxy URLs: what parses to what, and what is refused with which message (never the password).
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as Proxy from "../src/Proxy.ts"

describe("Proxy.parse", () => {
  const good: ReadonlyArray<readonly [string, Proxy.Socks5Proxy]> = [
    [
      "socks5://127.0.0.1:1080",
      { host: "127.0.0.1", port: 1080, username: undefined, password: undefined, resolve: "local" }
    ],
    [
      "socks5h://proxy.test:1080",
      { host: "proxy.test", port: 1080, username: undefined, password: undefined, resolve: "proxy" }
    ],
    ["SOCKS5://u:p@127.0.0.1:9050", { host: "127.0.0.1", port: 9050, username: "u", password: "p", resolve: "local" }],
    [
      "socks5://us%40er:p%3Ass@[::1]:1080",
      { host: "::1", port: 1080, username: "us@er", password: "p:ss", resolve: "local" }
    ],
    [
      "socks5://127.0.0.1:1080?resolve=proxy",
      { host: "127.0.0.1", port: 1080, username: undefined, password: undefined, resolve: "proxy" }
    ],
    [
      "socks5h://127.0.0.1:1080?resolve=local",
      { host: "127.0.0.1", port: 1080, username: undefined, password: undefined, resolve: "local" }
    ]
  ]
  for (const [url, expected] of good) {
    it(`${url} parses`, () => {
      assert.deepStrictEqual(Result.getOrThrow(Proxy.parse(url)), expected)
    })
  }

  const bad: ReadonlyArray<readonly [string, RegExp]> = [
    ["127.0.0.1:1080", /not a URL|unsupported scheme/],
    ["http://127.0.0.1:8080", /unsupported scheme "http"/],
    ["socks4://127.0.0.1:1080", /unsupported scheme "socks4"/],
    ["socks5://127.0.0.1", /no port/],
    ["socks5://user@127.0.0.1:1080", /both user and password/],
    [`socks5://${"u".repeat(256)}:p@127.0.0.1:1080`, /1 to 255 bytes/],
    ["socks5://127.0.0.1:1080?resolve=maybe", /resolve must be/]
  ]
  for (const [url, message] of bad) {
    it(`${url.slice(0, 40)} is refused`, () => {
      const result = Proxy.parse(url)
      assert.isTrue(Result.isFailure(result))
      if (Result.isFailure(result)) assert.match(result.failure.message, message)
    })
  }

  it("the password never appears in an error", () => {
    const result = Proxy.parse("socks5://user:hunter2@127.0.0.1")
    assert.isTrue(Result.isFailure(result))
    if (Result.isFailure(result)) {
      assert.notInclude(result.failure.url, "hunter2")
      assert.notInclude(result.failure.message, "hunter2")
    }
  })

  it("format leaves the password out and round-trips the rest", () => {
    const proxy = Result.getOrThrow(Proxy.parse("socks5h://u:secret@[::1]:1080"))
    assert.strictEqual(Proxy.format(proxy), "socks5h://u:***@[::1]:1080")
  })
})
