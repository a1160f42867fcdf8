// `rcpt send`, the real binary, against smtp-server on loopback (the mailer's test server).
import * as Fs from "node:fs"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as TestServer from "../../mailer/test/server.ts"
import * as Send from "../src/Send.ts"
import { rcpt, tempDir } from "./helpers.ts"

const common = (port: number, dir: string) => {
  const ca = Path.join(dir, "ca.pem")
  Fs.writeFileSync(ca, TestServer.certificate)
  return ["send", "--host", "localhost", "--port", String(port), "--ca", ca, "--helo", "client.example.net"]
}

describe("rcpt send", () => {
  it.live(
    "STARTTLS, AUTH, Bcc, attachment: prints the queue id, each recipient and the masked dialogue",
    () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start()
        const dir = yield* tempDir
        const file = Path.join(dir, "report.txt")
        Fs.writeFileSync(file, "attached text")
        const ran = yield* rcpt(
          [
            ...common(server.port, dir),
            "--user",
            TestServer.user,
            "--password-env",
            "SMTP_PASSWORD",
            "--from",
            "ann@example.net",
            "--to",
            "bob@example.com",
            "--to",
            "nobody@example.com",
            "--bcc",
            "hidden@example.org",
            "--subject",
            "Report",
            "--text",
            "Hello",
            "--attach",
            file,
            "--transcript"
          ],
          { SMTP_PASSWORD: TestServer.password }
        )
        assert.strictEqual(ran.code, 0, ran.stderr)
        assert.include(ran.stdout, "Queue ID:   QID1\n")
        assert.match(ran.stdout, /accepted {2}bob@example\.com {5}250/)
        assert.match(ran.stdout, /refused {3}nobody@example\.com {2}550 5\.1\.1 User unknown/)
        assert.include(ran.stdout, "C: STARTTLS\n")
        assert.include(ran.stdout, "C: AUTH PLAIN ****\n")
        assert.notInclude(ran.stdout, TestServer.password)
        assert.deepStrictEqual(server.received[0]!.rcptTo, ["bob@example.com", "hidden@example.org"])
        assert.notInclude(new TextDecoder().decode(server.received[0]!.raw), "hidden@example.org")
        assert.include(new TextDecoder().decode(server.received[0]!.raw), "report.txt")
      }),
    30_000
  )

  it.live(
    "a wrong password: exit 69, the reason on stderr",
    () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start()
        const dir = yield* tempDir
        const ran = yield* rcpt(
          [
            ...common(server.port, dir),
            "--user",
            "alice",
            "--password-env",
            "SMTP_PASSWORD",
            "--from",
            "ann@example.net",
            "--to",
            "bob@example.com",
            "--subject",
            "x",
            "--text",
            "y"
          ],
          { SMTP_PASSWORD: "wrong" }
        )
        assert.strictEqual(ran.code, 69)
        assert.match(ran.stderr, /AuthFailed: AUTH PLAIN failed \(InvalidCredentials\): 535/)
      }),
    30_000
  )

  it.live(
    "usage errors: exit 64",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const base = [...common(1, dir), "--from", "a@example.net", "--to", "b@example.com", "--subject", "x"]
        const both = yield* rcpt([...base, "--text", "a", "--text-file", "f"])
        assert.strictEqual(both.code, 64)
        assert.include(both.stderr, "--text and --text-file cannot be used together")
        const unset = yield* rcpt([...base, "--user", "u", "--password-env", "RCPT_TEST_UNSET"])
        assert.strictEqual(unset.code, 64)
        assert.include(unset.stderr, "RCPT_TEST_UNSET is not set")
      }),
    30_000
  )

  it.live(
    "one mailbox per --from/--to/--cc/--bcc: a list or a header injection is exit 64 and nothing is sent",
    () =>
      Effect.gen(function* () {
        const server = yield* TestServer.start()
        const dir = yield* tempDir
        const base = common(server.port, dir)
        const send = (flag: string, value: string) => {
          const values: Record<string, string> = { "--from": "ann@example.net", "--to": "bob@example.com" }
          values[flag] = value
          return rcpt([...base, ...Object.entries(values).flat(), "--subject", "x", "--text", "y"])
        }
        const ran = yield* Effect.all(
          [
            send("--to", "bob@example.com, eve@example.org"),
            send("--to", "bob@example.com\r\nBcc: v@evil.example"),
            send("--from", "ann@example.net; eve@example.org"),
            send("--cc", "Carol <carol@example.com>, dan@example.com")
          ],
          { concurrency: "unbounded" }
        )
        for (const r of ran) {
          assert.strictEqual(r.code, 64, r.stderr)
          assert.include(r.stderr, "expected exactly one address")
        }
        assert.strictEqual(server.received.length, 0)
      }),
    60_000
  )
})

describe("Send.oneMailbox", () => {
  const table: ReadonlyArray<readonly [string, string | undefined]> = [
    ["bob@example.com", "bob@example.com"],
    ["  bob@example.com ", "bob@example.com"],
    ['"bob, jr"@example.com', '"bob, jr"@example.com'],
    ["bob@example.com, eve@example.org", undefined],
    ["bob@example.com;eve@example.org", undefined],
    ["bob@example.com eve@example.org", undefined],
    ["bob@example.com\r\nBcc: v@evil.example", undefined],
    ["Bob <bob@example.com>", undefined],
    ["", undefined]
  ]
  it.each(table)("%j -> %j", (value, expected) => {
    const result = Effect.runSync(Effect.result(Send.oneMailbox("--to", value)))
    assert.strictEqual(result._tag === "Success" ? result.success : undefined, expected)
  })
})
