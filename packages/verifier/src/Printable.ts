/**
 * Text from mail servers and input files made safe for people: terminal control characters and
 * Unicode bidi/format controls escaped, and CSV cells that a spreadsheet would run as a formula
 * neutralised.
 *
 * A hostile server's reply can carry `ESC ]0;title BEL` (retitle a terminal), `ESC [2J` (clear
 * it), a carriage return that overwrites the verdict column, or U+202E (right-to-left override)
 * that shows `DELIVERABLE` where the bytes say otherwise. The JSON output escapes all of these by
 * construction; every human-readable output (table, transcript, logs) passes through
 * {@link escapeControls}, every CSV cell through {@link neutraliseFormula}.
 *
 * @since 0.1.0
 */

/**
 * C0 controls except TAB (those that a table, transcript or log line must not hold raw), DEL,
 * C1 controls, and the Unicode format characters that reorder or hide text: ALM, LRM/RLM, the
 * bidi embeddings/overrides/isolates (U+202A-U+202E, U+2066-U+2069), zero-width spaces/joiners,
 * the word joiner and invisible operators, and the BOM.
 */
// oxlint-disable-next-line no-control-regex -- matching control characters is the point
const controls = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g
/** The same class without `g`, so `test` keeps no state between calls. */
const anyControl = new RegExp(controls.source)

/**
 * The escape for one control: `\n`, `\r`, `\e` for the common ones (readable in a transcript),
 * `\xNN` for other C0/C1 bytes, `\u{NNNN}` for Unicode format characters.
 */
const escapeOne = (c: string): string => {
  switch (c) {
    case "\n":
      return "\\n"
    case "\r":
      return "\\r"
    case "\u001b":
      return "\\e"
    default: {
      const code = c.codePointAt(0)!
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`
    }
  }
}

/**
 * Escapes terminal controls and bidi/format characters. Backslashes are left as they are: a
 * literal `\e` in a reply is harmless text, and doubling them would garble every quoted address.
 *
 * @category escaping
 * @since 0.1.0
 */
export const escapeControls = (text: string): string =>
  anyControl.test(text) ? text.replace(controls, escapeOne) : text

/**
 * Whether `text` holds anything {@link escapeControls} would change.
 *
 * @category predicates
 * @since 0.1.0
 */
export const hasControls = (text: string): boolean => anyControl.test(text)

/**
 * OWASP's advice for CSV injection: a cell starting with `=`, `+`, `-`, `@`, TAB or CR is
 * prefixed with a single quote, so a spreadsheet shows it as text instead of running it
 * (`=HYPERLINK(...)`, `+cmd|' /C calc'!A0`, `@SUM(...)`). Numbers written by rcpt itself (a
 * negative score never occurs) are left alone by the caller.
 *
 * @category escaping
 * @since 0.1.0
 */
export const neutraliseFormula = (cell: string): string => (/^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell)
