// Escaping for people and spreadsheets, as tables: what a hostile server or input file can put
// in a reply text, and what reaches a terminal or a CSV cell.
import { assert, describe, it } from "@effect/vitest"
import { Printable } from "../src/index.ts"

describe("Printable.escapeControls", () => {
  const table: ReadonlyArray<readonly [string, string]> = [
    ["250 2.1.5 Ok", "250 2.1.5 Ok"],
    ["tab\there", "tab\there"],
    ["\u001b]0;pwned\u0007", "\\e]0;pwned\\x07"],
    ["\u001b[2J\u001b[H", "\\e[2J\\e[H"],
    ["550 no\rDELIVERABLE", "550 no\\rDELIVERABLE"],
    ["line\nbreak", "line\\nbreak"],
    ["nul\u0000byte", "nul\\x00byte"],
    ["del\u007f", "del\\x7f"],
    ["c1 \u009b31m", "c1 \\x9b31m"],
    ["\u202eELBAREVILED", "\\u{202e}ELBAREVILED"],
    ["\u2066isolate\u2069", "\\u{2066}isolate\\u{2069}"],
    ["zero\u200bwidth", "zero\\u{200b}width"],
    ["\ufeffbom", "\\u{feff}bom"],
    ["Bücher ünïcödé 日本", "Bücher ünïcödé 日本"],
    ["back\\slash", "back\\slash"]
  ]
  it.each(table)("%j -> %j", (input, expected) => {
    assert.strictEqual(Printable.escapeControls(input), expected)
    assert.strictEqual(Printable.hasControls(input), input !== expected)
  })
})

describe("Printable.neutraliseFormula", () => {
  const table: ReadonlyArray<readonly [string, string]> = [
    ['=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'],
    ["+cmd@example.com", "'+cmd@example.com"],
    ["-2+3", "'-2+3"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\t=1", "'\t=1"],
    ["\r=1", "'\r=1"],
    ["alice@example.com", "alice@example.com"],
    ["a=b", "a=b"],
    ["", ""]
  ]
  it.each(table)("%j -> %j", (input, expected) => assert.strictEqual(Printable.neutraliseFormula(input), expected))
})
