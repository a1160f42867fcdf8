/**
 * A pool of local source addresses to send from, each with the EHLO name that matches it, chosen
 * per connection by a selection policy, with a limit of simultaneous connections per address.
 *
 * A verifier's (and a sender's) reputation is its IP address: a receiving MTA checks that the
 * EHLO name and the connecting address agree (FCrDNS), so each source carries its own name, given
 * or taken from its PTR record. The selection is a plain function users can replace; three are
 * named: `roundRobin`, `sticky` (the same MX host always gets the same address) and `weighted`
 * (smooth weighted round robin: shares by weight, interleaved).
 *
 * When the chosen address is at its limit the next one with room is taken (the limit wins over
 * stickiness); when all are, the connection waits for a slot.
 *
 * @since 0.1.0
 */
import { Effect, Option } from "effect"
import type { Scope } from "effect"

/**
 * A local address to send from.
 *
 * @category models
 * @since 0.1.0
 */
export interface Source {
  /** An address of this host (IPv4 or IPv6). */
  readonly address: string
  /** The EHLO name for connections from this address; its PTR name when absent. */
  readonly helo?: string | undefined
  /** Its share under `weighted` selection (a whole number, default 1). */
  readonly weight?: number | undefined
  /** At most this many simultaneous connections from this address; no limit when absent. */
  readonly maxConnections?: number | undefined
}

/**
 * What a connection got: the address to bind, and the EHLO name that goes with it (if known).
 *
 * @category models
 * @since 0.1.0
 */
export interface Chosen {
  readonly address: string
  readonly helo: Option.Option<string>
}

/**
 * Picks a source: its index in `sources`, given the MX host dialled and the pool's turn counter
 * (0, 1, 2, ... one per connection).
 *
 * @category policies
 * @since 0.1.0
 */
export type Selection = (
  sources: ReadonlyArray<Source>,
  request: { readonly mxHost: string; readonly turn: number }
) => number

/**
 * Each address in turn.
 *
 * @category policies
 * @since 0.1.0
 */
export const roundRobin: Selection = (sources, { turn }) => turn % sources.length

/** FNV-1a, 32 bits: a stable spread of host names over the pool. */
const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}

/**
 * The same address for the same MX host (case-insensitive), every time: a server that learns to
 * trust an address keeps seeing it.
 *
 * @category policies
 * @since 0.1.0
 */
export const sticky: Selection = (sources, { mxHost }) =>
  fnv1a(mxHost.toLowerCase().replace(/\.$/, "")) % sources.length

/**
 * One cycle of smooth weighted round robin (as nginx does it): each address appears `weight`
 * times, spread out rather than in runs.
 *
 * @category policies
 * @since 0.1.0
 */
export const weightedCycle = (weights: ReadonlyArray<number>): ReadonlyArray<number> => {
  const total = weights.reduce((a, b) => a + b, 0)
  const current = weights.map(() => 0)
  const cycle: Array<number> = []
  for (let n = 0; n < total; n++) {
    let best = 0
    for (let i = 0; i < weights.length; i++) {
      current[i]! += weights[i]!
      if (current[i]! > current[best]!) best = i
    }
    current[best]! -= total
    cycle.push(best)
  }
  return cycle
}

const cycles = new WeakMap<ReadonlyArray<Source>, ReadonlyArray<number>>()

/**
 * Addresses in proportion to their weights, interleaved.
 *
 * @category policies
 * @since 0.1.0
 */
export const weighted: Selection = (sources, { turn }) => {
  let cycle = cycles.get(sources)
  if (cycle === undefined) {
    cycle = weightedCycle(sources.map((s) => s.weight ?? 1))
    cycles.set(sources, cycle)
  }
  return cycle.length === 0 ? 0 : cycle[turn % cycle.length]!
}

/**
 * The selections by the names a routing file uses.
 *
 * @category policies
 * @since 0.1.0
 */
export const selections = { "round-robin": roundRobin, sticky, weighted } as const

/**
 * @category models
 * @since 0.1.0
 */
export type SelectionName = keyof typeof selections

/**
 * A running pool.
 *
 * @category models
 * @since 0.1.0
 */
export interface SourcePool {
  readonly sources: ReadonlyArray<Source>
  /** A source for one connection to `mxHost`, held until the scope closes; None for an empty pool. */
  readonly acquire: (mxHost: string) => Effect.Effect<Option.Option<Chosen>, never, Scope.Scope>
  /** Connections open now, per address. */
  readonly inUse: Effect.Effect<Record<string, number>>
}

/**
 * A source address that is not valid.
 *
 * @category errors
 * @since 0.1.0
 */
export const validate = (source: Source): string | undefined => {
  if (!/^[\d.]+$|^[\da-f:.]+$/i.test(source.address) || !source.address.match(/[.:]/)) {
    return `source address "${source.address}" is not an IP address`
  }
  if (source.weight !== undefined && (!Number.isInteger(source.weight) || source.weight < 1 || source.weight > 1000)) {
    return `weight of ${source.address} must be a whole number from 1 to 1000`
  }
  if (source.maxConnections !== undefined && (!Number.isInteger(source.maxConnections) || source.maxConnections < 1)) {
    return `maxConnections of ${source.address} must be a whole number of at least 1`
  }
  return undefined
}

/**
 * A pool over `sources`, choosing with `selection`. Sources without an EHLO name get their PTR
 * name through `reverse` (looked up once, here); None leaves the caller's default EHLO name.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  sources: ReadonlyArray<Source>,
  options: {
    readonly selection?: Selection | undefined
    readonly reverse?: ((address: string) => Effect.Effect<Option.Option<string>>) | undefined
  } = {}
): Effect.Effect<SourcePool> =>
  Effect.gen(function* () {
    const selection = options.selection ?? roundRobin
    const named: Array<Source> = []
    for (const source of sources) {
      const helo =
        source.helo ??
        (options.reverse === undefined ? undefined : Option.getOrUndefined(yield* options.reverse(source.address)))
      named.push({ ...source, helo })
    }
    const open = named.map(() => 0)
    const waiters = new Set<() => void>()
    let turn = 0

    /** Takes a slot if one is free, in order from the selection's choice. */
    const tryTake = (mxHost: string): number | undefined => {
      const first = selection(named, { mxHost, turn })
      for (let k = 0; k < named.length; k++) {
        const i = (first + k) % named.length
        const limit = named[i]!.maxConnections ?? Infinity
        if (open[i]! < limit) {
          open[i]!++
          turn++
          return i
        }
      }
      return undefined
    }
    const release = (i: number) =>
      Effect.sync(() => {
        open[i]!--
        const all = [...waiters]
        waiters.clear()
        for (const wake of all) wake()
      })
    const slot = (mxHost: string): Effect.Effect<number> =>
      Effect.suspend(() => {
        const i = tryTake(mxHost)
        if (i !== undefined) return Effect.succeed(i)
        return Effect.flatMap(
          Effect.callback<void>((resume) => {
            const wake = () => resume(Effect.void)
            waiters.add(wake)
            return Effect.sync(() => {
              waiters.delete(wake)
            })
          }),
          () => slot(mxHost)
        )
      })

    return {
      sources: named,
      acquire: (mxHost) =>
        named.length === 0
          ? Effect.succeedNone
          : Effect.acquireRelease(slot(mxHost), release).pipe(
              Effect.map((i) => Option.some({ address: named[i]!.address, helo: Option.fromNullishOr(named[i]!.helo) }))
            ),
      inUse: Effect.sync(() => Object.fromEntries(named.map((s, i) => [s.address, open[i]!])))
    }
  })
