/**
 * At most `messages` starts in any window of `per`: a sliding window of start times, on `Clock`,
 * so `TestClock` drives it in tests.
 *
 * @internal
 */
import { Clock, Duration, Effect, Semaphore } from "effect"

/** @internal */
export interface RateLimit {
  /** Waits until one more start fits in the window, then records it. */
  readonly take: Effect.Effect<void>
}

/** @internal */
export const unlimited: RateLimit = { take: Effect.void }

/** @internal */
export const make = (limit: { readonly messages: number; readonly per: Duration.Input }): Effect.Effect<RateLimit> =>
  Effect.gen(function* () {
    const per = Duration.toMillis(Duration.fromInputUnsafe(limit.per))
    const lock = yield* Semaphore.make(1)
    const starts: Array<number> = []
    const take = lock.withPermits(1)(
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        while (starts.length > 0 && starts[0]! <= now - per) starts.shift()
        if (starts.length >= limit.messages) {
          yield* Effect.sleep(Duration.millis(starts[0]! + per - now))
          starts.shift()
        }
        starts.push(yield* Clock.currentTimeMillis)
      })
    )
    return { take }
  })
