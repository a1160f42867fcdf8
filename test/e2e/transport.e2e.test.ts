// Transports against real servers (issue 16): a verification through Debian's Dante (SOCKS5 with
// user/password, started by up.sh on 127.0.0.10:1080, connecting onward from 127.0.0.11) against
// the real Postfix, which logs the proxy's address as the client's; a wrong password is unknown
// with the proxy-auth reason; a source address of our own, as Postfix logs it. 127.0.0.0/8 only.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { NodeVerifier } from "@rcpt/node"
import { Verifier } from "@rcpt/verifier"
import {
  assertWorldUp,
  dnsServer,
  helo,
  postfixLogFromNow,
  smtpPort,
  socksExternal,
  socksHost,
  socksPassword,
  socksPort,
  socksUser
} from "./world.ts"

const verify = (address: string, options: NodeVerifier.Options) =>
  Effect.flatMap(Verifier.Verifier, (v) => v.verify(address)).pipe(
    Effect.provide(
      NodeVerifier.layer({
        helo,
        allowSpecialUse: ["test"],
        port: smtpPort,
        dnsServers: [dnsServer],
        timeout: "30 seconds",
        catchAllProbe: false,
        // The mail world is on loopback, which the target policy refuses unless opened.
        allowTargets: ["127.0.0.0/8"],
        ...options
      })
    )
  )

/** Postfix's log lines from now on. */
const logFromNow = () => {
  const since = postfixLogFromNow()
  return (pattern: RegExp) =>
    Effect.gen(function* () {
      const deadline = Date.now() + 5000
      for (;;) {
        const lines = since()
        const found = lines.filter((l) => pattern.test(l))
        if (found.length > 0 || Date.now() > deadline) return found
        yield* Effect.sleep("100 millis")
      }
    })
}

const proxy = (password: string) => `socks5://${socksUser}:${encodeURIComponent(password)}@${socksHost}:${socksPort}`

describe("transports against Postfix", () => {
  beforeAll(() => assertWorldUp())

  it.live("through Dante: deliverable, and Postfix logs the proxy's external address as the client", () =>
    Effect.gen(function* () {
      const log = logFromNow()
      const result = yield* verify("alice@alpha.test", { proxy: proxy(socksPassword) })
      assert.strictEqual(`${result.verdict}/${result.reason}`, "deliverable/accepted", result.detail)
      // alpha.test's instance only (syslog name postfix/smtpd): the other instances' late lines are not this dial's.
      const connects = yield* log(/ postfix\/smtpd\[\d+\]: connect from \S*\[127\.0\.0\.\d+\]/)
      assert.isAbove(connects.length, 0, "Postfix logged the connection")
      for (const line of connects) assert.include(line, `[${socksExternal}]`)
    })
  )

  it.live("a wrong proxy password: unknown / proxy_auth_failed, nothing reaches Postfix", () =>
    Effect.gen(function* () {
      const log = logFromNow()
      const result = yield* verify("alice@alpha.test", { proxy: proxy("wrong-password") })
      assert.strictEqual(result.verdict, "unknown")
      assert.strictEqual(result.reason, "proxy_auth_failed", result.detail)
      assert.notInclude(JSON.stringify(result), "wrong-password")
      const connects = yield* log(new RegExp(`: connect from \\S*\\[${socksExternal.replaceAll(".", "\\.")}\\]`))
      assert.deepStrictEqual(connects, [])
    })
  )

  it.live("a source address of ours: Postfix logs it as the client, with our EHLO name for it", () =>
    Effect.gen(function* () {
      const log = logFromNow()
      const result = yield* verify("bob@alpha.test", {
        sourceAddresses: [{ address: "127.0.0.12", helo: "out12.rcpt.test" }]
      })
      assert.strictEqual(`${result.verdict}/${result.reason}`, "deliverable/accepted", result.detail)
      assert.include(
        result.transcript.map((t) => t.text),
        "EHLO out12.rcpt.test"
      )
      // alpha.test's instance only (syslog name postfix/smtpd): the other instances' late lines are not this dial's.
      const connects = yield* log(/ postfix\/smtpd\[\d+\]: connect from \S*\[127\.0\.0\.\d+\]/)
      assert.isAbove(connects.length, 0)
      for (const line of connects) assert.include(line, "[127.0.0.12]")
    })
  )
})
