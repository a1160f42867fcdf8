/**
 * `rcpt demo`: an offline tour. Starts the in-process mail world (an authoritative DNS server and
 * SMTP servers on 127.0.0.2-8), verifies one address per scenario with a sentence on what
 * happened, then bulk-verifies ~200 generated addresses and compares the SMTP connections the
 * servers saw with the number of addresses. Loopback only; a few seconds.
 *
 * @since 0.1.0
 */
import { Duration, Effect, FileSystem, Option, Path } from "effect"
import type { Scope, Stdio } from "effect"
import { MailWorld } from "@rcpt/demo"
import * as Bulk from "./Bulk.ts"
import * as ExitCode from "./ExitCode.ts"
import * as Options from "./Options.ts"
import * as Table from "./Table.ts"
import * as Verify from "./Verify.ts"

/**
 * One address per scenario of the demo world, with what it shows.
 *
 * @category constants
 * @since 0.1.0
 */
export const scenarios: ReadonlyArray<readonly [address: string, explanation: string]> = [
  ["alice@alpha.test", "alpha.test's MX accepted RCPT TO (250 2.1.5) and refused a made-up address: deliverable."],
  ["nobody@alpha.test", "The same server said 550 5.1.1 user unknown: the mailbox does not exist."],
  ["carol@alpha.test", "552 5.2.2 mailbox full: the mailbox exists but mail will bounce for now, so risky."],
  ["x@catchall.test", "The server accepts every local part, a random probe included: a 250 proves nothing, risky."],
  ["alice@greylist.test", "450 greylisted at first; asked again after the greylist wait, then accepted."],
  ["alice@nullmx.test", 'The domain publishes the null MX "MX 0 ." (RFC 7505): it takes no mail at all.'],
  ["alice@nowhere.test", "NXDOMAIN: the domain does not exist."],
  ["alice@implicit.test", "No MX record: the domain's own A record is its mail server (RFC 5321 5.1)."],
  ["alice@failover.test", "The first MX is down (connection refused); the second one answered."],
  ["alice@tlsonly.test", "This server demands STARTTLS before MAIL FROM; the verifier upgraded and asked."]
]

/**
 * ~200 addresses over the demo domains, with unknown users and duplicates.
 *
 * @category constants
 * @since 0.1.0
 */
export const bulkAddresses = (): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (let i = 0; i < 60; i++)
    out.push(i % 4 === 0 ? "alice@alpha.test" : i % 4 === 1 ? "bob@alpha.test" : `user${i}@alpha.test`)
  for (let i = 0; i < 40; i++) out.push(`person${i}@catchall.test`)
  for (let i = 0; i < 30; i++) out.push(i % 3 === 0 ? "alice@implicit.test" : `nobody${i}@implicit.test`)
  for (let i = 0; i < 20; i++) out.push(i % 2 === 0 ? "alice@vrfy.test" : `ghost${i}@vrfy.test`)
  for (let i = 0; i < 20; i++) out.push(i % 2 === 0 ? "alice@failover.test" : `x${i}@failover.test`)
  for (let i = 0; i < 10; i++) out.push(`someone${i}@nullmx.test`)
  for (let i = 0; i < 10; i++) out.push(`someone${i}@nowhere.test`)
  for (let i = 0; i < 5; i++) out.push("alice@greylist.test")
  out.push("not an address", "carol@alpha.test", "dave@alpha.test", "x@tlsonly.test", "alice@tlsonly.test")
  return out
}

/**
 * Runs the tour, printing on stdout (progress on stderr when it is a terminal).
 *
 * @category running
 * @since 0.1.0
 */
export const run: Effect.Effect<void, ExitCode.Exit, FileSystem.FileSystem | Path.Path | Stdio.Stdio | Scope.Scope> =
  Effect.gen(function* () {
    const print = (text: string) => Effect.sync(() => void process.stdout.write(text))
    const world = yield* MailWorld.start(MailWorld.demo).pipe(
      Effect.mapError((e) => new ExitCode.Exit({ code: ExitCode.codes.internal, message: `demo: ${e.message}` }))
    )
    yield* print(
      [
        "rcpt demo: an offline tour, nothing leaves this machine.",
        "",
        `Started an authoritative DNS server on ${world.dns} and SMTP servers on port ${world.smtpPort}:`,
        ...MailWorld.demo.hosts.map((h) => {
          const b = h.behaviour ?? {}
          const notes = [
            b.down === true ? "down" : undefined,
            b.requireTls === true ? "requires STARTTLS" : b.starttls === true ? "STARTTLS" : undefined,
            b.vrfy === true ? "answers VRFY" : undefined
          ].filter((n) => n !== undefined)
          return `  ${h.name.padEnd(18)} ${h.address.padEnd(10)} ${notes.join(", ")}`
        }),
        `Domains: ${MailWorld.demo.domains.map((d) => d.name).join(", ")}; any other name is NXDOMAIN.`,
        "",
        "$ rcpt verify --helo demo.rcpt.test --greylist-wait 1s " + scenarios.map(([a]) => a).join(" "),
        ""
      ].join("\n") + "\n"
    )
    const resolved: Options.Resolved = {
      verifier: {
        dnsServers: [world.dns],
        port: world.smtpPort,
        helo: "demo.rcpt.test",
        // The demo world is .test (RFC 6761): allowed here, refused by default.
        allowSpecialUse: ["test"],
        timeout: "10 seconds",
        ca: [MailWorld.certificate],
        // The demo world is on loopback: opened explicitly, as the target policy refuses it by default.
        allowTargets: ["127.0.0.0/8"]
      },
      greylistRetry: Option.some(Options.greylistSchedule(Duration.seconds(1))),
      keepOpen: Option.none(),
      inputIdle: Option.none()
    }
    const color = Table.colorEnabled(process.stdout)
    const results = yield* Verify.verifyAll(
      scenarios.map(([a]) => a),
      resolved
    )
    yield* print(Table.render(results, { color, transcript: false }))
    yield* print("\nWhat happened:\n")
    for (const [address, explanation] of scenarios) {
      const v = results.find((r) => r.address === address)
      const verdict = v === undefined ? "?" : `${Table.paint(v.verdict, v.verdict, color)} / ${v.reason}`
      yield* print(`  ${address} -> ${verdict}\n      ${explanation}\n`)
    }

    // Bulk: generated addresses through a temporary file.
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = yield* fs
      .makeTempDirectoryScoped({ prefix: "rcpt-demo-" })
      .pipe(Effect.mapError((e) => ExitCode.cannotCreate(`demo: ${e.message}`)))
    const input = path.join(dir, "addresses.txt")
    const output = path.join(dir, "results.jsonl")
    const addresses = bulkAddresses()
    yield* fs
      .writeFileString(input, `# generated by rcpt demo\n${addresses.join("\n")}\n`)
      .pipe(Effect.mapError((e) => ExitCode.cannotCreate(`demo: ${e.message}`)))
    yield* world.resetStats
    yield* print(`\n$ rcpt bulk ${input} -o ${output}   (${addresses.length} addresses)\n`)
    const summary: Array<string> = []
    yield* Bulk.run(
      {
        input,
        output: Option.some(output),
        format: "jsonl",
        resume: false,
        column: Option.none(),
        transcript: false,
        report: (text) => void summary.push(text),
        progress: process.stderr.isTTY === true ? Option.some((text) => void process.stderr.write(text)) : Option.none()
      },
      resolved
    )
    yield* print(summary.join(""))
    const stats = yield* world.stats
    const connections = Object.values(stats.connections).reduce((a, b) => a + b, 0)
    const rcpts = Object.values(stats.rcptCommands).reduce((a, b) => a + b, 0)
    const peak = Math.max(0, ...Object.values(stats.maxConcurrent))
    const lines = (yield* fs.readFileString(output).pipe(Effect.orElseSucceed(() => "")))
      .split("\n")
      .filter((l) => l !== "")
    yield* print(
      [
        `${lines.length} result lines for ${addresses.length} input lines (duplicates verified once, answered each time).`,
        `The SMTP servers saw ${connections} connections and ${rcpts} RCPT commands for ${addresses.length} addresses:`,
        "addresses are grouped by domain (and by MX host when domains share one) and many RCPTs share one session (pipelined);",
        `Each host counted at most ${peak} open at once: the verifier opens at most --per-host (default 2)`,
        "per host; a host may still count one that is closing.",
        "",
        "Try it on your own list: rcpt bulk addresses.txt -o results.jsonl (see rcpt bulk --help)."
      ].join("\n") + "\n"
    )
  })
