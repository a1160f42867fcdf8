/**
 * Politeness as a service: a global limit on open SMTP connections, a limit per MX address, and
 * an optional spacing between connections opened to the same address.
 *
 * The in-memory layer holds the counts of one process. A job store or cluster that runs several
 * verifiers against the same hosts provides its own `HostPermits` so that the limits hold across
 * them; per-host limits learnt at run time belong here too.
 *
 * @since 0.2.0
 */
import { Clock, Context, Effect, Layer, Semaphore } from "effect"
import * as VerifierConfig from "./VerifierConfig.ts"

/**
 * @category models
 * @since 0.2.0
 */
export interface Shape {
  /** Runs `effect` (one SMTP connection to `address`, an IP) once the limits allow it, holding a slot meanwhile. */
  readonly withPermit: (address: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/**
 * @category services
 * @since 0.2.0
 */
export class HostPermits extends Context.Service<HostPermits, Shape>()("@rcpt/verifier/HostPermits") {}

/**
 * @category models
 * @since 0.2.0
 */
export interface Limits {
  /** Simultaneous connections in all. */
  readonly concurrency: number
  /** Simultaneous connections per MX address. */
  readonly perHost: number
  /** Connections opened per second per MX address; 0 for no limit. */
  readonly perHostRate: number
}

/**
 * Permits held in this process's memory.
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeMemory = Effect.fn("HostPermits.makeMemory")(function* (limits: Limits) {
  const global = yield* Semaphore.make(limits.concurrency)
  const hosts = new Map<string, { readonly semaphore: Semaphore.Semaphore; next: number }>()
  const spacing = limits.perHostRate > 0 ? 1000 / limits.perHostRate : 0
  const host = (address: string) => {
    let h = hosts.get(address)
    if (h === undefined) {
      h = { semaphore: Semaphore.makeUnsafe(limits.perHost), next: 0 }
      hosts.set(address, h)
    }
    return h
  }
  // Wait for the address's next free slot in time, then claim the one after it.
  const pace = (h: { next: number }) =>
    Effect.gen(function* () {
      if (spacing === 0) return
      const now = yield* Clock.currentTimeMillis
      const at = Math.max(now, h.next)
      h.next = at + spacing
      if (at > now) yield* Effect.sleep(at - now)
    })
  const withPermit: Shape["withPermit"] = (address) => (effect) => {
    const h = host(address)
    // The host's permit first: a fiber waiting for a busy host must not hold a global permit.
    return pace(h).pipe(Effect.andThen(effect), global.withPermits(1), h.semaphore.withPermits(1))
  }
  return HostPermits.of({ withPermit })
})

/**
 * In-memory permits with the limits of the `VerifierConfig` in context.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerMemory: Layer.Layer<HostPermits, never, VerifierConfig.Service> = Layer.effect(
  HostPermits,
  Effect.flatMap(VerifierConfig.Service, (config) => makeMemory(config))
)
