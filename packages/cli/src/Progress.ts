/**
 * Bulk progress on stderr: a live line on a terminal (done/total, rate, ETA, counts per
 * verdict, redrawn at most 10 times a second) and a one-line summary at the end, always.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Schedule } from "effect"
import type { Scope } from "effect"
import type { Verification } from "@rcpt/verifier"

/**
 * @category models
 * @since 0.1.0
 */
export interface Counts {
  readonly deliverable: number
  readonly undeliverable: number
  readonly risky: number
  readonly unknown: number
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Progress {
  /** One result written. */
  readonly record: (v: Verification.Verification) => Effect.Effect<void>
  /** Results written together. */
  readonly recordAll: (vs: ReadonlyArray<Verification.Verification>) => Effect.Effect<void>
  /** Lines in the input, once counted. */
  readonly setTotal: (total: number) => Effect.Effect<void>
  /** An input passed over because the output has it already. */
  readonly skip: Effect.Effect<void>
  /** `n` inputs passed over because the output has them already. */
  readonly skipMany: (n: number) => Effect.Effect<void>
  readonly counts: Effect.Effect<Counts & { readonly done: number; readonly skipped: number }>
  /** Clears the live line; returns the summary line. */
  readonly finish: (interrupted: boolean) => Effect.Effect<string>
}

const formatSeconds = (s: number) =>
  s < 60
    ? `${s.toFixed(s < 10 ? 1 : 0)}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s`
      : `${(s / 3600).toFixed(1)}h`

/**
 * The summary line for `counts` over `elapsedMs`.
 *
 * @category formatting
 * @since 0.1.0
 */
export const summary = (counts: Counts & { readonly skipped: number }, elapsedMs: number): string => {
  const done = counts.deliverable + counts.undeliverable + counts.risky + counts.unknown
  const seconds = Math.max(elapsedMs, 1) / 1000
  const rate = done / seconds
  const skipped = counts.skipped > 0 ? `; ${counts.skipped} skipped (already in the output)` : ""
  return (
    `${done} verified in ${formatSeconds(seconds)} (${rate.toFixed(rate < 10 ? 1 : 0)}/s): ` +
    `${counts.deliverable} deliverable, ${counts.undeliverable} undeliverable, ` +
    `${counts.risky} risky, ${counts.unknown} unknown${skipped}`
  )
}

/**
 * A progress tracker; with `live`, a fiber in the scope redraws the line every 100 ms.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: {
  readonly live: boolean
  readonly write: (text: string) => void
}): Effect.Effect<Progress, never, Scope.Scope> =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    const counts = { deliverable: 0, undeliverable: 0, risky: 0, unknown: 0 }
    let done = 0
    let skipped = 0
    let total: number | undefined
    let shown = ""
    let stopped = false

    const draw = Effect.gen(function* () {
      if (stopped) return
      const now = yield* Clock.currentTimeMillis
      const seconds = Math.max(now - start, 1) / 1000
      const rate = done / seconds
      const left = total === undefined ? undefined : Math.max(0, total - done - skipped)
      const eta = left === undefined || rate === 0 ? "?" : formatSeconds(left / rate)
      const of = total === undefined ? "?" : String(total)
      const text =
        `${done + skipped}/${of}  ${rate.toFixed(0)}/s  ETA ${eta}  ` +
        `deliverable ${counts.deliverable}  undeliverable ${counts.undeliverable}  ` +
        `risky ${counts.risky}  unknown ${counts.unknown}`
      if (text !== shown) {
        shown = text
        options.write(`\r\u001b[K${text}`)
      }
    })

    if (options.live) yield* Effect.forkScoped(Effect.repeat(draw, Schedule.spaced("100 millis")))

    return {
      record: (v) =>
        Effect.sync(() => {
          counts[v.verdict]++
          done++
        }),
      recordAll: (vs) =>
        Effect.sync(() => {
          for (let i = 0; i < vs.length; i++) counts[vs[i]!.verdict]++
          done += vs.length
        }),
      setTotal: (n) =>
        Effect.sync(() => {
          total = n
        }),
      skip: Effect.sync(() => {
        skipped++
      }),
      skipMany: (n) =>
        Effect.sync(() => {
          skipped += n
        }),
      counts: Effect.sync(() => ({ ...counts, done, skipped })),
      finish: (interrupted) =>
        Effect.gen(function* () {
          if (options.live && shown !== "") options.write("\r\u001b[K")
          stopped = true
          const now = yield* Clock.currentTimeMillis
          const line = summary({ ...counts, skipped }, now - start)
          return interrupted ? `${line}\ninterrupted: run again with --resume to finish` : line
        })
    }
  })
