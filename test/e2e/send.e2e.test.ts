// Sending through a real Postfix with Cyrus SASL (issue 9): @rcpt/mailer (Mailer, with NodeMailer from @rcpt/node)
// and `rcpt send` against the mail world's 127.0.0.8 (test/e2e/mail-world/README.md): 587
// (STARTTLS required, AUTH only under TLS), 465 (implicit TLS + AUTH), 25 (relay, no AUTH). Every
// delivered message is read back from the Maildirs Postfix's virtual(8) wrote: one copy per
// recipient, Bcc in no header, Subject and body as sent. Network: 127.0.0.8 only (no DNS).
//
// Skipped, saying why, when the world's send listeners do not answer (no world, or one started
// by an older up.sh); RCPT_E2E_REQUIRE_WORLD=1 turns that skip into a failure. The CLI part is
// skipped the same way while `rcpt --help` does not name `send`, or when the CLI cannot be run in
// a mount namespace of its own (needs root and unshare) (RCPT_E2E_REQUIRE_CLI=1: fail).
//
// Certificates and addresses: the listeners' certificate names mx.send.test (and 127.0.0.8). The
// library connects to 127.0.0.8 with `servername: "mx.send.test"`; the CLI (no --servername flag)
// gets `--host mx.send.test`, which its getaddrinfo finds in the world's hosts file, bind-mounted
// over /etc/hosts in the CLI's namespace. Neither connects to the bare IP with TLS: @rcpt/node's
// transport leaves an IP out of SNI (right) and then lets Node check the certificate against
// "localhost" (wrong), so a certificate for 127.0.0.8 is refused ("Host: localhost. is not in the
// cert's altnames").
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { spawn, spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { Mailer } from "@rcpt/mailer"
import { NodeMailer } from "@rcpt/node"
import type { MailerConfig, SendError } from "@rcpt/mailer"
import PostalMime from "postal-mime"
import {
  helo,
  letters,
  mailDir,
  postfixLogFromNow,
  relayPort,
  saslPassword,
  saslUser,
  sendCertFile,
  sendDomain,
  sendHost,
  sendRecipients,
  stateDir,
  submissionPort,
  submissionsPort
} from "./world.ts"

const root = fileURLToPath(new URL("../..", import.meta.url))
const from = "sender@mail.test"
/** The name the listeners' certificate carries (the world's hosts file maps it to 127.0.0.8). */
const sendName = "mx.send.test"
const hostsFile = Path.join(stateDir, "hosts")
const resolvFile = Path.join(stateDir, "resolv.conf")
/** The headers the delivery agent (or smtpd) adds, which name the envelope recipient. */
const deliveryHeaders = new Set(["return-path", "x-original-to", "delivered-to", "received"])

// ------------------------------------------------------------------------------------------
// Is the world (with its send listeners) up? Is the CLI's `send` there?
// ------------------------------------------------------------------------------------------

const greets = (host: string, port: number, timeoutMs = 3000): Promise<string | undefined> =>
  new Promise((resolve) => {
    const socket = Net.connect({ host, port })
    let data = ""
    const done = (line?: string) => {
      socket.destroy()
      resolve(line)
    }
    socket.setTimeout(timeoutMs, () => done())
    socket.on("error", () => done())
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1")
      if (data.includes("\r\n")) {
        socket.write("QUIT\r\n")
        done(data.split("\r\n")[0])
      }
    })
  })

const worldProblem = async (): Promise<string | undefined> => {
  for (const port of [relayPort, submissionPort]) {
    const line = await greets(sendHost, port)
    if (line === undefined || !line.startsWith("220 ")) {
      return `no SMTP greeting from ${sendHost}:${port} (start the world with \`bash test/e2e/mail-world/up.sh\` as root, or run \`npm run test:e2e\`)`
    }
  }
  if (!existsSync(sendCertFile)) return `${sendCertFile} is missing`
  return undefined
}

const worldSkip = process.env["RCPT_E2E_REQUIRE_WORLD"] === "1" ? undefined : await worldProblem()
if (worldSkip !== undefined) console.warn(`send e2e: skipped: ${worldSkip}`)

const cliProblem = (): string | undefined => {
  if (!existsSync(Path.join(root, "node_modules/.bin/rcpt"))) return "node_modules/.bin/rcpt is missing"
  if (process.getuid?.() !== 0 || spawnSync("unshare", ["--version"]).status !== 0) {
    return "the CLI runs in a mount namespace with the world's hosts file: needs root and unshare"
  }
  if (!existsSync(hostsFile) || !existsSync(resolvFile)) return `${hostsFile} or ${resolvFile} is missing`
  const help = spawnSync("npx", ["--no", "--", "rcpt", "--help"], { cwd: root, encoding: "utf8", timeout: 60_000 })
  if (help.status === 0 && !/\bsend\b/.test(`${help.stdout ?? ""}\n${help.stderr ?? ""}`)) {
    return "`rcpt --help` does not name send"
  }
  return undefined
}
const cliSkip =
  worldSkip !== undefined ? worldSkip : process.env["RCPT_E2E_REQUIRE_CLI"] === "1" ? undefined : cliProblem()
if (cliSkip !== undefined && worldSkip === undefined) console.warn(`send e2e (CLI): skipped: ${cliSkip}`)

// ------------------------------------------------------------------------------------------
// The message, the Maildirs, Postfix's log
// ------------------------------------------------------------------------------------------

/** A message to the three send.test users, marked with a token of its own. */
const message = (token: string) => ({
  subject: `e2e send ${token} — Grüße, ünïcödé`,
  text: `Hello ${token},\n.\nA line with a lone dot above, and one with a leading dot below.\n..twice\nÄöü ✓\n`
})

interface Delivered {
  readonly file: string
  readonly raw: string
}

/** The messages in one user's Maildir that carry `token`. */
const copies = (user: string, token: string): Array<Delivered> => {
  const found: Array<Delivered> = []
  for (const sub of ["new", "cur"]) {
    const dir = Path.join(mailDir, sendDomain, user, sub)
    if (!existsSync(dir)) continue
    for (const name of readdirSync(dir)) {
      const file = Path.join(dir, name)
      if (!statSync(file).isFile()) continue
      const raw = readFileSync(file, "latin1")
      if (raw.includes(token)) found.push({ file, raw })
    }
  }
  return found
}

const localPart = (address: string) => address.split("@")[0]!

/**
 * Waits (up to 10 s) until each of the three users has a copy of the message `token` marks, then
 * a little longer, so that a second copy would be seen too.
 */
const delivered = (token: string, users: ReadonlyArray<string> = Object.values(sendRecipients)) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 10_000
    const all = () => users.map((u) => [u, copies(localPart(u), token)] as const)
    while (all().some(([, c]) => c.length === 0) && Date.now() < deadline) yield* Effect.sleep("100 millis")
    yield* Effect.sleep("500 millis")
    return new Map(all())
  })

/** Unfolded header fields of a raw message, in order. */
const headers = (raw: string): Array<{ readonly name: string; readonly value: string }> => {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? ""
  return head
    .replace(/\r?\n[ \t]+/g, " ")
    .split(/\r?\n/)
    .filter((l) => l.includes(":"))
    .map((l) => ({ name: l.slice(0, l.indexOf(":")).trim().toLowerCase(), value: l.slice(l.indexOf(":") + 1).trim() }))
}

/**
 * Each recipient got exactly one copy; Bcc is in no header of any copy (the delivery agent's own
 * headers aside); the parsed Subject and text are the ones sent.
 */
const assertDelivered = (token: string) =>
  Effect.gen(function* () {
    const sent = message(token)
    const byUser = yield* delivered(token)
    for (const [user, found] of byUser) {
      assert.strictEqual(found.length, 1, `${user}: exactly one copy (${found.map((f) => f.file).join(", ")})`)
      const { raw } = found[0]!
      const fields = headers(raw)
      const leaking = fields.filter(
        (h) => !deliveryHeaders.has(h.name) && (h.name === "bcc" || h.value.toLowerCase().includes(sendRecipients.bcc))
      )
      assert.deepStrictEqual(leaking, [], `${user}: no header names the Bcc recipient`)
      // The delivery agent's Delivered-To is the envelope recipient: the Bcc copy came by envelope.
      assert.include(
        fields.filter((h) => h.name === "delivered-to").map((h) => h.value.toLowerCase()),
        user,
        `${user}: Delivered-To`
      )
      const parsed = yield* Effect.promise(() => PostalMime.parse(raw))
      assert.strictEqual(parsed.subject, sent.subject, `${user}: Subject`)
      assert.strictEqual((parsed.text ?? "").replace(/\r\n/g, "\n").trimEnd(), sent.text.trimEnd(), `${user}: body`)
      assert.deepStrictEqual(
        parsed.to?.map((a) => ("address" in a ? a.address : undefined)),
        [sendRecipients.to]
      )
      assert.deepStrictEqual(
        parsed.cc?.map((a) => ("address" in a ? a.address : undefined)),
        [sendRecipients.cc]
      )
      assert.isUndefined(parsed.bcc, `${user}: no Bcc parsed`)
      assert.notInclude(
        raw
          .split(/\r?\n\r?\n/)
          .slice(1)
          .join("\n\n"),
        sendRecipients.bcc,
        `${user}: body`
      )
    }
  })

/** Lines Postfix logs from now on, for the listener named `service` (e.g. "submission"). */
const logWatch = () => {
  const since = postfixLogFromNow()
  return {
    /** Waits (up to 5 s) for `count` disconnect lines of `service`, and returns its lines. */
    sessions: (service: string, count = 1) =>
      Effect.gen(function* () {
        const mine = () => since().filter((l) => l.includes(`postfix/${service}/smtpd[`))
        const deadline = Date.now() + 5000
        while (mine().filter((l) => l.includes(" disconnect from ")).length < count && Date.now() < deadline) {
          yield* Effect.sleep("100 millis")
        }
        return mine()
      })
  }
}

// ------------------------------------------------------------------------------------------
// The library
// ------------------------------------------------------------------------------------------

const ca = () => [readFileSync(sendCertFile, "utf8")]

const options = (port: number, overrides: Partial<MailerConfig.MailerConfig> = {}): NodeMailer.Options => ({
  host: sendHost,
  servername: sendName,
  port,
  tls: port === submissionsPort ? "implicit" : "required",
  ca: ca(),
  clientName: helo,
  auth: { _tag: "Password", username: saslUser, password: saslPassword },
  maxConnections: 1,
  maxMessages: 1,
  retry: Schedule.recurs(0),
  ...overrides
})

const mail = (token: string) => ({
  from: { name: "E2E Sender", address: from },
  to: sendRecipients.to,
  cc: sendRecipients.cc,
  bcc: sendRecipients.bcc,
  ...message(token)
})

const send = (opts: NodeMailer.Options, token: string) =>
  Effect.gen(function* () {
    const mailer = yield* Mailer.Mailer
    return yield* mailer.send(mail(token))
  }).pipe(Effect.provide(NodeMailer.layer(opts).pipe(Layer.orDie)))

const lines = (t: ReadonlyArray<{ readonly direction: string; readonly text: string }>) =>
  t.map((e) => `${e.direction}: ${e.text}`)

/** The password in every form a transcript could leak it. */
const secrets = (user: string, password: string) => [
  password,
  Buffer.from(password).toString("base64"),
  Buffer.from(`\0${user}\0${password}`).toString("base64")
]

const assertNoSecret = (text: string, password = saslPassword) => {
  for (const s of secrets(saslUser, password)) assert.notInclude(text, s, "the password never shows")
}

const reasonOf = (error: SendError.SendError) => error.reason

describe.skipIf(worldSkip !== undefined)(
  worldSkip === undefined ? "send e2e: @rcpt/mailer" : `send e2e: @rcpt/mailer (skipped: ${worldSkip})`,
  () => {
    it.live("587: STARTTLS, then AUTH PLAIN; To, Cc, Bcc each delivered once, Bcc in no header", () =>
      Effect.gen(function* () {
        const token = letters(12)
        const log = logWatch()
        const result = yield* send(options(submissionPort), token)
        assert.deepStrictEqual(result.accepted, [sendRecipients.to, sendRecipients.cc, sendRecipients.bcc])
        assert.isTrue(result.queueId._tag === "Some", "Postfix names a queue id")
        const t = lines(result.transcript)
        assert.include(t, "C: STARTTLS")
        assert.include(t, "C: AUTH PLAIN ****")
        // STARTTLS comes before AUTH, and AUTH before MAIL.
        assert.isBelow(t.indexOf("C: STARTTLS"), t.indexOf("C: AUTH PLAIN ****"))
        assert.isBelow(
          t.indexOf("C: AUTH PLAIN ****"),
          t.findIndex((l) => l.startsWith("C: MAIL FROM:"))
        )
        assertNoSecret(t.join("\n"))
        yield* assertDelivered(token)
        const logged = (yield* log.sessions("submission")).join("\n")
        assert.include(logged, `sasl_method=PLAIN, sasl_username=${saslUser}`)
      })
    )

    it.live("465: implicit TLS, then AUTH LOGIN; delivered the same way", () =>
      Effect.gen(function* () {
        const token = letters(12)
        const result = yield* send(options(submissionsPort, { mechanism: "LOGIN" }), token)
        assert.strictEqual(result.accepted.length, 3)
        const t = lines(result.transcript)
        assert.notInclude(t, "C: STARTTLS", "TLS from the first byte: no STARTTLS")
        assert.isTrue(
          t.some((l) => l.startsWith("C: AUTH LOGIN")),
          t.join("\n")
        )
        assertNoSecret(t.join("\n"))
        yield* assertDelivered(token)
      })
    )

    it.live("465: AUTH CRAM-MD5 against the sasldb", () =>
      Effect.gen(function* () {
        const token = letters(12)
        const result = yield* send(options(submissionsPort, { mechanism: "CRAM-MD5" }), token)
        assert.strictEqual(result.accepted.length, 3)
        assertNoSecret(lines(result.transcript).join("\n"))
        yield* assertDelivered(token)
      })
    )

    it.live("587 with TLS off: the client refuses to send credentials, Postfix never sees AUTH", () =>
      Effect.gen(function* () {
        const token = letters(12)
        const log = logWatch()
        const error = yield* send(options(submissionPort, { tls: "off" }), token).pipe(Effect.flip)
        const reason = reasonOf(error)
        assert.strictEqual(reason._tag, "AuthUnavailable", error.message)
        if (reason._tag === "AuthUnavailable") assert.strictEqual(reason.why, "Cleartext")
        assert.isFalse(error.isRetryable)
        const t = lines(error.transcript)
        assert.isFalse(
          t.some((l) => l.startsWith("C: AUTH")),
          t.join("\n")
        )
        assert.isFalse(
          t.some((l) => l.startsWith("C: MAIL")),
          t.join("\n")
        )
        // Postfix's own count of the session's commands: EHLO and QUIT, no AUTH, no STARTTLS.
        const logged = yield* log.sessions("submission")
        const disconnect = logged.filter((l) => l.includes(" disconnect from "))
        assert.strictEqual(disconnect.length, 1, logged.join("\n"))
        assert.notMatch(disconnect[0]!, /\bauth=/)
        assert.match(disconnect[0]!, /\behlo=1 quit=1 commands=2\b/)
        assert.deepStrictEqual(copies(localPart(sendRecipients.to), token), [])
      })
    )

    it.live("587 with TLS off and cleartext AUTH allowed by the client: Postfix offers no AUTH before TLS", () =>
      Effect.gen(function* () {
        const log = logWatch()
        const error = yield* send(options(submissionPort, { tls: "off", allowInsecureAuth: true }), letters(12)).pipe(
          Effect.flip
        )
        const reason = reasonOf(error)
        assert.strictEqual(reason._tag, "AuthUnavailable", error.message)
        if (reason._tag === "AuthUnavailable") assert.strictEqual(reason.why, "NotOffered")
        const t = lines(error.transcript)
        assert.isFalse(
          t.some((l) => /^S: 250[- ]AUTH\b/.test(l)),
          t.join("\n")
        )
        assert.isFalse(
          t.some((l) => l.startsWith("C: AUTH")),
          t.join("\n")
        )
        const disconnect = (yield* log.sessions("submission")).filter((l) => l.includes(" disconnect from "))
        assert.strictEqual(disconnect.length, 1)
        assert.notMatch(disconnect[0]!, /\bauth=/)
      })
    )

    it.live("a wrong password: 535 5.7.8, AuthFailed (InvalidCredentials), not retryable, nothing delivered", () =>
      Effect.gen(function* () {
        const token = letters(12)
        const wrong = `wrong-${letters(6)}`
        const log = logWatch()
        const error = yield* send(
          options(submissionPort, { auth: { _tag: "Password", username: saslUser, password: wrong } }),
          token
        ).pipe(Effect.flip)
        const reason = reasonOf(error)
        assert.strictEqual(reason._tag, "AuthFailed", error.message)
        if (reason._tag === "AuthFailed") {
          assert.strictEqual(reason.outcome, "InvalidCredentials")
          assert.strictEqual(reason.reply.code, 535)
          assert.strictEqual(reason.reply.enhanced, "5.7.8")
        }
        assert.isFalse(error.isRetryable)
        assertNoSecret(JSON.stringify(error.transcript), wrong)
        const logged = (yield* log.sessions("submission")).join("\n")
        assert.include(logged, `SASL PLAIN authentication failed`)
        yield* Effect.sleep("500 millis")
        assert.deepStrictEqual(copies(localPart(sendRecipients.to), token), [])
      })
    )

    it.live("25: the relay offers no AUTH; without credentials the message is delivered", () =>
      Effect.gen(function* () {
        const token = letters(12)
        const result = yield* send(options(relayPort, { tls: "off", auth: undefined }), token)
        assert.strictEqual(result.accepted.length, 3)
        const t = lines(result.transcript)
        assert.isFalse(
          t.some((l) => /^S: 250[- ]AUTH\b/.test(l) || l.startsWith("C: AUTH")),
          t.join("\n")
        )
        yield* assertDelivered(token)
      })
    )
  }
)

// ------------------------------------------------------------------------------------------
// The CLI
// ------------------------------------------------------------------------------------------

const passwordVar = "RCPT_E2E_SMTP_PASSWORD"

/**
 * The command that runs `args` in a mount namespace of its own whose /etc/resolv.conf points at
 * loopback and whose /etc/hosts is the world's (mx.send.test -> 127.0.0.8). Always a fresh one:
 * test/e2e/run.sh's namespace has the guard resolv.conf but the machine's hosts file.
 */
const guarded = (args: ReadonlyArray<string>): [string, Array<string>] => [
  "unshare",
  [
    "--mount",
    "--propagation",
    "private",
    "--",
    "/bin/sh",
    "-c",
    'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts && shift 2 && exec "$@"',
    "guard",
    resolvFile,
    hostsFile,
    ...args
  ]
]

interface Ran {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

const rcpt = (args: ReadonlyArray<string>, password: string) =>
  Effect.promise(
    () =>
      new Promise<Ran>((resolve, reject) => {
        const [command, argv] = guarded(["npx", "--no", "--", "rcpt", ...args])
        const env = { ...process.env, [passwordVar]: password, NO_COLOR: "1" }
        const child = spawn(command, argv, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] })
        let stdout = ""
        let stderr = ""
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")))
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")))
        const timer = setTimeout(() => child.kill("SIGTERM"), 60_000)
        child.on("error", (e) => {
          clearTimeout(timer)
          reject(e)
        })
        child.on("close", (status) => {
          clearTimeout(timer)
          resolve({ status, stdout, stderr })
        })
      })
  )

const cliArgs = (port: number, tls: string, token: string) => {
  const { subject, text } = message(token)
  return [
    "send",
    "--host",
    sendName,
    "--port",
    String(port),
    "--tls",
    tls,
    "--user",
    saslUser,
    "--password-env",
    passwordVar,
    "--from",
    from,
    "--to",
    sendRecipients.to,
    "--cc",
    sendRecipients.cc,
    "--bcc",
    sendRecipients.bcc,
    "--subject",
    subject,
    "--text",
    text,
    "--ca",
    sendCertFile,
    "--helo",
    helo,
    "--transcript"
  ]
}

const show = (ran: Ran) =>
  `exit ${ran.status}\n--- stdout\n${ran.stdout.slice(0, 3000)}\n--- stderr\n${ran.stderr.slice(0, 2000)}`

describe.skipIf(cliSkip !== undefined)(
  cliSkip === undefined ? "send e2e: rcpt send" : `send e2e: rcpt send (skipped: ${cliSkip})`,
  () => {
    for (const [port, tls, auth] of [
      [submissionPort, "required", "AUTH PLAIN ****"],
      [submissionsPort, "implicit", "AUTH PLAIN ****"]
    ] as const) {
      it.live(`--port ${port} --tls ${tls}: sent, delivered once each, --transcript shows "${auth}" only`, () =>
        Effect.gen(function* () {
          const token = letters(12)
          const ran = yield* rcpt(cliArgs(port, tls, token), saslPassword)
          assert.strictEqual(ran.status, 0, show(ran))
          assert.include(ran.stdout, `C: ${auth}`, show(ran))
          assert.match(ran.stdout, /^Queue ID: +[0-9A-Za-z]+$/m, show(ran))
          assert.match(ran.stdout, new RegExp(`accepted +${sendRecipients.bcc}`), show(ran))
          if (tls === "required") assert.include(ran.stdout, "C: STARTTLS", show(ran))
          else assert.notInclude(ran.stdout, "C: STARTTLS", show(ran))
          assertNoSecret(`${ran.stdout}\n${ran.stderr}`)
          yield* assertDelivered(token)
        })
      )
    }

    it.live("--tls off with --user: exit 69, no AUTH sent, the password nowhere", () =>
      Effect.gen(function* () {
        const token = letters(12)
        const log = logWatch()
        const ran = yield* rcpt(cliArgs(submissionPort, "off", token), saslPassword)
        assert.strictEqual(ran.status, 69, show(ran))
        assert.include(ran.stderr, "AuthUnavailable", show(ran))
        assert.notMatch(ran.stdout, /^C: AUTH/m, show(ran))
        assertNoSecret(`${ran.stdout}\n${ran.stderr}`)
        const disconnect = (yield* log.sessions("submission")).filter((l) => l.includes(" disconnect from "))
        assert.strictEqual(disconnect.length, 1)
        assert.notMatch(disconnect[0]!, /\bauth=/)
      })
    )

    it.live("a wrong password: exit 69 with the server's 535, masked in the transcript", () =>
      Effect.gen(function* () {
        const token = letters(12)
        const wrong = `wrong-${letters(6)}`
        const ran = yield* rcpt(cliArgs(submissionPort, "required", token), wrong)
        assert.strictEqual(ran.status, 69, show(ran))
        assert.include(ran.stderr, "AuthFailed", show(ran))
        assert.include(`${ran.stdout}\n${ran.stderr}`, "535", show(ran))
        assert.include(ran.stdout, "C: AUTH PLAIN ****", show(ran))
        assertNoSecret(`${ran.stdout}\n${ran.stderr}`, wrong)
        assert.deepStrictEqual(copies(localPart(sendRecipients.to), token), [])
      })
    )
  }
)
