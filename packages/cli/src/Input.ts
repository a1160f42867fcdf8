/**
 * Address lists for `rcpt bulk`: a file or standard input opened and checked (missing,
 * directory, UTF-16, binary: exit 66), then read by @rcpt/verifier's `AddressList` (text or CSV,
 * in constant memory), its errors as exit codes.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Option, Stdio, Stream } from "effect"
import { AddressList, Lines } from "@rcpt/verifier"
import * as ExitCode from "./ExitCode.ts"

const { sniffBytes } = Lines

/**
 * @category models
 * @since 0.1.0
 */
export type Item = AddressList.Item

/**
 * @category models
 * @since 0.1.0
 */
export type Options = AddressList.Options

/**
 * @category csv
 * @since 0.1.0
 */
export const quoteOpenAfter = AddressList.quoteOpenAfter

/**
 * `AddressList.splitAddresses`: the addresses on one text line.
 *
 * @category text
 * @since 0.1.0
 */
export const splitAddresses = AddressList.splitAddresses

/**
 * @category csv
 * @since 0.1.0
 */
export const parseRecord = AddressList.parseRecord

/**
 * `AddressList.items`, a list that cannot be read as exit 64 (a `--column` the header lacks) or
 * 66 (binary, no address column).
 *
 * @category constructors
 * @since 0.1.0
 */
export const items = <E, R>(
  input: Stream.Stream<Lines.Line, E, R>,
  options: Options
): Stream.Stream<Item, E | ExitCode.Exit, R> =>
  AddressList.items(input, options).pipe(
    Stream.mapError((e) =>
      e instanceof AddressList.AddressListError
        ? e.reason === "no_such_column"
          ? ExitCode.usage(e.message)
          : ExitCode.noInput(e.message)
        : e
    )
  )

/**
 * An opened input: its bytes, and its size when it is a regular file.
 *
 * @category models
 * @since 0.1.0
 */
export interface Source {
  /** `"-"` for standard input. */
  readonly path: string
  readonly bytes: Stream.Stream<Uint8Array, ExitCode.Exit>
  /** A regular file (its lines can be counted up front). */
  readonly regular: boolean
  /** Named `*.csv`. */
  readonly csv: boolean
}

/**
 * Opens `path` (or standard input for `"-"`), failing with exit 66 when it is missing,
 * unreadable, a directory, or binary.
 *
 * @category constructors
 * @since 0.1.0
 */
export const open = (path: string): Effect.Effect<Source, ExitCode.Exit, FileSystem.FileSystem | Stdio.Stdio> =>
  Effect.gen(function* () {
    if (path === "-") {
      const stdio = yield* Stdio.Stdio
      return {
        path,
        bytes: stdio.stdin.pipe(Stream.mapError((e) => ExitCode.noInput(`standard input: ${e.message}`))),
        regular: false,
        csv: false
      }
    }
    const fs = yield* FileSystem.FileSystem
    const cannot = (why: string) => ExitCode.noInput(`${path}: ${why}`)
    const info = yield* fs
      .stat(path)
      .pipe(
        Effect.mapError((e) => cannot(e.reason._tag === "NotFound" ? "no such file" : `cannot read (${e.message})`))
      )
    if (info.type === "Directory") return yield* cannot("is a directory, not an address list")
    // Readable, and text: look at the first 8 KiB now, before any output is opened.
    const head = yield* Effect.scoped(
      fs.open(path, { flag: "r" }).pipe(Effect.flatMap((file) => file.readAlloc(sniffBytes)))
    ).pipe(Effect.mapError((e) => cannot(`cannot read (${e.message})`)))
    // A byte-order mark FF FE / FE FF: UTF-16, which only a clear word helps with.
    if (
      Option.isSome(head) &&
      ((head.value[0] === 0xff && head.value[1] === 0xfe) || (head.value[0] === 0xfe && head.value[1] === 0xff))
    ) {
      return yield* cannot("UTF-16 text (it starts with a UTF-16 byte-order mark): convert the list to UTF-8")
    }
    if (Option.isSome(head) && head.value.includes(0)) {
      return yield* cannot("binary data (a NUL byte in the first 8 KiB): not an address list")
    }
    return {
      path,
      bytes: fs
        .stream(path, { chunkSize: 64 * 1024 })
        .pipe(Stream.mapError((e) => cannot(`cannot read (${e.message})`))),
      regular: info.type === "File",
      csv: path.toLowerCase().endsWith(".csv")
    }
  })

/**
 * Lines in a regular file, by a fast pass over its bytes (for progress totals).
 *
 * @category constructors
 * @since 0.1.0
 */
export const countLines = (source: Source): Effect.Effect<number, ExitCode.Exit> =>
  source.bytes.pipe(
    Stream.runFold(
      () => ({ lines: 0, last: 10 }),
      (acc, chunk: Uint8Array) => {
        let n = 0
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++
        return { lines: acc.lines + n, last: chunk.length > 0 ? chunk[chunk.length - 1]! : acc.last }
      }
    ),
    Effect.map((acc) => acc.lines + (acc.last === 10 ? 0 : 1))
  )
