/**
 * A map with a capacity that forgets the least recently used entry that is idle: the per-address
 * state of `HostPermits` and `HostProfiles`, which a long run over many domains would otherwise
 * grow by one entry per MX address it ever met. An entry in use (a held permit, a session's
 * lease) is never forgotten: while every entry is busy the map grows past its capacity, which the
 * connections open at once bound.
 *
 * @internal
 */

/** @internal */
export interface Lru<V> {
  /** The entry of `key`, now the most recently used; created by `make` when absent. */
  readonly use: (key: string, make: () => V) => V
  /** The entry of `key`, if any, leaving the order as it is. */
  readonly peek: (key: string) => V | undefined
  readonly size: () => number
  readonly entries: () => IterableIterator<[string, V]>
}

/** @internal */
export const make = <V>(capacity: number, idle: (value: V) => boolean): Lru<V> => {
  const map = new Map<string, V>()
  const bound = Math.max(1, capacity)
  // Oldest first (a Map keeps insertion order; a use moves the key to the end).
  const evict = () => {
    for (const [key, value] of map) {
      if (map.size < bound) return
      if (idle(value)) map.delete(key)
    }
  }
  return {
    use: (key, create) => {
      let value = map.get(key)
      if (value === undefined) {
        evict()
        value = create()
      } else map.delete(key)
      map.set(key, value)
      return value
    },
    peek: (key) => map.get(key),
    size: () => map.size,
    entries: () => map.entries()
  }
}
