/**
 * Runs stored jobs on the cluster instead of in this process: `rcpt serve --cluster`.
 *
 * A job's inputs are read from the store in pages, each address's domain is planned here (MX
 * lookup through the `MxCache`) and filed under its group key, the key the bulk engine groups by,
 * and each group's inputs go to the MX host entity of that key as persisted batches. The runners
 * write the results; this side follows the job's counters to its end, hands new results to the
 * listener (per-result webhooks, live progress) and clears the job's rows from the cluster's
 * message table once it is over.
 *
 * **Nothing lost, nothing twice.** How far a job has been dispatched is kept in
 * `rcpt_cluster_dispatch`, written after a page's batches are persisted. A dispatcher killed half
 * way through a page cuts the same page into the same batches again on restart (same inputs, same
 * order, same ids), and the message storage takes a batch with a known primary key once.
 * Inputs a runner never finished stay in storage as unprocessed messages; the shard's next owner
 * runs them. Results are written keyed by (job, position).
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, FiberMap, Option, Schedule } from "effect"
import type { Scope } from "effect"
import type { Sharding } from "effect/cluster"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql"
import { Address } from "@rcpt/smtp"
import { JobStore } from "@rcpt/store"
import { Bulk, MxCache, Verification } from "@rcpt/verifier"
import { Batch, MxHost } from "./MxHost.ts"
import * as Worker from "./Worker.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** Inputs read from the store and planned per page. */
  readonly page: number
  /** Inputs per batch at most (one batch is one group verification on a runner). */
  readonly batch: number
  /** DNS lookups at once while planning a page. */
  readonly lookups: number
  /** How often a running job's counters are read. */
  readonly poll: Duration.Input
}

/**
 * @category constants
 * @since 0.1.0
 */
export const defaults: Options = { page: 2_000, batch: 200, lookups: 16, poll: "500 millis" }

/**
 * Told about results once stored, and when a job ends; the same shape as the HTTP service's
 * job listener (webhooks, events).
 *
 * @category models
 * @since 0.1.0
 */
export interface Listener {
  readonly stored: (id: string, results: ReadonlyArray<Verification.Verification>) => Effect.Effect<void>
  readonly ended: (id: string) => Effect.Effect<void>
}

/**
 * The same operations as the in-process job runner: start a queued job, cancel one.
 *
 * @category models
 * @since 0.1.0
 */
export interface Dispatcher {
  readonly start: (id: string) => Effect.Effect<void>
  readonly cancel: (id: string) => Effect.Effect<boolean, SqlError.SqlError>
}

const migrate = (sql: SqlClient.SqlClient) =>
  sql`CREATE TABLE IF NOT EXISTS rcpt_cluster_dispatch (
        job_id TEXT PRIMARY KEY,
        dispatched BIGINT NOT NULL
      )`.pipe(Effect.asVoid)

/** `LIKE` text for a job's batches in the message table's JSON payloads. */
const payloadPattern = (id: string) => `%"jobId":"${id.replace(/[\\%_"]/g, (c) => `\\${c}`)}"%`

/**
 * Deletes a finished job's processed batches and their replies from the cluster's tables
 * (effect/cluster keeps processed messages forever); returns how many messages went.
 *
 * @category operations
 * @since 0.1.0
 */
export const clearMessages = Effect.fn("Dispatcher.clearMessages")(function* (id: string, prefix = "cluster") {
  const sql = yield* SqlClient.SqlClient
  const messages = sql(`${prefix}_messages`)
  const replies = sql(`${prefix}_replies`)
  const pattern = payloadPattern(id)
  yield* sql`DELETE FROM ${replies} WHERE request_id IN (
      SELECT id FROM ${messages} WHERE entity_type = 'MxHost' AND processed = ${true} AND payload LIKE ${pattern})`
  const gone = yield* sql`DELETE FROM ${messages}
      WHERE entity_type = 'MxHost' AND processed = ${true} AND payload LIKE ${pattern} RETURNING id`
  return gone.length
})

/**
 * Cuts one page of inputs into batches per group key; syntax failures are answered here.
 * The cut depends only on the page (and DNS), so a page cut again gives the same batch ids.
 */
const cut = Effect.fn("Dispatcher.cut")(function* (id: string, page: ReadonlyArray<JobStore.Input>, options: Options) {
  const cache = yield* MxCache.MxCache
  const failures: Array<JobStore.Result> = []
  const keyed = yield* Effect.forEach(
    page,
    (input) =>
      Effect.gen(function* () {
        const parsed = Address.parse(input.address)
        if (parsed._tag === "Failure") {
          const v = yield* Bulk.syntaxFailure(input.address, parsed.failure.message)
          failures.push(Worker.toResult(input.position, v))
          return undefined
        }
        const domain = parsed.success.domain
        return { input, key: Bulk.groupKey(domain, yield* cache.plan(domain)) }
      }),
    { concurrency: options.lookups }
  )
  const groups = new Map<string, Array<JobStore.Input>>()
  for (const k of keyed) {
    if (k === undefined) continue
    const group = groups.get(k.key)
    if (group === undefined) groups.set(k.key, [k.input])
    else group.push(k.input)
  }
  const first = page[0]?.position ?? 0
  const batches: Array<{ readonly key: string; readonly batch: Batch }> = []
  let g = 0
  for (const [key, inputs] of groups) {
    for (let c = 0; c * options.batch < inputs.length; c++) {
      batches.push({
        key,
        batch: new Batch({
          jobId: id,
          batch: `${first}-${g}-${c}`,
          attempt: 0,
          notBefore: 0,
          inputs: inputs.slice(c * options.batch, (c + 1) * options.batch)
        })
      })
    }
    g++
  }
  return { failures, batches }
})

/**
 * The dispatcher. When built, it fails jobs whose upload a crash cut short and takes up every
 * queued or running job again.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  options: Options,
  listener: Listener
): Effect.Effect<
  Dispatcher,
  SqlError.SqlError,
  JobStore.JobStore | SqlClient.SqlClient | Sharding.Sharding | Bulk.Requirements | Scope.Scope
> =>
  Effect.gen(function* () {
    const store = yield* JobStore.JobStore
    const sql = yield* SqlClient.SqlClient
    yield* migrate(sql)
    const send = yield* MxHost.client
    const context = yield* Effect.context<JobStore.JobStore | SqlClient.SqlClient | Bulk.Requirements>()
    const fibers = yield* FiberMap.make<string>()
    const retry: Schedule.Schedule<unknown, unknown> = Schedule.min([
      Schedule.exponential("200 millis", 2),
      Schedule.spaced("5 seconds")
    ])
    const retried = <A, E>(effect: Effect.Effect<A, E>) =>
      effect.pipe(
        Effect.tapError((e) => Effect.logWarning(`cluster dispatch: retrying after ${String(e)}`)),
        Effect.retry(retry)
      )
    const now = Clock.currentTimeMillis

    const dispatched = (id: string) =>
      sql<{ dispatched: unknown }>`SELECT dispatched FROM rcpt_cluster_dispatch WHERE job_id = ${id}`.pipe(
        Effect.map((rows) => (rows[0] === undefined ? -1 : Number(rows[0].dispatched)))
      )
    const markDispatched = (id: string, through: number) =>
      sql`INSERT INTO rcpt_cluster_dispatch (job_id, dispatched) VALUES (${id}, ${through})
          ON CONFLICT (job_id) DO UPDATE SET dispatched = ${through}`.pipe(Effect.asVoid)

    /** Hands the listener every result stored after `seq`; the new `seq`. */
    const follow = (id: string, seq: number) =>
      Effect.gen(function* () {
        let after = seq
        while (true) {
          const rows = yield* store.results(id, { after, limit: 1_000 })
          if (rows.length === 0) return after
          after = rows.at(-1)!.seq
          const decoded = rows.flatMap((r) => {
            try {
              return [Verification.decode(JSON.parse(r.data))]
            } catch {
              return []
            }
          })
          yield* listener.stored(id, decoded)
        }
      })

    const runJob = (id: string) =>
      Effect.gen(function* () {
        if (!(yield* retried(store.transition(id, ["queued", "running"], "running", yield* now)))) return
        let after = yield* retried(dispatched(id))
        let sent = 0
        while (true) {
          const page = yield* retried(store.pending(id, after, options.page))
          if (page.length === 0) break
          const { failures, batches } = yield* cut(id, page, options)
          if (failures.length > 0) yield* retried(store.record(id, failures, yield* now))
          yield* Effect.forEach(batches, ({ key, batch }) => retried(send(key).VerifyBatch(batch, { discard: true })), {
            concurrency: 8,
            discard: true
          })
          sent += batches.length
          after = page.at(-1)!.position
          yield* retried(markDispatched(id, after))
        }
        yield* Effect.logInfo(`cluster: job ${id} dispatched (${sent} batch(es) this run)`)
        let seq = 0
        while (true) {
          const job = yield* retried(store.get(id))
          seq = yield* retried(follow(id, seq))
          if (Option.isNone(job) || job.value.state !== "running") return
          if (job.value.done >= job.value.total) break
          yield* Effect.sleep(options.poll)
        }
        if (yield* retried(store.transition(id, ["running"], "done", yield* now))) {
          const cleared = yield* retried(clearMessages(id).pipe(Effect.provideService(SqlClient.SqlClient, sql)))
          yield* Effect.logInfo(`cluster: job ${id} done; ${cleared} message row(s) cleared`)
          yield* listener.ended(id)
        }
      })

    const start = (id: string) =>
      FiberMap.run(
        fibers,
        id,
        runJob(id).pipe(
          Effect.catchCause((cause) => Effect.logError(`cluster: job ${id} stopped`, cause)),
          Effect.provideContext(context)
        ),
        { onlyIfMissing: true }
      ).pipe(Effect.asVoid)

    const at = yield* now
    for (const job of yield* store.inStates(["receiving"])) {
      yield* store.transition(job.id, ["receiving"], "failed", at, "the upload was cut short (the server stopped)")
    }
    const resumable = yield* store.inStates(["queued", "running"])
    if (resumable.length > 0) yield* Effect.logInfo(`cluster: resuming ${resumable.length} job(s)`)
    for (const job of resumable) yield* start(job.id)

    return {
      start,
      cancel: (id) =>
        Effect.gen(function* () {
          const moved = yield* store.transition(id, ["queued", "running"], "cancelled", yield* now)
          yield* FiberMap.remove(fibers, id)
          if (moved) {
            // Batches still queued run as no-ops (the worker checks the job's state) and are
            // cleared with the processed ones; what is processed now goes now.
            yield* clearMessages(id).pipe(Effect.provideContext(context), Effect.ignore)
            yield* listener.ended(id)
          }
          return moved
        })
    }
  })
