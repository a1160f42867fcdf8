/**
 * Persistent sequences for the session machines' growing state (the transcript, recipients'
 * replies, commands awaiting replies), so that a step costs the same whatever the session's
 * length. A session of thousands of recipients used to copy its whole transcript and recipient
 * list on every reply: quadratic in the recipients per session.
 *
 * `Log` is append-only. Each value is a length over a shared buffer: appending to the newest
 * value pushes onto the buffer in place (amortised O(1)); appending to an older one copies its
 * part first, so no value ever sees another's elements and every value stays what it was (the
 * machines remain pure functions of their inputs). Effect's `Chunk` is persistent too, but its
 * `append` builds a balanced concatenation tree: O(log n) and two objects per element, where a
 * session only ever appends at its newest state.
 *
 * `Queue` is a `Log` read from a moving head: first in, first out, each operation O(1) but
 * `take` (O(taken)).
 *
 * @internal
 */

/** @internal */
export interface Log<A> {
  readonly length: number
  /** Shared with later logs of the same line; only the first `length` elements are this log's. */
  readonly buffer: Array<A>
}

/** @internal */
export const empty = <A>(): Log<A> => ({ length: 0, buffer: [] })

/** The buffer of every counting log: never pushed onto. */
const uncounted: Array<never> = []

/**
 * A log that keeps only how many items went in (`length`), not the items: appending costs a
 * count, `toArray` is empty. For a transcript nobody will read (a bulk run without
 * `--transcript`), whose length still measures progress. @internal
 */
export const counting = <A>(): Log<A> => ({ length: 0, buffer: uncounted })

/** Whether the log keeps its items (see {@link counting}). @internal */
export const keeps = <A>(log: Log<A>): boolean => log.buffer !== uncounted

/** A counting log with `n` more items counted (for a log that {@link keeps} its items: `appendAll`). @internal */
export const count = <A>(log: Log<A>, n: number): Log<A> => ({ length: log.length + n, buffer: log.buffer })

/** @internal */
export const fromArray = <A>(items: ReadonlyArray<A>): Log<A> => ({ length: items.length, buffer: items.slice() })

/** The buffer to push onto: the shared one when this log is its newest, else a copy of its part. */
const own = <A>(log: Log<A>): Array<A> =>
  log.buffer.length === log.length ? log.buffer : log.buffer.slice(0, log.length)

/** @internal */
export const append = <A>(log: Log<A>, item: A): Log<A> => {
  if (log.buffer === uncounted) return { length: log.length + 1, buffer: log.buffer }
  const buffer = own(log)
  buffer.push(item)
  return { length: log.length + 1, buffer }
}

/** @internal */
export const appendAll = <A>(log: Log<A>, items: ReadonlyArray<A>): Log<A> => {
  if (items.length === 0) return log
  if (log.buffer === uncounted) return { length: log.length + items.length, buffer: log.buffer }
  const buffer = own(log)
  for (let i = 0; i < items.length; i++) buffer.push(items[i]!)
  return { length: log.length + items.length, buffer }
}

/** @internal */
export const get = <A>(log: Log<A>, index: number): A | undefined =>
  index >= 0 && index < log.length ? log.buffer[index] : undefined

/** A copy: later appends never show in it. O(n). @internal */
export const toArray = <A>(log: Log<A>): Array<A> => log.buffer.slice(0, log.length)

/** @internal */
export interface Queue<A> {
  readonly items: Log<A>
  /** Index in `items` of the first element still queued. */
  readonly head: number
}

/** @internal */
export const emptyQueue = <A>(): Queue<A> => ({ items: empty(), head: 0 })

/** @internal */
export const queueOf = <A>(items: ReadonlyArray<A>): Queue<A> => ({ items: fromArray(items), head: 0 })

/** @internal */
export const size = <A>(queue: Queue<A>): number => queue.items.length - queue.head

/** @internal */
export const peek = <A>(queue: Queue<A>): A | undefined => get(queue.items, queue.head)

/** @internal */
export const push = <A>(queue: Queue<A>, items: ReadonlyArray<A>): Queue<A> => {
  // Emptied: start a new buffer, so a long session does not keep every element it ever queued.
  const base = size(queue) === 0 && queue.head > 0 ? emptyQueue<A>() : queue
  return { items: appendAll(base.items, items), head: base.head }
}

/** The queue without its first element (the same queue when empty). @internal */
export const drop = <A>(queue: Queue<A>): Queue<A> =>
  size(queue) === 0 ? queue : { items: queue.items, head: queue.head + 1 }

/** Up to `n` elements from the front, and the queue without them. @internal */
export const take = <A>(queue: Queue<A>, n: number): readonly [ReadonlyArray<A>, Queue<A>] => {
  const end = Math.min(queue.items.length, queue.head + Math.max(0, n))
  return [queue.items.buffer.slice(queue.head, end), { items: queue.items, head: end }]
}

/** The elements still queued, in order. O(n). @internal */
export const queued = <A>(queue: Queue<A>): Array<A> => queue.items.buffer.slice(queue.head, queue.items.length)
