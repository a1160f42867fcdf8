/**
 * The contenders: how to start each in its own process on the bench's list, and how to read its output into
 * {@link Result}s. Every one gets the same list, servers, DNS server, concurrency and per-address timeout.
 *
 * @since 0.1.0
 */
import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import type { Result } from "./io.ts"
import { mapVerdict } from "./rcpt-lib.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface RunContext {
  readonly list: string
  readonly out: string
  readonly dns: string
  readonly port: number
  readonly concurrency: number
  readonly perHost: number
  readonly timeoutMs: number
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Contender {
  readonly name: string
  /** Dials port 25 whatever it is told (the npm tools hard-code it). */
  readonly needsPort25: boolean
  /** Why it cannot run here, if it cannot. */
  readonly unavailable: () => string | undefined
  readonly args: (ctx: RunContext) => ReadonlyArray<string>
  readonly read: (path: string) => Promise<ReadonlyArray<Result>>
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))

/**
 * The CLI's entry point (written by another part of the project; a row is skipped while it is missing).
 *
 * @category constants
 * @since 0.1.0
 */
export const cliPath = fileURLToPath(new URL("../../packages/cli/bin/rcpt.js", import.meta.url))

const readJsonLines = async (path: string): Promise<Array<unknown>> =>
  (await readFile(path, "utf8"))
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as unknown)

const readResults = async (path: string) => (await readJsonLines(path)) as Array<Result>

// `rcpt bulk -o` writes one Verification per line (address, verdict, reason, evidence).
const readCli = async (path: string): Promise<Array<Result>> =>
  (await readJsonLines(path)).map((row) => {
    const v = row as { address: string; verdict: string; reason: string }
    return { a: v.address, v: mapVerdict(v.verdict, v.reason), r: `${v.verdict}/${v.reason}` }
  })

const npm = (tool: string): Contender => ({
  name: tool,
  needsPort25: true,
  unavailable: () => {
    try {
      import.meta.resolve(tool)
      return undefined
    } catch {
      return `${tool} is not installed (npm install -w bench)`
    }
  },
  args: (ctx) => [here("./npm-driver.ts"), tool, ctx.list, ctx.out, String(ctx.concurrency), String(ctx.timeoutMs)],
  read: readResults
})

/**
 * In table order. `limit` comes last in the table but is the yardstick.
 *
 * @category constants
 * @since 0.1.0
 */
export const contenders: ReadonlyArray<Contender> = [
  {
    name: "rcpt verifyMany",
    needsPort25: false,
    unavailable: () => undefined,
    args: (ctx) => [
      here("./rcpt-lib.ts"),
      ctx.list,
      ctx.out,
      String(ctx.concurrency),
      String(ctx.perHost),
      String(ctx.port),
      String(ctx.timeoutMs)
    ],
    read: readResults
  },
  {
    name: "rcpt bulk (CLI)",
    needsPort25: false,
    unavailable: () => (existsSync(cliPath) ? undefined : "packages/cli/bin/rcpt.js does not exist yet"),
    args: (ctx) => [
      cliPath,
      "bulk",
      ctx.list,
      "-o",
      ctx.out,
      // The bench world is on loopback, which the target policy refuses unless opened.
      "--allow-target",
      "127.0.0.0/8",
      "--dns-server",
      ctx.dns,
      "--port",
      String(ctx.port),
      "--helo",
      "bench.rcpt.test",
      "--allow-special-use",
      "test",
      "--concurrency",
      String(ctx.concurrency),
      "--per-host",
      String(ctx.perHost),
      "--timeout",
      `${ctx.timeoutMs} millis`
    ],
    read: readCli
  },
  npm("deep-email-validator"),
  npm("email-existence"),
  npm("email-verify"),
  {
    name: "limit (pipelined, 1 session/domain)",
    needsPort25: false,
    unavailable: () => undefined,
    args: (ctx) => [
      here("./limit.ts"),
      ctx.list,
      ctx.out,
      String(ctx.concurrency),
      String(ctx.port),
      String(ctx.timeoutMs)
    ],
    read: readResults
  }
]
