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
 * @category models
 * @since 0.2.0
 */
export interface Options {
  /** The cluster runner that verified it (an extra field of the JSON). */
  readonly runner?: string | undefined
  /**
   * The SMTP dialogue (default: kept). Off, `transcript` is `[]`, as in `rcpt bulk`'s lines without
   * `--transcript`: every other field stays, in about a sixth of the size.
   */
  readonly transcript?: boolean | undefined
}

/**
 * The stored result of input `position`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (
  position: number,
  verification: Verification.Verification,
  options: Options = {}
): JobStore.Result => {
  const encoded = Verification.encode(verification)
  const data = {
    ...encoded,
    ...(options.transcript === false ? { transcript: [] } : {}),
    ...(options.runner === undefined ? {} : { runner: options.runner })
  }
  return { position, verdict: verification.verdict, data: JSON.stringify(data) }
}
