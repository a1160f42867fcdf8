/**
 * Shared bookkeeping for the conformance suites: load a fixture, count agreement, print it, and
 * hold rcpt to the figure recorded in the fixture.
 *
 * @since 0.1.0
 */
import { readFileSync } from "node:fs"
import { assert } from "@effect/vitest"

/**
 * Reads a JSON fixture under test/fixtures/.
 *
 * @since 0.1.0
 */
export const fixture = <A>(path: string): A =>
  JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), "utf8")) as A

/**
 * The figure a fixture records; the suite fails when rcpt agrees with fewer rows.
 *
 * @since 0.1.0
 */
export interface Recorded {
  readonly agree: number
  readonly total: number
}

/**
 * Prints `suite: agree/total (percent)` and fails when agreement fell below the recorded figure.
 *
 * @since 0.1.0
 */
export const report = (suite: string, agree: number, total: number, recorded: Recorded): void => {
  const percent = total === 0 ? 100 : (100 * agree) / total
  console.log(
    `[conformance] ${suite}: ${agree}/${total} agree (${percent.toFixed(1)}%), recorded ${recorded.agree}/${recorded.total}`
  )
  assert.strictEqual(total, recorded.total, `${suite}: the fixture has ${total} rows, ${recorded.total} recorded`)
  assert.isAtLeast(agree, recorded.agree, `${suite}: agreement dropped below the recorded figure`)
}

/**
 * Percent with one decimal, for messages.
 *
 * @since 0.1.0
 */
export const percent = (n: number, d: number): string => (d === 0 ? "n/a" : `${((100 * n) / d).toFixed(1)}%`)
