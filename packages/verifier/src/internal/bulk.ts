/**
 * The bulk engine: a stream of addresses in, a stream of verifications out, in constant memory.
 *
 * Addresses are grouped by MX plan inside a bounded window (unsorted input never forces the whole
 * list into memory): domains whose MX hosts are the same (Google Workspace, Microsoft 365, a
 * hosting provider) share a group, hence sessions; a domain without hosts (null MX, NXDOMAIN, DNS
 * failure) is a group of its own. The plan is looked up (cached) as an address is read, several
 * lookups at once, in input order. A group is checked as soon as it has a session's worth of recipients, or
 * when the window is half full (the largest group goes), or at the end of the input. Each input
 * holds one window permit from the moment it is read until its result is out, so the reader
 * never runs further ahead than the window. Duplicates are verified once: while the first is
 * pending they wait for its result; after it, a bounded cache answers them.
 *
 * @internal
 */
import { Effect, FiberSet, Queue, Semaphore, Stream } from "effect"
import { Address } from "@rcpt/smtp"
import { Verification } from "../Verification.ts"

export interface BulkOptions {
  readonly window: number
  readonly groups: number
  readonly batch: number
  /** The group an address of this domain belongs to: equal keys share sessions. */
  readonly planKey: (domain: Address.Domain) => Effect.Effect<string>
  /** Answers for every item now; the greylisted ones (`pending`) again from `later`. */
  readonly verifyGroup: (items: ReadonlyArray<Item>) => Effect.Effect<{
    readonly now: ReadonlyArray<Verification>
    readonly pending: ReadonlyArray<number>
    readonly later: Effect.Effect<ReadonlyArray<readonly [number, Verification]>>
  }>
  readonly syntaxError: (input: string, error: Address.AddressError) => Effect.Effect<Verification>
}

interface Item {
  readonly input: string
  readonly mailbox: Address.Mailbox
}

interface Group {
  readonly items: Array<Item>
}

// Results kept to answer later duplicates without asking again. Each holds its transcript (a few
// KiB), so this, more than the window, sets the engine's memory: 50,000 cost ~250 MB.
const DONE_CACHE = 5_000

export const verifyMany = <E, R>(
  input: Stream.Stream<string, E, R>,
  options: BulkOptions
): Stream.Stream<Verification, E, R> =>
  Stream.callback<Verification, E, R>(
    (queue) =>
      Effect.gen(function* () {
        const window = Math.max(1, options.window)
        const permits = yield* Semaphore.make(window)
        const slots = yield* Semaphore.make(Math.max(1, options.groups))
        const fibers = yield* FiberSet.make()
        const groups = new Map<string, Group>()
        let grouped = 0
        // Inputs waiting for the result of an identical address already on its way.
        const waiting = new Map<string, Array<string>>()
        const done = new Map<string, Verification>()

        const emit = (v: Verification) => Queue.offer(queue, v).pipe(Effect.andThen(permits.release(1)))

        const settle = (key: string, v: Verification) =>
          Effect.gen(function* () {
            yield* emit(v)
            for (const other of waiting.get(key) ?? []) yield* emit(new Verification({ ...v, address: other }))
            waiting.delete(key)
            if (done.size >= DONE_CACHE) done.delete(done.keys().next().value!)
            done.set(key, v)
          })

        const dispatch = (key: string) =>
          Effect.gen(function* () {
            const group = groups.get(key)
            if (group === undefined) return
            groups.delete(key)
            grouped -= group.items.length
            const settleAt = (i: number, v: Verification) => settle(group.items[i]!.mailbox.address, v)
            const work = Effect.gen(function* () {
              const staged = yield* options.verifyGroup(group.items).pipe(slots.withPermits(1))
              const waiting = new Set(staged.pending)
              yield* Effect.forEach(staged.now, (v, i) => (waiting.has(i) ? Effect.void : settleAt(i, v)), {
                discard: true
              })
              // Greylisted addresses wait outside the group slots: the rest of the run goes on.
              if (waiting.size > 0) {
                yield* FiberSet.run(
                  fibers,
                  staged.later.pipe(
                    Effect.flatMap((later) => Effect.forEach(later, ([i, v]) => settleAt(i, v), { discard: true }))
                  )
                )
              }
            })
            yield* FiberSet.run(fibers, work)
          })

        const largest = () => {
          let best: string | undefined
          let size = 0
          for (const [k, g] of groups) {
            if (g.items.length > size) {
              best = k
              size = g.items.length
            }
          }
          return best
        }

        // Syntax and duplicates first, in order; then the plan lookups, a few at once (DNS is slow,
        // the reader should not wait on one domain at a time); then grouping, in order again.
        const fresh = Stream.mapEffect(input, (raw) =>
          Effect.gen(function* () {
            yield* permits.take(1)
            const parsed = Address.parse(raw)
            if (parsed._tag === "Failure") {
              yield* emit(yield* options.syntaxError(raw, parsed.failure))
              return undefined
            }
            const mailbox = parsed.success
            const key = mailbox.address
            const known = done.get(key)
            if (known !== undefined) {
              yield* emit(new Verification({ ...known, address: raw }))
              return undefined
            }
            const wait = waiting.get(key)
            if (wait !== undefined) {
              wait.push(raw)
              return undefined
            }
            waiting.set(key, [])
            return { input: raw, mailbox }
          })
        ).pipe(
          Stream.filter((item): item is Item => item !== undefined),
          Stream.mapEffect((item) => Effect.map(options.planKey(item.mailbox.domain), (key) => ({ item, key })), {
            concurrency: Math.max(1, options.groups)
          })
        )
        yield* Stream.runForEach(fresh, ({ item, key }) =>
          Effect.gen(function* () {
            const group = groups.get(key) ?? { items: [] }
            group.items.push(item)
            groups.set(key, group)
            grouped++
            if (group.items.length >= options.batch) yield* dispatch(key)
            // Half the window waiting in groups: send the largest, so reading never stalls for long.
            while (grouped >= Math.max(1, Math.floor(window / 2))) yield* dispatch(largest()!)
          })
        )
        for (const key of Array.from(groups.keys())) yield* dispatch(key)
        yield* FiberSet.awaitEmpty(fibers)
        yield* Queue.end(queue)
      }),
    // A bounded output: a slow consumer holds the results back, and through them the window, the reader.
    { bufferSize: 1024, strategy: "suspend" }
  )
