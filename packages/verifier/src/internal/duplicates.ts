/**
 * Duplicates in a bulk stream: each address is verified once. While its first input is pending,
 * later inputs of the same address wait for its result; after it, a bounded cache of recent
 * results answers them. Plain bookkeeping, no Effect: the engine calls it per address.
 *
 * @internal
 */

/**
 * The inputs of a stream by address (the parsed mailbox's text), `V` a result; `copy` gives a
 * result for another input of the same address.
 */
export class Duplicates<V> {
  // Pending addresses, with the inputs waiting for them (null: none yet, so no array is made).
  readonly #waiting = new Map<string, Array<string> | null>()
  readonly #done = new Map<string, V>()
  // The keys of #done, oldest first from #oldest, as a ring: deleting a Map's first key through
  // keys().next() walks past every entry deleted before it (V8 keeps them until it rehashes),
  // which made settling cost about as much as building the result.
  readonly #order: Array<string> = []
  #oldest = 0
  readonly #capacity: number
  readonly #copy: (v: V, input: string) => V

  constructor(capacity: number, copy: (v: V, input: string) => V) {
    this.#capacity = capacity
    this.#copy = copy
  }

  /**
   * `input`, of address `key`, was read. True: it is the first, verify it. False: it is answered,
   * into `out` now (a recent result) or by {@link settle} later (its first is pending).
   */
  claim(key: string, input: string, out: Array<V>): boolean {
    const known = this.#done.get(key)
    if (known !== undefined) {
      out.push(this.#copy(known, input))
      return false
    }
    if (this.#waiting.has(key)) {
      const others = this.#waiting.get(key)
      if (others === null || others === undefined) this.#waiting.set(key, [input])
      else others.push(input)
      return false
    }
    this.#waiting.set(key, null)
    return true
  }

  /** The result of the first input of `key`: it and one for each input waiting, into `out`. */
  settle(key: string, v: V, out: Array<V>): void {
    out.push(v)
    const others = this.#waiting.get(key)
    if (others !== null && others !== undefined) for (const other of others) out.push(this.#copy(v, other))
    this.#waiting.delete(key)
    // A key is settled only while it is not kept (claim answers it from #done otherwise).
    if (this.#done.has(key)) return void this.#done.set(key, v)
    if (this.#capacity < 1) return
    if (this.#order.length < this.#capacity) this.#order.push(key)
    else {
      // The oldest result goes first.
      this.#done.delete(this.#order[this.#oldest]!)
      this.#order[this.#oldest] = key
      this.#oldest = (this.#oldest + 1) % this.#capacity
    }
    this.#done.set(key, v)
  }

  /** Addresses pending, and results kept (for tests and bounds). */
  get sizes(): { readonly pending: number; readonly done: number } {
    return { pending: this.#waiting.size, done: this.#done.size }
  }
}
