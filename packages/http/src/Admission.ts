/**
 * How many verification requests run at once: at most `perCaller` for one caller (a token, the
 * shared secret, or everyone when the service is open) and at most `total` overall. A request over
 * either limit is turned away at once (429 / 503 with `Retry-After`), before its body is read:
 * queueing it would hold its connection and, soon, its body in memory.
 *
 * The counts are state every front end of one process shares, so they are a service; the
 * in-memory layer is the one implementation (one process, one count).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"

/**
 * @category models
 * @since 0.1.0
 */
export interface Limits {
  /** Requests of one caller in flight at once. Default 8. */
  readonly perCaller: number
  /**
   * Requests in flight at once, all callers together. Default 12: a full batch holds ~10 MB while
   * it runs (body, decoded addresses, results, the response), so 12 keep 100 concurrent 1 MB
   * batches under 400 MB RSS (bench/src/http-memory.ts).
   */
  readonly total: number
  /** Seconds a turned-away caller is told to wait (`Retry-After`). Default 1. */
  readonly retryAfterSeconds: number
}

/**
 * @category constants
 * @since 0.1.0
 */
export const defaultLimits: Limits = { perCaller: 8, total: 12, retryAfterSeconds: 1 }

/**
 * Why a request was turned away.
 *
 * @category models
 * @since 0.1.0
 */
export type Refusal =
  | { readonly _tag: "CallerBusy"; readonly limit: number; readonly retryAfterSeconds: number }
  | { readonly _tag: "ServiceBusy"; readonly limit: number; readonly retryAfterSeconds: number }

/**
 * @category services
 * @since 0.1.0
 */
export class Admission extends Context.Service<
  Admission,
  {
    /**
     * Runs `effect` holding one slot of `caller` and one of the total, or, when either is full,
     * `refused` at once.
     */
    readonly run: <A, E, R, A2, E2, R2>(
      caller: string,
      effect: Effect.Effect<A, E, R>,
      refused: (refusal: Refusal) => Effect.Effect<A2, E2, R2>
    ) => Effect.Effect<A | A2, E | E2, R | R2>
    /** Requests in flight now, for tests and metrics. */
    readonly inFlight: Effect.Effect<number>
  }
>()("@rcpt/http/Admission") {}

/**
 * Counts in this process's memory.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerMemory = (limits: Partial<Limits> = {}): Layer.Layer<Admission> =>
  Layer.sync(Admission, () => {
    const { perCaller, total, retryAfterSeconds } = { ...defaultLimits, ...limits }
    const callers = new Map<string, number>()
    let all = 0
    const release = (caller: string) =>
      Effect.sync(() => {
        all--
        const n = (callers.get(caller) ?? 1) - 1
        if (n <= 0) callers.delete(caller)
        else callers.set(caller, n)
      })
    /** Takes a slot, or says why not. */
    const acquire = (caller: string) =>
      Effect.sync((): Refusal | undefined => {
        const mine = callers.get(caller) ?? 0
        if (mine >= perCaller) return { _tag: "CallerBusy", limit: perCaller, retryAfterSeconds }
        if (all >= total) return { _tag: "ServiceBusy", limit: total, retryAfterSeconds }
        callers.set(caller, mine + 1)
        all++
        return undefined
      })
    return Admission.of({
      run: <A, E, R, A2, E2, R2>(
        caller: string,
        effect: Effect.Effect<A, E, R>,
        refused: (refusal: Refusal) => Effect.Effect<A2, E2, R2>
      ) =>
        Effect.acquireUseRelease(
          acquire(caller),
          (refusal): Effect.Effect<A | A2, E | E2, R | R2> => (refusal === undefined ? effect : refused(refusal)),
          (refusal) => (refusal === undefined ? release(caller) : Effect.void)
        ),
      inFlight: Effect.sync(() => all)
    })
  })
