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
import * as Lru from "./internal/lru.ts"

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
 * MX addresses whose permits the in-memory layer keeps by default; past this the least recently
 * used idle one is forgotten (see {@link makeMemory}).
 *
 * @category constants
 * @since 0.3.0
 */
export const defaultCapacity = 10_000

/**
 * Permits held in this process's memory, one entry per MX address, at most `capacity` of them
 * (default {@link defaultCapacity}): past it the least recently used entry that is idle (no permit
 * held or awaited, its rate spacing passed) is forgotten. One in use never is, so per-address
 * limits hold whatever the run's length; while all are in use the table grows past `capacity`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeMemory = Effect.fn("HostPermits.makeMemory")(function* (
  limits: Limits,
  capacity: number = defaultCapacity
) {
  const global = yield* Semaphore.make(limits.concurrency)
  const spacing = limits.perHostRate > 0 ? 1000 / limits.perHostRate : 0
  // Fibers holding or awaiting the address's permit; `next`, its next free slot in time.
  interface Host {
    readonly semaphore: Semaphore.Semaphore
    next: number
    users: number
  }
  // The clock when an entry was last asked for: an idle entry is one whose spacing has passed by then.
  let asked = 0
  const hosts = Lru.make<Host>(capacity, (h) => h.users === 0 && h.next <= asked)
  // Wait for the address's next free slot in time, then claim the one after it.
  const pace = (h: Host) =>
    Effect.gen(function* () {
      if (spacing === 0) return
      const now = yield* Clock.currentTimeMillis
      const at = Math.max(now, h.next)
      h.next = at + spacing
      if (at > now) yield* Effect.sleep(at - now)
    })
  const enter = (address: string) =>
    Effect.map(Clock.currentTimeMillis, (millis) => {
      asked = millis
      const h = hosts.use(address, () => ({ semaphore: Semaphore.makeUnsafe(limits.perHost), next: 0, users: 0 }))
      h.users++
      return h
    })
  const withPermit: Shape["withPermit"] = (address) => (effect) =>
    Effect.acquireUseRelease(
      enter(address),
      // The host's permit first: a fiber waiting for a busy host must not hold a global permit.
      (h) => pace(h).pipe(Effect.andThen(effect), global.withPermits(1), h.semaphore.withPermits(1)),
      (h) =>
        Effect.sync(() => {
          h.users--
        })
    )
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
