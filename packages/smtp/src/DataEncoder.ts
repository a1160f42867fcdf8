/**
 * The message body as it goes on the wire after DATA (RFC 5321 §4.1.1.4, §4.5.2): CRLF line
 * ends, dot-stuffing, the line-length limit and the terminating `.` line, as a byte-level state
 * machine that gives the same bytes however the body is cut into chunks.
 *
 * **Details**
 *
 * - Every line end becomes CRLF: CRLF stays, and a bare LF or a bare CR becomes CRLF. A bare CR
 *   or LF is never passed through, so a body cannot end the DATA phase early with `\n.\n` or
 *   `\r.\r` on a server that accepts those (SMTP smuggling).
 * - A `.` at the start of a line is doubled (dot-stuffing), wherever the chunk boundary falls.
 * - A line longer than `maxLineLength` octets (998 by default, RFC 5321 §4.5.3.1.6), counted on
 *   the wire, is refused: fold long lines when composing the message, never here.
 * - `end` closes the last line if it is open and adds `.` CRLF.
 *
 * @since 0.1.0
 */

/**
 * Where the encoder stands: at the start of a line, inside one, or just after a CR (a following
 * LF belongs to the same line end).
 *
 * @category models
 * @since 0.1.0
 */
export type Position = "LineStart" | "Text" | "AfterCr"

/**
 * The encoder's whole state.
 *
 * @category models
 * @since 0.1.0
 */
export interface DataEncoder {
  readonly position: Position
  readonly maxLineLength: number
  /** Wire octets in the current line so far. */
  readonly lineLength: number
  /** Lines begun so far (1-based number of the current line). */
  readonly line: number
  /** Message octets with CRLF line ends, before dot-stuffing: what SIZE counts (RFC 1870 §3). */
  readonly size: number
  /** Whether any octet above 127 was seen (needs 8BITMIME, RFC 6152). */
  readonly eightBit: boolean
  /** The longest line seen, in wire octets, CRLF excluded. */
  readonly longestLine: number
}

/**
 * What `encode` gave.
 *
 * @category models
 * @since 0.1.0
 */
export type EncodeResult =
  | { readonly _tag: "Encoded"; readonly encoder: DataEncoder; readonly bytes: Uint8Array }
  | { readonly _tag: "LineTooLong"; readonly line: number; readonly maxLineLength: number }

/**
 * RFC 5321 §4.5.3.1.6: 1000 octets with the CRLF.
 *
 * @category constants
 * @since 0.1.0
 */
export const maxLineLength = 998

/**
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: { readonly maxLineLength?: number } = {}): DataEncoder => ({
  position: "LineStart",
  maxLineLength: options.maxLineLength ?? maxLineLength,
  lineLength: 0,
  line: 1,
  size: 0,
  eightBit: false,
  longestLine: 0
})

const CR = 13
const LF = 10
const DOT = 46

/**
 * Encodes one chunk. Stops at the first line over the limit.
 *
 * @category operations
 * @since 0.1.0
 */
export const encode = (encoder: DataEncoder, chunk: Uint8Array): EncodeResult => {
  // Each input octet gives at most two: CR or LF -> CRLF, a leading "." -> "..".
  const out = new Uint8Array(chunk.length * 2)
  let n = 0
  let { position, lineLength, line, size, eightBit, longestLine } = encoder
  for (const byte of chunk) {
    if (position === "AfterCr") {
      position = "LineStart"
      if (byte === LF) continue
    }
    if (byte === CR || byte === LF) {
      out[n++] = CR
      out[n++] = LF
      size += 2
      position = byte === CR ? "AfterCr" : "LineStart"
      lineLength = 0
      line++
      continue
    }
    if (position === "LineStart" && byte === DOT) {
      out[n++] = DOT
      lineLength++
    }
    out[n++] = byte
    size++
    lineLength++
    if (byte > 127) eightBit = true
    if (lineLength > longestLine) longestLine = lineLength
    if (lineLength > encoder.maxLineLength) {
      return { _tag: "LineTooLong", line, maxLineLength: encoder.maxLineLength }
    }
    position = "Text"
  }
  return {
    _tag: "Encoded",
    encoder: { ...encoder, position, lineLength, line, size, eightBit, longestLine },
    bytes: out.subarray(0, n)
  }
}

const crlfDot = Uint8Array.of(CR, LF, DOT, CR, LF)

/**
 * The bytes that end the body: CRLF if the last line is open, then `.` CRLF.
 *
 * @category operations
 * @since 0.1.0
 */
export const end = (encoder: DataEncoder): Uint8Array => (encoder.position === "Text" ? crlfDot : crlfDot.subarray(2))

/**
 * The facts about a whole body that decide the MAIL FROM parameters and whether it can be sent.
 *
 * @category models
 * @since 0.1.0
 */
export interface Inspection {
  /** As SIZE counts it: CRLF line ends, no stuffing, no terminator. */
  readonly size: number
  readonly eightBit: boolean
  readonly longestLine: number
  /** The first line over the limit, if any. */
  readonly lineTooLong: number | undefined
}

/**
 * Measures a body without keeping the encoded bytes.
 *
 * @category operations
 * @since 0.1.0
 */
export const inspect = (body: Uint8Array, options: { readonly maxLineLength?: number } = {}): Inspection => {
  const r = encode(make(options), body)
  return r._tag === "LineTooLong"
    ? { size: 0, eightBit: false, longestLine: 0, lineTooLong: r.line }
    : inspectionOf(r.encoder)
}

// The open last line is closed by `end`: its CRLF counts.
const inspectionOf = (encoder: DataEncoder): Inspection => ({
  size: encoder.position === "Text" ? encoder.size + 2 : encoder.size,
  eightBit: encoder.eightBit,
  longestLine: encoder.longestLine,
  lineTooLong: undefined
})

/**
 * A whole body as wire chunks of at most about `chunkSize` input octets, the terminator in the
 * last one, with the facts `inspect` gives.
 *
 * @category operations
 * @since 0.1.0
 */
export const encodeAll = (
  body: Uint8Array,
  options: { readonly chunkSize?: number; readonly maxLineLength?: number } = {}
):
  | {
      readonly _tag: "Encoded"
      readonly chunks: ReadonlyArray<Uint8Array>
      readonly inspection: Inspection
    }
  | { readonly _tag: "LineTooLong"; readonly line: number } => {
  const chunkSize = Math.max(1, options.chunkSize ?? 64 * 1024)
  let encoder = make(options)
  const chunks: Array<Uint8Array> = []
  for (let at = 0; at < body.length; at += chunkSize) {
    const r = encode(encoder, body.subarray(at, at + chunkSize))
    if (r._tag === "LineTooLong") return { _tag: "LineTooLong", line: r.line }
    encoder = r.encoder
    chunks.push(r.bytes)
  }
  const last = chunks.pop() ?? new Uint8Array(0)
  const tail = end(encoder)
  const joined = new Uint8Array(last.length + tail.length)
  joined.set(last, 0)
  joined.set(tail, last.length)
  chunks.push(joined)
  return { _tag: "Encoded", chunks, inspection: inspectionOf(encoder) }
}
