/**
 * Runs one npm contender over the list in its own process: `concurrency` addresses at a time (the tools check one
 * address per call), each under the tool's own timeout plus a 5 s safety net.
 *
 * `node --import guard.ts npm-driver.ts <tool> <list> <out.jsonl> <concurrency> <timeoutMs>`
 *
 * @since 0.1.0
 */
import { adapters } from "./adapters.ts"
import type { Answer } from "./adapters.ts"
import { pool, readList, writeResults } from "./io.ts"
import type { Result } from "./io.ts"

const [tool, list, out, concurrency, timeoutMs] = process.argv.slice(2)
const adapter = adapters[tool!]
if (adapter === undefined) throw new Error(`unknown contender ${tool}`)
const timeout = Number(timeoutMs)
const addresses = await readList(list!)
const results: Array<Result> = []
// A tool that never calls back must not stall the run.
const safety = () =>
  new Promise<Answer>((resolve) =>
    setTimeout(() => resolve({ v: "unknown", r: "no answer (bench timeout)" }), timeout + 5000).unref()
  )
await pool(addresses, Number(concurrency), async (address) => {
  const answer = await Promise.race([
    adapter(address, timeout).catch((error: unknown): Answer => ({ v: "unknown", r: `threw: ${String(error)}` })),
    safety()
  ])
  results.push({ a: address, ...answer })
})
await writeResults(out!, results)
process.exit(0)
