/**
 * What has been learnt about domains' catch-all status: true, a made-up mailbox of the domain
 * was accepted; false, the server refused one (or a real unknown one). A domain whose status is
 * known is not probed again.
 *
 * Keys are domain keys (`Bulk.domainKey`: the wire form, case-folded). The in-memory layer keeps
 * the status of one process; a job store or cluster provides a shared one.
 *
 * @since 0.2.0
 */
import { Context, Effect, Layer, Option } from "effect"

/**
 * @category models
 * @since 0.2.0
 */
export interface Shape {
  readonly get: (domainKey: string) => Effect.Effect<Option.Option<boolean>>
  readonly remember: (domainKey: string, catchAll: boolean) => Effect.Effect<void>
}

/**
 * @category services
 * @since 0.2.0
 */
export class CatchAllMemory extends Context.Service<CatchAllMemory, Shape>()("@rcpt/verifier/CatchAllMemory") {}

/**
 * Domains remembered in memory by default: the oldest is forgotten past this.
 *
 * @category constants
 * @since 0.2.0
 */
export const defaultCapacity = 100_000

/**
 * A bounded map in this process's memory, the oldest entry forgotten first.
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeMemory = (capacity: number = defaultCapacity): Effect.Effect<Shape> =>
  Effect.sync(() => {
    const known = new Map<string, boolean>()
    return CatchAllMemory.of({
      get: (key) => Effect.sync(() => Option.fromNullishOr(known.get(key))),
      remember: (key, catchAll) =>
        Effect.sync(() => {
          if (!known.has(key) && known.size >= Math.max(1, capacity)) known.delete(known.keys().next().value!)
          known.set(key, catchAll)
        })
    })
  })

/**
 * @category layers
 * @since 0.2.0
 */
export const layerMemory: Layer.Layer<CatchAllMemory> = Layer.effect(CatchAllMemory, makeMemory())
