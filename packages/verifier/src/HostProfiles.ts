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
 * Addresses the in-memory layer remembers; the oldest is forgotten past this.
 *
 * @category constants
 * @since 0.2.0
 */
export const memoryCapacity = 10_000

/**
 * Profiles held in this process's memory.
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeMemory = Effect.sync(() => {
  const hosts = new Map<string, { safe: HostProfile.HostProfile; trying: boolean }>()
  const entry = (address: string, shaping: HostProfile.Shaping, start: HostProfile.Start) => {
    let h = hosts.get(address)
    if (h === undefined) {
      if (hosts.size >= memoryCapacity) hosts.delete(hosts.keys().next().value!)
      h = { safe: shaping.initial(start), trying: false }
      hosts.set(address, h)
    }
    return h
  }
  return HostProfiles.of({
    lease: (address, shaping, start) =>
      Effect.sync(() => {
        const h = entry(address, shaping, start)
        if (h.trying || HostProfile.isSettled(h.safe, shaping)) return { profile: h.safe, safe: h.safe, trying: false }
        h.trying = true
        return { profile: shaping.widen(h.safe), safe: h.safe, trying: true }
      }),
    report: (address, lease, shaping, observation) =>
      Effect.sync(() => {
        const h = hosts.get(address)
        if (h === undefined) return { profile: lease.safe, changed: false }
        if (lease.trying) h.trying = false
        if (observation === undefined) return { profile: h.safe, changed: false }
        const before = h.safe
        h.safe = shaping.learn(h.safe, lease.profile, observation)
        return { profile: h.safe, changed: HostProfile.describe(before) !== HostProfile.describe(h.safe) }
      }),
    current: (address, shaping, start) => Effect.sync(() => hosts.get(address)?.safe ?? shaping.initial(start)),
    all: Effect.sync(() => Array.from(hosts, ([address, h]) => [address, h.safe] as const))
  })
})

/**
 * @category layers
 * @since 0.2.0
 */
export const layerMemory: Layer.Layer<HostProfiles> = Layer.effect(HostProfiles, makeMemory)
