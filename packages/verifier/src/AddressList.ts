/**
 * Address lists as streams, in constant memory: lines (from `Lines`, bounded) read as text (one
 * address a line) or CSV (one record a line; a quoted field may span lines). What `rcpt bulk`
 * reads from a file and `POST /v1/jobs` from an upload.
 *
 * Text: blank lines and `#` comments are skipped, CRLF and a UTF-8 BOM are fine; a line may hold
 * several addresses separated by commas, semicolons or whitespace, and each is an item of its own
 * (a line with fewer than two "@" is read whole: nothing on a line is dropped). CSV: chosen by a
 * `.csv` name or a first line with a comma that is not such a list of addresses; the address
 * column is `--column`, else one named like email/e-mail/mail/address, else the first whose first
 * value has an "@". A line that cannot be read (too long, broken quoting) is an {@link Item} of
 * its own, not a failure.
 *
 * @since 0.1.0
 */
import { Data, Option, Result, Stream } from "effect"
import { parse as parseCsv } from "csv-parse/sync"
import { type Line, maxLineBytes } from "./Lines.ts"

/**
 * A list that cannot be read at all: binary data, a `column` the header does not have, or CSV
 * with no address column.
 *
 * @category errors
 * @since 0.1.0
 */
export class AddressListError extends Data.TaggedError("AddressListError")<{
  readonly reason: "binary" | "no_such_column" | "no_address_column"
  readonly message: string
}> {}

/** Physical lines a quoted CSV field may span before it counts as broken. */
const maxRecordLines = 100

/**
 * One input record: an address to verify, or a line that could not be read.
 *
 * @category models
 * @since 0.1.0
 */
export type Item =
  | { readonly _tag: "Address"; readonly line: number; readonly address: string }
  | { readonly _tag: "Invalid"; readonly line: number; readonly address: string; readonly detail: string }

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** Read as CSV from the first line on (a `.csv` name); otherwise a first line with a comma decides. */
  readonly csv: boolean
  /** The CSV column with the addresses. */
  readonly column: Option.Option<string>
}

/**
 * The addresses on a text line: separated by commas, semicolons or whitespace outside a quoted
 * local part (`"john doe"@example.com` stays whole).
 *
 * @category text
 * @since 0.1.0
 */
export const splitAddresses = (line: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  let current = ""
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quoted) {
      current += c
      if (c === "\\" && i + 1 < line.length) current += line[++i]
      else if (c === '"') quoted = false
    } else if (c === '"') {
      quoted = true
      current += c
    } else if (c === "," || c === ";" || /\s/.test(c)) {
      if (current !== "") out.push(current)
      current = ""
    } else current += c
  }
  if (current !== "") out.push(current)
  return out
}

/** A first line that is a list of addresses (each part has an "@"), not a CSV header or record. */
const isAddressList = (line: string) => {
  const parts = splitAddresses(line)
  return parts.length > 0 && parts.every((p) => p.includes("@"))
}

const isSkipped = (text: string) => {
  const t = text.trim()
  return t === "" || t.startsWith("#")
}

/** Bytes that are not UTF-8 decode to U+FFFD: such an address is not what the file says. */
const notUtf8 = (text: string) => text.includes("\uFFFD")

const notUtf8Detail = (where: string) =>
  `${where} is not valid UTF-8 (Latin-1 or another encoding?): not verified; convert the file to UTF-8`

const overlong = (l: Extract<Line, { _tag: "Overlong" }>): Item => ({
  _tag: "Invalid",
  line: l.line,
  address: `${l.preview}… (line ${l.line}, ${l.bytes} bytes)`,
  detail: `line ${l.line} is ${l.bytes} bytes long, over the ${maxLineBytes}-byte limit: not read`
})

/**
 * Whether a quoted CSV field is open at the end of `text`, given whether one was open before it.
 * A quote opens a field only at its start; `""` inside a quoted field is a quote.
 *
 * @category csv
 * @since 0.1.0
 */
export const quoteOpenAfter = (text: string, open: boolean): boolean => {
  let quoted = open
  let fieldStart = !open
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') i++
        else quoted = false
      }
      fieldStart = false
    } else {
      if (c === '"' && fieldStart) quoted = true
      fieldStart = c === ","
    }
  }
  return quoted
}

/**
 * One CSV record's fields, or the parser's complaint.
 *
 * @category csv
 * @since 0.1.0
 */
export const parseRecord = (record: string): Result.Result<ReadonlyArray<string>, string> =>
  Result.try({
    try: () => parseCsv(record, { relax_quotes: true, relax_column_count: true }) as Array<Array<string>>,
    catch: (e) => (e instanceof Error ? e.message : String(e))
  }).pipe(
    Result.flatMap((rows) =>
      rows.length === 1 ? Result.succeed(rows[0]!) : Result.fail(`expected one record, got ${rows.length}`)
    )
  )

const addressNames = [
  "email",
  "e-mail",
  "mail",
  "address",
  "email address",
  "e-mail address",
  "email_address",
  "emailaddress"
]

type CsvState =
  | { readonly _tag: "Header" }
  | { readonly _tag: "FirstRow"; readonly header: ReadonlyArray<string> }
  | { readonly _tag: "Column"; readonly index: number; readonly name: string; readonly width: number }

/**
 * Turns lines into input items: text or CSV, per `options` and the first line.
 *
 * @category constructors
 * @since 0.1.0
 */
export const items = <E, R>(
  input: Stream.Stream<Line, E, R>,
  options: Options
): Stream.Stream<Item, E | AddressListError, R> => {
  type Mode = { _tag: "Unknown" } | { _tag: "Text" } | ({ _tag: "Csv" } & { state: CsvState })
  interface State {
    mode: Mode
    /** Lines of a CSV record whose quoted field is still open. */
    pending: Array<{ readonly line: number; readonly text: string }>
    pendingBytes: number
    failed: boolean
  }
  type Out = Array<Item | { readonly _tag: "Fail"; readonly error: AddressListError }>
  const fail = (s: State, error: AddressListError, out: Out) => {
    s.failed = true
    out.push({ _tag: "Fail", error })
  }
  const initial = (): State => ({
    mode: options.csv ? { _tag: "Csv", state: { _tag: "Header" } } : { _tag: "Unknown" },
    pending: [],
    pendingBytes: 0,
    failed: false
  })

  /** A complete CSV record (one or more lines) -> zero or one item. */
  const csvRecord = (s: State, line: number, record: string, out: Out) => {
    if (s.mode._tag !== "Csv") return
    const parsed = parseRecord(record)
    if (Result.isFailure(parsed)) {
      out.push({ _tag: "Invalid", line, address: record.slice(0, 1024), detail: `CSV line ${line}: ${parsed.failure}` })
      return
    }
    const fields = parsed.success.map((f) => f.trim())
    const state = s.mode.state
    switch (state._tag) {
      case "Header": {
        if (Option.isSome(options.column)) {
          const want = options.column.value.trim().toLowerCase()
          const index = fields.findIndex((f) => f.toLowerCase() === want)
          if (index === -1) {
            return fail(
              s,
              new AddressListError({
                reason: "no_such_column",
                message: `--column ${options.column.value}: no such column; the header has ${fields.join(", ")}`
              }),
              out
            )
          }
          s.mode = { _tag: "Csv", state: { _tag: "Column", index, name: fields[index]!, width: fields.length } }
          return
        }
        const named = fields.findIndex((f) => addressNames.includes(f.toLowerCase()))
        if (named !== -1) {
          s.mode = { _tag: "Csv", state: { _tag: "Column", index: named, name: fields[named]!, width: fields.length } }
          return
        }
        // No header: a first line with an address is data.
        const at = fields.findIndex((f) => f.includes("@"))
        if (at !== -1) {
          s.mode = {
            _tag: "Csv",
            state: { _tag: "Column", index: at, name: `column ${at + 1}`, width: fields.length }
          }
          emit(line, fields, at, `column ${at + 1}`, out)
          return
        }
        s.mode = { _tag: "Csv", state: { _tag: "FirstRow", header: fields } }
        return
      }
      case "FirstRow": {
        const at = fields.findIndex((f) => f.includes("@"))
        if (at === -1) {
          return fail(
            s,
            new AddressListError({
              reason: "no_address_column",
              message: `CSV line ${line}: no address column: none is named email/e-mail/mail/address and no value has an "@"; pick one with --column (the header has ${state.header.join(", ")})`
            }),
            out
          )
        }
        const name = state.header[at] ?? `column ${at + 1}`
        s.mode = { _tag: "Csv", state: { _tag: "Column", index: at, name, width: state.header.length } }
        emit(line, fields, at, name, out)
        return
      }
      case "Column":
        emit(line, fields, state.index, state.name, out)
    }
  }

  const emit = (line: number, fields: ReadonlyArray<string>, index: number, name: string, out: Out) => {
    const value = fields[index]
    if (value === undefined || value === "") {
      out.push({
        _tag: "Invalid",
        line,
        address: fields.join(",").slice(0, 1024),
        detail: `CSV line ${line}: no value in column ${name}`
      })
    } else if (notUtf8(value)) {
      out.push({ _tag: "Invalid", line, address: value, detail: notUtf8Detail(`CSV line ${line}: the ${name} value`) })
    } else out.push({ _tag: "Address", line, address: value })
  }

  /** Whether a multi-line record parses with as many fields as the header has. */
  const plausible = (s: State, record: string) => {
    if (s.mode._tag !== "Csv") return true
    const state = s.mode.state
    const width = state._tag === "Column" ? state.width : state._tag === "FirstRow" ? state.header.length : undefined
    if (width === undefined) return true
    const parsed = parseRecord(record)
    return Result.isSuccess(parsed) && parsed.success.length === width
  }

  /** Gives up on an open quote: the first line is an error, the others are read again. */
  const abandon = (s: State, out: Out) => {
    const [first, ...rest] = s.pending
    s.pending = []
    s.pendingBytes = 0
    if (first === undefined) return
    out.push({
      _tag: "Invalid",
      line: first.line,
      address: first.text.slice(0, 1024),
      detail: `CSV line ${first.line}: broken quoting (a quoted field does not end on this line)`
    })
    for (const l of rest) csvLine(s, l.line, l.text, out)
  }

  const csvLine = (s: State, line: number, text: string, out: Out) => {
    if (s.pending.length === 0) {
      if (isSkipped(text)) return
      if (!quoteOpenAfter(text, false)) return csvRecord(s, line, text, out)
      s.pending.push({ line, text })
      s.pendingBytes = text.length
      return
    }
    s.pending.push({ line, text })
    s.pendingBytes += text.length + 1
    const open = s.pending.reduce((o, l) => quoteOpenAfter(l.text, o), false)
    if (!open) {
      const record = s.pending.map((l) => l.text).join("\n")
      // A field over several lines must still give a whole record; else a stray quote ate lines.
      if (!plausible(s, record)) return abandon(s, out)
      const first = s.pending[0]!.line
      s.pending = []
      s.pendingBytes = 0
      return csvRecord(s, first, record, out)
    }
    if (s.pendingBytes > maxLineBytes || s.pending.length > maxRecordLines) abandon(s, out)
  }

  /** One line's items (none, one, or several addresses on a line), into `out`. */
  const read = (s: State, l: Line, out: Out) => {
    switch (l._tag) {
      case "Binary":
        return fail(
          s,
          new AddressListError({
            reason: "binary",
            message: "binary data (a NUL byte in the first 8 KiB): not an address list"
          }),
          out
        )
      case "Overlong":
        if (s.mode._tag === "Csv") abandon(s, out)
        out.push(overlong(l))
        return
      case "Line": {
        if (s.mode._tag === "Unknown") {
          if (isSkipped(l.text)) return
          s.mode =
            l.text.includes(",") && !isAddressList(l.text)
              ? { _tag: "Csv", state: { _tag: "Header" } }
              : { _tag: "Text" }
        }
        if (s.mode._tag !== "Text") return csvLine(s, l.line, l.text, out)
        if (isSkipped(l.text)) return
        // Several addresses on a line are each an item; a line with at most one "@" is read whole
        // (it is one address, or one syntax result), so nothing on it is ever dropped.
        // (The common line, one "@", is not split at all, and makes no array: split, it would give the same.)
        if (l.text.indexOf("@") === l.text.lastIndexOf("@")) return textItem(l.line, l.text.trim(), out)
        const parts = splitAddresses(l.text)
        if (parts.filter((p) => p.includes("@")).length > 1) for (const address of parts) textItem(l.line, address, out)
        else textItem(l.line, l.text.trim(), out)
      }
    }
  }

  const textItem = (line: number, address: string, out: Out) => {
    out.push(
      notUtf8(address)
        ? { _tag: "Invalid", line, address, detail: notUtf8Detail(`line ${line}`) }
        : { _tag: "Address", line, address }
    )
  }

  // A chunk of lines at a time: one array of items per chunk (per line, an array and a pair cost
  // about a tenth of what a bulk run allocated per address before it verified any).
  return Stream.mapAccumArray(
    input,
    initial,
    (s, lines): readonly [State, Out] => {
      const out: Out = []
      for (let i = 0; i < lines.length && !s.failed; i++) read(s, lines[i]!, out)
      return [s, out]
    },
    {
      onHalt: (s) => {
        const out: Out = []
        while (s.pending.length > 0) abandon(s, out)
        return out
      }
    }
  ).pipe(
    // The accumulator cannot fail: a failure rides along as an element and surfaces here, after
    // the items before it. Chunks stay whole, so that the bulk engine downstream takes many
    // addresses a step.
    Stream.chunks,
    Stream.flatMap((chunk) => {
      const at = chunk.findIndex((x) => x._tag === "Fail")
      if (at === -1) return Stream.fromArray(chunk as ReadonlyArray<Item>)
      const failure = chunk[at] as { readonly error: AddressListError }
      return Stream.concat(Stream.fromArray(chunk.slice(0, at) as ReadonlyArray<Item>), Stream.fail(failure.error))
    })
  )
}
