/**
 * Starts one contender in a process of its own, with the guard preloaded, and collects what it reports: wall time,
 * the guard's report (active time, peak RSS, connections, DNS violations) and its exit.
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"
import { readFile, rm } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import type { GuardReport } from "./guard.ts"

/**
 * @category constants
 * @since 0.1.0
 */
export const guardPath = fileURLToPath(new URL("./guard.ts", import.meta.url))

/**
 * @category models
 * @since 0.1.0
 */
export interface ChildRun {
  readonly exitCode: number | null
  readonly signal: string | null
  readonly wallMs: number
  readonly report: GuardReport | undefined
  readonly stderr: string
  readonly timedOut: boolean
}

/**
 * Runs `node --import guard.ts <args>` with `BENCH_DNS` set; kills it (that pid only) after `limitMs`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const runChild = async (
  args: ReadonlyArray<string>,
  options: {
    readonly dns: string
    readonly reportPath: string
    readonly limitMs: number
    /** Extra flags for node itself, e.g. `--max-old-space-size=256`. */
    readonly nodeArgs?: ReadonlyArray<string>
  }
): Promise<ChildRun> => {
  await rm(options.reportPath, { force: true })
  const started = performance.now()
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), "--conditions=@rcpt/source", "--import", guardPath, ...args],
    {
      env: {
        ...process.env,
        BENCH_DNS: options.dns,
        BENCH_REPORT: options.reportPath,
        NO_COLOR: "1",
        NODE_OPTIONS: ""
      },
      stdio: ["ignore", "ignore", "pipe"]
    }
  )
  let stderr = ""
  child.stderr.setEncoding("utf8")
  child.stderr.on("data", (chunk: string) => {
    if (stderr.length < 20_000) stderr += chunk
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill("SIGKILL")
  }, options.limitMs)
  const [exitCode, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.once("close", (code, sig) => resolve([code, sig]))
  )
  clearTimeout(timer)
  const wallMs = performance.now() - started
  const report = await readFile(options.reportPath, "utf8")
    .then((text) => JSON.parse(text) as GuardReport)
    .catch(() => undefined)
  return { exitCode, signal, wallMs, report, stderr, timedOut }
}
