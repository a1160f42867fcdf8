// The routing flags end to end through the `rcpt` binary: a verification through a SOCKS5 proxy
// (the server sees the proxy's address; a wrong password is unknown / proxy_auth_failed, exit 3),
// a routing file read as YAML, and usage errors that never echo a proxy password.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { MailWorld, Socks5Server } from "@rcpt/testing"
import { jsonLines, rcpt, tempDir, worldFlags } from "./helpers.ts"

describe("rcpt verify with routing flags", { timeout: 60_000 }, () => {
  it.live("--proxy: deliverable through it (the server saw the proxy); a wrong password is unknown, exit 3", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(MailWorld.demo)
      const proxy = yield* Socks5Server.start({
        credentials: { username: "u", password: "pw" },
        external: "127.0.0.95"
      })
      const url = (password: string) => `socks5://u:${password}@${proxy.address}:${proxy.port}`
      const [good, bad] = yield* Effect.all(
        [
          rcpt(["verify", ...worldFlags(world), "--proxy", url("pw"), "--json", "alice@alpha.test"]),
          rcpt(["verify", ...worldFlags(world), "--json", "alice@alpha.test"], { RCPT_PROXY: url("nope") })
        ],
        { concurrency: "unbounded" }
      )
      assert.strictEqual(good.code, 0, good.stderr)
      assert.strictEqual(jsonLines(good.stdout)[0]?.verdict, "deliverable")
      const clients = Object.values((yield* world.stats).clients).flatMap((byClient) => Object.keys(byClient))
      assert.include(clients, "127.0.0.95")
      assert.strictEqual(bad.code, 3, bad.stderr)
      const result = jsonLines(bad.stdout)[0]
      assert.strictEqual(result?.verdict, "unknown")
      assert.strictEqual(result?.reason, "proxy_auth_failed")
      assert.notInclude(bad.stdout + bad.stderr, "nope")
    }).pipe(Effect.scoped)
  )

  it.live(
    "usage: a bad proxy URL (password not echoed), a bad source address, a bad routing file (64); an unreadable one (66)",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const routing = Path.join(dir, "routing.yaml")
        Fs.writeFileSync(routing, "rules:\n  - match: { provider: nosuch }\n")
        const runs = yield* Effect.all(
          [
            rcpt(["verify", "--proxy", "http://u:hunter2@127.0.0.1:8080", "a@b.test"]),
            rcpt(["verify", "--source-address", "not-an-ip", "a@b.test"]),
            rcpt(["verify", "--routing", routing, "a@b.test"]),
            rcpt(["verify", "--routing", Path.join(dir, "missing.yaml"), "a@b.test"])
          ],
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(
          runs.map((r) => r.code),
          [64, 64, 64, 66],
          runs.map((r) => r.stderr).join("\n")
        )
        assert.notInclude(runs[0]!.stderr, "hunter2")
        assert.include(runs[0]!.stderr, "unsupported scheme")
        assert.include(runs[1]!.stderr, "not an IP address")
        assert.include(runs[2]!.stderr, 'unknown provider "nosuch"')
      }).pipe(Effect.scoped)
  )
})
