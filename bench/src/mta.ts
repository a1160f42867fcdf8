/**
 * `npm run bench:mta`: `rcpt bulk` against real Postfix (the e2e mail world, test/e2e/mail-world) and against the
 * in-process world, all through the 50 ms round-trip delay proxy, next to the limit client (one ideal pipelined
 * connection). Lists of one domain: mostly unknown mailboxes (`bulk.test`, every RCPT 550 5.1.1) and a catch-all
 * domain (`catchall.test`, every RCPT 250). Postfix twice: its stock error limits on 127.0.0.2:25, and a listener
 * this bench adds on 127.0.0.2:2526 with the error and junk limits raised out of reach and no flow delay. What
 * Postfix wrote in its log during each run is read back: sessions, the most at once, "too many errors" disconnects,
 * and sessions that went past the soft error limit (each of those pays the 1 s error sleep: an "episode"). The most
 * at once is also counted in the contender's own process (the bench's guard: connect to close): Postfix's smtpd
 * processes may log a disconnect after the next session's connect, which makes the log's count one too high now
 * and then.
 *
 * Root only (up.sh installs and binds 127.0.0.x:25). The e2e world uses fixed loopback addresses: run it under the
 * same lock as the e2e suite, e.g. `flock /work/e2e.lock npm run bench:mta -- --size 20000`. It brings the world up
 * with up.sh and down with down.sh (`--keep-world` leaves it up).
 *
 * @since 0.1.0
 */
import { spawn, spawnSync } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import { once } from "node:events"
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { connect } from "node:net"
import { cpus, loadavg, tmpdir } from "node:os"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { RcptProcess } from "@rcpt/testing"
import { postfixLogFromNow, stateDir } from "../../test/e2e/world.ts"
import { runChild } from "./child.ts"
import { cliPath } from "./contenders.ts"
import { mapVerdict } from "./rcpt-lib.ts"
import { makeHosts, writeList } from "./truth.ts"
import * as World from "./world.ts"

const { values: args } = parseArgs({
  options: {
    size: { type: "string", default: "20000" },
    "delay-ms": { type: "string", default: "25" },
    "per-host": { type: "string", default: "2" },
    rows: { type: "string", default: "" },
    "keep-world": { type: "boolean", default: false },
    "rcpt-flags": { type: "string", default: "" },
    "node-args": { type: "string", default: "" },
    runs: { type: "string", default: "1" },
    out: { type: "string", default: fileURLToPath(new URL("../results/mta.json", import.meta.url)) },
    help: { type: "boolean", default: false }
  }
})

const usage = `npm run bench:mta -- [options]   (root; under the e2e lock)
  --size N          addresses per list (default 20000)
  --delay-ms N      proxy hold per chunk and direction (default 25: a 50 ms round trip)
  --per-host N      rcpt bulk --per-host (default 2)
  --rows a,b        only rows whose "world/list/contender" contains one of these
  --rcpt-flags "…"  extra flags for rcpt bulk
  --node-args "…"   extra flags for node running rcpt (e.g. --cpu-prof)
  --runs N          run each list's contenders N times, alternating (default 1); with more than
                    one, a table of medians follows: ratios moved by the machine's noise settle
  --keep-world      leave the mail world up afterwards
  --out FILE        JSON results (default bench/results/mta.json)`
if (args.help) {
  console.log(usage)
  process.exit(0)
}
if (process.getuid?.() !== 0) {
  console.error("bench:mta needs root (the e2e mail world binds 127.0.0.x:25)")
  process.exit(2)
}

const size = Number(args.size)
const delayMs = Number(args["delay-ms"])
const perHost = Number(args["per-host"])
const runs = Math.max(1, Math.floor(Number(args.runs)) || 1)
const log = (line: string) => console.error(`[mta ${new Date().toISOString().slice(11, 19)}] ${line}`)
const repo = fileURLToPath(new URL("../../", import.meta.url))
const proxyPath = fileURLToPath(new URL("./delay-proxy.ts", import.meta.url))
const limitPath = fileURLToPath(new URL("./limit.ts", import.meta.url))

/**
 * Stock limits on :25 (the world as up.sh makes it); raised ones on :2526, added here, with a cleanup service of its
 * own that has no flow delay: `in_flow_delay` is the cleanup server's (it waits up to 1 s for a token before it opens
 * a queue file), and transactions that never reach DATA return no token, so once a run had used them up every
 * transaction with an accepted recipient cost 1 s on both listeners, and a catch-all row measured that (about 1,000
 * addr/s for both contenders) rather than the protocol.
 */
const raisedListener =
  "127.0.0.2:2526 inet n - n - - smtpd -o syslog_name=postfix/raised" +
  " -o smtpd_soft_error_limit=1000000 -o smtpd_hard_error_limit=1000000 -o smtpd_junk_command_limit=1000000" +
  " -o cleanup_service_name=raisedcleanup\n" +
  "raisedcleanup unix n - n - 0 cleanup -o syslog_name=postfix/raised -o in_flow_delay=0s\n"

const sh = (command: string, argv: ReadonlyArray<string>) => {
  const r = spawnSync(command, argv, { stdio: ["ignore", "inherit", "inherit"] })
  if (r.status !== 0) throw new Error(`${command} ${argv.join(" ")} exited ${r.status}`)
}

const listening = async (host: string, port: number, timeoutMs = 15_000) => {
  const until = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((done) => {
      const s = connect(port, host)
      s.once("connect", () => (s.destroy(), done(true)))
      s.once("error", () => done(false))
    })
    if (ok) return
    if (Date.now() > until) throw new Error(`${host}:${port} is not listening`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

const startProxy = async (host: string, port: number, targetPort: number): Promise<ChildProcess> => {
  const child = spawn(process.execPath, [proxyPath, JSON.stringify({ hosts: [host], port, targetPort, delayMs })], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  child.stdout!.setEncoding("utf8")
  await new Promise<void>((ok, fail) => {
    child.stdout!.on("data", (t: string) => t.includes("ready") && ok())
    child.once("exit", (code) => fail(new Error(`proxy exited ${code}`)))
  })
  return child
}

/** What Postfix logged about the sessions of one listener (`name`: its syslog_name) in `lines`. */
export const postfixSessions = (lines: ReadonlyArray<string>, name: string, softLimit = 10) => {
  const open = new Map<string, number>()
  let current = 0
  let most = 0
  let sessions = 0
  let tooManyErrors = 0
  let sleepy = 0
  const tag = ` ${name}/smtpd[`
  for (const line of lines) {
    const at = line.indexOf(tag)
    if (at < 0) continue
    const pid = line.slice(at + tag.length, line.indexOf("]", at))
    if (line.includes(": connect from ")) {
      sessions++
      open.set(pid, (open.get(pid) ?? 0) + 1)
      most = Math.max(most, ++current)
    } else if (line.includes(": disconnect from ")) {
      if ((open.get(pid) ?? 0) > 0) {
        open.set(pid, open.get(pid)! - 1)
        current--
      }
      // "commands=3/18": 3 of 18 commands succeeded; the rest were errors.
      const m = / commands=(\d+)\/(\d+)/.exec(line)
      if (m !== null && Number(m[2]) - Number(m[1]) >= softLimit) sleepy++
    } else if (line.includes(": too many errors after ")) tooManyErrors++
  }
  return { sessions, most, tooManyErrors, sleepy }
}

interface Row {
  readonly world: "postfix stock" | "postfix raised" | "in-process"
  readonly list: "unknown" | "catch-all"
  readonly contender: "rcpt bulk" | "limit"
}

const allRows: ReadonlyArray<Row> = (["in-process", "postfix raised", "postfix stock"] as const).flatMap((world) =>
  (["unknown", "catch-all"] as const).flatMap((list) =>
    (["limit", "rcpt bulk"] as const)
      // The limit client pipelines everything: stock Postfix cuts it off after 20 rejections, so no such row.
      .filter((contender) => !(world === "postfix stock" && list === "unknown" && contender === "limit"))
      .map((contender) => ({ world, list, contender }))
  )
)
const wanted = args.rows
  .split(",")
  .map((r) => r.trim())
  .filter((r) => r.length > 0)
const rows = allRows.filter(
  (r) => wanted.length === 0 || wanted.some((w) => `${r.world}/${r.list}/${r.contender}`.includes(w))
)
/** Each world and list's contenders run one after the other, `runs` times over: each pair sees the same minute. */
const listKeys = [...new Set(rows.map((r) => `${r.world}/${r.list}`))]
const schedule: ReadonlyArray<Row & { readonly run: number }> = listKeys.flatMap((key) =>
  Array.from({ length: runs }, (_, k) =>
    rows.filter((r) => `${r.world}/${r.list}` === key).map((r) => ({ ...r, run: k + 1 }))
  ).flat()
)

const started = performance.now()
const dir = await mkdtemp(`${tmpdir()}/rcpt-bench-mta-`)
const tag = Date.now().toString(36)
const lists = {
  postfix: {
    unknown: Array.from({ length: size }, (_, i) => `nobody${i}.${tag}@bulk.test`),
    "catch-all": Array.from({ length: size }, (_, i) => `anyone${i}.${tag}@catchall.test`)
  },
  inProcess: {
    unknown: Array.from({ length: size }, (_, i) => `nobody${i}.${tag}@unknown.bench.test`),
    "catch-all": Array.from({ length: size }, (_, i) => `anyone${i}.${tag}@catchall.bench.test`)
  }
}
const postfixRows = rows.some((r) => r.world !== "in-process")
const proxies: Array<ChildProcess> = []
let inProcess: World.RunningWorld | undefined
const results: Array<Record<string, unknown>> = []
try {
  if (postfixRows) {
    log("mail world: up.sh")
    sh(`${repo}/test/e2e/mail-world/up.sh`, [])
    await appendFile(`${stateDir}/postfix/etc/master.cf`, raisedListener)
    sh("/usr/sbin/postfix", ["-c", `${stateDir}/postfix/etc`, "reload"])
    await listening("127.0.0.2", 2526)
    proxies.push(await startProxy("127.0.0.2", 2525, 25), await startProxy("127.0.0.2", 2527, 2526))
  }
  if (rows.some((r) => r.world === "in-process")) {
    const hosts = makeHosts(1)
    inProcess = await World.start(
      {
        domains: [
          { name: "unknown.bench.test", mx: [{ host: hosts[0]!.name, preference: 10 }], users: ["alice"] },
          { name: "catchall.bench.test", mx: [{ host: hosts[0]!.name, preference: 10 }], catchAll: true }
        ],
        hosts
      },
      { name: "delay", delayMs },
      { port: 2525, serverPort: 2524 }
    )
  }
  for (const row of schedule) {
    const postfix = row.world !== "in-process"
    const list = `${dir}/${row.world.replace(" ", "-")}-${row.list}.txt`
    const out = `${dir}/out-${results.length}.jsonl`
    await writeList(list, (postfix ? lists.postfix : lists.inProcess)[row.list])
    const dns = postfix ? "127.0.0.1:5354" : inProcess!.dns
    const port = row.world === "postfix stock" ? 2525 : row.world === "postfix raised" ? 2527 : inProcess!.port
    const argv =
      row.contender === "limit"
        ? [limitPath, list, out, "1", String(port), "600000", row.list === "catch-all" ? "1000" : "0"]
        : [
            cliPath,
            "bulk",
            list,
            "-o",
            out,
            // The world's flags (.test names on loopback, both refused unless opened), with the
            // CLI's own default timeout of 60 s rather than worldFlags' 10 s, as before.
            ...RcptProcess.worldFlags({ dns, smtpPort: port }, { helo: "bench.rcpt.test", timeout: "60s" }),
            "--per-host",
            String(perHost),
            ...args["rcpt-flags"].split(" ").filter((f) => f.length > 0)
          ]
    // Only what Postfix logs from here on is read (the e2e world's log grows by hundreds of
    // megabytes on a machine that runs it often; read whole, it made this process that large).
    const logged = postfix ? postfixLogFromNow() : undefined
    await inProcess?.reset()
    const load = loadavg()[0]!
    log(
      `${row.world} / ${row.list} / ${row.contender}${runs > 1 ? ` (run ${row.run})` : ""}: ${size} addresses (load ${load.toFixed(1)})`
    )
    const child = await runChild(argv, {
      dns,
      reportPath: `${dir}/report.json`,
      limitMs: 30 * 60_000,
      nodeArgs: row.contender === "limit" ? [] : args["node-args"].split(" ").filter((f) => f.length > 0)
    })
    const text = (await readFile(out, "utf8").catch(() => "")).split("\n").filter((l) => l.length > 0)
    const verdicts: Record<string, number> = {}
    for (const line of text) {
      const r = JSON.parse(line) as { v?: string; verdict?: string; reason?: string }
      const v = r.v ?? mapVerdict(r.verdict ?? "", r.reason ?? "")
      verdicts[v] = (verdicts[v] ?? 0) + 1
    }
    const activeMs = child.report?.activeMs ?? child.wallMs
    const server = logged
      ? postfixSessions(
          logged(),
          row.world === "postfix stock" ? "postfix" : "postfix/raised",
          row.world === "postfix stock" ? 10 : 1_000_000
        )
      : { sessions: await inProcess!.connections(), most: null, tooManyErrors: null, sleepy: null }
    // The most connections the contender had open at once, counted in its own process (see GuardReport).
    const mostOpen = child.report?.mostConnections ?? null
    const figures = {
      ...row,
      size,
      answered: text.length,
      rate: text.length / (activeMs / 1000),
      activeMs,
      peakRssMb: (child.report?.maxRssKb ?? 0) / 1024,
      // CPU per 1,000 answered; CPU near the active time: the contender is CPU-bound (one core), not waiting.
      cpuMs: child.report?.cpuMs ?? null,
      activeCpuMs: child.report?.activeCpuMs ?? null,
      // From the first DNS query or connection on: start-up (module loading) is not per address.
      cpuMsPer1000:
        child.report?.activeCpuMs == null ? null : (child.report.activeCpuMs / Math.max(1, text.length)) * 1000,
      cpuShare: child.report?.activeCpuMs == null ? null : child.report.activeCpuMs / activeMs,
      // Every core's busy share meanwhile: the contender and the world's servers and proxy together.
      machineBusy: child.report?.activeMachineBusy ?? null,
      verdicts,
      load,
      ...server,
      mostOpen,
      exitCode: child.exitCode,
      ...(child.exitCode === 0 ? {} : { stderr: child.stderr.slice(-1500) })
    }
    log(JSON.stringify(figures))
    results.push(figures)
  }
} finally {
  for (const p of proxies) p.kill("SIGTERM")
  await Promise.all(proxies.map((p) => (p.exitCode === null ? once(p, "exit") : undefined)))
  await inProcess?.stop()
  if (postfixRows && !args["keep-world"]) sh(`${repo}/test/e2e/mail-world/down.sh`, [])
  await rm(dir, { recursive: true, force: true })
}

const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The median and range of `xs`; null when there are none. */
const spread = (xs: ReadonlyArray<number>) =>
  xs.length === 0 ? null : { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }

/** A share as a whole percentage, "-" when there is none (null). */
const percent = (n: unknown) => (typeof n === "number" ? `${(n * 100).toFixed(0)}%` : "-")

/** The median machine busy share of some runs; null when none has one. */
const busyOf = (runs: ReadonlyArray<Record<string, unknown>>) => {
  const shares = runs.flatMap((r) => (typeof r["machineBusy"] === "number" ? [r["machineBusy"]] : []))
  return shares.length === 0 ? null : median(shares)
}

/**
 * With `--runs` above 1: per world and list, each contender's median rate (and its range), the ratio of the
 * medians, and the range of the ratios run by run (each rcpt run against the limit client's run just before it).
 */
const summary = (all: ReadonlyArray<Record<string, unknown>>) => {
  const keys = [...new Set(all.map((r) => `${r["world"]}|${r["list"]}`))]
  const rows = keys.map((key) => {
    const [world, list] = key.split("|")
    const of = (contender: string) =>
      all.filter((r) => r["world"] === world && r["list"] === list && r["contender"] === contender)
    const rcpt = of("rcpt bulk")
    const limit = of("limit")
    const pairs = rcpt.flatMap((r) => {
      const l = limit.find((o) => o["run"] === r["run"])
      return l === undefined ? [] : [(r["rate"] as number) / (l["rate"] as number)]
    })
    const rcptRates = spread(rcpt.map((r) => r["rate"] as number))
    const limitRates = spread(limit.map((r) => r["rate"] as number))
    return {
      world,
      list,
      runs: rcpt.length,
      rcpt: rcptRates,
      limit: limitRates,
      ratioOfMedians: rcptRates !== null && limitRates !== null ? rcptRates.median / limitRates.median : null,
      ratios: spread(pairs),
      cpuMsPer1000: rcpt.length === 0 ? null : median(rcpt.map((r) => (r["cpuMsPer1000"] as number | null) ?? 0)),
      busy: { rcpt: busyOf(rcpt), limit: busyOf(limit) }
    }
  })
  const range = (m: { median: number; min: number; max: number } | null, digits = 0, unit = "") =>
    m === null ? "-" : `${m.median.toFixed(digits)}${unit} (${m.min.toFixed(digits)}-${m.max.toFixed(digits)})`
  const table = [
    "| world (50 ms RTT) | list | runs | rcpt bulk addr/s, median (range) | limit addr/s, median (range) | ratio of medians | ratio run by run, median (range) | rcpt CPU ms / 1,000, median | machine busy, rcpt / limit, median |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.world} | ${r.list} | ${r.runs} | ${range(r.rcpt)} | ${range(r.limit)} | ${r.ratioOfMedians === null ? "-" : `${r.ratioOfMedians.toFixed(2)}x`} | ${range(r.ratios, 2, "x")} | ${r.cpuMsPer1000 === null ? "-" : r.cpuMsPer1000.toFixed(0)} | ${percent(r.busy.rcpt)} / ${percent(r.busy.limit)} |`
    )
  ].join("\n")
  return { rows, table }
}

const limitOf = (r: Record<string, unknown>) =>
  results.find(
    (o) => o["world"] === r["world"] && o["list"] === r["list"] && o["run"] === r["run"] && o["contender"] === "limit"
  )
const fmt = (n: unknown) => (n === null || n === undefined ? "-" : String(n))
const table = [
  `| world (50 ms RTT) | list | contender${runs > 1 ? " | run" : ""} | addr/s | vs limit | sessions | most at once (server log / client) | too-many-errors | sessions past soft limit | answered | verdicts | active CPU ms / 1,000 addr | active CPU / active time | machine busy (all cores) | peak RSS MB | load |`,
  `| --- | --- | ---${runs > 1 ? " | ---:" : ""} | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |`,
  ...results.map((r) => {
    const limit = limitOf(r)
    const ratio = limit === undefined ? "-" : `${((r["rate"] as number) / (limit["rate"] as number)).toFixed(2)}x`
    return `| ${r["world"]} | ${r["list"]} | ${r["contender"]}${runs > 1 ? ` | ${r["run"]}` : ""} | ${(r["rate"] as number).toFixed(0)} | ${ratio} | ${fmt(r["sessions"])} | ${fmt(r["most"])} / ${fmt(r["mostOpen"])} | ${fmt(r["tooManyErrors"])} | ${fmt(r["sleepy"])} | ${r["answered"]}/${r["size"]} | ${Object.entries(
      r["verdicts"] as Record<string, number>
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ", "
      )} | ${r["cpuMsPer1000"] === null ? "-" : (r["cpuMsPer1000"] as number).toFixed(0)} | ${percent(r["cpuShare"])} | ${percent(r["machineBusy"])} | ${(r["peakRssMb"] as number).toFixed(0)} | ${(r["load"] as number).toFixed(1)} |`
  })
].join("\n")
const medians = runs > 1 ? summary(results) : undefined
console.log(
  `\n${table}\n${medians === undefined ? "" : `\n${medians.table}\n`}\nbench:mta took ${((performance.now() - started) / 1000).toFixed(0)} s`
)
await mkdir(dirname(resolve(args.out)), { recursive: true })
await writeFile(
  args.out,
  `${JSON.stringify({ generatedAt: new Date().toISOString(), cpus: cpus().length, size, delayMs, perHost, runs, table, ...(medians === undefined ? {} : { medians: medians.rows }), results }, null, 2)}\n`
)
process.exit(0)
