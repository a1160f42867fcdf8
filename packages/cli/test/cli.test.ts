// The real `rcpt` binary as a child process against an in-process mail world (DNS + SMTP on
// loopback), started in the test's scope.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import type { Duration, Scope } from "effect"
import { parse as parseCsv } from "csv-parse/sync"
import { MailWorld } from "@rcpt/testing"
import { Output } from "@rcpt/cli"
import { finish, hasAnsi, jsonLines, rcpt, sortedCounts, start, tempDir, waitForLines, worldFlags } from "./helpers.ts"

const withWorld = <A, E>(
  f: (world: MailWorld.World, flags: ReadonlyArray<string>) => Effect.Effect<A, E, Scope.Scope>,
  spec: MailWorld.WorldSpec = MailWorld.demo
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const world = yield* MailWorld.start(spec)
      return yield* f(world, worldFlags(world))
    })
  )

/** 2,000 lines over alpha.test (users, unknowns), catchall.test, implicit.test, with duplicates. */
const bigList = (): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i < 2000; i++) {
    switch (i % 5) {
      case 0:
        out.push(`user${i}@alpha.test`)
        break
      case 1:
        out.push(`p${i}@catchall.test`)
        break
      case 2:
        out.push(i % 3 === 0 ? "alice@implicit.test" : `n${i}@implicit.test`)
        break
      case 3:
        out.push(`${["alice", "bob", "carol", "dave"][i % 4]}@alpha.test`)
        break
      default:
        out.push(`u${i % 300}@alpha.test`)
    }
  }
  return out
}

/** The demo world with a slow catch-all host (`delay` before its greeting). */
const slowCatchAll = (delay: Duration.Input): MailWorld.WorldSpec => ({
  ...MailWorld.demo,
  hosts: MailWorld.demo.hosts.map((h) =>
    h.address === "127.0.0.3" ? { ...h, behaviour: { ...h.behaviour, greetingDelay: delay } } : h
  )
})

const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0)

describe("rcpt verify", { timeout: 60_000 }, () => {
  it.live("one deliverable address: exit 0, a JSON line with the verdict and its evidence", () =>
    withWorld((_, flags) =>
      Effect.gen(function* () {
        const ran = yield* rcpt(["verify", ...flags, "--json", "alice@alpha.test"])
        assert.strictEqual(ran.code, 0, ran.stderr)
        const [v, ...rest] = jsonLines(ran.stdout)
        assert.strictEqual(rest.length, 0)
        assert.strictEqual(v!["address"], "alice@alpha.test")
        assert.strictEqual(v!["verdict"], "deliverable")
        assert.strictEqual(v!["reason"], "accepted")
        assert.strictEqual(v!["mx"]!["host"], "mx1.alpha.test")
        assert.strictEqual(v!["rcpt"]!["code"], 250)
        assert.strictEqual(v!["tls"]["status"], "established")
        assert.isTrue(v!["transcript"].some((t) => t.text === "RCPT TO:<alice@alpha.test>"))
      })
    )
  )

  it.live("exit code: the worst verdict wins (undeliverable 1 > risky 2 > unknown 3 > deliverable 0)", () =>
    withWorld((_, flags) =>
      Effect.gen(function* () {
        // With --tls off, alice@tlsonly.test is unknown (the server demands STARTTLS).
        const cases: ReadonlyArray<readonly [ReadonlyArray<string>, number]> = [
          [["alice@alpha.test", "bob@alpha.test"], 0],
          [["alice@alpha.test", "alice@tlsonly.test"], 3],
          [["alice@tlsonly.test", "carol@alpha.test", "alice@alpha.test"], 2],
          [["alice@tlsonly.test", "carol@alpha.test", "nobody@alpha.test"], 1]
        ]
        const ran = yield* Effect.forEach(
          cases,
          ([addresses]) => rcpt(["verify", ...flags, "--tls", "off", "--json", ...addresses]),
          { concurrency: "unbounded" }
        )
        ran.forEach((r, i) => {
          const [addresses, code] = cases[i]!
          assert.strictEqual(r.code, code, `${addresses.join(" ")}: ${r.stdout}${r.stderr}`)
          // Results in the order given, one per address.
          assert.deepStrictEqual(
            jsonLines(r.stdout).map((v) => v["address"]),
            [...addresses]
          )
        })
      })
    )
  )

  it.live("table mode without a terminal: no colour codes; --transcript shows the dialogue", () =>
    withWorld((_, flags) =>
      Effect.gen(function* () {
        const ran = yield* rcpt(["verify", ...flags, "--transcript", "alice@alpha.test", "nobody@alpha.test"])
        assert.strictEqual(ran.code, 1, ran.stderr)
        assert.isFalse(hasAnsi(ran.stdout), JSON.stringify(ran.stdout))
        const lines = ran.stdout.split("\n")
        assert.match(lines[0]!, /^ADDRESS\s+VERDICT\s+REASON\s+MX\s+RCPT\s+DETAIL$/)
        assert.isTrue(
          lines.some((l) => /^alice@alpha\.test\s+deliverable\s+accepted\s+mx1\.alpha\.test\s+250 2\.1\.5/.test(l))
        )
        assert.isTrue(
          lines.some((l) =>
            /^nobody@alpha\.test\s+undeliverable\s+mailbox_unknown\s+mx1\.alpha\.test\s+550 5\.1\.1/.test(l)
          )
        )
        assert.include(ran.stdout, "    C: RCPT TO:<alice@alpha.test>")
        assert.include(ran.stdout, "    S: 250")
      })
    )
  )

  it.live("RCPT_* environment variables stand in for flags; a flag beats its variable", () =>
    withWorld((world) =>
      Effect.gen(function* () {
        const env = {
          RCPT_DNS_SERVERS: world.dns,
          RCPT_ALLOW_TARGETS: "127.0.0.0/8",
          RCPT_PORT: String(world.smtpPort),
          RCPT_HELO: "env.rcpt.test",
          RCPT_TIMEOUT: "10s"
        }
        const fromEnv = yield* rcpt(["verify", "--json", "alice@alpha.test"], env)
        assert.strictEqual(fromEnv.code, 0, fromEnv.stderr)
        const v = jsonLines(fromEnv.stdout)[0]!
        assert.strictEqual(v["verdict"], "deliverable")
        assert.isTrue(v["transcript"].some((t) => t.text === "EHLO env.rcpt.test"))
        // A wrong port in the environment, the right one as a flag: the flag wins.
        const flagWins = yield* rcpt(["verify", "--json", "--port", String(world.smtpPort), "alice@alpha.test"], {
          ...env,
          RCPT_PORT: "1"
        })
        assert.strictEqual(flagWins.code, 0, flagWins.stdout + flagWins.stderr)
      })
    )
  )

  it.live("usage errors exit 64 with one message: bad --tls, bad RCPT_TLS, invalid config (--helo)", () =>
    Effect.gen(function* () {
      const [badFlag, badEnv, badHelo] = yield* Effect.all(
        [
          rcpt(["verify", "--tls", "sometimes", "a@b.test"]),
          rcpt(["verify", "a@b.test"], { RCPT_TLS: "sometimes" }),
          rcpt(["verify", "--helo", "not a name", "a@b.test"])
        ],
        { concurrency: "unbounded" }
      )
      assert.strictEqual(badFlag.code, 64)
      assert.include(badFlag.stderr, "--tls")
      assert.strictEqual(badFlag.stdout, "", "no help text on stdout")
      assert.strictEqual(badEnv.code, 64)
      assert.include(badEnv.stderr, "RCPT_TLS")
      assert.strictEqual(badHelo.code, 64)
      assert.include(badHelo.stderr, "helo")
    })
  )

  it.live("--help documents every flag and the exit codes; --version prints it", () =>
    Effect.gen(function* () {
      const [help, version] = yield* Effect.all([rcpt(["verify", "--help"]), rcpt(["--version"])], {
        concurrency: "unbounded"
      })
      assert.strictEqual(help.code, 0)
      for (const flag of [
        "--dns-server",
        "--port",
        "--helo",
        "--mail-from",
        "--tls",
        "--timeout",
        "--json",
        "--vrfy",
        "--no-catch-all",
        "--concurrency",
        "--per-host",
        "--per-host-rate",
        "--transcript",
        "--greylist-wait",
        "--keep-open",
        "RCPT_DNS_SERVERS",
        "Exit codes",
        "64"
      ]) {
        assert.include(help.stdout, flag)
      }
      assert.strictEqual(version.code, 0)
      assert.include(version.stdout, "0.1.0")
    })
  )
})

describe("rcpt bulk", { timeout: 30_000 }, () => {
  it.live(
    "2,000 lines: each input line answered exactly once, few connections, per-host limit kept",
    () =>
      withWorld(
        (world, flags) =>
          Effect.gen(function* () {
            const dir = yield* tempDir
            const list = bigList()
            const input = Path.join(dir, "list.txt")
            Fs.writeFileSync(input, `# a comment\n\n${list.join("\r\n")}\n`)
            const output = Path.join(dir, "out.jsonl")
            const ran = yield* rcpt([
              "bulk",
              input,
              "-o",
              output,
              "--per-host",
              "2",
              "--recipients-per-session",
              "20",
              ...flags
            ])
            assert.strictEqual(ran.code, 0, ran.stderr)
            const results = jsonLines(Fs.readFileSync(output, "utf8"))
            assert.strictEqual(results.length, list.length)
            assert.deepStrictEqual(sortedCounts(results.map((v) => v["address"] as string)), sortedCounts(list))
            const byAddress = new Map(results.map((v) => [v["address"] as string, v]))
            assert.strictEqual(byAddress.get("alice@implicit.test")!["verdict"], "deliverable")
            assert.strictEqual(byAddress.get("user0@alpha.test")!["reason"], "mailbox_unknown")
            assert.strictEqual(byAddress.get("p1@catchall.test")!["reason"], "catch_all")
            assert.strictEqual(byAddress.get("carol@alpha.test")!["verdict"], "risky")
            const stats = yield* world.stats
            assert.isBelow(sum(stats.connections), list.length / 10, JSON.stringify(stats.connections))
            // Sessions to one host overlap (up to --per-host). Sessions now grow with what a host takes,
            // so the slow catch-all host may need only a few, one after another; the busy host overlaps.
            // After QUIT the verifier waits for
            // the server's close and then closes its side before giving the host's slot back, but the
            // server counts the connection until our close reaches it, so the next connection can
            // arrive first: one more than --per-host for a moment.
            // (With --per-host 32 instead, this fails: a host sees 6 or more at once.)
            // Whether two sessions meet at the busy host depends on how the input arrives (1 run in 4 on a loaded
            // machine has them one after another): what the run learnt, two side by side, is asserted instead.
            assert.match(ran.stderr, /127\.0\.0\.2: .*connections 2/, JSON.stringify(stats.maxConcurrent))
            for (const [host, peak] of Object.entries(stats.maxConcurrent)) assert.isAtMost(peak, 2 + 1, host)
            assert.match(ran.stderr, /2000 verified in .*deliverable.*undeliverable.*risky.*unknown/)
          }),
        // 100 ms before the catch-all host greets: sessions overlap.
        slowCatchAll("100 millis")
      ),
    60_000
  )

  it.live("CSV in (header, quoted fields, a multi-line field, broken quoting) and CSV out", () =>
    withWorld((_, flags) =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const input = Path.join(dir, "contacts.csv")
        Fs.writeFileSync(
          input,
          "\uFEFFname,Work Email,note\r\n" +
            '"Smith, Alice",alice@alpha.test,"says ""hi"""\r\n' +
            'Bob,bob@alpha.test,"two\nlines"\n' +
            'Broken,"nobody@alpha.test,oops\n' +
            "Carol,carol@alpha.test,\n"
        )
        const output = Path.join(dir, "out.csv")
        const ran = yield* rcpt(["bulk", input, "--column", "work email", "--format", "csv", "-o", output, ...flags])
        assert.strictEqual(ran.code, 0, ran.stderr)
        const rows = parseCsv(Fs.readFileSync(output, "utf8"), { columns: true }) as Array<Record<string, string>>
        assert.deepStrictEqual(Object.keys(rows[0]!), [...Output.csvColumns])
        const by = new Map(rows.map((r) => [r["address"]!, r]))
        assert.strictEqual(rows.length, 4, JSON.stringify(rows))
        assert.strictEqual(by.get("alice@alpha.test")!["verdict"], "deliverable")
        assert.strictEqual(by.get("alice@alpha.test")!["mx_host"], "mx1.alpha.test")
        assert.strictEqual(by.get("alice@alpha.test")!["rcpt_code"], "250")
        assert.strictEqual(by.get("bob@alpha.test")!["verdict"], "deliverable")
        assert.strictEqual(by.get("carol@alpha.test")!["reason"], "mailbox_full")
        const broken = rows.find((r) => r["address"]!.startsWith("Broken"))!
        assert.strictEqual(`${broken["verdict"]}/${broken["reason"]}`, "undeliverable/syntax")
        assert.include(broken["detail"], "CSV line 5")
      })
    )
  )

  it.live("a missing file, a directory, a binary file: one message, exit 66", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const binary = Path.join(dir, "list.bin")
        Fs.writeFileSync(binary, Buffer.from([0x61, 0x40, 0x62, 0x0a, 0x00, 0x01, 0x02]))
        const runs = yield* Effect.all(
          [rcpt(["bulk", Path.join(dir, "missing.txt")]), rcpt(["bulk", dir]), rcpt(["bulk", binary])],
          { concurrency: "unbounded" }
        )
        for (const [ran, why] of [
          [runs[0]!, "no such file"],
          [runs[1]!, "directory"],
          [runs[2]!, "binary"]
        ] as const) {
          assert.strictEqual(ran.code, 66, ran.stderr)
          assert.include(ran.stderr, why)
          assert.strictEqual(ran.stderr.trim().split("\n").length, 1, ran.stderr)
          assert.strictEqual(ran.stdout, "")
        }
      })
    )
  )

  it.live(
    "bulk lines are compact by default (transcript []); --transcript adds the dialogue",
    () =>
      withWorld((_, flags) =>
        Effect.gen(function* () {
          const list = "alice@alpha.test\nnobody@alpha.test\n"
          const compact = yield* rcpt(["bulk", "-", ...flags], {}, list)
          const full = yield* rcpt(["bulk", "-", ...flags, "--transcript"], {}, list)
          assert.strictEqual(compact.code, 0, compact.stderr)
          assert.strictEqual(full.code, 0, full.stderr)
          const byAddress = (text: string) => new Map(jsonLines(text).map((v) => [v["address"], v]))
          const small = byAddress(compact.stdout)
          const big = byAddress(full.stdout)
          for (const address of ["alice@alpha.test", "nobody@alpha.test"]) {
            const c = small.get(address)!
            const f = big.get(address)!
            // Every field name stays; the evidence of the deciding reply, MX and TLS are kept.
            assert.deepStrictEqual(Object.keys(c).sort(), Object.keys(f).sort())
            assert.deepStrictEqual(c["transcript"], [])
            assert.isTrue(f["transcript"].some((t) => t.text === `RCPT TO:<${address}>`))
            assert.deepStrictEqual(
              [c["verdict"], c["reason"], c["rcpt"], c["mx"], c["tls"]["status"]],
              [f["verdict"], f["reason"], f["rcpt"], f["mx"], f["tls"]["status"]]
            )
            assert.isBelow(JSON.stringify(c).length * 2, JSON.stringify(f).length)
          }
          assert.strictEqual(small.get("nobody@alpha.test")!["rcpt"]!["code"], 550)
          // The summary says what the run learnt about the MX address it talked to.
          assert.match(
            compact.stderr,
            /sessions per MX address, as learnt:\n {2}127\.0\.0\.\d+: recipients\/session \d+/
          )
        })
      ),
    60_000
  )

  it.live("a 100 KB line is a syntax result and the run goes on; stdin works", () =>
    withWorld((_, flags) =>
      Effect.gen(function* () {
        const huge = "x".repeat(100 * 1024)
        const ran = yield* rcpt(
          ["bulk", "-", ...flags],
          {},
          `alice@alpha.test\n${huge}\nbob@alpha.test\nnot an address\n`
        )
        assert.strictEqual(ran.code, 0, ran.stderr)
        const results = jsonLines(ran.stdout)
        assert.strictEqual(results.length, 4)
        const long = results.find((v) => String(v["detail"]).includes("over the 65536-byte limit"))!
        assert.strictEqual(`${long["verdict"]}/${long["reason"]}`, "undeliverable/syntax")
        assert.isBelow(String(long["address"]).length, 200)
        const by = new Map(results.map((v) => [v["address"], v]))
        assert.strictEqual(by.get("alice@alpha.test")!["verdict"], "deliverable")
        assert.strictEqual(by.get("bob@alpha.test")!["verdict"], "deliverable")
        assert.strictEqual(by.get("not an address")!["reason"], "syntax")
      })
    )
  )

  it.live(
    "--resume after kill -9 mid-run (and a torn last line): same addresses as one run, each once",
    () =>
      withWorld((_, flags) =>
        Effect.gen(function* () {
          const dir = yield* tempDir
          const list: Array<string> = []
          for (let i = 0; i < 300; i++) {
            list.push(i % 3 === 0 ? `u${i}@alpha.test` : i % 3 === 1 ? `p${i}@catchall.test` : `n${i}@implicit.test`)
          }
          list.push("alice@alpha.test", "alice@alpha.test", "bob@alpha.test")
          const input = Path.join(dir, "list.txt")
          Fs.writeFileSync(input, list.join("\n"))
          const output = Path.join(dir, "out.jsonl")
          // Slow enough to be caught midway: one connection per host, 4 RCPTs a session, 5 sessions/s.
          const slow = ["--per-host", "1", "--recipients-per-session", "4", "--per-host-rate", "5"]
          const child = start(["bulk", input, "-o", output, ...slow, ...flags])
          const running = yield* Effect.forkChild(finish(child))
          yield* waitForLines(output, 30)
          child.kill("SIGKILL")
          const killed = yield* Fiber.await(running)
          assert.isTrue(killed._tag === "Success" && killed.value.signal === "SIGKILL")
          const partial = Fs.readFileSync(output, "utf8").split("\n").length - 1
          assert.isBelow(partial, list.length, "killed before the end")
          // What a kill -9 in the middle of a write leaves.
          Fs.appendFileSync(output, '{"address":"torn@alpha.te')
          const resumed = yield* rcpt(["bulk", input, "-o", output, "--resume", ...flags])
          assert.strictEqual(resumed.code, 0, resumed.stderr)
          assert.include(resumed.stderr, "partial last line")
          const text = Fs.readFileSync(output, "utf8")
          assert.isTrue(text.endsWith("\n"))
          const results = jsonLines(text)
          assert.deepStrictEqual(sortedCounts(results.map((v) => v["address"] as string)), sortedCounts(list))
          // A second --resume has nothing left to do.
          const again = yield* rcpt(["bulk", input, "-o", output, "--resume", ...flags])
          assert.strictEqual(again.code, 0, again.stderr)
          assert.strictEqual(jsonLines(Fs.readFileSync(output, "utf8")).length, list.length)
          assert.include(again.stderr, `${list.length} skipped`)
        })
      ),
    60_000
  )

  it.live(
    "Ctrl-C: stops, prints the summary, exits 130; whole lines only; --resume finishes (CSV)",
    () =>
      withWorld(
        (_, flags) =>
          Effect.gen(function* () {
            const dir = yield* tempDir
            const list = Array.from({ length: 200 }, (_, i) =>
              i % 2 === 0 ? `u${i}@alpha.test` : `p${i}@catchall.test`
            )
            const input = Path.join(dir, "list.txt")
            Fs.writeFileSync(input, list.join("\n"))
            const output = Path.join(dir, "out.csv")
            const slow = ["--per-host", "1", "--recipients-per-session", "4", "--per-host-rate", "5"]
            const child = start(["bulk", input, "--format", "csv", "-o", output, ...slow, ...flags])
            const running = yield* Effect.forkChild(finish(child))
            yield* waitForLines(output, 12)
            child.kill("SIGINT")
            const stopped = yield* Fiber.await(running)
            assert.isTrue(stopped._tag === "Success")
            if (stopped._tag !== "Success") return
            assert.strictEqual(stopped.value.code, 130, stopped.value.stderr)
            assert.match(stopped.value.stderr, /verified in .*interrupted: run again with --resume/s)
            const text = Fs.readFileSync(output, "utf8")
            assert.isTrue(text.endsWith("\n"))
            const resumed = yield* rcpt(["bulk", input, "--format", "csv", "-o", output, "--resume", ...flags])
            assert.strictEqual(resumed.code, 0, resumed.stderr)
            const rows = parseCsv(Fs.readFileSync(output, "utf8"), { columns: true }) as Array<Record<string, string>>
            assert.deepStrictEqual(sortedCounts(rows.map((r) => r["address"]!)), sortedCounts(list))
          }),
        // The catch-all host greets after 4 s, more than the 2 s a stopped run gives what is in flight: its
        // half of the list is still to come when Ctrl-C arrives. (The flags above no longer slowed the run
        // once connections were kept open between sessions: it could end, all 200 answered, before the signal.)
        slowCatchAll("4 seconds")
      ),
    60_000
  )

  it.live("an existing output without --resume is refused (64); --resume without -o too", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const input = Path.join(dir, "list.txt")
        const output = Path.join(dir, "out.jsonl")
        Fs.writeFileSync(input, "a@b.test\n")
        Fs.writeFileSync(output, '{"address":"a@b.test"}\n')
        const [exists, noOutput] = yield* Effect.all(
          [rcpt(["bulk", input, "-o", output]), rcpt(["bulk", input, "--resume"])],
          {
            concurrency: "unbounded"
          }
        )
        assert.strictEqual(exists.code, 64)
        assert.include(exists.stderr, "--resume")
        assert.strictEqual(Fs.readFileSync(output, "utf8"), '{"address":"a@b.test"}\n', "untouched")
        assert.strictEqual(noOutput.code, 64)
      })
    )
  )
})

describe("rcpt demo", { timeout: 30_000 }, () => {
  it.live(
    "runs offline, exits 0, explains each scenario and prints the bulk summary",
    () =>
      Effect.gen(function* () {
        const ran = yield* rcpt(["demo"])
        assert.strictEqual(ran.code, 0, ran.stderr)
        assert.include(ran.stdout, "alice@greylist.test -> deliverable / accepted")
        assert.include(ran.stdout, "alice@nullmx.test -> undeliverable / null_mx")
        assert.match(ran.stdout, /200 verified in .* deliverable, .* undeliverable, .* risky, .* unknown/)
        assert.match(ran.stdout, /The SMTP servers saw \d+ connections/)
      }),
    30_000
  )
})
