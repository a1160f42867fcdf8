// The `rcpt` command line (package @rcpt/cli) against the real MTAs of the mail world: the real
// binary, run with `npx --no rcpt` (never a registry download), in a child process.
//
// The CLI is being written alongside this suite: while packages/cli/bin/rcpt.js does not exist,
// or exists but its `--help` names neither `verify` nor `bulk` (a placeholder), these tests are
// skipped and say why. RCPT_E2E_REQUIRE_CLI=1 turns that skip into a failure.
//
// Network: the CLI gets the world's DNS server by flag and by RCPT_DNS_SERVERS; as root it also
// runs in a private mount namespace whose /etc/resolv.conf names 127.0.0.1 only (test/e2e/run.sh
// already runs the whole suite that way), so no lookup of it can leave the machine.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { assertWorldUp, dnsServer, helo, letters, smtpPort, stateDir } from "./world.ts"

const root = fileURLToPath(new URL("../..", import.meta.url))
const binPath = "packages/cli/bin/rcpt.js"

const env: NodeJS.ProcessEnv = {
  ...process.env,
  // The same settings as the flags below: whichever the CLI reads, it never asks the system's DNS.
  RCPT_DNS_SERVERS: dnsServer,
  // The servers are on loopback, which the target policy refuses unless opened.
  RCPT_ALLOW_TARGETS: "127.0.0.0/8",
  RCPT_HELO: helo,
  RCPT_ALLOW_SPECIAL_USE: "test",
  RCPT_PORT: String(smtpPort),
  NO_COLOR: "1"
}

/** The command that runs `args` in a namespace whose resolv.conf points at loopback, when we can. */
const guarded = (args: ReadonlyArray<string>): [string, Array<string>] => {
  const resolv = Path.join(stateDir, "resolv.conf")
  const canGuard =
    process.env["RCPT_E2E_RESOLV_GUARDED"] !== "1" &&
    process.getuid?.() === 0 &&
    existsSync(resolv) &&
    spawnSync("unshare", ["--version"]).status === 0
  if (!canGuard) return [args[0]!, args.slice(1)]
  return [
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "--",
      "/bin/sh",
      "-c",
      'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"',
      "guard",
      resolv,
      ...args
    ]
  ]
}

// `--no`: never download a package called rcpt; `--`: the rest is rcpt's, not npx's (`--help`).
const rcptArgs = (args: ReadonlyArray<string>) => ["npx", "--no", "--", "rcpt", ...args]

interface Ran {
  readonly status: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

const rcpt = (args: ReadonlyArray<string>, options: { readonly input?: string; readonly timeoutMs?: number } = {}) =>
  new Promise<Ran>((resolve, reject) => {
    const [command, argv] = guarded(rcptArgs(args))
    const child = spawn(command, argv, { cwd: root, env, stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")))
    const timer = setTimeout(() => child.kill("SIGTERM"), options.timeoutMs ?? 90_000)
    child.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on("close", (status, signal) => {
      clearTimeout(timer)
      resolve({ status, signal, stdout, stderr })
    })
    child.stdin.end(options.input ?? "")
  })

/** Why the CLI tests cannot run yet, or undefined when they can. */
const notReady = (): string | undefined => {
  if (!existsSync(Path.join(root, binPath))) return `${binPath} does not exist yet`
  if (!existsSync(Path.join(root, "node_modules/.bin/rcpt"))) {
    return "node_modules/.bin/rcpt is missing (run npm install to link @rcpt/cli)"
  }
  const help = spawnSync("npx", ["--no", "--", "rcpt", "--help"], { cwd: root, env, encoding: "utf8", timeout: 60_000 })
  const text = `${help.stdout ?? ""}\n${help.stderr ?? ""}`
  // A CLI that crashes is a failure to report, not a reason to skip: only a placeholder that runs
  // fine and knows neither command is skipped.
  if (help.status === 0 && !/\bverify\b/.test(text) && !/\bbulk\b/.test(text)) {
    return `${binPath} is a placeholder: \`rcpt --help\` names neither verify nor bulk (it printed ${JSON.stringify((help.stdout ?? "").trim().slice(0, 80))})`
  }
  return undefined
}

const skipReason = process.env["RCPT_E2E_REQUIRE_CLI"] === "1" ? undefined : notReady()
if (skipReason !== undefined) console.warn(`cli e2e: skipped: ${skipReason}`)

/** The JSON objects printed one per line (other lines, e.g. npm's warnings, ignored). */
const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)

const outcome = (r: Record<string, unknown>) => `${String(r["verdict"])}/${String(r["reason"])}`

const commonFlags = [
  "--allow-target",
  "127.0.0.0/8",
  "--dns-server",
  dnsServer,
  "--port",
  String(smtpPort),
  "--helo",
  helo
]

const show = (ran: Ran) =>
  `exit ${ran.status}${ran.signal === null ? "" : ` (${ran.signal})`}\n--- stdout\n${ran.stdout.slice(0, 2000)}\n--- stderr\n${ran.stderr.slice(0, 2000)}`

const run = letters(10)

describe.skipIf(skipReason !== undefined)(
  skipReason === undefined ? "rcpt CLI e2e" : `rcpt CLI e2e (skipped: ${skipReason})`,
  () => {
    beforeAll(assertWorldUp)

    it("verify --json: alice@alpha.test deliverable (exit 0), nobody@alpha.test undeliverable (another exit code)", async () => {
      const alice = await rcpt(["verify", "alice@alpha.test", "--json", ...commonFlags, "--tls", "opportunistic"])
      const nobody = await rcpt(["verify", "nobody@alpha.test", "--json", ...commonFlags, "--timeout", "30s"])
      const [a] = jsonLines(alice.stdout)
      const [n] = jsonLines(nobody.stdout)
      assert.isDefined(a, show(alice))
      assert.isDefined(n, show(nobody))
      assert.strictEqual(a!["address"], "alice@alpha.test", show(alice))
      assert.strictEqual(outcome(a!), "deliverable/accepted", show(alice))
      assert.strictEqual(n!["address"], "nobody@alpha.test", show(nobody))
      assert.strictEqual(outcome(n!), "undeliverable/mailbox_unknown", show(nobody))
      assert.strictEqual(alice.status, 0, show(alice))
      assert.isNotNull(nobody.status, show(nobody))
      assert.notStrictEqual(nobody.status, alice.status, "a deliverable and an undeliverable address exit differently")
      assert.notStrictEqual(nobody.status, 0, show(nobody))
    })

    it("verify --json with several addresses: one JSON line each", async () => {
      const addresses = ["alice@opensmtpd.test", "nobody@opensmtpd.test", "alice@nullmx.test", `x@${run}.test`]
      const ran = await rcpt(["verify", ...addresses, "--json", ...commonFlags])
      const results = jsonLines(ran.stdout)
      assert.sameDeepMembers(
        results.map((r) => [r["address"], outcome(r)]),
        [
          ["alice@opensmtpd.test", "deliverable/accepted"],
          ["nobody@opensmtpd.test", "undeliverable/mailbox_unknown"],
          ["alice@nullmx.test", "undeliverable/null_mx"],
          [`x@${run}.test`, "undeliverable/no_such_domain"]
        ],
        show(ran)
      )
      assert.notStrictEqual(ran.status, 0, show(ran))
    })

    it("bulk: ~300 addresses across the world's domains, one result per input line", async () => {
      // [address, expected "verdict/reason"], in an order that mixes the domains.
      const expected: Array<readonly [string, string]> = []
      const add = (addresses: ReadonlyArray<string>, o: string) => addresses.forEach((a) => expected.push([a, o]))
      const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i))
      const deliverable = "deliverable/accepted"
      const unknownMailbox = "undeliverable/mailbox_unknown"
      // Postfix on 127.0.0.2 sleeps 1 s per error after 10 in a session: a few unknowns per domain.
      add(["alice@alpha.test", "bob@alpha.test"], deliverable)
      add(
        range(8, (i) => `a${i}-${run}@alpha.test`),
        unknownMailbox
      )
      add(
        range(182, (i) => `c${i}-${run}@catchall.test`),
        "risky/catch_all"
      )
      add(["alice@implicit.test"], deliverable)
      add(
        range(5, (i) => `i${i}-${run}@implicit.test`),
        unknownMailbox
      )
      add(["alice@failover.test"], deliverable)
      add(
        range(5, (i) => `f${i}-${run}@failover.test`),
        unknownMailbox
      )
      add(["bob@bulk.test"], deliverable)
      add(
        range(8, (i) => `b${i}-${run}@bulk.test`),
        unknownMailbox
      )
      add(["nobody@greylist.test"], unknownMailbox)
      add(
        range(10, (i) => `n${i}@nullmx.test`),
        "undeliverable/null_mx"
      )
      add(
        range(10, (i) => `x${i}@nx${i % 5}-${run}.test`),
        "undeliverable/no_such_domain"
      )
      add(["alice@tls.test"], deliverable)
      add(
        range(9, (i) => `t${i}-${run}@tls.test`),
        unknownMailbox
      )
      add(["alice@tlsonly.test"], deliverable)
      add(
        range(4, (i) => `o${i}-${run}@tlsonly.test`),
        unknownMailbox
      )
      add(["alice@vrfy.test"], deliverable)
      add(
        range(4, (i) => `v${i}-${run}@vrfy.test`),
        unknownMailbox
      )
      add(["alice@opensmtpd.test"], deliverable)
      add(
        range(19, (i) => `s${i}-${run}@opensmtpd.test`),
        unknownMailbox
      )
      add(
        range(20, (i) => `u${i + 1}@limit.test`),
        deliverable
      )
      add(["not-an-address", "@alpha.test", "alice@@alpha.test"], "undeliverable/syntax")
      // Duplicates: each input line gets its own result.
      add(["alice@alpha.test", "u3@limit.test", `c0-${run}@catchall.test`], "")
      for (const [i, [a, o]] of expected.entries()) {
        if (o === "") expected[i] = [a, expected.find(([b, p]) => b === a && p !== "")![1]]
      }
      // Interleave the domains (a stable shuffle: every 7th line first, then the next...).
      const lines = Array.from({ length: 7 }, (_, k) => expected.filter((_, i) => i % 7 === k)).flat()
      assert.strictEqual(lines.length, 300)

      const dir = mkdtempSync(Path.join(Os.tmpdir(), "rcpt-e2e-"))
      try {
        const input = Path.join(dir, "addresses.txt")
        const output = Path.join(dir, "results.jsonl")
        writeFileSync(input, `${lines.map(([a]) => a).join("\n")}\n`)
        const started = Date.now()
        const ran = await rcpt(["bulk", input, "-o", output, "--format", "jsonl", ...commonFlags], {
          timeoutMs: 150_000
        })
        const seconds = (Date.now() - started) / 1000
        assert.isNull(ran.signal, show(ran))
        assert.isTrue(existsSync(output), show(ran))
        const results = jsonLines(readFileSync(output, "utf8"))
        assert.strictEqual(results.length, lines.length, `one result per input line\n${show(ran)}`)
        // The same multiset of addresses as the input.
        assert.deepStrictEqual(results.map((r) => String(r["address"])).sort(), lines.map(([a]) => a).sort())
        const want = new Map(lines.map(([a, o]) => [a, o]))
        const wrong = results
          .filter((r) => want.get(String(r["address"])) !== outcome(r))
          .map((r) => `${String(r["address"])}: got ${outcome(r)}, want ${want.get(String(r["address"]))}`)
        assert.deepStrictEqual(wrong, [], "every verdict as the world says")
        assert.strictEqual(ran.status, 0, `bulk completed\n${show(ran)}`)
        console.log(`cli bulk: ${results.length} results in ${seconds.toFixed(1)} s`)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }, 180_000)

    it("doctor against the DNS world: port 25, EHLO name and PTR pass; a listing DNSBL fails with its fix (exit 1)", async () => {
      const ran = await rcpt([
        "doctor",
        "--mx",
        "alpha.test",
        "--json",
        ...commonFlags,
        "--dnsbl",
        "listed.dnsbl.test",
        "--dnsbl",
        "clean.dnsbl.test"
      ])
      const [report] = jsonLines(ran.stdout)
      assert.isDefined(report, show(ran))
      const checks = report!["checks"] as ReadonlyArray<{
        name: string
        status: string
        summary: string
        fix: string | null
      }>
      assert.deepStrictEqual(
        Object.fromEntries(checks.map((c) => [c.name, c.status])),
        {
          port25: "pass",
          ehlo_address: "pass",
          ptr: "pass",
          "dnsbl:listed.dnsbl.test": "fail",
          "dnsbl:clean.dnsbl.test": "pass"
        },
        show(ran)
      )
      assert.strictEqual(report!["address"], "127.0.0.1")
      const listed = checks.find((c) => c.name === "dnsbl:listed.dnsbl.test")!
      assert.include(listed.summary, "https://dnsbl.test/lookup?ip=127.0.0.1")
      assert.include(listed.fix, "removal")
      assert.strictEqual(ran.status, 1, show(ran))
      const table = await rcpt(["doctor", "--mx", "mx.alpha.test", ...commonFlags, "--dnsbl", "clean.dnsbl.test"])
      assert.strictEqual(table.status, 0, show(table))
      assert.match(table.stdout, /^PASS {2}port25 /m, show(table))
      assert.include(table.stdout, "looks ready to verify")
    })
  }
)
