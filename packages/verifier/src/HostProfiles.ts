/**
 * The host profiles of a run (see `HostProfile`), as a service: which values the next session to
 * an MX address runs with, and what each session showed. One session per address at a time tries
 * wider values (the others keep the safe ones), so a host's limits are met by one session at
 * most, not by all of them at once.
 *
 * The in-memory layer keeps one process's profiles for the life of the layer (a bulk run); a job
 * store or cluster sharing hosts between processes provides its own.
 *
 * @since 0.2.0
 */
import { Context, Effect, Layer } from "effect"
import * as HostProfile from "./HostProfile.ts"
import * as Lru from "./internal/lru.ts"

/**
 * The values one session runs with; `trying` when they are wider than the safe ones.
 *
 * @category models
 * @since 0.2.0
 */
export interface Lease {
  readonly profile: HostProfile.HostProfile
  readonly safe: HostProfile.HostProfile
  readonly trying: boolean
  /**
   * For a trying session, while it runs: what it has shown so far, with no sign of a limit yet
   * (`completed` as if it had ended there). The safe values may widen that far at once, so that
   * sessions starting meanwhile (the host's other connections) need not wait for its end. Its
   * report at the end still decides: a sign after this narrows what this widened. Absent: the
   * shape learns at the end only.
   */
  readonly advance?: ((observation: HostProfile.Observation) => void) | undefined
}

/**
 * @category models
 * @since 0.2.0
 */
export interface Shape {
  /** The values for the next session to `address` (an IP), learning by `shaping`, starting from `start`. */
  readonly lease: (address: string, shaping: HostProfile.Shaping, start: HostProfile.Start) => Effect.Effect<Lease>
  /**
   * What the session run with `lease` showed (none: it never got to talk); returns the profile
   * now in force and whether it changed.
   */
  readonly report: (
    address: string,
    lease: Lease,
    shaping: HostProfile.Shaping,
    observation: HostProfile.Observation | undefined
  ) => Effect.Effect<{ readonly profile: HostProfile.HostProfile; readonly changed: boolean }>
  /** The safe values for `address` now (its starting values if nothing was learnt yet). */
  readonly current: (
    address: string,
    shaping: HostProfile.Shaping,
    start: HostProfile.Start
  ) => Effect.Effect<HostProfile.HostProfile>
  /** Every profile learnt so far, by address. */
  readonly all: Effect.Effect<ReadonlyArray<readonly [string, HostProfile.HostProfile]>>
}

/**
 * @category services
 * @since 0.2.0
 */
export class HostProfiles extends Context.Service<HostProfiles, Shape>()("@rcpt/verifier/HostProfiles") {}

/**
 * Addresses the in-memory layer remembers; past this the least recently used one with no session
 * running on its values is forgotten.
 *
 * @category constants
 * @since 0.2.0
 */
export const memoryCapacity = 10_000

/**
 * Profiles held in this process's memory, at most `capacity` addresses (see {@link memoryCapacity}).
 * An address with a session running on a lease is never forgotten (its trial would be lost and a
 * second one could start); while all are leased the table grows past `capacity`.
 *
 * @category constructors
 * @since 0.3.0
 */
export const makeBounded = (capacity: number): Effect.Effect<Shape> =>
  Effect.sync(() => {
    interface Host {
      safe: HostProfile.HostProfile
      trying: boolean
      /** Sessions running on a lease of this address, not reported yet. */
      leases: number
    }
    const hosts = Lru.make<Host>(capacity, (h) => h.leases === 0)
    return HostProfiles.of({
      lease: (address, shaping, start) =>
        Effect.sync(() => {
          const h = hosts.use(address, () => ({ safe: shaping.initial(start), trying: false, leases: 0 }))
          h.leases++
          if (h.trying || HostProfile.isSettled(h.safe, shaping))
            return { profile: h.safe, safe: h.safe, trying: false }
          h.trying = true
          const tried = shaping.widen(h.safe)
          return {
            profile: tried,
            safe: h.safe,
            trying: true,
            advance: (observation) => {
              h.safe = shaping.learn(h.safe, tried, observation)
            }
          }
        }),
      report: (address, lease, shaping, observation) =>
        Effect.sync(() => {
          const h = hosts.peek(address)
          if (h === undefined) return { profile: lease.safe, changed: false }
          h.leases = Math.max(0, h.leases - 1)
          if (lease.trying) h.trying = false
          if (observation === undefined) return { profile: h.safe, changed: false }
          const before = h.safe
          h.safe = shaping.learn(h.safe, lease.profile, observation)
          return { profile: h.safe, changed: HostProfile.describe(before) !== HostProfile.describe(h.safe) }
        }),
      current: (address, shaping, start) => Effect.sync(() => hosts.peek(address)?.safe ?? shaping.initial(start)),
      all: Effect.sync(() => Array.from(hosts.entries(), ([address, h]) => [address, h.safe] as const))
    })
  })

/**
 * Profiles held in this process's memory, at most {@link memoryCapacity} addresses.
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeMemory: Effect.Effect<Shape> = makeBounded(memoryCapacity)

/**
 * @category layers
 * @since 0.2.0
 */
export const layerMemory: Layer.Layer<HostProfiles> = Layer.effect(HostProfiles, makeMemory)
