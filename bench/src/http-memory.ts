/**
 * `rcpt serve` under 100 concurrent 1 MB batch requests: the server's peak RSS (VmHWM) and the
 * answers it gave, with its concurrency limits as shipped and lifted (as before issue 14; the 30 s
 * request timeout stays), side by side in one run against one in-process mail world on loopback.
 *
 * Run: `node bench/src/http-memory.ts [--requests 100] [--json bench/results/http-memory.json]`.
 * Each batch is 1,000 addresses, ~1 MB: 20 that reach the world's SMTP servers and 980 of ~1 KB
 * that fail the syntax check (a 1 MB body within the server's cap).
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { MailWorld } from "@rcpt/testing"

const bin = fileURLToPath(new URL("../../packages/cli/bin/rcpt.js", import.meta.url))

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1]!
}
const requests = Number(arg("requests", "100"))
const jsonOut = arg("json", "")

/** One ~1 MB batch: 20 real addresses, 980 too long to be one (syntax, no network). */
const batch = (n: number): string => {
  const real = ["alice", "bob", "nobody", "carol"].flatMap((u) =>
    ["alpha.test", "catchall.test", "vrfy.test", "implicit.test", "failover.test"].map((d) => `${u}@${d}`)
  )
  const filler = Array.from({ length: 980 }, (_, i) => `${"x".repeat(1000)}${n}-${i}@alpha.test`)
  return JSON.stringify({ addresses: [...real, ...filler] })
}

const peakRss = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
}
const rss = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
}

const listening = (child: ChildProcess) =>
  new Promise<string>((resolve, reject) => {
    let stderr = ""
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString("utf8")
      const m = /listening on (http:\/\/\S+)/.exec(stderr)
      if (m !== null) resolve(m[1]!)
    })
    child.once("exit", (code) => reject(new Error(`rcpt serve exited (${code}):\n${stderr}`)))
  })

interface Row {
  readonly setup: string
  readonly flags: ReadonlyArray<string>
  readonly idleRssMb: number
  readonly peakRssMb: number
  readonly statuses: Record<string, number>
  readonly wallMs: number
}

const run = async (setup: string, worldFlags: ReadonlyArray<string>, flags: ReadonlyArray<string>): Promise<Row> => {
  const child = spawn(process.execPath, [bin, "serve", "--listen", "127.0.0.1:0", ...worldFlags, ...flags], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, BENCH_TOKENS: Array.from({ length: requests }, (_, i) => `token-${i}`).join(",") }
  })
  try {
    const url = await listening(child)
    const idle = rss(child.pid!)
    const bodies = Array.from({ length: requests }, (_, i) => batch(i))
    const started = Date.now()
    const statuses: Record<string, number> = {}
    await Promise.all(
      bodies.map((body, i) =>
        fetch(`${url}/v1/verify/batch`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(setup.includes("tokens") ? { authorization: `Bearer token-${i}` } : {})
          },
          body
        })
          .then(async (r) => {
            await r.arrayBuffer()
            return String(r.status)
          })
          .catch((e: Error) => `error: ${e.message}`)
          .then((s) => {
            statuses[s] = (statuses[s] ?? 0) + 1
          })
      )
    )
    const wallMs = Date.now() - started
    return {
      setup,
      flags,
      idleRssMb: Math.round(idle / 1e6),
      peakRssMb: Math.round(peakRss(child.pid!) / 1e6),
      statuses,
      wallMs
    }
  } finally {
    child.kill("SIGKILL")
  }
}

const main = Effect.gen(function* () {
  const world = yield* MailWorld.start(MailWorld.demo)
  const worldFlags = [
    "--dns-server",
    world.dns,
    "--port",
    String(world.smtpPort),
    "--helo",
    "bench.rcpt.test",
    "--allow-special-use",
    "test",
    "--timeout",
    "20s",
    ...(process.argv.includes("--no-allow-target") ? [] : ["--allow-target", "127.0.0.0/8"])
  ]
  const lifted = ["--max-requests-per-token", "100000", "--max-requests", "100000", "--max-connections", "100000"]
  const setups: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
    ["concurrency limits lifted, one caller", lifted],
    ["defaults, one caller", []],
    ["defaults, 100 tokens", ["--token-env", "BENCH_TOKENS"]]
  ]
  const rows: Array<Row> = []
  for (const [setup, flags] of setups) {
    process.stderr.write(`${setup}...\n`)
    rows.push(yield* Effect.promise(() => run(setup, worldFlags, flags)))
  }
  const base = rows[0]!.peakRssMb
  const lines = [
    `${requests} concurrent batch requests of 1,000 addresses (~1 MB each), one run:`,
    "",
    "| setup | idle RSS | peak RSS | peak vs lifted | answers | wall |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map(
      (r) =>
        `| ${r.setup} | ${r.idleRssMb} MB | ${r.peakRssMb} MB | ${(r.peakRssMb / base).toFixed(2)}x | ${Object.entries(
          r.statuses
        )
          .map(([s, n]) => `${n}x ${s}`)
          .join(", ")} | ${(r.wallMs / 1000).toFixed(1)} s |`
    )
  ]
  process.stdout.write(`${lines.join("\n")}\n`)
  if (jsonOut !== "") writeFileSync(jsonOut, JSON.stringify({ requests, rows }, null, 2))
}).pipe(Effect.scoped)

Effect.runPromise(main).catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`)
  process.exit(1)
})
