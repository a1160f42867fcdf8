// Command injection: addresses and config values that carry CR, LF, NUL, other line breaks, ">"
// or whole SMTP commands are refused before any byte is sent. The real NodeVerifier runs against
// MailWorld (whose SMTP hosts record every command line they receive): an injected address is
// undeliverable/syntax with no connection at all; an injected config value makes
// NodeVerifier.layer fail with InvalidConfig; and no host ever sees an injected command line.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { MailWorld } from "@rcpt/testing"
import { Verifier } from "@rcpt/verifier"
import * as NodeVerifier from "../src/NodeVerifier.ts"

/** Lines that must never reach a server, and fragments no received line may contain. */
const injectedLines = ["DATA", "RSET", "NOOP", "VRFY root", "MAIL FROM:<a@b>", "RCPT TO:<evil@alpha.test>"]
// "<evil@", not "evil": the catch-all probe's random local part may spell "evil" (it did once).
const injectedFragments = ["<evil@", "SIZE=1", "NOTIFY", "\u0000", "\r", "\n"]

const addresses: ReadonlyArray<string> = [
  "alice@alpha.test>\r\nRSET",
  "alice@alpha.test\r\nDATA",
  "alice@alpha.test\rDATA",
  "alice@alpha.test\nDATA",
  "alice@alpha.test\r\nRCPT TO:<evil@alpha.test>",
  "alice@alpha.test\u0000DATA",
  "alice\u0000@alpha.test",
  "alice@alpha.test> SIZE=1",
  "alice@alpha.test> NOTIFY=NEVER",
  "<alice@alpha.test>",
  "alice@alpha.test>",
  '"alice\r\nDATA"@alpha.test',
  '"alice\\\r\nDATA"@alpha.test',
  "alice\r\n.\r\n@alpha.test",
  "alice@alpha.test\u2028DATA",
  "alice@alpha.test\u0085DATA",
  "alice@[127.0.0.2]>\r\nDATA",
  "alice@alpha.test\r\n",
  "\r\nQUIT\r\n"
]

const helos: ReadonlyArray<string> = [
  "x\r\nMAIL FROM:<a@b>",
  "verifier.rcpt.test\r\nDATA",
  "verifier.rcpt.test\nRSET",
  "verifier.rcpt.test\u0000",
  "verifier.rcpt.test RSET",
  "[127.0.0.1]>\r\nRSET",
  "verifier.rcpt.test\u2028QUIT"
]

const mailFroms: ReadonlyArray<string> = [
  "a@b.test> SIZE=1",
  "a@b.test>\r\nRSET",
  "a@b.test\r\nDATA",
  "a@b.test\nRCPT TO:<evil@alpha.test>",
  "a@b.test\u0000",
  "<a@b.test>",
  "a@b.test> BODY=8BITMIME"
]

const world = MailWorld.start(MailWorld.demo).pipe(Effect.orDie)

const options = (w: MailWorld.World): NodeVerifier.Options => ({
  helo: "verifier.rcpt.test",
  allowSpecialUse: ["test"],
  allowTargets: ["127.0.0.0/8"],
  port: w.smtpPort,
  dnsServers: [w.dns],
  timeout: "5 seconds"
})

const totalConnections = (stats: MailWorld.Stats) => Object.values(stats.connections).reduce((a, b) => a + b, 0)

/** No host saw an injected command line, or any line carrying an injected fragment. */
const noInjection = (stats: MailWorld.Stats) => {
  const quits = stats.commands.filter((c) => c.line === "QUIT").length
  assert.isAtMost(quits, totalConnections(stats), "one QUIT per session at most")
  for (const { line } of stats.commands) {
    assert.notInclude(injectedLines, line, `a server received the injected line ${JSON.stringify(line)}`)
    for (const fragment of injectedFragments) {
      assert.notInclude(line, fragment, `a server received ${JSON.stringify(line)}`)
    }
  }
}

describe("injection: refused before any byte is sent", () => {
  it.live("control: a plain address reaches the server, which records its commands", () =>
    Effect.gen(function* () {
      const w = yield* world
      const v = yield* Effect.flatMap(Verifier.Verifier, (v) => v.verify("alice@alpha.test")).pipe(
        Effect.provide(NodeVerifier.layer(options(w)))
      )
      assert.strictEqual(v.verdict, "deliverable")
      const stats = yield* w.stats
      assert.strictEqual(stats.connections["127.0.0.2"], 1)
      assert.includeMembers(
        stats.commands.map((c) => c.line),
        ["EHLO verifier.rcpt.test", "MAIL FROM:<>", "RCPT TO:<alice@alpha.test>", "QUIT"]
      )
      noInjection(stats)
    })
  )

  it.live("addresses carrying CR, LF, NUL, line separators, '>' or commands: syntax, no connection", () =>
    Effect.gen(function* () {
      const w = yield* world
      const results = yield* Effect.flatMap(Verifier.Verifier, (v) => Effect.forEach(addresses, v.verify)).pipe(
        Effect.provide(NodeVerifier.layer(options(w)))
      )
      results.forEach((v, i) => {
        assert.strictEqual(v.address, addresses[i])
        assert.strictEqual(`${v.verdict}/${v.reason}`, "undeliverable/syntax", JSON.stringify(addresses[i]))
        assert.isNull(v.normalized)
        assert.isNull(v.mx)
        assert.deepStrictEqual(v.transcript, [])
      })
      const stats = yield* w.stats
      assert.strictEqual(totalConnections(stats), 0, "no connection at all")
      assert.deepStrictEqual(stats.commands, [])
    })
  )

  it.live("injected addresses among good ones in a batch: the good ones are asked, nothing injected", () =>
    Effect.gen(function* () {
      const w = yield* world
      const batch = [...addresses, "alice@alpha.test", "nobody@alpha.test"]
      const results = yield* Effect.flatMap(Verifier.Verifier, (v) =>
        Stream.runCollect(v.verifyMany(Stream.fromIterable(batch)))
      ).pipe(Effect.provide(NodeVerifier.layer(options(w))))
      const byAddress = new Map(results.map((v) => [v.address, `${v.verdict}/${v.reason}`]))
      assert.strictEqual(byAddress.get("alice@alpha.test"), "deliverable/accepted")
      assert.strictEqual(byAddress.get("nobody@alpha.test"), "undeliverable/mailbox_unknown")
      for (const address of addresses) assert.strictEqual(byAddress.get(address), "undeliverable/syntax")
      const stats = yield* w.stats
      assert.isAbove(stats.commands.length, 0)
      const rcpts = stats.commands.filter((c) => c.line.startsWith("RCPT")).map((c) => c.line)
      assert.includeMembers(rcpts, ["RCPT TO:<alice@alpha.test>", "RCPT TO:<nobody@alpha.test>"])
      // The two real recipients, once each, and the catch-all probe: nothing else.
      assert.strictEqual(rcpts.length, 3, JSON.stringify(rcpts))
      noInjection(stats)
    })
  )

  const refusedConfig = (field: "helo" | "mailFrom", value: string) =>
    Effect.gen(function* () {
      const w = yield* world
      const error = yield* Effect.flatMap(Verifier.Verifier, (v) => v.verify("alice@alpha.test")).pipe(
        Effect.provide(NodeVerifier.layer({ ...options(w), [field]: value })),
        Effect.flip
      )
      assert.strictEqual(error._tag, "InvalidConfig")
      if (error._tag === "InvalidConfig") assert.strictEqual(error.field, field)
      const stats = yield* w.stats
      assert.strictEqual(totalConnections(stats), 0, "no connection at all")
      assert.deepStrictEqual(stats.commands, [])
    })

  for (const helo of helos) {
    it.live(`helo ${JSON.stringify(helo)}: NodeVerifier.layer fails with InvalidConfig`, () =>
      refusedConfig("helo", helo)
    )
  }
  for (const mailFrom of mailFroms) {
    it.live(`mailFrom ${JSON.stringify(mailFrom)}: NodeVerifier.layer fails with InvalidConfig`, () =>
      refusedConfig("mailFrom", mailFrom)
    )
  }

  it.live("the layer itself fails, before any verification is asked for", () =>
    Effect.gen(function* () {
      const w = yield* world
      const error = yield* Layer.build(NodeVerifier.layer({ ...options(w), helo: "x\r\nMAIL FROM:<a@b>" })).pipe(
        Effect.flip
      )
      assert.strictEqual(error._tag, "InvalidConfig")
      assert.strictEqual(totalConnections(yield* w.stats), 0)
    })
  )
})
