/**
 * MX plans by domain, looked up once and kept for a while: every address of a domain, and the
 * bulk engine's grouping, ask for the same plan.
 *
 * The in-memory layer resolves through effect/net's `Dns` and keeps plans for this process; a job
 * store or cluster may provide a shared one. A plan is a plan whatever happened (a DNS failure is
 * a plan too), so this never fails.
 *
 * @since 0.2.0
 */
import { Cache, Context, Effect, Layer, Option } from "effect"
import type { Duration } from "effect"
import { Dns } from "effect/net"
import type { Address } from "@rcpt/smtp"
import * as MxPlan from "./MxPlan.ts"
import * as VerifierConfig from "./VerifierConfig.ts"

/**
 * @category models
 * @since 0.2.0
 */
export interface Shape {
  readonly plan: (domain: Address.Domain) => Effect.Effect<MxPlan.MxPlan>
}

/**
 * @category services
 * @since 0.2.0
 */
export class MxCache extends Context.Service<MxCache, Shape>()("@rcpt/verifier/MxCache") {}

/**
 * @category models
 * @since 0.2.0
 */
export interface MemoryOptions {
  readonly capacity: number
  readonly timeToLive: Duration.Input
}

/**
 * @category constants
 * @since 0.2.0
 */
export const defaults: MemoryOptions = { capacity: 10_000, timeToLive: "10 minutes" }

/**
 * Plans resolved with `MxPlan.resolve` over the `Dns` in context, cached in memory.
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeMemory = Effect.fn("MxCache.makeMemory")(function* (options: MemoryOptions = defaults) {
  const dns = yield* Dns.Dns
  // The config's special-use allowances, when there is a config (a bare cache allows none).
  const config = yield* Effect.serviceOption(VerifierConfig.Service)
  const allowSpecialUse = Option.match(config, { onNone: () => [], onSome: (c) => c.allowSpecialUse })
  const cache = yield* Cache.make({
    capacity: options.capacity,
    timeToLive: options.timeToLive,
    lookup: (domain: Address.Domain) =>
      MxPlan.resolve(domain, { allowSpecialUse }).pipe(Effect.provideService(Dns.Dns, dns))
  })
  return MxCache.of({ plan: (domain) => Cache.get(cache, domain) })
})

/**
 * @category layers
 * @since 0.2.0
 */
export const layerMemory: Layer.Layer<MxCache, never, Dns.Dns> = Layer.effect(MxCache, makeMemory())
