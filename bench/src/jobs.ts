/**
 * The jobs service's figures, each against `rcpt serve` as a child process on loopback:
 *
 * - **upload**: a list of `--upload-lines` lines (1,000,000 by default) POSTed as text/plain to
 *   `/v1/jobs` and stored (time to the 202, lines/s, the server's peak RSS).
 * - **download**: `--download-results` stored results (seeded into the job store directly, from a
 *   real verification) read back as JSONL and as CSV (lines/s, MB/s).
 * - **overhead**: the same list (`--domains` x `--per-domain`, the comparison corpus) against the
 *   same world with the same flags, through `rcpt bulk -o` and as a job (`rcpt serve`, POST, until
 *   the job's `finishedAt`), `--runs` times each, alternating; medians (see `overhead`).
 *
 * Usage: `node bench/src/jobs.ts [--upload-lines N] [--download-results N] [--domains N] [--per-domain N] [--runs N]`
 *
 * @since 0.1.0
 */
import { spawn, type ChildProcess } from "node:child_process"
import { once } from "node:events"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { Database, JobStore } from "@rcpt/store"
import { RcptProcess } from "@rcpt/testing"
import { makeCorpus, worldSpec, writeList } from "./truth.ts"
import * as World from "./world.ts"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}
const uploadLines = arg("upload-lines", 1_000_000)
const downloadResults = arg("download-results", 200_000)
const domains = arg("domains", 200)
const perDomain = arg("per-domain", 50)
const port = arg("port", 2526)
const runs = arg("runs", 3)

const bin = fileURLToPath(new URL("../../packages/cli/bin/rcpt.js", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "rcpt-jobs-bench-"))
const log = (text: string) => process.stderr.write(`${text}\n`)

/** Peak resident set of a process, from /proc (Linux). */
const peakRssMb = (pid: number) => {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return match === null ? Number.NaN : Math.round(Number(match[1]) / 1024)
}

const serve = async (args: ReadonlyArray<string>): Promise<{ child: ChildProcess; base: string }> => {
  const child = spawn(process.execPath, [bin, "serve", "--listen", "127.0.0.1:0", ...args], {
    stdio: ["ignore", "ignore", "pipe"]
  })
  let stderr = ""
  const base = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      stderr += d
      const match = /listening on (http:\/\/\S+)/.exec(stderr)
      if (match !== null) resolve(match[1]!)
    })
    child.once("exit", (code) => reject(new Error(`rcpt serve exited (${code}):\n${stderr}`)))
  })
  return { child, base }
}

const stop = async (child: ChildProcess) => {
  if (child.exitCode !== null) return
  const exited = once(child, "exit")
  child.kill("SIGKILL")
  await exited
}

interface Job {
  readonly id: string
  readonly state: string
  readonly total: number
  readonly done: number
  readonly startedAt: string | null
  readonly finishedAt: string | null
}

const upload = async () => {
  const db = `sqlite:${join(dir, "upload.db")}`
  // Nothing answers DNS on port 9: the job starts but idles, so the upload is measured alone.
  const { child, base } = await serve(["--db", db, "--dns-server", "127.0.0.1:9", "--helo", "bench.rcpt.test"])
  const body = Buffer.from(
    Array.from({ length: uploadLines }, (_, i) => `user.${i}@shop${String(i % 5000).padStart(4, "0")}.test\n`).join("")
  )
  const t0 = performance.now()
  const response = await fetch(`${base}/v1/jobs`, {
    method: "POST",
    headers: { "content-type": "text/plain", "x-requested-with": "rcpt-bench" },
    body
  })
  const job = (await response.json()) as Job
  const seconds = (performance.now() - t0) / 1000
  const rss = peakRssMb(child.pid!)
  await stop(child)
  if (response.status !== 202 || job.total !== uploadLines)
    throw new Error(`upload: ${response.status} ${JSON.stringify(job)}`)
  return {
    lines: uploadLines,
    mb: Math.round(body.length / 1e5) / 10,
    seconds: round(seconds),
    linesPerSecond: Math.round(uploadLines / seconds),
    peakRssMb: rss
  }
}

const round = (x: number) => Math.round(x * 100) / 100

/** A stored job of `n` results copied from one real verification (the overhead run's first). */
const seed = async (filename: string, template: Record<string, unknown>, n: number) => {
  const verdicts = ["deliverable", "undeliverable", "risky", "unknown"] as const
  await Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* JobStore.JobStore
      yield* store.create({ id: "bench", owner: "anyone", options: "{}", now: Date.now() })
      for (let from = 1; from <= n; from += 1000) {
        const addresses = Array.from({ length: Math.min(1000, n - from + 1) }, (_, i) => `user.${from + i}@shop.test`)
        yield* store.appendInputs("bench", from, addresses)
        yield* store.record(
          "bench",
          addresses.map((address, i) => {
            const verdict = verdicts[(from + i) % 4]!
            return { position: from + i, verdict, data: JSON.stringify({ ...template, address, verdict }) }
          }),
          Date.now()
        )
      }
      yield* store.seal("bench", n, Date.now())
      yield* store.transition("bench", [], "done", Date.now())
    }).pipe(Effect.provide(Database.layerStore({ _tag: "Sqlite", filename })))
  )
}

const download = async (template: Record<string, unknown>) => {
  const filename = join(dir, "download.db")
  log(`seeding ${downloadResults} results`)
  await seed(filename, template, downloadResults)
  const { child, base } = await serve([
    "--db",
    `sqlite:${filename}`,
    "--dns-server",
    "127.0.0.1:9",
    "--helo",
    "bench.rcpt.test"
  ])
  const out: Record<string, unknown> = {}
  for (const format of ["jsonl", "csv"] as const) {
    const t0 = performance.now()
    const response = await fetch(`${base}/v1/jobs/bench/results?format=${format}`)
    let bytes = 0
    let lines = 0
    for await (const chunk of response.body!) {
      bytes += chunk.length
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++
    }
    const seconds = (performance.now() - t0) / 1000
    out[format] = {
      lines,
      mb: round(bytes / 1e6),
      seconds: round(seconds),
      linesPerSecond: Math.round(lines / seconds),
      mbPerSecond: round(bytes / 1e6 / seconds)
    }
  }
  out["peakRssMb"] = peakRssMb(child.pid!)
  await stop(child)
  return out
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/** `rcpt bulk list -o out` from spawn to exit, in seconds (wall clock, `Date.now` like the job's timestamps). */
const timeBulk = async (list: string, out: string, flags: ReadonlyArray<string>) => {
  const t0 = Date.now()
  const bulk = spawn(process.execPath, [bin, "bulk", list, "-o", out, ...flags], { stdio: "ignore" })
  const [code] = (await once(bulk, "exit")) as [number]
  if (code !== 0) throw new Error(`rcpt bulk exited ${code}`)
  return (Date.now() - t0) / 1000
}

/**
 * The job path on a fresh `rcpt serve`: spawn, POST the list, then the job's own timestamps (the
 * server stamps `finishedAt` when the last result is stored), so the polling interval does not
 * count. `fromStart` is spawn to done, `fromPost` the job's `createdAt` (the request arrived) to
 * done: upload, queue and run.
 */
const timeJob = async (list: string, db: string, flags: ReadonlyArray<string>) => {
  const t0 = Date.now()
  const { child, base } = await serve(["--db", `sqlite:${db}`, ...flags])
  try {
    const created = (await (
      await fetch(`${base}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "text/plain", "x-requested-with": "rcpt-bench" },
        body: readFileSync(list)
      })
    ).json()) as Job & { readonly createdAt: string }
    let job = created
    while (job.state !== "done") {
      if (job.state === "failed" || job.state === "cancelled") throw new Error(`job ${job.state}`)
      await new Promise((r) => setTimeout(r, 200))
      job = (await (await fetch(`${base}/v1/jobs/${created.id}`)).json()) as Job & { readonly createdAt: string }
    }
    const finished = Date.parse(job.finishedAt!)
    const first = (await (await fetch(`${base}/v1/jobs/${created.id}/results`)).text()).split("\n")[0]!
    return {
      fromStart: (finished - t0) / 1000,
      fromPost: (finished - Date.parse(created.createdAt)) / 1000,
      run: (finished - Date.parse(job.startedAt!)) / 1000,
      first
    }
  } finally {
    await stop(child)
  }
}

/**
 * The job path against `rcpt bulk` on the same list, world and verifier flags, `--runs` times each,
 * alternating (so a change in the machine's load hits both alike); medians. Two ratios: from
 * process start (both include Node's start and module loading; the job also its HTTP round trips),
 * and the work alone (the job from its POST, `rcpt bulk` minus its own start and exit, measured on
 * an empty list).
 */
const overhead = async () => {
  const corpus = makeCorpus({ domains, perDomain, hosts: 4, seed: 7 })
  const world = await World.start(worldSpec(corpus, port), { name: "loopback", delayMs: 0 }, { port, serverPort: port })
  const list = join(dir, "list.txt")
  await writeList(list, corpus.addresses)
  const empty = join(dir, "empty.txt")
  writeFileSync(empty, "")
  // The world's flags (.test names on loopback, both refused unless opened), with the CLI's own
  // default timeout of 60 s rather than worldFlags' 10 s, as before.
  const flags = RcptProcess.worldFlags({ dns: world.dns, smtpPort: port }, { helo: "bench.rcpt.test", timeout: "60s" })
  try {
    const bulk: Array<number> = []
    const bulkStart: Array<number> = []
    const jobs: Array<{ fromStart: number; fromPost: number; run: number; first: string }> = []
    for (let i = 0; i < runs; i++) {
      log(`overhead run ${i + 1}/${runs}`)
      bulkStart.push(await timeBulk(empty, join(dir, `empty-${i}.jsonl`), flags))
      bulk.push(await timeBulk(list, join(dir, `bulk-${i}.jsonl`), flags))
      jobs.push(await timeJob(list, join(dir, `overhead-${i}.db`), flags))
    }
    const bulkWall = median(bulk)
    const bulkWork = bulkWall - median(bulkStart)
    const jobFromStart = median(jobs.map((j) => j.fromStart))
    const jobFromPost = median(jobs.map((j) => j.fromPost))
    const template = JSON.parse(jobs[0]!.first) as Record<string, unknown>
    delete template["cursor"]
    return {
      figures: {
        addresses: corpus.addresses.length,
        runs,
        bulkSeconds: bulk.map(round),
        bulkStartSeconds: bulkStart.map(round),
        jobFromStartSeconds: jobs.map((j) => round(j.fromStart)),
        jobFromPostSeconds: jobs.map((j) => round(j.fromPost)),
        jobRunSeconds: jobs.map((j) => round(j.run)),
        ratioFromStart: round(jobFromStart / bulkWall),
        ratioWork: round(jobFromPost / bulkWork),
        loadAverage: loadavg().map((l) => round(l))
      },
      template
    }
  } finally {
    await world.stop()
  }
}

try {
  log(`overhead: ${domains * perDomain} addresses, rcpt bulk vs a job`)
  const { figures, template } = await overhead()
  log(`upload: ${uploadLines} lines`)
  const up = uploadLines > 0 ? await upload() : null
  const down = downloadResults > 0 ? await download(template) : null
  process.stdout.write(`${JSON.stringify({ overhead: figures, upload: up, download: down }, null, 2)}\n`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
