/**
 * Result files that survive a crash: JSON lines or CSV, each result ONE write of one complete
 * line appended to a file opened in append mode. Nothing is ever rewritten; `--resume` drops a
 * trailing partial line (what a kill -9 mid-write can leave) and reads which addresses are done.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Option, Result, Stream } from "effect"
import type { Scope } from "effect"
import { Verification } from "@rcpt/verifier"
import * as ExitCode from "./ExitCode.ts"
import { parseRecord } from "./Input.ts"

/**
 * @category models
 * @since 0.1.0
 */
export type Format = "jsonl" | "csv"

/**
 * The CSV columns, in order.
 *
 * @category constants
 * @since 0.1.0
 */
export const csvColumns = [
  "address",
  "verdict",
  "reason",
  "score",
  "retryable",
  "mx_host",
  "mx_address",
  "rcpt_code",
  "rcpt_enhanced",
  "rcpt_text",
  "catch_all",
  "disposable",
  "role_account",
  "free_provider",
  "suggestion",
  "detail"
] as const

/** One line per record: line breaks inside a value become spaces. */
const flat = (text: string) => text.replace(/[\r\n]+/g, " ")

/**
 * A CSV field: quoted when it holds a comma, a quote or edge spaces; null is empty.
 *
 * @category encoding
 * @since 0.1.0
 */
export const csvField = (value: string | number | boolean | null): string => {
  if (value === null) return ""
  const text = flat(String(value))
  return /[",]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/**
 * @category encoding
 * @since 0.1.0
 */
export const csvHeader = `${csvColumns.join(",")}\n`

/**
 * One result as one CSV line (with its "\n").
 *
 * @category encoding
 * @since 0.1.0
 */
export const csvLine = (v: Verification.Verification): string =>
  [
    v.address,
    v.verdict,
    v.reason,
    v.score,
    v.retryable,
    v.mx?.host ?? null,
    v.mx?.address ?? null,
    v.rcpt?.code ?? null,
    v.rcpt?.enhanced ?? null,
    v.rcpt?.text ?? null,
    v.catchAll,
    v.signals.disposable,
    v.signals.roleAccount,
    v.signals.freeProvider,
    v.signals.suggestion,
    v.detail
  ]
    .map(csvField)
    .join(",") + "\n"

/**
 * How much of a result a line carries.
 *
 * @category models
 * @since 0.1.0
 */
export interface LineOptions {
  /**
   * The SMTP dialogue (`transcript`). Off, the line keeps every field with `transcript: []`: the
   * verdict, reason, deciding reply (`rcpt`/`vrfy`), MX, TLS and attempts in about a sixth of the size.
   */
  readonly transcript: boolean
}

/**
 * One result as one JSON line (the encoded `Verification`, with its "\n"); its transcript only
 * when asked for (the default, for `verify --json`).
 *
 * @category encoding
 * @since 0.1.0
 */
export const jsonLine = (v: Verification.Verification, options: LineOptions = { transcript: true }): string => {
  const encoded = Verification.encode(v)
  return `${JSON.stringify(options.transcript ? encoded : { ...encoded, transcript: [] })}\n`
}

/**
 * @category encoding
 * @since 0.1.0
 */
export const line = (format: Format, v: Verification.Verification, options: LineOptions): string =>
  format === "csv" ? csvLine(v) : jsonLine(v, options)

/**
 * What an input address is called in an output of `format` (CSV lines hold no line breaks).
 *
 * @category resume
 * @since 0.1.0
 */
export const key = (format: Format, address: string): string => (format === "csv" ? flat(address) : address)

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
  readonly write: (v: Verification.Verification) => Effect.Effect<void, ExitCode.Exit>
}

const encoder = new TextEncoder()

/**
 * Results on standard output (CSV: the header comes with the first result).
 *
 * @category constructors
 * @since 0.1.0
 */
export const stdout = (format: Format, options: LineOptions): Effect.Effect<Writer> =>
  Effect.sync(() => {
    let header = format === "csv"
    // A reader that went away (`rcpt bulk list | head`) ends the run quietly, as SIGPIPE would.
    let closed = false
    process.stdout.on("error", () => {
      closed = true
    })
    return {
      write: (v) =>
        Effect.callback<void, ExitCode.Exit>((resume) => {
          if (closed) return resume(Effect.fail(ExitCode.silent(ExitCode.codes.brokenPipe)))
          const text = header ? csvHeader + line(format, v, options) : line(format, v, options)
          header = false
          // Waiting for the write keeps a slow reader's backlog out of this process's memory.
          process.stdout.write(text, (error) =>
            resume(
              error === undefined || error === null
                ? Effect.void
                : Effect.fail(ExitCode.silent(ExitCode.codes.brokenPipe))
            )
          )
        })
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
      .pipe(Effect.mapError((e) => cannot(`cannot open for appending (${e.message})`)))
    const append = (text: string) =>
      file.writeAll(encoder.encode(text)).pipe(Effect.mapError((e) => cannot(`cannot write (${e.message})`)))
    const now = Number((yield* file.stat.pipe(Effect.mapError((e) => cannot(e.message)))).size)
    // The CSV header goes out with the first result, in the same write: a run that fails before
    // any result leaves the file empty, so it can simply be run again.
    let header = format === "csv" && now === 0
    const write = (v: Verification.Verification) =>
      Effect.suspend(() => {
        const text = header ? csvHeader + line(format, v, options) : line(format, v, options)
        header = false
        return append(text)
      })
    return { writer: { write }, done, dropped, unreadable }
  })
