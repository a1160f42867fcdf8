/**
 * Runs stored jobs through the process's one bulk engine (`Verifier.verifyMany`), so jobs share
 * its per-host politeness limits with each other and with `/v1/verify`.
 *
 * A job's pending inputs (those without a result) are read from the store in pages, verified,
 * and the results written back in batches, each batch one transaction that also moves the
 * counters. Kill the process at any moment and start it again: the inputs without a result are
 * still pending and run again; results already written are never written twice.
 *
 * A write that fails (database down, disk full) is retried on {@link Policy.storageRetry} while
 * the engine waits: verification pauses (the engine's bounded window fills) and resumes when
 * the database is back, losing nothing.
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, FiberMap, Layer, Option, Result, Schedule, Semaphore, Stream } from "effect"
import type { Scope } from "effect"
import type { SqlError } from "effect/sql"
import { JobResult, JobStore } from "@rcpt/store"
import { Verification, Verifier } from "@rcpt/verifier"
import * as JobOptions from "./JobOptions.ts"

/**
 * The runner's tunables, each a named value a deployment can replace.
 *
 * @category models
 * @since 0.1.0
 */
export interface Policy {
  /** Jobs verified at once (they share the engine's per-host limits). */
  readonly concurrentJobs: number
  /** Inputs read from the store per page. */
  readonly page: number
  /** Results written per transaction, at most, and how long a partial batch may wait. */
  readonly batch: number
  readonly batchWait: Duration.Input
  /** Addresses the engine holds while grouping them by MX host. */
  readonly window: number
  /** How a failed store write is retried while the job pauses. */
  readonly storageRetry: Schedule.Schedule<unknown, SqlError.SqlError>
}

/**
 * @category constants
 * @since 0.1.0
 */
export const defaultPolicy: Policy = {
  concurrentJobs: 2,
  page: 1_000,
  batch: 500,
  batchWait: "250 millis",
  window: 5_000,
  storageRetry: Schedule.min([Schedule.exponential("200 millis", 2), Schedule.spaced("10 seconds")])
}

/**
 * Called with each batch of results once it is stored, and when a job ends. Must not block: the
 * webhook sender queues and returns.
 *
 * @category models
 * @since 0.1.0
 */
export interface Listener {
  readonly stored: (id: string, results: ReadonlyArray<Verification.Verification>) => Effect.Effect<void>
  readonly ended: (id: string) => Effect.Effect<void>
}

/**
 * @category services
 * @since 0.1.0
 */
export class JobRunner extends Context.Service<
  JobRunner,
  {
    /** Starts a queued job (a no-op when it is already running). */
    readonly start: (id: string) => Effect.Effect<void>
    /** Cancels a job: state `cancelled`, its results so far kept; true when it was queued or running. */
    readonly cancel: (id: string) => Effect.Effect<boolean, SqlError.SqlError>
  }
>()("@rcpt/http/JobRunner") {}

/** Input positions by address for results in flight: the engine answers with the address given. */
const makeSlots = () => {
  const slots = new Map<string, Array<number>>()
  return {
    put: (address: string, position: number) => {
      const slot = slots.get(address)
      if (slot === undefined) slots.set(address, [position])
      else slot.push(position)
    },
    take: (address: string): number | undefined => {
      const slot = slots.get(address)
      const position = slot?.shift()
      if (slot !== undefined && slot.length === 0) slots.delete(address)
      return position
    }
  }
}

/**
 * The verifier a job runs on: the process's, or, for a job with options, one built for them
 * (`JobOptions.JobVerifiers`); why not when the options no longer make a valid config.
 */
const verifierFor = (overrides: JobOptions.Overrides) =>
  Effect.gen(function* () {
    const { transcript: _, ...settings } = overrides
    if (Object.keys(settings).length === 0) return Result.succeed(yield* Verifier.Verifier)
    // Provided with the process's verifier when jobs may have options (see `Jobs.layer`).
    const verifiers = yield* Effect.serviceOption(JobOptions.JobVerifiers)
    if (Option.isNone(verifiers)) return Result.fail("this server takes no verifier options per job")
    return yield* verifiers.value.make(overrides).pipe(
      Effect.map((v) => Result.succeed(v)),
      Effect.catchTag("InvalidConfig", (e) => Effect.succeed(Result.fail(`invalid options: ${e.message}`)))
    )
  })

/**
 * Runs one job to its end (or until interrupted): every pending input verified and stored.
 *
 * @category running
 * @since 0.1.0
 */
export const runJob = (id: string, policy: Policy, listener: Listener) =>
  Effect.gen(function* () {
    const store = yield* JobStore.JobStore
    const now = Clock.currentTimeMillis
    const retried = <A>(effect: Effect.Effect<A, SqlError.SqlError>) =>
      effect.pipe(
        Effect.tapError((e) => Effect.logWarning(`job ${id}: storage failed, retrying: ${e.message}`)),
        Effect.retry(policy.storageRetry)
      )
    const job = yield* retried(store.get(id))
    if (Option.isNone(job)) return
    const overrides = JobOptions.read(job.value.options).verifier ?? {}
    // Like `rcpt bulk`: results without their SMTP dialogue unless the job asks for it.
    const stored = { transcript: overrides.transcript === true }
    const verifier = yield* verifierFor(overrides)
    if (Result.isFailure(verifier)) {
      yield* retried(store.transition(id, ["queued", "running"], "failed", yield* now, verifier.failure))
      return yield* listener.ended(id)
    }
    if (!(yield* retried(store.transition(id, ["queued", "running"], "running", yield* now)))) return
    // Until a pass finds nothing pending: a result lost in flight is simply read again.
    while (true) {
      const slots = makeSlots()
      let read = 0
      const inputs = Stream.paginate(0, (after: number) =>
        retried(store.pending(id, after, policy.page)).pipe(
          Effect.map(
            (page) => [page, page.length < policy.page ? Option.none() : Option.some(page.at(-1)!.position)] as const
          )
        )
      ).pipe(
        Stream.map((input) => {
          read++
          slots.put(input.address, input.position)
          return input.address
        })
      )
      yield* verifier.success.verifyMany(inputs, { window: policy.window }).pipe(
        Stream.groupedWithin(policy.batch, policy.batchWait),
        Stream.runForEach((batch) =>
          Effect.gen(function* () {
            const results: Array<JobStore.Result> = []
            for (const v of batch) {
              const position = slots.take(v.address)
              if (position === undefined) continue
              results.push(JobResult.make(position, v, stored))
            }
            yield* retried(store.record(id, results, yield* now))
            yield* listener.stored(id, batch)
          })
        )
      )
      if (read === 0) break
    }
    if (yield* retried(store.transition(id, ["running"], "done", yield* now))) yield* listener.ended(id)
  })

/**
 * The runner: starts queued jobs, at most `policy.concurrentJobs` at once. When built, it fails
 * the jobs whose upload a crash cut short and takes up every queued or running job again.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  policy: Policy,
  listener: Listener
): Layer.Layer<JobRunner, SqlError.SqlError, JobStore.JobStore | Verifier.Verifier> =>
  Layer.effect(JobRunner, make(policy, listener))

const make = (
  policy: Policy,
  listener: Listener
): Effect.Effect<JobRunner["Service"], SqlError.SqlError, JobStore.JobStore | Verifier.Verifier | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* JobStore.JobStore
    const context = yield* Effect.context<JobStore.JobStore | Verifier.Verifier>()
    const fibers = yield* FiberMap.make<string>()
    const slots = yield* Semaphore.make(Math.max(1, policy.concurrentJobs))
    const start = (id: string) =>
      FiberMap.run(
        fibers,
        id,
        runJob(id, policy, listener).pipe(
          slots.withPermits(1),
          Effect.catchCause((cause) => Effect.logError(`job ${id} stopped`, cause)),
          Effect.provideContext(context)
        ),
        { onlyIfMissing: true }
      ).pipe(Effect.asVoid)

    const now = yield* Clock.currentTimeMillis
    for (const job of yield* store.inStates(["receiving"])) {
      yield* store.transition(job.id, ["receiving"], "failed", now, "the upload was cut short (the server stopped)")
    }
    const resumable = yield* store.inStates(["queued", "running"])
    if (resumable.length > 0) yield* Effect.logInfo(`resuming ${resumable.length} job(s)`)
    for (const job of resumable) yield* start(job.id)

    return JobRunner.of({
      start,
      cancel: (id) =>
        Effect.gen(function* () {
          const moved = yield* store.transition(id, ["queued", "running"], "cancelled", yield* Clock.currentTimeMillis)
          yield* FiberMap.remove(fibers, id)
          if (moved) yield* listener.ended(id)
          return moved
        })
    })
  })
