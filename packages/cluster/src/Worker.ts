/**
 * What a runner does with a batch sent to an MX host entity: verify the batch as one group of the
 * bulk engine (`Bulk.verifyGroup`: shared sessions, one catch-all probe per domain, the per-host
 * permits of this runner), write the results to the job store, and send the greylisted addresses
 * back as a batch of the next attempt, delivered when the greylisting schedule says, instead of
 * waiting here.
 *
 * The entity lives on one runner at a time, so the runner's in-memory per-host permits are the
 * cluster's: `concurrency` batches of one entity run side by side at most, and they share the
 * runner's `HostPermits`, which hold the per-host connection limit.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Option, Schedule } from "effect"
import type { Layer } from "effect"
import type { Sharding } from "effect/cluster"
import { Entity } from "effect/cluster"
import { Address } from "@rcpt/smtp"
import { JobResult, JobStore } from "@rcpt/store"
import { Bulk, MxCache, Policy, Verification } from "@rcpt/verifier"
import { Batch, MxHost } from "./MxHost.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** Batches of one MX host entity verified at once on its runner (`--per-host`). */
  readonly concurrency: number
  /** Named in each result's evidence (`runner`): the runner's address, and its egress if any. */
  readonly runner: string
  /** How a failed store write is retried while the batch waits (the message stays unprocessed). */
  readonly storageRetry?: Schedule.Schedule<unknown, unknown> | undefined
}

/**
 * The delay before greylisting attempt `attempt + 1` (1-based retries), stepped from the
 * policy's `greylistRetry` schedule; none when the schedule is done.
 *
 * @category policies
 * @since 0.1.0
 */
export const retryDelay = Effect.fn("Worker.retryDelay")(function* (
  schedule: Schedule.Schedule<unknown, unknown>,
  attempt: number
) {
  const step = yield* Schedule.toStep(schedule)
  let delay: Option.Option<Duration.Duration> = Option.none()
  for (let i = 0; i <= attempt; i++) {
    const next = yield* step(0, undefined).pipe(
      Effect.map(([, d]) => Option.some(d)),
      Effect.catchCause(() => Effect.succeed(Option.none<Duration.Duration>()))
    )
    if (Option.isNone(next)) return Option.none<Duration.Duration>()
    delay = next
  }
  return delay
})

const storageRetryDefault = Schedule.min([Schedule.exponential("200 millis", 2), Schedule.spaced("5 seconds")]).pipe(
  Schedule.upTo({ times: 30 })
)

/**
 * A result as the job store keeps it: the same JSON as `rcpt bulk`'s lines, plus the runner that
 * verified it (none for results the dispatcher answers itself, such as syntax failures).
 *
 * @category constructors
 * @since 0.1.0
 */
export const toResult = (position: number, v: Verification.Verification, runner?: string): JobStore.Result =>
  JobResult.make(position, v, { runner })

/**
 * The batch handler, given the sender of batches (to defer greylisted addresses).
 *
 * @category handlers
 * @since 0.1.0
 */
export const handle = Effect.fn("Worker.handle")(function* (
  batch: Batch,
  options: Options,
  defer: (batch: Batch) => Effect.Effect<void>
) {
  const store = yield* JobStore.JobStore
  const retried = <A, E>(effect: Effect.Effect<A, E>) =>
    effect.pipe(Effect.retry(options.storageRetry ?? storageRetryDefault), Effect.orDie)
  const job = yield* retried(store.get(batch.jobId))
  if (Option.isNone(job) || job.value.state !== "running") return { written: 0, deferred: 0 }

  const results: Array<JobStore.Result> = []
  const entries: Array<Bulk.Entry & { readonly position: number }> = []
  for (const input of batch.inputs) {
    const parsed = Address.parse(input.address)
    if (parsed._tag === "Failure") {
      results.push(
        toResult(input.position, yield* Bulk.syntaxFailure(input.address, parsed.failure.message), options.runner)
      )
    } else entries.push({ input: input.address, mailbox: parsed.success, position: input.position })
  }

  let deferred = 0
  if (entries.length > 0) {
    const cache = yield* MxCache.MxCache
    const staged = yield* Bulk.verifyGroup(yield* cache.plan(entries[0]!.mailbox.domain), entries)
    const policy = yield* Policy.Policy
    const delay = staged.pending.length > 0 ? yield* retryDelay(policy.greylistRetry, batch.attempt) : Option.none()
    const waiting = new Set(Option.isSome(delay) ? staged.pending : [])
    staged.now.forEach((v, i) => {
      if (!waiting.has(i)) results.push(toResult(entries[i]!.position, v, options.runner))
    })
    if (Option.isSome(delay)) {
      const now = yield* Clock.currentTimeMillis
      deferred = waiting.size
      yield* defer(
        new Batch({
          jobId: batch.jobId,
          batch: batch.batch,
          attempt: batch.attempt + 1,
          notBefore: now + Duration.toMillis(delay.value),
          inputs: staged.pending.map((i) => ({ position: entries[i]!.position, address: entries[i]!.input }))
        })
      )
    }
  }
  const written = yield* retried(store.record(batch.jobId, results, yield* Clock.currentTimeMillis))
  yield* Effect.logDebug(
    `runner ${options.runner}: job ${batch.jobId} batch ${batch.batch}#${batch.attempt}: ${written} written, ${deferred} deferred`
  )
  return { written, deferred }
})

/**
 * The MX host entity's handlers on this runner.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options: Options
): Layer.Layer<never, never, Sharding.Sharding | JobStore.JobStore | Bulk.Requirements> =>
  MxHost.toLayer(
    Effect.gen(function* () {
      const address = yield* Entity.CurrentAddress
      const send = yield* MxHost.client
      const self = send(address.entityId)
      const context = yield* Effect.context<JobStore.JobStore | Bulk.Requirements>()
      const defer = (batch: Batch) =>
        self
          .VerifyBatch(batch, { discard: true })
          .pipe(Effect.retry(Schedule.spaced("1 second").pipe(Schedule.upTo({ times: 30 }))), Effect.orDie)
      return {
        VerifyBatch: (request) =>
          handle(request.payload, options, defer).pipe(
            Effect.annotateLogs({ runner: options.runner, mx: address.entityId }),
            Effect.provideContext(context)
          )
      }
    }),
    { concurrency: Math.max(1, options.concurrency), maxIdleTime: "2 minutes" }
  )
