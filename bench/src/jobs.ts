/**
 * The jobs service's figures, each against `rcpt serve` as a child process on loopback:
 *
 * - **upload**: a list of `--upload-lines` lines (1,000,000 by default) POSTed as text/plain to
 *   `/v1/jobs` and stored (time to the 202, lines/s, the server's peak RSS).
 * - **download**: `--download-results` stored results (seeded into the job store directly, from a
 *   real verification) read back as JSONL and as CSV (lines/s, MB/s).
 * - **overhead**: the same list (`--domains` x `--per-domain`, the comparison corpus) against the
 *   same world, once through `rcpt bulk -o` and once as a job (`rcpt serve`, POST, poll until done),
 *   both timed from process start; the ratio is the job path's overhead.
 *
 * Usage: `node bench/src/jobs.ts [--upload-lines N] [--download-results N] [--domains N] [--per-domain N]`
 *
 * @since 0.1.0
 */
import { spawn, type ChildProcess } from "node:child_process"
import { once } from "node:events"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { Database, JobStore } from "@rcpt/store"
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

const overhead = async () => {
  const corpus = makeCorpus({ domains, perDomain, hosts: 4, seed: 7 })
  const world = await World.start(worldSpec(corpus, port), { name: "loopback", delayMs: 0 }, { port, serverPort: port })
  const list = join(dir, "list.txt")
  await writeList(list, corpus.addresses)
  // The world is .test names on loopback: both refused unless opened.
  const flags = [
    "--dns-server",
    world.dns,
    "--port",
    String(port),
    "--helo",
    "bench.rcpt.test",
    "--allow-target",
    "127.0.0.0/8",
    "--allow-special-use",
    "test"
  ]
  try {
    // rcpt bulk, from process start to exit.
    const t0 = performance.now()
    const bulk = spawn(process.execPath, [bin, "bulk", list, "-o", join(dir, "bulk.jsonl"), ...flags], {
      stdio: "ignore"
    })
    const [code] = (await once(bulk, "exit")) as [number]
    const bulkSeconds = (performance.now() - t0) / 1000
    if (code !== 0 && code !== 1 && code !== 2 && code !== 3) throw new Error(`rcpt bulk exited ${code}`)
    // The job path, from process start to the job's done.
    const t1 = performance.now()
    const { child, base } = await serve(["--db", `sqlite:${join(dir, "overhead.db")}`, ...flags])
    const created = (await (
      await fetch(`${base}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "text/plain", "x-requested-with": "rcpt-bench" },
        body: readFileSync(list)
      })
    ).json()) as Job
    let job = created
    while (job.state !== "done") {
      await new Promise((r) => setTimeout(r, 50))
      job = (await (await fetch(`${base}/v1/jobs/${created.id}`)).json()) as Job
    }
    const jobSeconds = (performance.now() - t1) / 1000
    const first = (await (await fetch(`${base}/v1/jobs/${created.id}/results`)).text()).split("\n")[0]!
    await stop(child)
    const template = JSON.parse(first) as Record<string, unknown>
    delete template["cursor"]
    return {
      figures: {
        addresses: corpus.addresses.length,
        bulkSeconds: round(bulkSeconds),
        jobSeconds: round(jobSeconds),
        ratio: round(jobSeconds / bulkSeconds),
        // The job's own run (queued to done), without the server's start and the upload.
        jobRunSeconds: round((Date.parse(job.finishedAt!) - Date.parse(job.startedAt!)) / 1000)
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
