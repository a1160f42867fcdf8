/**
 * Results as lines, the formats `rcpt bulk` writes and the jobs API serves: JSON lines (the
 * encoded `Verification`) or CSV with fixed columns. One result is one line: line breaks inside a
 * value become spaces, so a remote server's text can never forge a record.
 *
 * @since 0.1.0
 */
import * as Printable from "./Printable.ts"
import * as Verification from "./Verification.ts"

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
  "provider",
  "detail"
] as const

/**
 * One line per record: line breaks inside a value become spaces.
 *
 * @category encoding
 * @since 0.1.0
 */
export const flat = (text: string): string => text.replace(/[\r\n]+/g, " ")

/**
 * The text a CSV cell holds for a string from input or a server: on one line, other controls and
 * bidi overrides escaped, and a leading `= + - @ TAB CR` neutralised with a quote (OWASP's advice
 * against formula injection: `+cmd@x` is a valid address, a reply text can be anything).
 *
 * @category encoding
 * @since 0.1.0
 */
export const csvText = (text: string): string => Printable.neutraliseFormula(Printable.escapeControls(flat(text)))

/**
 * A CSV field: strings through {@link csvText}; quoted when it holds a comma, a quote or edge
 * spaces; null is empty. Numbers and booleans are rcpt's own and written as they are.
 *
 * @category encoding
 * @since 0.1.0
 */
export const csvField = (value: string | number | boolean | null): string => {
  if (value === null) return ""
  const text = typeof value === "string" ? csvText(value) : String(value)
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
    v.provider?.id ?? null,
    v.detail
  ]
    .map(csvField)
    .join(",") + "\n"

/**
 * How much of a result a line carries.
 *
 * @category models
 * @since 0.2.0
 */
export interface LineOptions {
  /**
   * The SMTP dialogue (`transcript`). Off, the line keeps every field with `transcript: []`: the
   * verdict, reason, deciding reply (`rcpt`/`vrfy`), MX, TLS and attempts in about a sixth of the size.
   */
  readonly transcript: boolean
}

const full: LineOptions = { transcript: true }

/**
 * One result as one JSON line (the encoded `Verification`, with its "\n"); its transcript unless
 * asked to leave it out (`rcpt bulk` without `--transcript`).
 *
 * @category encoding
 * @since 0.1.0
 */
export const jsonLine = (v: Verification.Verification, options: LineOptions = full): string => `${json(v, options)}\n`

/**
 * One result as JSON text, without the line's "\n" ({@link jsonLine} is it with one): for a writer
 * that encodes each line into one buffer as it goes.
 *
 * @category encoding
 * @since 0.4.0
 */
export const json = (v: Verification.Verification, options: LineOptions = full): string =>
  // The encoded form is the result's own fields as they are (see `Verification.encode`), and the
  // class has no `toJSON`: printed as it is, without a copy. A bulk run without --transcript
  // builds its results with none, so there is nothing to drop either.
  JSON.stringify(options.transcript || v.transcript.length === 0 ? v : Verification.encode({ ...v, transcript: [] }))

/**
 * @category encoding
 * @since 0.1.0
 */
export const line = (format: Format, v: Verification.Verification, options: LineOptions = full): string =>
  format === "csv" ? csvLine(v) : jsonLine(v, options)
