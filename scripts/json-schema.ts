// The JSON Schema of a Verification (what `rcpt verify --json`, `rcpt bulk` and the library's `Verification.encode`
// print), generated from the Schema class in @rcpt/verifier and committed as
// packages/verifier/schema/verification.schema.json.
//
//   npm run schema          writes the file
//   npm run schema:check    renders it in memory and exits 1, with the first difference, when the file is stale
//
// packages/verifier/test/Schema.test.ts runs the same check, so `npm test` (and CI) fails on drift.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import { JsonSchema, Schema } from "effect"
import { Verification } from "@rcpt/verifier/Verification"

/**
 * Where the committed schema lives.
 */
export const schemaPath: string = fileURLToPath(
  new URL("../packages/verifier/schema/verification.schema.json", import.meta.url)
)

/**
 * The schema document as committed: draft 2020-12, every definition inlined (the Verification has no recursion), two
 * spaces, a final newline.
 */
export const render = (): string => {
  const document = Schema.toJsonSchemaDocument(Verification, { referencePolicy: () => undefined })
  const schema = {
    $schema: JsonSchema.META_SCHEMA_URI_DRAFT_2020_12,
    title: "Verification",
    description:
      "The result of verifying one email address with rcpt: the verdict, the reason, a 0-100 score, the risk signals and the evidence (MX host, replies, TLS, transcript). Generated from the Verification schema of @rcpt/verifier by scripts/json-schema.ts; do not edit.",
    ...document.schema,
    ...(Object.keys(document.definitions).length === 0 ? {} : { $defs: document.definitions })
  }
  return `${JSON.stringify(schema, null, 2)}\n`
}

/**
 * The first line where `committed` and `generated` differ (1-based), or undefined when they are equal.
 */
export const firstDifference = (
  committed: string,
  generated: string
): { readonly line: number; readonly committed: string; readonly generated: string } | undefined => {
  if (committed === generated) return undefined
  const a = committed.split("\n")
  const b = generated.split("\n")
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return { line: i + 1, committed: a[i] ?? "<end of file>", generated: b[i] ?? "<end of file>" }
  }
  return { line: 1, committed: "", generated: "" }
}

const readCommitted = (): string | undefined => {
  try {
    return readFileSync(schemaPath, "utf8")
  } catch {
    return undefined
  }
}

const main = (args: ReadonlyArray<string>): number => {
  const generated = render()
  const relative = "packages/verifier/schema/verification.schema.json"
  if (!args.includes("--check")) {
    mkdirSync(dirname(schemaPath), { recursive: true })
    writeFileSync(schemaPath, generated)
    console.log(`wrote ${relative}`)
    return 0
  }
  const committed = readCommitted()
  if (committed === undefined) {
    console.error(`${relative} is missing: run \`npm run schema\` and commit it`)
    return 1
  }
  const difference = firstDifference(committed, generated)
  if (difference === undefined) {
    console.log(`${relative} is up to date`)
    return 0
  }
  console.error(`${relative} is stale: the Verification schema changed since it was generated.`)
  console.error(`first difference at line ${difference.line}:`)
  console.error(`  committed: ${difference.committed.trim()}`)
  console.error(`  generated: ${difference.generated.trim()}`)
  console.error("run `npm run schema` and commit the result (it is part of the output's stable schema)")
  return 1
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2))
