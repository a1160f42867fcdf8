// The target policy where it matters: before a connection is opened. DNS answers (StaticDns)
// point MX hosts at every kind of special-purpose address, and address literals name them
// directly; the real Node transport is wrapped so that every dial is counted, and a listener on
// 127.0.0.1 counts the connections that arrive. Refused: no dial at all, `unknown` with reason
// `target_refused` and the range in the detail. Opened with allowTargets: the dial happens.
// Also the caps: MX hosts tried per domain, addresses per host.
import * as Net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SmtpTransport } from "@rcpt/client"
import { StaticDns } from "@rcpt/testing"
import { Verifier, VerifierConfig } from "@rcpt/verifier"
import type { Verification } from "@rcpt/verifier"
import * as NodeSmtpTransport from "../src/NodeSmtpTransport.ts"

/** Special-purpose targets by the range that must refuse them. */
const ipv4: ReadonlyArray<readonly [string, string]> = [
  ["10.0.0.1", "10.0.0.0/8"],
  ["169.254.169.254", "169.254.0.0/16"],
  ["192.168.1.1", "192.168.0.0/16"],
  ["172.16.0.1", "172.16.0.0/12"],
  ["100.64.0.1", "100.64.0.0/10"],
  ["127.0.0.1", "127.0.0.0/8"],
  ["0.0.0.0", "0.0.0.0/8"],
  ["192.0.2.1", "192.0.2.0/24"],
  ["224.0.0.1", "224.0.0.0/4"],
  ["255.255.255.255", "255.255.255.255/32"]
]
const ipv6: ReadonlyArray<readonly [string, string]> = [
  ["::1", "::1/128"],
  ["fc00::1", "fc00::/7"],
  ["fe80::1", "fe80::/10"],
  ["::ffff:127.0.0.1", "127.0.0.0/8"],
  ["::ffff:169.254.169.254", "169.254.0.0/16"],
  ["64:ff9b::a00:1", "10.0.0.0/8"],
  ["2002:c0a8:101::1", "192.168.0.0/16"],
  ["2001:db8::25", "2001:db8::/32"],
  ["ff02::1", "ff00::/8"]
]
const literals: ReadonlyArray<readonly [string, string]> = [
  ["[127.0.0.1]", "127.0.0.0/8"],
  ["[10.0.0.1]", "10.0.0.0/8"],
  ["[169.254.169.254]", "169.254.0.0/16"],
  ["[0.0.0.0]", "0.0.0.0/8"],
  ["[IPv6:::1]", "::1/128"],
  ["[IPv6:::ffff:127.0.0.1]", "127.0.0.0/8"],
  ["[IPv6:fd00::25]", "fc00::/7"]
]

const zone: StaticDns.Zone = Object.fromEntries([
  ...ipv4.map((_, i) => [`v4-${i}.test`, { mx: [[10, `mx.v4-${i}.test`]] }] as const),
  ...ipv4.map(([ip], i) => [`mx.v4-${i}.test`, { a: [ip] }] as const),
  ...ipv6.map((_, i) => [`v6-${i}.test`, { mx: [[10, `mx.v6-${i}.test`]] }] as const),
  ...ipv6.map(([ip], i) => [`mx.v6-${i}.test`, { aaaa: [ip] }] as const),
  // Implicit MX: no MX record, the domain's own A record.
  ["implicit.test", { a: ["10.9.8.7"] }],
  // 30 MX hosts, all on loopback.
  ["thirty.test", { mx: Array.from({ length: 30 }, (_, i) => [i, `mx${i}.thirty.test`] as const) }],
  ...Array.from({ length: 30 }, (_, i) => [`mx${i}.thirty.test`, { a: ["127.0.0.1"] }] as const),
  // One MX host with ten addresses.
  ["ten.test", { mx: [[10, "mx.ten.test"]] }],
  ["mx.ten.test", { a: Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 1}`) }]
])

/** A listener on 127.0.0.1 that counts connections and closes each at once. */
const listener = Effect.acquireRelease(
  Effect.callback<{ readonly port: number; readonly accepted: () => number; readonly server: Net.Server }>((resume) => {
    let accepted = 0
    const server = Net.createServer((socket) => {
      accepted++
      socket.destroy()
    })
    server.listen(0, "127.0.0.1", () =>
      resume(Effect.succeed({ port: (server.address() as Net.AddressInfo).port, accepted: () => accepted, server }))
    )
  }),
  ({ server }) => Effect.callback<void>((resume) => void server.close(() => resume(Effect.void)))
)

/** The real Node transport, every `connect` counted (host by host) before it dials. */
const counting = (dialled: Array<string>) =>
  Layer.effect(
    SmtpTransport.SmtpTransport,
    Effect.gen(function* () {
      const inner = yield* SmtpTransport.SmtpTransport
      return SmtpTransport.SmtpTransport.of({
        connect: (options) => {
          dialled.push(options.host)
          return inner.connect(options)
        }
      })
    })
  ).pipe(Layer.provide(NodeSmtpTransport.layer))

const verifyAll = (
  addresses: ReadonlyArray<string>,
  config: Partial<VerifierConfig.VerifierConfig> & { readonly port: number }
) =>
  Effect.gen(function* () {
    const dialled: Array<string> = []
    const layer = Verifier.layer.pipe(
      Layer.provide([
        VerifierConfig.layer({
          helo: "verifier.rcpt.test",
          timeout: "5 seconds",
          catchAllProbe: false,
          // The zone's names are .test (RFC 6761): allowed, so the target policy is what refuses.
          allowSpecialUse: ["test"],
          ...config
        }),
        StaticDns.layer(zone),
        counting(dialled)
      ])
    )
    const results = yield* Effect.gen(function* () {
      const verifier = yield* Verifier.Verifier
      return yield* Effect.forEach(addresses, (a) => verifier.verify(a), { concurrency: 8 })
    }).pipe(Effect.provide(layer))
    return { results, dialled }
  })

const refusedFor = (v: Verification.Verification, range: string) => {
  assert.strictEqual(`${v.verdict}/${v.reason}`, "unknown/target_refused", `${v.address}: ${v.detail}`)
  assert.include(v.detail, range, v.address)
  assert.isFalse(v.retryable)
  assert.isNull(v.mx)
}

describe("target policy before dialling", { timeout: 60_000 }, () => {
  it.live("MX A/AAAA answers in every special-purpose range: refused, never dialled", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const l = yield* listener
        const addresses = [
          ...ipv4.map((_, i) => `alice@v4-${i}.test`),
          ...ipv6.map((_, i) => `alice@v6-${i}.test`),
          "alice@implicit.test"
        ]
        const { results, dialled } = yield* verifyAll(addresses, { port: l.port })
        assert.deepStrictEqual(dialled, [])
        assert.strictEqual(l.accepted(), 0)
        ipv4.forEach(([, range], i) => refusedFor(results[i]!, range))
        ipv6.forEach(([, range], i) => refusedFor(results[ipv4.length + i]!, range))
        refusedFor(results.at(-1)!, "10.0.0.0/8")
      })
    )
  )

  it.live("address literals: refused, never dialled", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const l = yield* listener
        const { results, dialled } = yield* verifyAll(
          literals.map(([literal]) => `postmaster@${literal}`),
          { port: l.port }
        )
        assert.deepStrictEqual(dialled, [])
        assert.strictEqual(l.accepted(), 0)
        literals.forEach(([, range], i) => refusedFor(results[i]!, range))
      })
    )
  )

  it.live("opened with allowTargets, loopback is dialled (the control: this test can see a dial)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const l = yield* listener
        const { results, dialled } = yield* verifyAll(
          ["alice@v4-5.test", "postmaster@[127.0.0.1]", "alice@v4-0.test"],
          {
            port: l.port,
            allowTargets: ["127.0.0.0/8"],
            maxMxHosts: 1
          }
        )
        assert.deepStrictEqual(dialled.sort(), ["127.0.0.1", "127.0.0.1"])
        assert.strictEqual(l.accepted(), 2)
        assert.notStrictEqual(results[0]!.reason, "target_refused")
        refusedFor(results[2]!, "10.0.0.0/8")
      })
    )
  )

  it.live("30 MX records: at most maxMxHosts (5) dialled; addresses per host capped too", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const l = yield* listener
        const open = { port: l.port, allowTargets: ["127.0.0.0/8"] }
        const thirty = yield* verifyAll(["alice@thirty.test"], open)
        assert.strictEqual(thirty.dialled.length, 5)
        const three = yield* verifyAll(["alice@thirty.test"], { ...open, maxMxHosts: 3 })
        assert.strictEqual(three.dialled.length, 3)
        const ten = yield* verifyAll(["alice@ten.test"], open)
        assert.deepStrictEqual(ten.dialled, ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"])
        const two = yield* verifyAll(["alice@ten.test"], { ...open, maxAddressesPerHost: 2 })
        assert.strictEqual(two.dialled.length, 2)
      })
    )
  )

  it.effect("a bad allowTargets block is an InvalidConfig naming the field", () =>
    Effect.gen(function* () {
      const error = yield* VerifierConfig.make({ helo: "x.rcpt.test", allowTargets: ["10.0.0.0/33"] }).pipe(Effect.flip)
      assert.strictEqual(error.field, "allowTargets")
      assert.include(error.message, "not a CIDR block")
    })
  )
})
