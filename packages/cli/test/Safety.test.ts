// Nothing a hostile server or input sends reaches a person unescaped: a server whose replies carry
// terminal escapes, bidi overrides and spreadsheet formulas, against `rcpt verify` (table and
// --transcript) and `rcpt bulk --format csv`; a full disk names itself.
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { MailWorld } from "@rcpt/testing"
import { bin, cleanEnv, rcpt, tempDir, worldFlags } from "./helpers.ts"

const HOSTILE = "127.0.0.78"
const evil = {
  greeting: "220 mx.hostile.test \u001b]0;pwned\u0007\u001b[2J ESMTP",
  rcpt: '550 5.1.1 =HYPERLINK("http://evil.example","x") \u001b[32mDELIVERABLE\u001b[0m \u202eELBAREVILED\r'
}

/** An SMTP server that answers every RCPT with `evil.rcpt` and greets with escapes. */
const hostileServer = (port: number) =>
  Effect.acquireRelease(
    Effect.callback<Net.Server>((resume) => {
      const server = Net.createServer((socket) => {
        socket.on("error", () => {})
        socket.write(`${evil.greeting}\r\n`)
        let buffer = ""
        socket.on("data", (d) => {
          buffer += d.toString("latin1")
          let nl: number
          while ((nl = buffer.indexOf("\n")) !== -1) {
            const line = buffer.slice(0, nl).trim().toUpperCase()
            buffer = buffer.slice(nl + 1)
            if (line.startsWith("EHLO") || line.startsWith("HELO"))
              socket.write("250-mx.hostile.test \u001b[5m\r\n250 8BITMIME\r\n")
            else if (line.startsWith("MAIL")) socket.write("250 2.1.0 Ok\r\n")
            else if (line.startsWith("RCPT")) socket.write(`${evil.rcpt}\r\n`)
            else if (line.startsWith("QUIT")) socket.end("221 2.0.0 Bye\r\n")
            else socket.write("250 Ok\r\n")
          }
        })
      })
      server.listen(port, HOSTILE, () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.callback<void>((resume) => void server.close(() => resume(Effect.void)))
  )

const world = MailWorld.start({
  domains: [{ name: "hostile.test", mx: [{ host: "mx.hostile.test", preference: 10 }] }],
  hosts: [{ name: "mx.hostile.test", address: HOSTILE, behaviour: { down: true } }]
})

// oxlint-disable-next-line no-control-regex -- raw control characters are what must not appear
const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

describe("hostile replies", { timeout: 60_000 }, () => {
  it.live("verify's table and --transcript escape a server's controls and bidi overrides", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const w = yield* world
        yield* hostileServer(w.smtpPort)
        const ran = yield* rcpt(["verify", "--transcript", "--no-catch-all", ...worldFlags(w), "bob@hostile.test"])
        assert.strictEqual(ran.code, 1, ran.stderr)
        assert.notMatch(ran.stdout, raw)
        assert.include(ran.stdout, "\\e]0;pwned\\x07\\e[2J")
        assert.include(ran.stdout, "\\u{202e}ELBAREVILED")
        assert.include(ran.stdout, "undeliverable")
      })
    )
  )

  it.live("bulk --format csv: formulas from input and from replies neutralised, escapes escaped", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const w = yield* world
        yield* hostileServer(w.smtpPort)
        const dir = yield* tempDir
        const list = Path.join(dir, "list.txt")
        Fs.writeFileSync(list, "+cmd@hostile.test\n=1+1@hostile.test\n")
        const out = Path.join(dir, "out.csv")
        const ran = yield* rcpt(["bulk", list, "--format", "csv", "-o", out, "--no-catch-all", ...worldFlags(w)])
        assert.strictEqual(ran.code, 0, ran.stderr)
        const csv = Fs.readFileSync(out, "utf8")
        assert.notMatch(csv, raw)
        const rows = csv.trim().split("\n").slice(1)
        assert.strictEqual(rows.length, 2, csv)
        for (const row of rows) {
          // No cell starts with a formula trigger (a quoted cell's first character after the quote).
          for (const cell of row.match(/("([^"]|"")*"|[^,]*)(,|$)/g) ?? []) {
            assert.notMatch(cell, /^"?[=+\-@\t\r]/, row)
          }
        }
        assert.include(csv, "'+cmd@hostile.test")
        assert.include(csv, `"'=HYPERLINK(""http://evil.example"",""x"")`)
        // --resume reads the neutralised addresses back: nothing is verified twice.
        const again = yield* rcpt(["bulk", list, "--format", "csv", "-o", out, "--resume", ...worldFlags(w)])
        assert.strictEqual(again.code, 0, again.stderr)
        assert.strictEqual(Fs.readFileSync(out, "utf8"), csv)
      })
    )
  )
})

describe("a full disk", { timeout: 60_000 }, () => {
  it.live('says "no space left on device" (-o and stdout alike), exit 73', () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const list = Path.join(dir, "list.txt")
        Fs.writeFileSync(list, "not-an-address\n")
        const toFile = yield* rcpt(["bulk", list, "-o", "/dev/full"])
        assert.strictEqual(toFile.code, 73, toFile.stderr)
        assert.include(toFile.stderr, "no space left on device")
        // `rcpt bulk list > /dev/full`: was a silent exit 141, as if the reader had gone away.
        const full = Fs.openSync("/dev/full", "w")
        const toStdout = yield* Effect.callback<{ code: number | null; stderr: string }>((resume) => {
          const child = spawn(process.execPath, [bin, "bulk", list], {
            env: cleanEnv(),
            stdio: ["ignore", full, "pipe"]
          })
          let stderr = ""
          child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
          child.on("close", (code) => resume(Effect.succeed({ code, stderr })))
        })
        Fs.closeSync(full)
        assert.strictEqual(toStdout.code, 73, toStdout.stderr)
        assert.include(toStdout.stderr, "standard output: cannot write (no space left on device)")
      })
    )
  )
})

describe("target policy in the CLI", { timeout: 60_000 }, () => {
  it.live(
    "loopback MX refused by default (unknown/target_refused, exit 3); --allow-target or RCPT_ALLOW_TARGETS open it",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const w = yield* MailWorld.start(MailWorld.demo)
          const flags = worldFlags(w).slice(2) // without --allow-target
          const refused = yield* rcpt(["verify", "--json", ...flags, "alice@alpha.test"])
          const connections = Object.values((yield* w.stats).connections).reduce((a, b) => a + b, 0)
          assert.strictEqual(connections, 0, "no connection reached the world's servers")
          const [flag, env] = yield* Effect.all(
            [
              rcpt(["verify", "--json", ...flags, "--allow-target", "127.0.0.0/8", "alice@alpha.test"]),
              rcpt(["verify", "--json", ...flags, "alice@alpha.test"], {
                RCPT_ALLOW_TARGETS: "10.0.0.0/8, 127.0.0.0/8"
              })
            ],
            { concurrency: "unbounded" }
          )
          assert.strictEqual(refused.code, 3, refused.stderr)
          const v = JSON.parse(refused.stdout) as { reason: string; detail: string }
          assert.strictEqual(v.reason, "target_refused")
          assert.include(v.detail, "127.0.0.0/8 (Loopback")
          assert.strictEqual(flag.code, 0, flag.stderr)
          assert.strictEqual(env.code, 0, env.stderr)
          const bad = yield* rcpt(["verify", ...flags, "--allow-target", "10.0.0.0/33", "alice@alpha.test"])
          assert.strictEqual(bad.code, 64, bad.stderr)
          assert.include(bad.stderr, "--allow-target")
        })
      )
  )
})
