/**
 * The bulk engine: a stream of addresses in, a stream of verifications out, in constant memory.
 *
 * Addresses are grouped by domain inside a bounded window (unsorted input never forces the whole
 * list into memory): a group is checked as soon as it has a session's worth of recipients, or
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
  /** Answers for every item now; the greylisted ones (`pending`) again from `later`. */
  readonly verifyDomain: (
    domain: Address.Domain,
    items: ReadonlyArray<{ readonly input: string; readonly mailbox: Address.Mailbox }>
  ) => Effect.Effect<{
    readonly now: ReadonlyArray<Verification>
    readonly pending: ReadonlyArray<number>
    readonly later: Effect.Effect<ReadonlyArray<readonly [number, Verification]>>
  }>
  readonly syntaxError: (input: string, error: Address.AddressError) => Effect.Effect<Verification>
}

interface Group {
  readonly domain: Address.Domain
  readonly items: Array<{ readonly input: string; readonly mailbox: Address.Mailbox }>
}

// Results kept to answer later duplicates without asking again. Each holds its transcript (a few
// KiB), so this, more than the window, sets the engine's memory: 50,000 cost ~250 MB.
const DONE_CACHE = 5_000

const domainKey = (domain: Address.Domain) => (domain._tag === "DomainName" ? domain.ascii : domain.text)

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
              const staged = yield* options.verifyDomain(group.domain, group.items).pipe(slots.withPermits(1))
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

        yield* Stream.runForEach(input, (raw) =>
          Effect.gen(function* () {
            yield* permits.take(1)
            const parsed = Address.parse(raw)
            if (parsed._tag === "Failure") return yield* emit(yield* options.syntaxError(raw, parsed.failure))
            const mailbox = parsed.success
            const key = mailbox.address
            const known = done.get(key)
            if (known !== undefined) return yield* emit(new Verification({ ...known, address: raw }))
            const wait = waiting.get(key)
            if (wait !== undefined) {
              wait.push(raw)
              return
            }
            waiting.set(key, [])
            const dk = domainKey(mailbox.domain)
            const group = groups.get(dk) ?? { domain: mailbox.domain, items: [] }
            group.items.push({ input: raw, mailbox })
            groups.set(dk, group)
            grouped++
            if (group.items.length >= options.batch) yield* dispatch(dk)
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
