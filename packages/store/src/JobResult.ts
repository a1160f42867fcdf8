/**
 * How a verification is stored as a job's result: its input position, its verdict (for the
 * counters and the download filter) and the encoded `Verification` as JSON text, the same fields
 * as a line of `rcpt bulk --format jsonl`. The one builder every writer uses (a server's job
 * runner, a cluster runner), so downloads read the same shape whoever verified.
 *
 * @since 0.2.0
 */
import { Verification } from "@rcpt/verifier"
import type * as JobStore from "./JobStore.ts"

/**
 * The stored result of input `position`; `runner`, when given, names the cluster runner that
 * verified it (an extra field of the JSON).
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (position: number, verification: Verification.Verification, runner?: string): JobStore.Result => {
  const encoded = Verification.encode(verification)
  return {
    position,
    verdict: verification.verdict,
    data: JSON.stringify(runner === undefined ? encoded : { ...encoded, runner })
  }
}
