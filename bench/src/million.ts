/**
 * The streamed run: a generated list of `size` addresses (1,000,000 by default) in a file under /tmp, verified by rcpt
 * (`verifyMany` over a file stream) in its own process against the local mail world on plain loopback. Reports
 * throughput, peak RSS, connections and agreement with the generator's truth (read back line by line).
 *
 * @since 0.1.0
 */
import { createReadStream } from "node:fs"
import { open, rm, stat } from "node:fs/promises"
import { createInterface } from "node:readline"
import { runChild } from "./child.ts"
import { contenders } from "./contenders.ts"
import { mapVerdict } from "./rcpt-lib.ts"
import type { Result } from "./io.ts"
import { expected, writeMillionList } from "./truth.ts"
import type { Kind } from "./truth.ts"
import * as World from "./world.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface MillionFigures {
  readonly size: number
  readonly heapMb: number
  readonly domains: number
  readonly listMb: number
  readonly finished: boolean
  readonly answered: number
  readonly activeMs: number
  readonly wallMs: number
  readonly rate: number
  readonly peakRssMb: number
  readonly connsPer100: number
  readonly agreement: number
  readonly verdicts: Record<string, number>
  /** Only when `size` is below 1,000,000 or the run was cut short: 1,000,000 / rate, labelled as extrapolated. */
  readonly extrapolatedSecondsFor1M?: number
  readonly exitCode: number | null
  readonly stderr?: string
  /** RSS (MB) of rcpt's process when its output reached this many results (the guard's samples). */
  readonly rssAt: Record<string, number | null>
  readonly contender: string
}

const checkpoints = [20_000, 100_000, 200_000, 500_000, 1_000_000]

/** Counts the lines of a file that is being appended to, every 500 ms; the time each checkpoint was reached. */
const watchLines = (path: string) => {
  const reached = new Map<number, number>()
  let lines = 0
  let offset = 0
  let busy = false
  const timer = setInterval(async () => {
    if (busy) return
    busy = true
    try {
      const handle = await open(path, "r")
      try {
        const buffer = Buffer.alloc(1 << 20)
        for (;;) {
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset)
          if (bytesRead === 0) break
          offset += bytesRead
          for (let i = 0; i < bytesRead; i++) if (buffer[i] === 10) lines++
        }
      } finally {
        await handle.close()
      }
      for (const c of checkpoints) if (lines >= c && !reached.has(c)) reached.set(c, Date.now())
    } catch {
      // not there yet
    } finally {
      busy = false
    }
  }, 500)
  return { stop: () => clearInterval(timer), reached }
}

// The generator's rule (see truth.writeMillionList): domain index d -> d % 20 === 7 missing, === 3 catch-all;
// otherwise local part p<n> exists and q<n> does not.
const kindOf = (address: string): Kind => {
  const at = address.lastIndexOf("@")
  const d = Number(address.slice(at + 5, address.indexOf(".", at)))
  if (d % 20 === 7) return "no_domain"
  if (d % 20 === 3) return "catch_all"
  return address.startsWith("p") ? "existing" : "unknown_mailbox"
}

/**
 * @category constructors
 * @since 0.1.0
 */
export const run = async (options: {
  readonly size: number
  readonly hosts: number
  readonly seed: number
  readonly concurrency: number
  readonly perHost: number
  readonly timeoutMs: number
  readonly limitMs: number
  /** Caps the V8 heap of rcpt's process (0: Node's default), to tell retained memory from collector slack. */
  readonly heapMb: number
  /** Extra flags for node running rcpt (a probe's `--import`, `--trace-gc`). */
  readonly nodeArgs?: ReadonlyArray<string>
  /** "rcpt verifyMany" (the library) or "rcpt bulk (CLI)" at its default flags. */
  readonly contender: string
  readonly ports: { readonly port: number; readonly serverPort: number }
  readonly dir: string
  readonly log: (line: string) => void
}): Promise<MillionFigures> => {
  const list = `${options.dir}/million-${options.size}.txt`
  const out = `${options.dir}/million-${options.size}.out.jsonl`
  const generated = await writeMillionList(list, { size: options.size, hosts: options.hosts, seed: options.seed })
  const listMb = (await stat(list)).size / 1e6
  options.log(
    `million: ${options.size.toLocaleString("en-US")} addresses over ${generated.domainCount} domains (${listMb.toFixed(1)} MB) in ${list}`
  )
  const world = await World.start(
    { domains: generated.domains, hosts: generated.hosts },
    { name: "loopback", delayMs: 0 },
    options.ports
  )
  try {
    const rcpt = contenders.find((c) => c.name === options.contender)!
    const watcher = watchLines(out)
    const child = await runChild(
      rcpt.args({
        list,
        out,
        dns: world.dns,
        port: world.port,
        concurrency: options.concurrency,
        perHost: options.perHost,
        timeoutMs: options.timeoutMs
      }),
      {
        dns: world.dns,
        reportPath: `${options.dir}/million.report.json`,
        limitMs: options.limitMs,
        nodeArgs: [
          ...(options.heapMb > 0 ? [`--max-old-space-size=${options.heapMb}`] : []),
          ...(options.nodeArgs ?? [])
        ]
      }
    ).finally(watcher.stop)
    if (child.report && child.report.violations.length > 0) {
      throw new Error(`rcpt tried to leave the bench's DNS/loopback: ${child.report.violations.join("; ")}`)
    }
    const connections = await world.connections()
    const verdicts: Record<string, number> = { deliverable: 0, undeliverable: 0, unknown: 0 }
    let answered = 0
    let agreed = 0
    const lines = createInterface({ input: createReadStream(out).on("error", () => undefined), crlfDelay: Infinity })
    try {
      for await (const line of lines) {
        if (line.length === 0) continue
        const row = JSON.parse(line) as Result & { address?: string; verdict?: string; reason?: string }
        // rcpt-lib writes {a, v}; the CLI a whole Verification.
        const r: Result =
          row.address === undefined
            ? row
            : { a: row.address, v: mapVerdict(row.verdict ?? "", row.reason ?? ""), r: "" }
        answered++
        verdicts[r.v] = (verdicts[r.v] ?? 0) + 1
        if (r.v === expected[kindOf(r.a)]) agreed++
      }
    } catch {
      // no output file: nothing answered
    }
    const finished = child.exitCode === 0 && answered === options.size
    const activeMs = child.report?.activeMs ?? child.wallMs
    const rate = answered / (activeMs / 1000)
    await rm(out, { force: true })
    return {
      size: options.size,
      heapMb: options.heapMb,
      domains: generated.domainCount,
      listMb,
      finished,
      answered,
      activeMs,
      wallMs: child.wallMs,
      rate,
      peakRssMb: (child.report?.maxRssKb ?? 0) / 1024,
      connsPer100: (connections / Math.max(1, answered)) * 100,
      agreement: answered === 0 ? 0 : agreed / answered,
      verdicts,
      rssAt: Object.fromEntries(
        Array.from(watcher.reached, ([n, at]) => {
          // The first sample taken after the output reached n lines.
          const samples = child.report?.rss ?? []
          const sample = samples.find(([t]) => t >= at) ?? samples.at(-1)
          return [String(n), sample?.[1] ?? null] as const
        })
      ),
      contender: options.contender,
      ...(options.size < 1_000_000 || !finished ? { extrapolatedSecondsFor1M: 1_000_000 / rate } : {}),
      exitCode: child.exitCode,
      ...(child.exitCode === 0 ? {} : { stderr: child.stderr.slice(-2000) })
    }
  } finally {
    await world.stop()
  }
}
