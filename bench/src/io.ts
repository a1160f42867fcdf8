/**
 * What every contender process shares: reading the list, a bounded worker pool, and the results file (JSON lines
 * `{"a": address, "v": verdict, "r": the contender's own words}`).
 *
 * @since 0.1.0
 */
import { createWriteStream } from "node:fs"
import { readFile } from "node:fs/promises"
import { once } from "node:events"
import type { Verdict } from "./truth.ts"

/**
 * One contender's answer for one address, mapped to the bench's three verdicts.
 *
 * @category models
 * @since 0.1.0
 */
export interface Result {
  readonly a: string
  readonly v: Verdict
  readonly r: string
}

/**
 * @category io
 * @since 0.1.0
 */
export const readList = async (path: string): Promise<Array<string>> =>
  (await readFile(path, "utf8")).split("\n").filter((line) => line.length > 0)

/**
 * @category io
 * @since 0.1.0
 */
export const writeResults = async (path: string, results: Iterable<Result>): Promise<void> => {
  const out = createWriteStream(path)
  for (const result of results) {
    if (!out.write(`${JSON.stringify(result)}\n`)) await once(out, "drain")
  }
  out.end()
  await once(out, "finish")
}

/**
 * Runs `work` over `items` with at most `concurrency` at once.
 *
 * @category concurrency
 * @since 0.1.0
 */
export const pool = async <A>(
  items: ReadonlyArray<A>,
  concurrency: number,
  work: (item: A) => Promise<void>
): Promise<void> => {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!
      await work(item)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker))
}
