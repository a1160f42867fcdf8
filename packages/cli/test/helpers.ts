// Runs the real `rcpt` binary as a child process (the pinned Node running bin/rcpt.js, on the TypeScript sources).
import { spawn, type ChildProcess } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import type { Scope } from "effect"
import { type MailWorld, RcptProcess, SeededRandom } from "@rcpt/testing"
import type { Verification } from "@rcpt/verifier"

export const bin = fileURLToPath(new URL("../bin/rcpt.js", import.meta.url))

export interface Ran {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Environment without the caller's RCPT_* and colour settings, plus `extra`. */
export const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
  // `rcpt serve` keeps its job store in the data directory: a throwaway one, never the user's.
  // The test worlds are .test (RFC 6761): allowed, as a deployment never would.
  RcptProcess.cleanEnv({ XDG_DATA_HOME: dataHome, RCPT_ALLOW_SPECIAL_USE: "test", ...extra })

const dataHome = Fs.mkdtempSync(Path.join(Os.tmpdir(), "rcpt-cli-data-"))
process.on("exit", () => Fs.rmSync(dataHome, { recursive: true, force: true }))

export const start = (args: ReadonlyArray<string>, env: Record<string, string> = {}): ChildProcess =>
  spawn(process.execPath, [bin, ...args], { env: cleanEnv(env), stdio: ["pipe", "pipe", "pipe"] })

/** Waits for `child` to end; its stdin gets `stdin` and ends (null: the caller writes it, see {@link feed}). */
export const finish = (child: ChildProcess, stdin?: string | null): Effect.Effect<Ran> =>
  Effect.callback<Ran>((resume) => {
    let stdout = ""
    let stderr = ""
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    child.on("close", (code, signal) => resume(Effect.succeed({ code, signal, stdout, stderr })))
    // A child that exits before reading its input (a refused file, a usage error) closes the pipe.
    child.stdin!.on("error", () => {})
    if (stdin !== null) child.stdin!.end(stdin ?? "")
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/**
 * Writes `lines` into `child`'s stdin, `perTick` lines every `tickMs` ms, then ends it: a list that
 * arrives over time, so that a run lasts as long as its input does, however fast the engine is.
 * Stops when the child is gone.
 */
export const feed = (
  child: ChildProcess,
  lines: ReadonlyArray<string>,
  perTick: number,
  tickMs: number
): Effect.Effect<void> =>
  Effect.promise(async () => {
    const stdin = child.stdin!
    const running = () => !stdin.destroyed && child.exitCode === null && child.signalCode === null
    for (let i = 0; i < lines.length && running(); i += perTick) {
      stdin.write(`${lines.slice(i, i + perTick).join("\n")}\n`)
      await new Promise((r) => setTimeout(r, tickMs))
    }
    if (running()) stdin.end()
  })

/** Runs `rcpt args` to the end. */
export const rcpt = (args: ReadonlyArray<string>, env: Record<string, string> = {}, stdin?: string) =>
  finish(start(args, env), stdin)

/** Flags that point the CLI at a mail world. */
export const worldFlags = (world: MailWorld.World): ReadonlyArray<string> => RcptProcess.worldFlags(world)

/** A temporary directory removed with the scope. */
export const tempDir: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "rcpt-cli-test-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

export const jsonLines = (text: string): Array<Verification.Encoded> =>
  text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Verification.Encoded)

/** How many times each string occurs. */
export const counts = (items: Iterable<string>): Map<string, number> => {
  const m = new Map<string, number>()
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1)
  return m
}

export const sortedCounts = (items: Iterable<string>) =>
  [...counts(items).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

/** Resolves once `path` has at least `n` complete lines (or fails after `ms`). */
export const waitForLines = (path: string, n: number, ms = 20_000): Effect.Effect<number> =>
  Effect.promise(async () => {
    const until = Date.now() + ms
    while (Date.now() < until) {
      const text = Fs.existsSync(path) ? Fs.readFileSync(path, "utf8") : ""
      const lines = text.split("\n").length - 1
      if (lines >= n) return lines
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error(`${path} did not reach ${n} lines in ${ms} ms`)
  })

export const hasAnsi = (text: string) => text.includes("\u001b[")

/** Complete lines (each ended by "\n") in `path`; 0 when it does not exist. */
export const completeLines = (path: string): number => {
  if (!Fs.existsSync(path)) return 0
  const bytes = Fs.readFileSync(path)
  let n = 0
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) n++
  return n
}

/** A seeded PRNG (mulberry32): numbers in [0, 1), the same sequence for the same seed. */
export const mulberry32 = SeededRandom.mulberry32

/** Waits `ms` milliseconds of wall-clock time. */
export const sleep = (ms: number): Effect.Effect<void> =>
  Effect.promise(() => new Promise<void>((r) => setTimeout(r, ms)))

/** Where two multisets differ: `[item, times in actual - times in expected]`, sorted by item. */
export const countDiff = (actual: Iterable<string>, expected: Iterable<string>): Array<[string, number]> => {
  const diff = counts(actual)
  for (const e of expected) diff.set(e, (diff.get(e) ?? 0) - 1)
  return [...diff.entries()].filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/** Starts `rcpt serve` in the scope (SIGKILLed at its end if still running). */
export const serve = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  RcptProcess.scoped(() => start(["serve", "--listen", "127.0.0.1:0", ...args], env))

/** The URL from the `listening on` line on stderr; fails if the process ends first. */
export const listening = (child: ChildProcess): Effect.Effect<string> => RcptProcess.listening(child)
