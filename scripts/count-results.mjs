// Prints "N passed, M failed" from vitest JSON reports, so CI sees a run that executed nothing.
// Usage: node scripts/count-results.mjs report.json [report2.json ...]
import { existsSync, readFileSync } from "node:fs"

let passed = 0
let failed = 0
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) continue
  const report = JSON.parse(readFileSync(file, "utf8"))
  passed += report.numPassedTests ?? 0
  const failedHere = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTests ?? 0)
  // A run whose tests all passed but that still failed (an unhandled error, a suite that did not load)
  // counts as one failure, so the line never says "0 failed" for a red run.
  failed += failedHere === 0 && report.success === false ? 1 : failedHere
}
console.log(`${passed} passed, ${failed} failed`)
