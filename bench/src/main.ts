/**
 * `npm run bench`: rcpt against the npm verifiers users pick today and against the protocol's limit, on loopback and
 * through a 50 ms round trip, then rcpt alone on a streamed million-address list. Prints a Markdown table and writes
 * `bench/results/latest.json`. See bench/README.md.
 *
 * As root it re-runs itself in a network namespace of its own (`unshare --net --mount`): only a loopback interface
 * exists there and `/etc/resolv.conf` names 127.0.0.1, so nothing can reach any other address, whatever a contender
 * does; the guard (guard.ts) also fails the run if a contender tries a name server other than the bench's.
 *
 * @since 0.1.0
 */
import { spawnSync } from "node:child_process"
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { cpus, release, tmpdir } from "node:os"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { runChild } from "./child.ts"
import { contenders } from "./contenders.ts"
import type { Contender } from "./contenders.ts"
import * as Million from "./million.ts"
import { agreement, summarize, table, withRatios } from "./report.ts"
import type { Row, RunFigures } from "./report.ts"
import { makeCorpus, writeList } from "./truth.ts"
import * as World from "./world.ts"

const { values: args } = parseArgs({
  options: {
    domains: { type: "string", default: "100" },
    "per-domain": { type: "string", default: "10" },
    hosts: { type: "string", default: "4" },
    runs: { type: "string", default: "3" },
    concurrency: { type: "string", default: "16" },
    "timeout-ms": { type: "string", default: "10000" },
    "delay-ms": { type: "string", default: "25" },
    "million-size": { type: "string", default: "1000000" },
    "million-limit-min": { type: "string", default: "20" },
    "million-heap-mb": { type: "string", default: "0" },
    "million-node-args": { type: "string", default: "" },
    "million-contender": { type: "string", default: "rcpt verifyMany" },
    only: { type: "string", default: "" },
    conditions: { type: "string", default: "loopback,delay" },
    seed: { type: "string", default: "20261122" },
    out: { type: "string", default: fileURLToPath(new URL("../results/latest.json", import.meta.url)) },
    "no-netns": { type: "boolean", default: false },
    help: { type: "boolean", default: false }
  }
})

const usage = `npm run bench -- [options]
  --domains N            domains in the comparison list (default 100)
  --per-domain N         addresses per domain (default 10)
  --hosts N              MX hosts, 127.0.10.1.. (default 4)
  --runs N               runs per contender and condition; medians are reported (default 3)
  --concurrency N        simultaneous connections/addresses for every contender (default 16)
  --timeout-ms N         per-address timeout given to every contender (default 10000)
  --delay-ms N           proxy hold per chunk and direction (default 25: a 50 ms round trip)
  --million-size N       streamed run size; 0 skips it (default 1000000)
  --million-limit-min N  stop the streamed run after N minutes and report what it did (default 20)
  --million-heap-mb N    cap rcpt's V8 heap in the streamed run (--max-old-space-size; default 0: Node's own)
  --million-node-args "…" extra flags for node running rcpt in the streamed run (e.g. --trace-gc, --import x.mjs)
  --million-contender C  "rcpt verifyMany" (default) or "rcpt bulk (CLI)" (its default flags, JSON lines out)
  --only a,b             run only contenders whose name starts with one of these
  --conditions a,b       loopback, delay (default both)
  --out FILE             JSON results (default bench/results/latest.json)
  --no-netns             as root, do not isolate the run in its own network namespace`

if (args.help) {
  console.log(usage)
  process.exit(0)
}

const num = (name: keyof typeof args) => {
  const n = Number(args[name])
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0, got ${String(args[name])}`)
  return n
}

const isRoot = process.getuid?.() === 0

// As root: run the whole bench in a fresh network + mount namespace (loopback only; resolv.conf -> 127.0.0.1).
if (isRoot && !args["no-netns"] && process.env["BENCH_NETNS"] !== "1") {
  const resolv = `${tmpdir()}/rcpt-bench-resolv.conf`
  await writeFile(resolv, "# rcpt bench: a stray lookup stays on loopback\nnameserver 127.0.0.1\n")
  const result = spawnSync(
    "unshare",
    [
      "--net",
      "--mount",
      "--",
      "/bin/sh",
      "-c",
      'ip link set lo up && mount --bind "$0" /etc/resolv.conf && exec "$@"',
      resolv,
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1)
    ],
    { stdio: "inherit", env: { ...process.env, BENCH_NETNS: "1" } }
  )
  if (result.error === undefined && result.status !== null) process.exit(result.status)
  console.error(
    `bench: could not isolate the run with unshare (${String(result.error ?? result.signal)}); rerun with --no-netns`
  )
  process.exit(1)
}

const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`)

const options = {
  domains: num("domains"),
  perDomain: num("per-domain"),
  hosts: Math.max(1, num("hosts")),
  runs: Math.max(1, num("runs")),
  concurrency: Math.max(1, num("concurrency")),
  timeoutMs: num("timeout-ms"),
  delayMs: num("delay-ms"),
  millionSize: num("million-size"),
  millionLimitMs: num("million-limit-min") * 60_000,
  millionHeapMb: num("million-heap-mb"),
  seed: num("seed")
}
const perHost = Math.max(1, Math.ceil(options.concurrency / options.hosts))
// Root binds port 25 (the npm tools dial nothing else); otherwise high ports and no npm tools.
const ports = isRoot ? { port: 25, serverPort: 2525 } : { port: 25250, serverPort: 25251 }
const only = args.only
  .split(",")
  .map((s) => s.trim())
  .filter((s) => s.length > 0)
const selected = contenders.filter((c) => only.length === 0 || only.some((o) => c.name.startsWith(o)))
const conditions: Array<World.Condition> = args.conditions
  .split(",")
  .map((s) => s.trim())
  .filter((s): s is World.Condition["name"] => s === "loopback" || s === "delay")
  .map((name) => ({ name, delayMs: name === "delay" ? options.delayMs : 0 }))

const started = performance.now()
const dir = await mkdtemp(`${tmpdir()}/rcpt-bench-`)
const corpus = makeCorpus({
  domains: options.domains,
  perDomain: options.perDomain,
  hosts: options.hosts,
  seed: options.seed
})
const list = `${dir}/list.txt`
await writeList(list, corpus.addresses)
log(
  `list: ${corpus.addresses.length} addresses over ${options.domains} domains on ${options.hosts} MX hosts; ` +
    `concurrency ${options.concurrency} (rcpt per-host ${perHost}); timeout ${options.timeoutMs} ms; ` +
    `${isRoot ? "port 25, own network namespace" : "not root: high ports, npm contenders skipped"}`
)

const skipReason = (c: Contender): string | undefined =>
  c.unavailable() ?? (c.needsPort25 && ports.port !== 25 ? "dials port 25 only; run as root" : undefined)

const runOnce = async (c: Contender, world: World.RunningWorld, tag: string): Promise<RunFigures | string> => {
  const out = `${dir}/${tag}.jsonl`
  await world.reset()
  const child = await runChild(
    c.args({
      list,
      out,
      dns: world.dns,
      port: world.port,
      concurrency: options.concurrency,
      perHost,
      timeoutMs: options.timeoutMs
    }),
    { dns: world.dns, reportPath: `${dir}/${tag}.report.json`, limitMs: 15 * 60_000 }
  )
  const connections = await world.connections()
  if (child.report !== undefined && child.report.violations.length > 0) {
    throw new Error(`${c.name} tried to leave the bench's DNS or loopback: ${child.report.violations.join("; ")}`)
  }
  if (child.exitCode !== 0) {
    const why = child.timedOut ? "killed after 15 minutes" : `exit ${child.exitCode ?? child.signal}`
    return `${why}: ${child.stderr.trim().split("\n").slice(-3).join(" / ").slice(0, 300)}`
  }
  const results = await c.read(out).catch(() => [])
  await rm(out, { force: true })
  const n = corpus.addresses.length
  const activeMs = child.report?.activeMs ?? child.wallMs
  return {
    addresses: n,
    rate: n / (activeMs / 1000),
    activeMs,
    wallMs: child.wallMs,
    connsPer100: (connections / n) * 100,
    clientConnsPer100: ((child.report?.connects ?? 0) / n) * 100,
    peakRssMb: (child.report?.maxRssKb ?? 0) / 1024,
    ...agreement(corpus.truth, results)
  }
}

const rows: Array<Row> = []
for (const condition of conditions) {
  const world = await World.start({ domains: corpus.domains, hosts: corpus.hosts }, condition, ports)
  log(
    `${condition.name}: DNS ${world.dns}, SMTP port ${world.port}${condition.delayMs > 0 ? ` via the ${condition.delayMs} ms proxy` : ""}`
  )
  try {
    const runs = new Map<string, Array<RunFigures>>()
    const skipped = new Map<string, string>()
    const runnable = selected.filter((c) => {
      const why = skipReason(c)
      if (why !== undefined) skipped.set(c.name, why)
      return why === undefined
    })
    for (let r = 0; r < options.runs; r++) {
      // Rotate the order each run so slow drift on the machine does not always hit the same contender.
      const order = runnable.map((_, i) => runnable[(i + r) % runnable.length]!)
      for (const c of order) {
        if (skipped.has(c.name)) continue
        const figures = await runOnce(c, world, `${condition.name}-${r}-${c.name.replace(/\W+/g, "_")}`)
        if (typeof figures === "string") {
          skipped.set(c.name, figures)
          log(`${condition.name} run ${r + 1}: ${c.name}: FAILED ${figures}`)
          continue
        }
        runs.set(c.name, [...(runs.get(c.name) ?? []), figures])
        log(
          `${condition.name} run ${r + 1}: ${c.name}: ${figures.rate.toFixed(0)} addr/s, ${figures.connsPer100.toFixed(1)} conns/100, ` +
            `${figures.peakRssMb.toFixed(0)} MB, agreement ${(figures.agreement * 100).toFixed(1)}%`
        )
      }
    }
    for (const c of selected) {
      const why = skipped.get(c.name)
      const done = runs.get(c.name) ?? []
      const median = summarize(done)
      rows.push({
        contender: c.name,
        condition: condition.name === "delay" ? `${condition.delayMs * 2} ms RTT` : "loopback",
        ...(why !== undefined && done.length < options.runs ? { skipped: why } : {}),
        runs: done,
        ...(median !== undefined && (why === undefined || done.length === options.runs) ? { median } : {})
      })
    }
  } finally {
    await world.stop()
  }
}
const ratios = withRatios(rows, "rcpt verifyMany", "limit (pipelined, 1 session/domain)")

let million: Million.MillionFigures | undefined
if (options.millionSize > 0) {
  log(
    `million: streamed run of ${options.millionSize.toLocaleString("en-US")} addresses (${args["million-contender"]})`
  )
  million = await Million.run({
    size: options.millionSize,
    hosts: options.hosts,
    seed: options.seed,
    concurrency: options.concurrency,
    perHost,
    timeoutMs: options.timeoutMs,
    limitMs: options.millionLimitMs,
    heapMb: options.millionHeapMb,
    nodeArgs: args["million-node-args"].split(" ").filter((f) => f.length > 0),
    contender: args["million-contender"],
    ports,
    dir,
    log
  })
}
await rm(dir, { recursive: true, force: true })

const totalSeconds = (performance.now() - started) / 1000
const rendered = table(ratios)
console.log(`\n${rendered}\n`)
if (million !== undefined) {
  const m = million
  console.log(
    `Streamed run (${m.contender} over a file stream, loopback): ${m.answered.toLocaleString("en-US")} of ${m.size.toLocaleString("en-US")} addresses, ` +
      `${m.domains} domains, ${m.rate.toFixed(0)} addr/s over ${(m.activeMs / 1000).toFixed(1)} s, peak RSS ${m.peakRssMb.toFixed(0)} MB, ` +
      `${m.connsPer100.toFixed(1)} conns/100 addr, agreement ${(m.agreement * 100).toFixed(1)}%` +
      `, RSS MB after N results: ${Object.entries(m.rssAt)
        .map(([n, mb]) => `${Number(n).toLocaleString("en-US")}: ${mb}`)
        .join(", ")}` +
      (m.extrapolatedSecondsFor1M !== undefined
        ? `\n  EXTRAPOLATED (not measured): 1,000,000 addresses at this rate would take ${(m.extrapolatedSecondsFor1M / 60).toFixed(1)} min`
        : "")
  )
}
console.log(`\nbench took ${totalSeconds.toFixed(0)} s`)

const packageJson = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as {
  devDependencies: Record<string, string>
}
const json = {
  generatedAt: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? "?", node: process.version, kernel: release() },
  isolation: process.env["BENCH_NETNS"] === "1" ? "own network namespace (loopback only)" : "host network (loopback)",
  parameters: { ...options, perHost, port: ports.port, addresses: corpus.addresses.length },
  versions: packageJson.devDependencies,
  totalSeconds,
  table: rendered,
  rows: ratios,
  million
}
let text = `${JSON.stringify(json, null, 2)}\n`
try {
  const prettier = await import("prettier")
  text = await prettier.format(text, { ...(await prettier.resolveConfig(args.out)), parser: "json" })
} catch {
  // prettier is a dev tool of the repository; unformatted JSON is still JSON
}
await mkdir(dirname(resolve(args.out)), { recursive: true })
await writeFile(args.out, text)
log(`wrote ${args.out}`)
