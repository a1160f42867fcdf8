// Routing against real servers on loopback (MailWorld) and an in-process SOCKS5 proxy: through a
// proxy the server sees the proxy's address; a hostile or refusing proxy gives `unknown` with a
// proxy_* reason, never `undeliverable`, and no hang; source addresses are used in turn, each
// with its EHLO name, as the server sees them; rules by MX suffix choose proxy and MAIL FROM.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import type { SourcePool } from "@rcpt/client"
import { MailWorld, Socks5Server } from "@rcpt/testing"
import { Policy, Verifier } from "@rcpt/verifier"
import * as NodeRouting from "../src/NodeRouting.ts"
import * as NodeVerifier from "../src/NodeVerifier.ts"

const world: MailWorld.WorldSpec = {
  domains: [
    { name: "proxied.test", mx: [{ host: "mx.proxied.test", preference: 10 }], users: ["alice"] },
    { name: "plain.test", mx: [{ host: "mx.plain.test", preference: 10 }], users: ["bob"] }
  ],
  hosts: [
    { name: "mx.proxied.test", address: "127.0.0.81" },
    { name: "mx.plain.test", address: "127.0.0.82" }
  ]
}

// A short connect timeout: a silent proxy costs this, not the default 10 seconds.
const policy: Policy.Policies = {
  ...Policy.defaults,
  phaseTimeouts: { ...Policy.defaults.phaseTimeouts, connect: "700 millis" }
}

const run = <A, E>(
  options: NodeVerifier.Options,
  f: (verifier: Verifier.Verifier["Service"], w: MailWorld.World) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const w = yield* MailWorld.start(world)
    const layer = NodeVerifier.layer({
      helo: "verifier.rcpt.test",
      allowSpecialUse: ["test"],
      port: w.smtpPort,
      dnsServers: [w.dns],
      timeout: "10 seconds",
      catchAllProbe: false,
      recipientsPerSession: 1,
      // The world and the proxies are on loopback, which the target policy refuses unless opened.
      allowTargets: ["127.0.0.0/8"],
      ...options
    })
    return yield* Effect.flatMap(Verifier.Verifier, (v) => f(v, w)).pipe(
      Effect.provide(layer),
      Effect.provideService(Policy.Policy, policy)
    )
  })

const proxyUrl = (proxy: Socks5Server.Socks5Server, credentials = "rcpt:pw@") =>
  `socks5://${credentials}${proxy.address}:${proxy.port}`

describe("through a SOCKS5 proxy", () => {
  it.live("deliverable, and the server saw the proxy's external address", () =>
    Effect.gen(function* () {
      const proxy = yield* Socks5Server.start({
        credentials: { username: "rcpt", password: "pw" },
        external: "127.0.0.83"
      })
      yield* run({ proxy: proxyUrl(proxy) }, (v, w) =>
        Effect.gen(function* () {
          const result = yield* v.verify("alice@proxied.test")
          assert.strictEqual(result.verdict, "deliverable", result.detail)
          const stats = yield* w.stats
          assert.deepStrictEqual(stats.clients["127.0.0.81"], { "127.0.0.83": 1 })
          assert.deepStrictEqual(
            proxy.requests.map((r) => `${r.host} ${r.username}`),
            ["127.0.0.81 rcpt"]
          )
        })
      )
    }).pipe(Effect.scoped)
  )

  const hostile: ReadonlyArray<readonly [string, Socks5Server.Options, string, string]> = [
    ["garbage reply", { behaviour: "garbage" }, "rcpt:pw@", "proxy_failed"],
    ["silent", { behaviour: "silent" }, "rcpt:pw@", "proxy_failed"],
    ["hangs up mid-handshake", { behaviour: "close-request" }, "rcpt:pw@", "proxy_failed"],
    ["wrong password", { credentials: { username: "rcpt", password: "right" } }, "rcpt:wrong@", "proxy_auth_failed"],
    ["refuses (rule set)", { behaviour: "refuse" }, "", "proxy_refused"],
    ["cannot reach the host", { behaviour: "unreachable" }, "", "proxy_unreachable"]
  ]
  for (const [title, options, credentials, reason] of hostile) {
    it.live(`${title}: unknown / ${reason}, promptly, nothing reaches the server`, () =>
      Effect.gen(function* () {
        const proxy = yield* Socks5Server.start(options)
        yield* run({ proxy: proxyUrl(proxy, credentials) }, (v, w) =>
          Effect.gen(function* () {
            const started = Date.now()
            const result = yield* v.verify("alice@proxied.test")
            assert.strictEqual(result.verdict, "unknown")
            assert.strictEqual(result.reason, reason, result.detail)
            assert.isTrue(result.retryable)
            assert.isBelow(Date.now() - started, 5000)
            assert.strictEqual(result.attempts[0]?.outcome, reason)
            assert.notInclude(JSON.stringify(result), "right")
            const stats = yield* w.stats
            assert.strictEqual(stats.connections["127.0.0.81"], 0)
          })
        )
      }).pipe(Effect.scoped)
    )
  }
})

describe("source addresses", () => {
  it.live("two addresses in turn, each with its EHLO name, as the server saw them", () =>
    run(
      {
        sourceAddresses: [
          { address: "127.0.0.84", helo: "out84.rcpt.test" },
          { address: "127.0.0.85", helo: "out85.rcpt.test" }
        ] satisfies ReadonlyArray<SourcePool.Source>
      },
      (v, w) =>
        Effect.gen(function* () {
          for (const address of ["alice@proxied.test", "alice@proxied.test"]) {
            const result = yield* v.verify(address)
            assert.strictEqual(result.verdict, "deliverable", result.detail)
          }
          const stats = yield* w.stats
          assert.deepStrictEqual(stats.clients["127.0.0.81"], { "127.0.0.84": 1, "127.0.0.85": 1 })
          const ehlo = stats.commands.filter((c) => c.line.startsWith("EHLO")).map((c) => `${c.client} ${c.line}`)
          assert.deepStrictEqual(ehlo.sort(), ["127.0.0.84 EHLO out84.rcpt.test", "127.0.0.85 EHLO out85.rcpt.test"])
        })
    ).pipe(Effect.scoped)
  )
})

describe("routing rules", () => {
  it.live("by MX suffix: proxied.test through the proxy with its own MAIL FROM, plain.test direct", () =>
    Effect.gen(function* () {
      const proxy = yield* Socks5Server.start({ external: "127.0.0.86" })
      const routing = Result.getOrThrow(
        NodeRouting.parse(`
proxies:
  p: socks5://${proxy.address}:${proxy.port}
rules:
  - name: proxied
    match: { mx: ["*.proxied.test"] }
    proxy: p
    mailFrom: bounce@rcpt.test
    helo: proxied-out.rcpt.test
`)
      )
      yield* run({ routing }, (v, w) =>
        Effect.gen(function* () {
          assert.strictEqual((yield* v.verify("alice@proxied.test")).verdict, "deliverable")
          assert.strictEqual((yield* v.verify("bob@plain.test")).verdict, "deliverable")
          const stats = yield* w.stats
          assert.deepStrictEqual(stats.clients["127.0.0.81"], { "127.0.0.86": 1 })
          assert.deepStrictEqual(stats.clients["127.0.0.82"], { "127.0.0.1": 1 })
          const lines = (host: string) => stats.commands.filter((c) => c.host === host).map((c) => c.line)
          assert.include(lines("127.0.0.81"), "MAIL FROM:<bounce@rcpt.test>")
          assert.include(lines("127.0.0.81"), "EHLO proxied-out.rcpt.test")
          assert.include(lines("127.0.0.82"), "MAIL FROM:<>")
          assert.include(lines("127.0.0.82"), "EHLO verifier.rcpt.test")
        })
      )
    }).pipe(Effect.scoped)
  )
})
