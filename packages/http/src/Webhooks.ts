/**
 * Job webhooks: a POST when a job ends (and, when asked, batches of results as they are stored),
 * signed with HMAC-SHA256, retried on a `Schedule`, never in the way of verification.
 *
 * **Signature.** `x-rcpt-signature: sha256=<hex>` is HMAC-SHA256 over `<x-rcpt-timestamp>.<body>`
 * with the job's secret; `x-rcpt-event` is `job.completed` or `job.results`. The receiver
 * recomputes it and may refuse old timestamps (replays).
 *
 * **Never slowing verification.** The runner hands results over with a non-blocking offer into a
 * bounded queue; what does not fit is counted as `dropped` in the job's webhook state. The
 * completion call is durable: its state is `pending` in the store until delivered or failed, and a
 * restart delivers the pending ones again.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, FiberSet, Layer, Option, Queue, Schedule } from "effect"
import type { Scope } from "effect"
import { createHmac } from "node:crypto"
import { JobStore } from "@rcpt/store"
import { Verification } from "@rcpt/verifier"
import * as JobRunner from "./JobRunner.ts"
import * as JobsApi from "./JobsApi.ts"

/**
 * Retries of the completion call: 1 s, 2 s, 4 s, ... at most 8 attempts. Replace it to change.
 *
 * @category policies
 * @since 0.1.0
 */
export const defaultRetry: Schedule.Schedule<unknown, WebhookError> = Schedule.max([
  Schedule.exponential("1 second", 2),
  Schedule.recurs(7)
])

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  readonly retry: Schedule.Schedule<unknown, WebhookError>
  /** One call's time limit. */
  readonly timeout: Duration.Input
  /** Results waiting to be sent per result, at most (more are dropped and counted). */
  readonly queue: number
  /** Results per `job.results` call, at most. */
  readonly batch: number
}

/**
 * @category constants
 * @since 0.1.0
 */
export const defaults: Options = { retry: defaultRetry, timeout: "10 seconds", queue: 10_000, batch: 100 }

/**
 * A call that did not get a 2xx.
 *
 * @category errors
 * @since 0.1.0
 */
export class WebhookError extends Error {
  readonly _tag = "WebhookError"
}

/**
 * The signature header's value for `body` sent at `timestamp` (seconds).
 *
 * @category signing
 * @since 0.1.0
 */
export const sign = (secret: string, timestamp: number, body: string): string =>
  `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`

const post = (url: string, secret: string, event: string, body: string, timeout: Duration.Input) =>
  Effect.gen(function* () {
    const timestamp = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const response = yield* Effect.tryPromise({
      try: (signal) =>
        fetch(url, {
          method: "POST",
          body,
          signal,
          redirect: "manual",
          headers: {
            "content-type": "application/json",
            "x-rcpt-event": event,
            "x-rcpt-timestamp": String(timestamp),
            "x-rcpt-signature": sign(secret, timestamp, body)
          }
        }),
      catch: (e) => new WebhookError(e instanceof Error ? e.message : String(e))
    }).pipe(
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () =>
          Effect.fail(new WebhookError(`no answer in ${Duration.format(Duration.fromInputUnsafe(timeout))}`))
      })
    )
    yield* Effect.promise(() => response.body?.cancel() ?? Promise.resolve())
    if (response.status < 200 || response.status > 299)
      return yield* Effect.fail(new WebhookError(`HTTP ${response.status}`))
  })

/**
 * The runner's listener that sends the webhooks; delivers completion calls left pending by a
 * previous run when built.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  options: Options = defaults
): Effect.Effect<JobRunner.Listener, never, JobStore.JobStore | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* JobStore.JobStore
    const fibers = yield* FiberSet.make()
    const queue = yield* Queue.dropping<readonly [JobStore.Webhook & { id: string }, Verification.Verification]>(
      options.queue
    )
    const tally = new Map<string, { sent: number; dropped: number }>()
    const count = (id: string, field: "sent" | "dropped", n: number) => {
      const t = tally.get(id) ?? { sent: 0, dropped: 0 }
      t[field] += n
      tally.set(id, t)
      return store.webhookState(id, { [field]: t[field] }).pipe(Effect.ignore)
    }
    const hooks = new Map<string, Option.Option<JobStore.Webhook>>()
    const hookOf = (id: string) =>
      Effect.gen(function* () {
        const known = hooks.get(id)
        if (known !== undefined) return known
        const job = yield* store.get(id).pipe(Effect.orElseSucceed(() => Option.none()))
        const hook = Option.flatMapNullishOr(job, (j) => j.webhook)
        hooks.set(id, hook)
        return hook
      })

    const complete = (id: string) =>
      Effect.gen(function* () {
        const job = yield* store.get(id)
        if (Option.isNone(job) || job.value.webhook === null) return
        const hook = job.value.webhook
        yield* store.webhookState(id, { state: "pending" })
        const body = JSON.stringify({
          event: "job.completed",
          job: JobsApi.view(job.value, yield* Clock.currentTimeMillis)
        })
        let attempts = hook.attempts
        const attempt = Effect.suspend(() => {
          attempts++
          return post(hook.url, hook.secret, "job.completed", body, options.timeout).pipe(
            Effect.tapError((e) => store.webhookState(id, { attempts, error: e.message }).pipe(Effect.ignore))
          )
        })
        yield* attempt.pipe(
          Effect.retry(options.retry),
          Effect.matchEffect({
            onFailure: (e) => store.webhookState(id, { state: "failed", attempts, error: e.message }),
            onSuccess: () => store.webhookState(id, { state: "delivered", attempts, error: null })
          })
        )
      }).pipe(Effect.ignore)

    // Per-result sender: batches from the queue, a few quick retries, then the batch is counted as dropped.
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          const items = yield* Queue.takeBetween(queue, 1, options.batch)
          const byJob = new Map<string, { hook: JobStore.Webhook; results: Array<Verification.Verification> }>()
          for (const [hook, v] of items) {
            const entry = byJob.get(hook.id) ?? { hook, results: [] }
            entry.results.push(v)
            byJob.set(hook.id, entry)
          }
          for (const [id, { hook, results }] of byJob) {
            const body = JSON.stringify({ event: "job.results", jobId: id, results: results.map(Verification.encode) })
            yield* post(hook.url, hook.secret, "job.results", body, options.timeout).pipe(
              Effect.retry(Schedule.max([Schedule.exponential("200 millis"), Schedule.recurs(2)])),
              Effect.matchEffect({
                onFailure: () => count(id, "dropped", results.length),
                onSuccess: () => count(id, "sent", results.length)
              })
            )
          }
        })
      )
    )

    // Completion calls a previous run left pending.
    for (const job of yield* store.inStates(["done", "cancelled", "failed"]).pipe(Effect.orElseSucceed(() => []))) {
      if (job.webhook?.state === "pending") yield* FiberSet.run(fibers, complete(job.id))
    }

    return {
      stored: (id, results) =>
        Effect.gen(function* () {
          const hook = yield* hookOf(id)
          if (Option.isNone(hook) || !hook.value.perResult) return
          const entry = { ...hook.value, id }
          const refused =
            results.length -
            (yield* Queue.offerAll(
              queue,
              results.map((v) => [entry, v] as const)
            )).length
          const left = results.length - refused
          if (left > 0) yield* count(id, "dropped", left)
        }),
      ended: (id) => FiberSet.run(fibers, complete(id)).pipe(Effect.asVoid)
    } satisfies JobRunner.Listener
  })

/**
 * No webhooks: a listener that does nothing.
 *
 * @category constructors
 * @since 0.1.0
 */
export const none: JobRunner.Listener = { stored: () => Effect.void, ended: () => Effect.void }

/**
 * @category layers
 * @since 0.1.0
 */
export const layerRunner = (
  policy: JobRunner.Policy = JobRunner.defaultPolicy,
  options: Options = defaults
): Layer.Layer<JobRunner.JobRunner, never, JobStore.JobStore | import("@rcpt/verifier").Verifier.Verifier> =>
  Layer.unwrap(Effect.map(make(options), (listener) => JobRunner.layer(policy, listener).pipe(Layer.orDie)))
