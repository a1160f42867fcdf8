/**
 * The bulk engine, in public pieces that every front end calls: the CLI and the HTTP API
 * through `Verifier.verifyMany`, a job store through {@link stream}, a cluster entity per MX
 * host through {@link groupKey} and {@link verifyGroup}.
 *
 * - {@link groupKey}: domains whose MX hosts are the same (Google Workspace, Microsoft 365, a
 *   hosting provider) share a key, hence a group and its sessions; a domain without hosts (null
 *   MX, NXDOMAIN, DNS failure) is a group of its own.
 * - {@link verifyGroup}: one group, given its plan: shared sessions, one catch-all probe per
 *   domain not known yet, answers now and the greylisted ones' answers later.
 * - {@link stream}: a stream of addresses in, a stream of verifications out, in constant memory.
 *   Addresses are grouped inside a bounded window (unsorted input never forces the whole list
 *   into memory). A group is checked as soon as it has a session's worth of recipients (with
 *   every other entry of its key read in the same chunk) and no
 *   group of its key is being checked (then it gathers, and goes when that one ends), or when
 *   a third of the window is gathering (the largest group goes), or when the input pauses (`Policy.inputIdle`)
 *   or ends. Each input
 *   holds one window permit from the moment it is read until its result is out, so the reader
 *   never runs further ahead than the window. Duplicates are verified once: while the first is
 *   pending they wait for its result; after it, a bounded cache answers them.
 *
 * What a run shares with others (catch-all status, MX plans, connection permits) comes from the
 * services in {@link Requirements}, so a job store or cluster can provide shared ones.
 *
 * @since 0.2.0
 */
import { Cause, Clock, Duration, Effect, FiberSet, Latch, Option, Queue, Semaphore, Stream } from "effect"
import type { SmtpTransport } from "@rcpt/client"
import { Address } from "@rcpt/smtp"
import type { CatchAllMemory } from "./CatchAllMemory.ts"
import { HostPermits } from "./HostPermits.ts"
import * as HostProfile from "./HostProfile.ts"
import { HostProfiles } from "./HostProfiles.ts"
import * as Judgement from "./Judgement.ts"
import { MxCache } from "./MxCache.ts"
import * as Policy from "./Policy.ts"
import type * as MxPlan from "./MxPlan.ts"
import { RiskSignals } from "./RiskSignals.ts"
import { Verification } from "./Verification.ts"
import * as VerifierConfig from "./VerifierConfig.ts"
import { build } from "./internal/build.ts"
import * as Check from "./internal/check.ts"
import { Duplicates } from "./internal/duplicates.ts"
import * as Group from "./internal/group.ts"
import * as Keys from "./internal/keys.ts"
import * as Lanes from "./internal/lanes.ts"
import * as Rules from "./internal/rules.ts"

/**
 * An address as given, and its parsed mailbox.
 *
 * @category models
 * @since 0.2.0
 */
export type Entry = Group.Entry

/**
 * The services a verification runs on: the transport, the config, and the shared state.
 *
 * @category models
 * @since 0.2.0
 */
export type Requirements =
  SmtpTransport.SmtpTransport | VerifierConfig.Service | MxCache | CatchAllMemory | HostPermits | HostProfiles

/**
 * A group's answers: `now` has one per entry, in order; the entries at `pending` were
 * greylisted, and `later` asks them again on the policy's schedule and gives their final
 * answers by index. Run `later` outside any group slot: it may wait minutes.
 *
 * @category models
 * @since 0.2.0
 */
export interface Staged {
  readonly now: ReadonlyArray<Verification>
  readonly pending: ReadonlyArray<number>
  readonly later: Effect.Effect<ReadonlyArray<readonly [number, Verification]>, never, Requirements>
}

/**
 * @category models
 * @since 0.2.0
 */
export interface StreamOptions {
  /** Addresses held while grouping by MX hosts; bounds memory whatever the input's order. */
  readonly window?: number | undefined
  /** Groups checked at once; `max(4, concurrency)` by default. */
  readonly groups?: number | undefined
}

/**
 * @category constants
 * @since 0.2.0
 */
export const defaults = {
  /** Addresses held in the window: enough to group a shuffled list well, small in memory. */
  window: 5_000,
  /** Results kept to answer later duplicates without asking again. Each holds its transcript
   * (a few KiB), so this, more than the window, sets the engine's memory: 50,000 cost ~250 MB. */
  doneCache: 5_000,
  /**
   * The share of the window that may wait in gathering groups; past it the largest goes. A third:
   * two groups of a host in flight hold two thirds, and the next one is read and gathered while
   * they run, so a connection that ends its session finds the next group ready (at a half, two
   * groups filled the window and a connection idled while the next was read, 100-250 ms a group).
   */
  gatheredShare: 1 / 3
} as const

/**
 * The key a domain's probe and catch-all status are filed under (see `CatchAllMemory`): the
 * wire form, case-folded.
 *
 * @category keys
 * @since 0.2.0
 */
export const domainKey: (domain: Address.Domain) => string = Keys.domainKey

/**
 * The group of a domain with this plan: equal keys share sessions. Pure.
 *
 * @category keys
 * @since 0.2.0
 */
export const groupKey: (domain: Address.Domain, plan: MxPlan.MxPlan) => string = Keys.groupKey

/**
 * The group key of a domain, its plan looked up in the `MxCache`.
 *
 * @category keys
 * @since 0.2.0
 */
export const groupKeyOf = Effect.fn("Bulk.groupKeyOf")(function* (domain: Address.Domain) {
  const cache = yield* MxCache
  return groupKey(domain, yield* cache.plan(domain))
})

/**
 * Verifies one group: entries of one or more domains that share `plan` (equal {@link groupKey}).
 * Never fails: every entry gets a verification.
 *
 * @category verifying
 * @since 0.2.0
 */
export const verifyGroup: (
  plan: MxPlan.MxPlan,
  entries: ReadonlyArray<Entry>
) => Effect.Effect<Staged, never, Requirements> = Group.verifyGroup

/**
 * Verifies one group and waits for the greylisted ones' final answers; in the entries' order.
 * The plan is the first entry's, from the `MxCache`.
 *
 * @category verifying
 * @since 0.2.0
 */
export const verifyGroupSettled = Effect.fn("Bulk.verifyGroupSettled")(function* (entries: ReadonlyArray<Entry>) {
  if (entries.length === 0) return []
  const cache = yield* MxCache
  const staged = yield* verifyGroup(yield* cache.plan(entries[0]!.mailbox.domain), entries)
  const out = [...staged.now]
  for (const [i, v] of yield* staged.later) out[i] = v
  return out
})

/**
 * The verification of an input that is not an address (or a line that could not be read):
 * undeliverable / syntax, with why. The one builder for it, whoever found the fault.
 *
 * @category constructors
 * @since 0.2.0
 */
export const syntaxFailure = Effect.fn("Bulk.syntaxFailure")(function* (input: string, detail: string) {
  const now = yield* Clock.currentTimeMillis
  return build({
    address: input,
    mailbox: undefined,
    startedAt: now,
    now,
    outcome: { verdict: "undeliverable", reason: "syntax", retryable: false },
    detail,
    implicit: false,
    catchAll: null,
    signals: yield* RiskSignals,
    judge: yield* Judgement.Judgement
  })
})

/**
 * Verifies one address, greylisting retries included.
 *
 * @category verifying
 * @since 0.2.0
 */
export const verifyOne = Effect.fn("Bulk.verifyOne")(function* (input: string) {
  yield* Effect.annotateCurrentSpan("address", input)
  const parsed = Address.parse(input)
  if (parsed._tag === "Failure") return yield* syntaxFailure(input, parsed.failure.message)
  const mailbox = parsed.success
  const ruled = yield* Rules.beforeLookup(input, mailbox)
  if (Option.isSome(ruled)) return ruled.value
  const shallow = yield* Rules.afterLookup(input, mailbox, yield* (yield* MxCache).plan(mailbox.domain))
  if (Option.isSome(shallow)) return shallow.value
  const [v] = yield* verifyGroupSettled([{ input, mailbox }])
  return v!
})

// Group keys of Hosts plans, by plan: a plan from the MxCache is one object for all its domain's
// addresses, and its key (hosts sorted and joined) need not be made again for each of them.
const hostsKeys = new WeakMap<MxPlan.MxPlan, string>()
const groupKeyCached = (domain: Address.Domain, plan: MxPlan.MxPlan): string => {
  if (plan._tag !== "Hosts") return groupKey(domain, plan)
  let key = hostsKeys.get(plan)
  if (key === undefined) {
    key = groupKey(domain, plan)
    hostsKeys.set(plan, key)
  }
  return key
}

/** Entries gathering for one group key; `need` is the size that sends them, as read at `epoch`. */
interface Gathering {
  readonly plan: MxPlan.MxPlan
  readonly entries: Array<Entry>
  need: number
  epoch: number
}

/**
 * Results in completion order, one per input (duplicates included, verified once).
 *
 * The input is taken a chunk at a time. What each address needs that is plain code (its syntax,
 * the rules, duplicates, grouping) runs in loops over the chunk; Effects run per chunk (the plan
 * lookups, once per distinct domain), per group (dispatch, the results out in one offer with their
 * window permits back) and on rare paths (syntax errors, addresses a rule answers).
 *
 * @category verifying
 * @since 0.2.0
 */
export const stream = <E, R>(
  input: Stream.Stream<string, E, R>,
  options: StreamOptions = {}
): Stream.Stream<Verification, E, R | Requirements> =>
  Stream.callback<Verification, E, R | Requirements>(
    (queue) =>
      Effect.gen(function* () {
        const config = yield* VerifierConfig.Service
        const cache = yield* MxCache
        const profiles = yield* HostProfiles
        const policy = yield* Policy.Policy
        const start = Check.startOf(config)
        const window = Math.max(1, options.window ?? defaults.window)
        const gathered = Math.max(1, Math.floor(window * defaults.gatheredShare))
        const concurrency = Math.max(1, options.groups ?? Math.max(4, config.concurrency))
        const slots = yield* Semaphore.make(concurrency)
        const fibers = yield* FiberSet.make()
        // Connections kept open between the run's sessions to an MX address (see internal/lanes.ts).
        const linger = Duration.toMillis(Duration.fromInputUnsafe(policy.keepOpen))
        const lanes = linger > 0 ? yield* Lanes.make(yield* HostPermits, { linger }) : undefined
        // The window: permits not held. An input takes one when read and gives it back when its
        // result is out; the reader waits on `freed` while none is left.
        let free = window
        const freed = Latch.makeUnsafe(false)
        const groups = new Map<string, Gathering>()
        let grouped = 0
        const duplicates = new Duplicates<Verification>(
          defaults.doneCache,
          (v, other) => new Verification({ ...v, address: other })
        )
        // Groups of a key being verified now. While one is, the key's next entries wait and
        // gather (up to the gathered-share rule): groups cut at the size known before the host's
        // profile was learnt would each run with its starting values, as small sessions.
        const inFlight = new Map<string, number>()
        // Bumped whenever other fibers may have run (a session may have reported): a gathering
        // group's `need` read before then is read again.
        let epoch = 0
        // Group fibers (a group's work, or its greylisted addresses' later answers) not ended yet.
        let running = 0
        // When the reader started waiting for the input's next chunk; undefined while it works on one.
        let awaitingSince: number | undefined = 0

        const emit = (vs: Array<Verification>): Effect.Effect<void> =>
          vs.length === 0
            ? Effect.void
            : Effect.andThen(
                Queue.offerAll(queue, vs),
                Effect.sync(() => {
                  free += vs.length
                  Latch.openUnsafe(freed)
                })
              )

        // A fiber of the set that dies (a defect: a user's policy function that throws, a bug)
        // would otherwise end silently, its addresses without a result and the stream ending as if
        // complete. It fails the stream instead: no result is lost without a word.
        const run = (work: Effect.Effect<void, never, Requirements>) =>
          Effect.suspend(() => {
            running++
            return FiberSet.run(
              fibers,
              Effect.onError(work, (cause) =>
                Cause.hasInterruptsOnly(cause) ? Effect.void : Queue.failCause(queue, cause)
              ).pipe(
                Effect.ensuring(
                  Effect.sync(() => {
                    running--
                    Latch.openUnsafe(freed)
                  })
                )
              )
            )
          })

        const dispatch = (key: string): Effect.Effect<void, never, Requirements> =>
          Effect.suspend(() => {
            const group = groups.get(key)
            if (group === undefined) return Effect.void
            groups.delete(key)
            grouped -= group.entries.length
            inFlight.set(key, (inFlight.get(key) ?? 0) + 1)
            const settle = (pairs: Iterable<readonly [number, Verification]>) => {
              const out: Array<Verification> = []
              for (const [i, v] of pairs) duplicates.settle(group.entries[i]!.mailbox.address, v, out)
              return emit(out)
            }
            const work = verifyGroup(group.plan, group.entries).pipe(
              Effect.provideService(Lanes.Current, lanes),
              slots.withPermits(1),
              Effect.ensuring(
                Effect.suspend(() => {
                  const left = (inFlight.get(key) ?? 1) - 1
                  if (left > 0) inFlight.set(key, left)
                  else inFlight.delete(key)
                  // What gathered meanwhile goes now, with the values this group learnt.
                  return left === 0 && groups.has(key) ? dispatch(key) : Effect.void
                })
              ),
              Effect.flatMap((staged) => {
                const held = new Set(staged.pending)
                // A plain loop: an entry pair per result (entries, filter) cost a few percent of the allocations.
                const out: Array<Verification> = []
                staged.now.forEach((v, i) => {
                  if (!held.has(i)) duplicates.settle(group.entries[i]!.mailbox.address, v, out)
                })
                const now = emit(out)
                if (held.size === 0) return now
                // Greylisted addresses wait outside the group slots: the rest of the run goes on.
                return Effect.andThen(now, run(staged.later.pipe(Effect.flatMap(settle))))
              })
            )
            return Effect.asVoid(run(work))
          })

        // A group goes when it can fill its first MX address's sessions side by side, as learnt so
        // far: a long list of one host gets sessions as large as the host takes once it is known.
        const needOf = (plan: MxPlan.MxPlan): Effect.Effect<number> => {
          const address = plan._tag === "Hosts" ? plan.hosts[0]?.addresses[0] : undefined
          if (address === undefined) return Effect.succeed(config.recipientsPerSession)
          return Effect.map(profiles.current(address, policy.hostShaping, start), (p) => {
            return HostProfile.sessionRecipients(p) * Math.max(1, Math.min(config.perHost, p.connections))
          })
        }

        // The groups of `keys` still gathering whose key has none in flight go now (one in flight:
        // they go when it ends, with what it learnt).
        const dispatchFree = (keys: Iterable<string>): Effect.Effect<void, never, Requirements> =>
          Effect.gen(function* () {
            for (const key of Array.from(keys)) {
              if (groups.has(key) && !inFlight.has(key)) {
                yield* dispatch(key)
                epoch++
              }
            }
          })

        const largest = () => {
          let best: string | undefined
          let size = 0
          for (const [k, g] of groups) {
            if (g.entries.length > size) {
              best = k
              size = g.entries.length
            }
          }
          return best
        }

        // Inputs [from, to) of a chunk, each holding a window permit already. Syntax, rules and
        // duplicates first, in order; then the plan of each distinct domain, a few at once (DNS is
        // slow, the reader should not wait on one domain at a time); then grouping, in order again.
        const slice = (chunk: ReadonlyArray<string>, from: number, to: number) =>
          Effect.gen(function* () {
            const answered: Array<Verification> = []
            const fresh: Array<Entry> = []
            let dnsDepth: Set<Entry> | undefined
            const domains = new Map<string, Address.Domain>()
            for (let i = from; i < to; i++) {
              const raw = chunk[i]!
              const parsed = Address.parse(raw)
              if (parsed._tag === "Failure") {
                answered.push(yield* syntaxFailure(raw, parsed.failure.message))
                continue
              }
              const mailbox = parsed.success
              const decision = Rules.decide(config, policy, mailbox)
              if (Rules.settlesBefore(decision)) {
                const ruled = yield* Rules.beforeLookup(raw, mailbox)
                if (Option.isSome(ruled)) {
                  answered.push(ruled.value)
                  continue
                }
              }
              if (!duplicates.claim(mailbox.address, raw, answered)) continue
              const entry: Entry = { input: raw, mailbox }
              fresh.push(entry)
              if (decision.depth === "dns") (dnsDepth ??= new Set()).add(entry)
              const text = Address.domainText(mailbox.domain)
              if (!domains.has(text)) domains.set(text, mailbox.domain)
            }
            yield* emit(answered)
            const plans = new Map<string, MxPlan.MxPlan>()
            const lookup = ([text, domain]: readonly [string, Address.Domain]) =>
              Effect.map(cache.plan(domain), (plan) => void plans.set(text, plan))
            if (domains.size === 1) yield* lookup(domains.entries().next().value!)
            else yield* Effect.forEach(domains, lookup, { concurrency, discard: true })
            epoch++
            const settled: Array<Verification> = []
            let ready: Set<string> | undefined
            for (let k = 0; k < fresh.length; k++) {
              const entry = fresh[k]!
              const plan = plans.get(Address.domainText(entry.mailbox.domain))!
              if (dnsDepth?.has(entry)) {
                const shallow = yield* Rules.afterLookup(entry.input, entry.mailbox, plan)
                if (Option.isSome(shallow)) {
                  duplicates.settle(entry.mailbox.address, shallow.value, settled)
                  continue
                }
              }
              const key = groupKeyCached(entry.mailbox.domain, plan)
              let group = groups.get(key)
              if (group === undefined) {
                group = { plan, entries: [], need: 0, epoch: -1 }
                groups.set(key, group)
              }
              group.entries.push(entry)
              grouped++
              if (!inFlight.has(key)) {
                if (group.epoch !== epoch) {
                  group.need = yield* needOf(group.plan)
                  group.epoch = epoch
                }
                if (group.entries.length >= group.need) (ready ??= new Set()).add(key)
              }
              // A third of the window waiting in groups: send the largest, so reading never stalls for long.
              while (grouped >= gathered) {
                yield* dispatch(largest()!)
                epoch++
              }
            }
            // A group that has its session's worth goes with everything of its key this slice read:
            // read together, they wait for nothing, and a host's first sessions learn from a group
            // as large as the list gives at once (a first group of one session's worth would have
            // its trial session ramp over that and no more).
            if (ready !== undefined) yield* dispatchFree(ready)
            yield* emit(settled)
          })

        // The input paused `policy.inputIdle`: what gathered goes. Polled: one sleep per period,
        // not a timer per chunk.
        const idle = Duration.fromInputUnsafe(policy.inputIdle)
        if (Duration.isFinite(idle)) {
          const idleMillis = Duration.toMillis(idle)
          yield* Effect.forkScoped(
            Effect.forever(
              Effect.gen(function* () {
                yield* Effect.sleep(Duration.millis(Math.max(10, idleMillis / 2)))
                const now = yield* Clock.currentTimeMillis
                if (awaitingSince !== undefined && now - awaitingSince >= idleMillis) yield* dispatchFree(groups.keys())
              })
            )
          )
        }

        yield* Stream.runForEachArray(input, (chunk) =>
          Effect.gen(function* () {
            awaitingSince = undefined
            for (let at = 0; at < chunk.length;) {
              while (free === 0) {
                // Every permit held. While a group's work runs, its results will give permits back:
                // wait. With none running, every permit is held by inputs gathering (or by copies
                // waiting for one that is: the gathered-share rule does not count those), so the largest
                // group goes rather than the reader waiting on itself.
                if (running === 0 && grouped > 0) {
                  yield* dispatch(largest()!)
                  continue
                }
                Latch.closeUnsafe(freed)
                yield* freed.await
              }
              const n = Math.min(free, chunk.length - at)
              free -= n
              epoch++
              yield* slice(chunk, at, at + n)
              at += n
            }
            awaitingSince = yield* Clock.currentTimeMillis
          })
        )
        awaitingSince = undefined
        for (const key of Array.from(groups.keys())) yield* dispatch(key)
        yield* FiberSet.awaitEmpty(fibers)
        // Every result is out: the connections still open say QUIT.
        if (lanes !== undefined) yield* lanes.close
        yield* Queue.end(queue)
      }),
    // A bounded output: a slow consumer holds the results back, and through them the window, the reader.
    { bufferSize: 1024, strategy: "suspend" }
  )
