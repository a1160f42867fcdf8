/**
 * Politeness: a global limit on open connections, a limit per MX address, and an optional
 * spacing between connections opened to the same address.
 *
 * @internal
 */
import { Clock, Effect, Semaphore } from "effect"

export interface Permits {
  readonly permit: (address: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

export const make = (options: {
  readonly concurrency: number
  readonly perHost: number
  readonly perHostRate: number
}) =>
  Effect.gen(function* () {
    const global = yield* Semaphore.make(options.concurrency)
    const hosts = new Map<string, { readonly semaphore: Semaphore.Semaphore; next: number }>()
    const spacing = options.perHostRate > 0 ? 1000 / options.perHostRate : 0
    const host = (address: string) => {
      let h = hosts.get(address)
      if (h === undefined) {
        h = { semaphore: Semaphore.makeUnsafe(options.perHost), next: 0 }
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
    const permit: Permits["permit"] = (address) => (effect) => {
      const h = host(address)
      // The host's permit first: a fiber waiting for a busy host must not hold a global permit.
      return pace(h).pipe(Effect.andThen(effect), global.withPermits(1), h.semaphore.withPermits(1))
    }
    return { permit } satisfies Permits
  })
