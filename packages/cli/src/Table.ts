/**
 * Results as a table for people: address, verdict (coloured on a terminal), reason, MX host,
 * RCPT code and a short detail; optionally the SMTP dialogue under each row.
 *
 * Colour only when asked for ({@link colorEnabled}: stdout is a terminal and `NO_COLOR` is
 * unset or empty). Every cell and transcript line from input or a server passes through
 * `Printable.escapeControls`: a hostile reply cannot retitle or clear the terminal, move the
 * cursor, or reorder the row with bidi overrides.
 *
 * @since 0.1.0
 */
import { Printable } from "@rcpt/verifier"
import type { Verification } from "@rcpt/verifier"

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  readonly color: boolean
  /** Print the SMTP transcript under each row. */
  readonly transcript: boolean
  /** Terminal width; the detail column is cut to fit. Unbounded when undefined. */
  readonly width?: number | undefined
}

const ansi = {
  green: "\u001b[32m",
  red: "\u001b[31m",
  yellow: "\u001b[33m",
  grey: "\u001b[90m",
  bold: "\u001b[1m",
  reset: "\u001b[0m"
} as const

const verdictColor: Record<Verification.Verdict, string> = {
  deliverable: ansi.green,
  undeliverable: ansi.red,
  risky: ansi.yellow,
  unknown: ansi.grey
}

/**
 * Whether to colour output on a stream: a terminal, and `NO_COLOR` unset or empty
 * (https://no-color.org).
 *
 * @category predicates
 * @since 0.1.0
 */
export const colorEnabled = (stream: { readonly isTTY?: boolean | undefined }, env = process.env): boolean =>
  stream.isTTY === true && (env["NO_COLOR"] === undefined || env["NO_COLOR"] === "")

/**
 * Paints `text` in a verdict's colour.
 *
 * @category formatting
 * @since 0.1.0
 */
export const paint = (verdict: Verification.Verdict, text: string, color: boolean): string =>
  color ? `${verdictColor[verdict]}${text}${ansi.reset}` : text

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`)

/**
 * The table, one row per result, ending with a newline.
 *
 * @category formatting
 * @since 0.1.0
 */
export const render = (results: ReadonlyArray<Verification.Verification>, options: Options): string => {
  const header = ["ADDRESS", "VERDICT", "REASON", "MX", "RCPT", "DETAIL"]
  const shown = Printable.escapeControls
  const rows = results.map((v) => [
    shown(v.address),
    v.verdict,
    v.reason,
    // The provider or gateway behind the host, when the table knows it: who really answered.
    shown(v.mx === null ? "-" : v.provider === null ? v.mx.host : `${v.mx.host} (${v.provider.id})`),
    v.rcpt === null ? "-" : [v.rcpt.code, v.rcpt.enhanced].filter((x) => x !== null).join(" "),
    shown(v.detail.replace(/[ \t\r\n]+/g, " "))
  ])
  const widths = header.slice(0, 5).map((h, i) => Math.max(h.length, ...rows.map((r) => Math.min(r[i]!.length, 48))))
  const used = widths.reduce((a, b) => a + b + 2, 0)
  const detailWidth = options.width === undefined ? Infinity : Math.max(20, options.width - used)
  const pad = (text: string, i: number) => {
    const w = widths[i]!
    const shown = cut(text, w)
    return shown + " ".repeat(Math.max(0, w - shown.length))
  }
  const lines: Array<string> = []
  const head = header.map((h, i) => (i < 5 ? pad(h, i) : h)).join("  ")
  lines.push(options.color ? `${ansi.bold}${head}${ansi.reset}` : head)
  results.forEach((v, k) => {
    const r = rows[k]!
    const cells = r.map((cell, i) => {
      if (i === 5) return cut(cell, detailWidth)
      const padded = pad(cell, i)
      return i === 1 ? paint(v.verdict, padded, options.color) : padded
    })
    lines.push(cells.join("  ").trimEnd())
    if (options.transcript) {
      for (const t of v.transcript) {
        const text = `    ${t.direction}: ${shown(t.text)}`
        lines.push(options.color && t.direction !== "C" ? `${ansi.grey}${text}${ansi.reset}` : text)
      }
      if (v.transcript.length === 0) lines.push("    (no SMTP dialogue)")
    }
  })
  return `${lines.join("\n")}\n`
}
