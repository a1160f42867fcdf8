/**
 * An uploaded list, streamed into a job's inputs as it arrives: never more than one batch of
 * addresses in memory, whatever the size of the list.
 *
 * Text and CSV are read exactly as `rcpt bulk` reads them (@rcpt/verifier's `AddressList`: blank
 * lines and `#` comments skipped, the CSV address column by name or `column`). NDJSON is one JSON
 * string a line; JSON is one array of strings, parsed incrementally (@streamparser/json). A line
 * or element that cannot be read is a {@link JobsApi.BadUpload} naming it, and the job is
 * discarded by the caller.
 *
 * @since 0.1.0
 */
import { JSONParser } from "@streamparser/json"
import { Effect, Option, Stream } from "effect"
import type { SqlError } from "effect/sql"
import { JobStore } from "@rcpt/store"
import { AddressList, Lines } from "@rcpt/verifier"
import * as JobsApi from "./JobsApi.ts"

/**
 * How an upload is read.
 *
 * @category models
 * @since 0.1.0
 */
export type Kind = "text" | "csv" | "ndjson" | "json"

/**
 * The kind for a media type (parameters ignored), if it is one `POST /v1/jobs` reads.
 *
 * @category parsing
 * @since 0.1.0
 */
export const kindOf = (contentType: string): Option.Option<Kind> => {
  switch (contentType.split(";")[0]!.trim().toLowerCase()) {
    case "text/plain":
      return Option.some("text")
    case "text/csv":
      return Option.some("csv")
    case "application/x-ndjson":
    case "application/jsonl":
      return Option.some("ndjson")
    case "application/json":
      return Option.some("json")
    default:
      return Option.none()
  }
}

/**
 * Addresses stored per insert.
 *
 * @category constants
 * @since 0.1.0
 */
export const batchSize = 500

const bad = (detail: string) => new JobsApi.BadUpload({ detail })

/** Text or CSV (a named file part decides by its name, like `rcpt bulk`). */
const fromLines = <E>(bytes: Stream.Stream<Uint8Array, E>, csv: boolean, column: Option.Option<string>) =>
  AddressList.items(Lines.fromBytes(bytes), { csv, column }).pipe(
    Stream.mapError((e) => (e instanceof AddressList.AddressListError ? bad(e.message) : e)),
    Stream.mapEffect((item) =>
      item._tag === "Address" ? Effect.succeed(item.address) : Effect.fail(bad(`line ${item.line}: ${item.detail}`))
    )
  )

const fromNdjson = <E>(bytes: Stream.Stream<Uint8Array, E>) =>
  Lines.fromBytes(bytes).pipe(
    Stream.filter((l) => l._tag !== "Line" || l.text.trim() !== ""),
    Stream.mapEffect((l) => {
      if (l._tag === "Binary") return Effect.fail(bad("binary data, not NDJSON"))
      if (l._tag === "Overlong") return Effect.fail(bad(`line ${l.line}: ${l.bytes} bytes, over the line limit`))
      try {
        const value: unknown = JSON.parse(l.text)
        return typeof value === "string"
          ? Effect.succeed(value)
          : Effect.fail(bad(`line ${l.line}: expected a JSON string (an address), got ${typeof value}`))
      } catch (e) {
        return Effect.fail(bad(`line ${l.line}: not JSON (${e instanceof Error ? e.message : String(e)})`))
      }
    })
  )

/** A JSON array of strings, element by element; a value of another kind or a syntax error fails. */
const fromJsonArray = <E>(bytes: Stream.Stream<Uint8Array, E>): Stream.Stream<string, E | JobsApi.BadUpload> =>
  Stream.suspend(() => {
    const parser = new JSONParser({ paths: ["$.*"], keepStack: false, stringBufferSize: 64 * 1024 })
    let out: Array<string | JobsApi.BadUpload> = []
    let index = 0
    // The first byte that is not white space must open an array; the parser checks the rest.
    let opened: boolean | undefined
    parser.onValue = ({ value }) => {
      index++
      out.push(typeof value === "string" ? value : bad(`element ${index}: expected a string (an address)`))
    }
    const drain = () => {
      const taken = out
      out = []
      return taken
    }
    const feed = (chunk: Uint8Array | undefined) => {
      if (opened === false) return []
      try {
        if (chunk === undefined) {
          if (opened === undefined) out.push(bad("empty: expected a JSON array of strings"))
          else if (!parser.isEnded) parser.end()
        } else {
          if (opened === undefined) {
            const first = chunk.find(
              (b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && b !== 0xef && b !== 0xbb && b !== 0xbf
            )
            if (first !== undefined) opened = first === 0x5b
            if (opened === false) {
              out.push(bad("expected a JSON array of strings"))
              return drain()
            }
          }
          parser.write(chunk)
        }
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e)
        out.push(
          bad(
            chunk === undefined
              ? `the JSON array is not complete (${why})`
              : `not a JSON array of strings after element ${index}: ${why}`
          )
        )
      }
      return drain()
    }
    return bytes.pipe(
      Stream.map(feed),
      Stream.concat(Stream.sync(() => feed(undefined))),
      Stream.flattenIterable,
      Stream.mapEffect((x) => (typeof x === "string" ? Effect.succeed(x) : Effect.fail(x)))
    )
  })

/**
 * The addresses in an upload of `kind`.
 *
 * @category decoding
 * @since 0.1.0
 */
export const addresses = <E>(
  bytes: Stream.Stream<Uint8Array, E>,
  kind: Kind,
  column: Option.Option<string>
): Stream.Stream<string, E | JobsApi.BadUpload> => {
  switch (kind) {
    case "text":
      return fromLines(bytes, false, column)
    case "csv":
      return fromLines(bytes, true, column)
    case "ndjson":
      return fromNdjson(bytes)
    case "json":
      return fromJsonArray(bytes)
  }
}

/**
 * Stores the addresses as job `id`'s inputs, from position 1, in batches; how many there were.
 *
 * @category storing
 * @since 0.1.0
 */
export const store = <E>(
  id: string,
  input: Stream.Stream<string, E>
): Effect.Effect<number, E | SqlError.SqlError, JobStore.JobStore> =>
  Effect.gen(function* () {
    const jobs = yield* JobStore.JobStore
    let total = 0
    yield* input.pipe(
      Stream.grouped(batchSize),
      Stream.runForEach((batch) => {
        const from = total + 1
        total += batch.length
        return jobs.appendInputs(id, from, batch)
      })
    )
    return total
  })
