// Prints "N passed, M failed" from vitest JSON reports, so CI sees a run that executed nothing.
// Usage: node scripts/count-results.mjs report.json [report2.json ...]
import { existsSync, readFileSync } from "node:fs"

let passed = 0
let failed = 0
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) continue
  const report = JSON.parse(readFileSync(file, "utf8"))
  passed += report.numPassedTests ?? 0
  failed += (report.numFailedTests ?? 0) + (report.numRuntimeErrorTests ?? 0)
}
console.log(`${passed} passed, ${failed} failed`)
