// The long fuzz run: every property of ./properties.ts, sharing the cases by weight.
//
//   npm run fuzz                 # 1,000,000 cases in all, a fresh random seed
//   npm run fuzz -- 50000        # fewer cases
//   npm run fuzz -- 50000 42     # and a fixed seed, to replay a failure
//
// Prints the cases run and the time per property; on a failure prints fast-check's report (the
// shrunk counterexample and the seed to replay it) and exits with status 1.
import { properties } from "./properties.ts"

const [casesArg, seedArg] = process.argv.slice(2)
const total = casesArg === undefined ? 1_000_000 : Number(casesArg.replaceAll("_", ""))
const seed = seedArg === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(seedArg)
if (!Number.isSafeInteger(total) || total < properties.length || !Number.isSafeInteger(seed)) {
  console.error("usage: node fuzz/fuzz.ts [cases >= number of properties] [seed]")
  process.exit(2)
}

const weights = properties.reduce((n, p) => n + p.weight, 0)
console.log(`fuzzing @rcpt/smtp: ${total.toLocaleString("en")} cases, seed ${seed}`)
const started = performance.now()
let failed = false
for (const property of properties) {
  const numRuns = Math.max(1, Math.round((total * property.weight) / weights))
  const t0 = performance.now()
  const outcome = property.check(numRuns, seed)
  const seconds = (performance.now() - t0) / 1000
  const status = outcome.failed ? "FAILED" : "ok"
  console.log(
    `${status.padEnd(6)} ${property.name.padEnd(62)} ${outcome.numRuns.toLocaleString("en").padStart(9)} cases ` +
      `${seconds.toFixed(1).padStart(7)} s ${((seconds * 1e6) / Math.max(1, outcome.numRuns)).toFixed(0).padStart(6)} µs/case`
  )
  if (outcome.failed) {
    failed = true
    console.error(outcome.report)
  }
}
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`)
process.exit(failed ? 1 : 0)
