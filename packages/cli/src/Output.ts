/**
 * Result files that survive a crash: JSON lines or CSV, each result ONE write of one complete
 * line appended to a file opened in append mode. Nothing is ever rewritten; `--resume` drops a
 * trailing partial line (what a kill -9 mid-write can leave) and reads which addresses are done.
 *
 * @since 0.1.0
 */
import { Buffer } from "node:buffer"
import { Effect, FileSystem, Option, Result, Stream } from "effect"
import type { Scope } from "effect"
import { ResultFormat, Verification } from "@rcpt/verifier"
import * as ExitCode from "./ExitCode.ts"
import { parseRecord } from "./Input.ts"

/**
 * @category models
 * @since 0.1.0
 */
export type Format = ResultFormat.Format

/**
 * `ResultFormat.csvColumns` (the formats moved to @rcpt/verifier, shared with the jobs API).
 *
 * @category encoding
 * @since 0.1.0
 */
export const csvColumns = ResultFormat.csvColumns

/**
 * `ResultFormat.csvField` (the formats moved to @rcpt/verifier, shared with the jobs API).
 *
 * @category encoding
 * @since 0.1.0
 */
export const csvField = ResultFormat.csvField

/**
 * `ResultFormat.csvHeader` (the formats moved to @rcpt/verifier, shared with the jobs API).
 *
 * @category encoding
 * @since 0.1.0
 */
export const csvHeader = ResultFormat.csvHeader

/**
 * `ResultFormat.csvLine` (the formats moved to @rcpt/verifier, shared with the jobs API).
 *
 * @category encoding
 * @since 0.1.0
 */
export const csvLine = ResultFormat.csvLine

/**
 * How much of a result a line carries (`ResultFormat.LineOptions`).
 *
 * @category models
 * @since 0.1.0
 */
export type LineOptions = ResultFormat.LineOptions

/**
 * `ResultFormat.jsonLine` (the formats moved to @rcpt/verifier, shared with the jobs API).
 *
 * @category encoding
 * @since 0.1.0
 */
export const jsonLine = ResultFormat.jsonLine

/**
 * `ResultFormat.line` (the formats moved to @rcpt/verifier, shared with the jobs API).
 *
 * @category encoding
 * @since 0.1.0
 */
export const line = ResultFormat.line

/**
 * What an input address is called in an output of `format` (CSV lines hold no line breaks).
 *
 * @category resume
 * @since 0.1.0
 */
export const key = (format: Format, address: string): string =>
  format === "csv" ? ResultFormat.csvText(address) : address

/**
 * Addresses already in the output, with how many times each: a multiset, so an address listed
 * twice in the input is skipped twice only if it was written twice.
 *
 * @category resume
 * @since 0.1.0
 */
export class Done {
  readonly #counts = new Map<string, number>()
  #size = 0
  /** Results read. */
  get size(): number {
    return this.#size
  }
  add(key: string): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1)
    this.#size++
  }
  /** Whether `key` was done (and one fewer is left to skip). */
  take(key: string): boolean {
    const n = this.#counts.get(key)
    if (n === undefined) return false
    if (n <= 1) this.#counts.delete(key)
    else this.#counts.set(key, n - 1)
    return true
  }
}

/**
 * Where results go.
 *
 * @category models
 * @since 0.1.0
 */
export interface Writer {
  /** Whole lines, in one write: results that are ready together go out together. */
  readonly write: (vs: ReadonlyArray<Verification.Verification>) => Effect.Effect<void, ExitCode.Exit>
}

/**
 * The lines of `vs` (after `prefix`, the CSV header of a first write) as UTF-8, in one buffer.
 * Each line is written straight into it as it is made: joining them into one string first cost
 * more than making them (a long concatenated string is copied flat before it can be encoded), and
 * Node's `Buffer#write` writes a line in about a third of the time `TextEncoder#encodeInto`
 * takes with a view of the rest of the buffer (5,000 results: 13 against 30 ms, 9-10 of it JSON).
 *
 * @category encoding
 * @since 0.4.0
 */
export const encodeLines = (
  format: Format,
  vs: ReadonlyArray<Verification.Verification>,
  options: LineOptions,
  prefix = "",
  scratch?: Scratch
): Uint8Array => {
  // Not zeroed: only the bytes written are handed out.
  const size = Math.max(1024, prefix.length * 3 + vs.length * 1280)
  let buffer = scratch !== undefined && scratch.buffer.length >= size ? scratch.buffer : Buffer.allocUnsafe(size)
  let at = 0
  const put = (text: string, newline: boolean) => {
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 for 2).
    const need = at + text.length * 3 + 1
    if (need > buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, buffer.length * 2))
      buffer.copy(grown, 0, 0, at)
      buffer = grown
    }
    at += buffer.write(text, at)
    if (newline) buffer[at++] = 10
  }
  if (prefix.length > 0) put(prefix, false)
  for (let i = 0; i < vs.length; i++) {
    if (format === "csv") put(ResultFormat.csvLine(vs[i]!), false)
    else put(ResultFormat.json(vs[i]!, options), true)
  }
  if (scratch !== undefined && buffer.length <= scratchLimit) scratch.buffer = buffer
  return buffer.subarray(0, at)
}

/**
 * A writer's buffer for {@link encodeLines}, used again by its next write once the last one is
 * out (a bulk run's writes, one per group's results, each allocated one of about 1.3 KB a result,
 * a quarter of what the run allocated per address). Larger than `scratchLimit`, it is not kept.
 *
 * @category encoding
 * @since 0.4.0
 */
export interface Scratch {
  buffer: Buffer
}

const scratchLimit = 16 * 1024 * 1024

/**
 * Runs `write` with the writer's scratch buffer when no other write holds it (else with none: a
 * buffer of its own), and gives it back once the write succeeded. A write that failed or was
 * interrupted may leave its bytes with the system still: the buffer is not used again.
 */
const withScratch = <A, E, R>(
  scratch: Scratch & { busy: boolean },
  write: (scratch: Scratch | undefined) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    if (scratch.busy) return write(undefined)
    scratch.busy = true
    return Effect.tap(
      write(scratch),
      Effect.sync(() => {
        scratch.busy = false
      })
    )
  })

/**
 * What went wrong in a write, in the system's words ("no space left on device"). Effect 4.1's
 * `PlatformError` has no reason for ENOSPC and says "Unknown: FileSystem.writeAll (21)"; the Node
 * error it keeps as `cause` carries the errno and its text, so that is read here (one place).
 *
 * @category errors
 * @since 0.1.0
 */
export const ioMessage = (error: { readonly message: string; readonly cause?: unknown }): string => {
  const cause = error.cause
  if (cause instanceof Error && typeof (cause as NodeJS.ErrnoException).code === "string") {
    // Node's form: "ENOSPC: no space left on device, write"
    return /^[A-Z0-9_]+: (.*?)(?:, [a-z]+(?: .*)?)?$/.exec(cause.message)?.[1] ?? cause.message
  }
  return error.message
}

/**
 * Results on standard output (CSV: the header comes with the first result).
 *
 * @category constructors
 * @since 0.1.0
 */
export const stdout = (format: Format, options: LineOptions): Effect.Effect<Writer> =>
  Effect.sync(() => {
    let header = format === "csv"
    const scratch = { buffer: Buffer.allocUnsafe(0), busy: false }
    // A reader that went away (`rcpt bulk list | head`) ends the run quietly, as SIGPIPE would;
    // any other failure (a full disk behind `> file`) is an error that says what happened.
    let failed: Error | undefined
    const failure = (error: Error) =>
      (error as NodeJS.ErrnoException).code === "EPIPE"
        ? ExitCode.silent(ExitCode.codes.brokenPipe)
        : ExitCode.cannotCreate(
            `standard output: cannot write (${ioMessage({ message: error.message, cause: error })})`
          )
    process.stdout.on("error", (error) => {
      failed = error
    })
    return {
      write: (vs) =>
        withScratch(scratch, (buffer) =>
          Effect.callback<void, ExitCode.Exit>((resume) => {
            if (failed !== undefined) return resume(Effect.fail(failure(failed)))
            const bytes = encodeLines(format, vs, options, header ? csvHeader : "", buffer)
            header = false
            // Waiting for the write keeps a slow reader's backlog out of this process's memory.
            process.stdout.write(bytes, (error) =>
              resume(error === undefined || error === null ? Effect.void : Effect.fail(failure(error)))
            )
          })
        )
    }
  })

/**
 * Drops a trailing partial line: truncates `path` just after its last "\n" (to 0 if none).
 * Returns the bytes dropped.
 *
 * @category resume
 * @since 0.1.0
 */
export const truncatePartial = (path: string): Effect.Effect<number, ExitCode.Exit, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const size = Number((yield* fs.stat(path)).size)
    const end = yield* Effect.scoped(
      Effect.gen(function* () {
        const file = yield* fs.open(path, { flag: "r" })
        const chunk = 64 * 1024
        for (let at = size; at > 0;) {
          const from = Math.max(0, at - chunk)
          const bytes = yield* file.readAlloc(at - from, { position: BigInt(from) })
          const nl = Option.isSome(bytes) ? bytes.value.lastIndexOf(10) : -1
          if (nl !== -1) return from + nl + 1
          at = from
        }
        return 0
      })
    )
    if (end < size) yield* fs.truncate(path, end)
    return size - end
  }).pipe(Effect.mapError((e) => ExitCode.cannotCreate(`${path}: cannot repair for --resume (${e.message})`)))

/**
 * The addresses in an output file of `format` (JSONL: each line's `address`; CSV: the first
 * column, header skipped). Lines that are not results are counted and passed over.
 *
 * @category resume
 * @since 0.1.0
 */
export const scan = (
  path: string,
  format: Format
): Effect.Effect<{ readonly done: Done; readonly unreadable: number }, ExitCode.Exit, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const done = new Done()
    let unreadable = 0
    let first = true
    yield* fs.stream(path).pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runForEach((text) =>
        Effect.sync(() => {
          const header = first
          first = false
          if (text === "") return
          if (format === "csv") {
            if (header && `${text}\n` === csvHeader) return
            const fields = parseRecord(text)
            if (Result.isSuccess(fields) && fields.success.length > 0) done.add(fields.success[0]!)
            else unreadable++
            return
          }
          const address = Result.try(() => (JSON.parse(text) as { address?: unknown }).address)
          if (Result.isSuccess(address) && typeof address.success === "string") done.add(address.success)
          else unreadable++
        })
      )
    )
    return { done, unreadable }
  }).pipe(Effect.mapError((e) => ExitCode.noInput(`${path}: cannot read for --resume (${e.message})`)))

/**
 * An output file opened for appending. Without `resume` it must be new or empty; with it, a
 * trailing partial line is dropped and the results already there are returned.
 *
 * @category constructors
 * @since 0.1.0
 */
export const toFile = (
  path: string,
  format: Format,
  options: LineOptions & { readonly resume: boolean }
): Effect.Effect<
  { readonly writer: Writer; readonly done: Done; readonly dropped: number; readonly unreadable: number },
  ExitCode.Exit,
  FileSystem.FileSystem | Scope.Scope
> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const cannot = (why: string) => ExitCode.cannotCreate(`${path}: ${why}`)
    const info = yield* fs.stat(path).pipe(Effect.option)
    if (Option.isSome(info) && info.value.type === "Directory") return yield* cannot("is a directory")
    const size = Option.match(info, { onNone: () => 0, onSome: (i) => Number(i.size) })
    if (size > 0 && !options.resume) {
      return yield* ExitCode.usage(
        `${path} exists and is not empty: pass --resume to finish that run, or choose another file`
      )
    }
    let done = new Done()
    let dropped = 0
    let unreadable = 0
    if (size > 0) {
      dropped = yield* truncatePartial(path)
      const scanned = yield* scan(path, format)
      if (scanned.done.size === 0 && scanned.unreadable > 0) {
        return yield* ExitCode.usage(`${path} is not a ${format === "csv" ? "CSV" : "JSON lines"} output of rcpt bulk`)
      }
      done = scanned.done
      unreadable = scanned.unreadable
    }
    const file = yield* fs
      .open(path, { flag: "a" })
      .pipe(Effect.mapError((e) => cannot(`cannot open for appending (${ioMessage(e)})`)))
    const append = (bytes: Uint8Array) =>
      file.writeAll(bytes).pipe(Effect.mapError((e) => cannot(`cannot write (${ioMessage(e)})`)))
    const now = Number((yield* file.stat.pipe(Effect.mapError((e) => cannot(e.message)))).size)
    // The CSV header goes out with the first result, in the same write: a run that fails before
    // any result leaves the file empty, so it can simply be run again.
    let header = format === "csv" && now === 0
    const scratch = { buffer: Buffer.allocUnsafe(0), busy: false }
    const write = (vs: ReadonlyArray<Verification.Verification>) =>
      withScratch(scratch, (buffer) =>
        Effect.suspend(() => {
          const bytes = encodeLines(format, vs, options, header ? csvHeader : "", buffer)
          header = false
          return append(bytes)
        })
      )
    return { writer: { write }, done, dropped, unreadable }
  })
