/**
 * Bytes to lines in bounded memory: LF or CRLF, a UTF-8 BOM at the start dropped, at most
 * {@link maxLineBytes} of one line held (a longer line is counted and reported, never buffered),
 * and binary input (a NUL byte in the first 8 KiB) recognised before any line leaves (or, for
 * input that arrives over time, as soon as it is seen).
 *
 * @since 0.1.0
 */
import { Stream } from "effect"

/**
 * The longest line read; anything longer is reported, not buffered.
 *
 * @category constants
 * @since 0.1.0
 */
export const maxLineBytes = 64 * 1024

/**
 * A file with a NUL byte in its first 8 KiB is binary.
 *
 * @category constants
 * @since 0.1.0
 */
export const sniffBytes = 8 * 1024

/**
 * A physical line, or a line over the limit (its length and first characters only).
 *
 * @category models
 * @since 0.1.0
 */
export type Line =
  | { readonly _tag: "Line"; readonly line: number; readonly text: string }
  | { readonly _tag: "Overlong"; readonly line: number; readonly bytes: number; readonly preview: string }
  | { readonly _tag: "Binary" }

const decoder = new TextDecoder("utf-8", { ignoreBOM: true })

/**
 * @category models
 * @since 0.5.0
 */
export interface Options {
  /**
   * Bytes that arrive over time (standard input, a pipe): each line leaves as soon as it is
   * complete, where by default lines wait until 8 KiB were seen (or the end), so that a binary
   * input yields no line at all. A list written slowly would otherwise sit unread. A NUL byte in
   * the first 8 KiB still ends the lines with `Binary`, after those before it.
   */
  readonly live?: boolean | undefined
}

/**
 * Splits bytes into lines (LF or CRLF; a BOM at the start is dropped), holding at most
 * {@link maxLineBytes} of one line. Emits `Binary` (and, unless `live`, nothing before it) when
 * the first 8 KiB hold a NUL byte.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromBytes = <E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  options: Options = {}
): Stream.Stream<Line, E, R> =>
  Stream.mapAccum(
    bytes,
    () => ({
      parts: [] as Array<Uint8Array>,
      size: 0,
      overlong: false,
      preview: "",
      line: 0,
      seen: 0,
      held: [] as Array<Line>,
      binary: false
    }),
    (s, chunk) => {
      if (s.binary) return [s, []]
      const out: Array<Line> = []
      const line = (bytes: Uint8Array) => {
        let text = decoder.decode(bytes)
        if (s.line === 1 && text.startsWith("\uFEFF")) text = text.slice(1)
        if (text.endsWith("\r")) text = text.slice(0, -1)
        out.push({ _tag: "Line", line: s.line, text })
      }
      const finish = () => {
        s.line++
        if (s.overlong) out.push({ _tag: "Overlong", line: s.line, bytes: s.size, preview: s.preview })
        else line(concat(s.parts, s.size))
        s.parts = []
        s.size = 0
        s.overlong = false
        s.preview = ""
      }
      const add = (part: Uint8Array) => {
        if (part.length === 0) return
        if (!s.overlong && s.size + part.length > maxLineBytes) {
          s.overlong = true
          s.preview = decoder.decode(concat([...s.parts, part], s.size + part.length).subarray(0, 48))
          s.parts = []
        }
        if (!s.overlong) s.parts.push(part)
        s.size += part.length
      }
      if (s.seen < sniffBytes && chunk.subarray(0, sniffBytes - s.seen).includes(0)) {
        s.binary = true
        return [s, [{ _tag: "Binary" }]]
      }
      s.seen += chunk.length
      let start = 0
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
        if (s.size === 0 && !s.overlong && i - start <= maxLineBytes) {
          // The common line, whole in this chunk: read from the chunk (no parts array per line).
          s.line++
          line(chunk.subarray(start, i))
        } else {
          add(chunk.subarray(start, i))
          finish()
        }
        start = i + 1
      }
      add(chunk.subarray(start))
      // Nothing leaves before 8 KiB were seen: a binary file yields no lines at all.
      if (s.seen < sniffBytes && options.live !== true) {
        s.held.push(...out)
        return [s, []]
      }
      const ready = s.held.length > 0 ? [...s.held, ...out] : out
      s.held = []
      return [s, ready]
    },
    {
      onHalt: (s) => {
        if (s.binary) return []
        const rest = [...s.held]
        s.held = []
        if (s.size > 0 || s.overlong) {
          s.line++
          if (s.overlong) rest.push({ _tag: "Overlong", line: s.line, bytes: s.size, preview: s.preview })
          else {
            let text = decoder.decode(concat(s.parts, s.size))
            if (s.line === 1 && text.startsWith("\uFEFF")) text = text.slice(1)
            if (text.endsWith("\r")) text = text.slice(0, -1)
            rest.push({ _tag: "Line", line: s.line, text })
          }
        }
        return rest
      }
    }
  )

const concat = (parts: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  if (parts.length === 1) return parts[0]!
  const out = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
