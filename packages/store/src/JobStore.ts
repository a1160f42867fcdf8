/**
 * Durable bulk jobs: the uploaded list, the results and the counters, behind one service that
 * every front end and process shares (the HTTP server, a cluster runner).
 *
 * **Exactly one result per input.** Inputs are keyed by (job, position); a result is written
 * once per position (`ON CONFLICT DO NOTHING`), and the job's counters move in the same
 * transaction by the rows actually written. A crash between two writes loses nothing (the input
 * is still pending) and a repeated write (a batch redone after a crash, an at-least-once
 * delivery) changes nothing.
 *
 * **Completion order.** Each written result gets `seq`, the next number after the job's `done`
 * (the job row is locked first, so concurrent writers take turns): downloads page by `seq`, and a
 * client that read N results resumes after N.
 *
 * Every operation fails only with `SqlError` (database down, disk full): the caller decides
 * whether that is a 503 or a pause.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import * as Migrations from "./Migrations.ts"

/**
 * `receiving` while the upload streams in (a job left in it by a crash is failed on start);
 * `queued` once the list is stored; `running`; then `done`, `cancelled` or `failed`.
 *
 * @category models
 * @since 0.1.0
 */
export type State = "receiving" | "queued" | "running" | "done" | "cancelled" | "failed"

/**
 * @category constants
 * @since 0.1.0
 */
export const verdicts = ["deliverable", "undeliverable", "risky", "unknown"] as const

/**
 * @category models
 * @since 0.1.0
 */
export type Verdict = (typeof verdicts)[number]

/**
 * A webhook's delivery state: `none` (no webhook), `pending` (the completion call is due or being
 * retried), `delivered`, `failed` (retries exhausted).
 *
 * @category models
 * @since 0.1.0
 */
export type WebhookState = "none" | "pending" | "delivered" | "failed"

/**
 * @category models
 * @since 0.1.0
 */
export interface Webhook {
  readonly url: string
  readonly secret: string
  readonly perResult: boolean
  readonly state: WebhookState
  readonly attempts: number
  readonly error: string | null
  /** Per-result calls delivered, and results not sent because the queue was full. */
  readonly sent: number
  readonly dropped: number
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Job {
  readonly id: string
  /** The tenant (a token's fingerprint): only it sees the job. */
  readonly owner: string
  readonly state: State
  /** The job's options as JSON text (the store does not read them). */
  readonly options: string
  readonly total: number
  readonly done: number
  readonly counts: Readonly<Record<Verdict, number>>
  readonly error: string | null
  readonly createdAt: number
  readonly startedAt: number | null
  readonly finishedAt: number | null
  readonly updatedAt: number
  readonly webhook: Webhook | null
}

/**
 * @category models
 * @since 0.1.0
 */
export interface NewJob {
  readonly id: string
  readonly owner: string
  readonly options: string
  readonly now: number
  readonly webhook?: { readonly url: string; readonly secret: string; readonly perResult: boolean } | undefined
}

/**
 * An input still without a result.
 *
 * @category models
 * @since 0.1.0
 */
export interface Input {
  readonly position: number
  readonly address: string
}

/**
 * One result: its input's position, the verdict (for counters and filters) and the encoded result.
 *
 * @category models
 * @since 0.1.0
 */
export interface Result {
  readonly position: number
  readonly verdict: Verdict
  readonly data: string
}

/**
 * A stored result with its place in completion order.
 *
 * @category models
 * @since 0.1.0
 */
export interface StoredResult extends Result {
  readonly seq: number
}

/**
 * @category services
 * @since 0.1.0
 */
export class JobStore extends Context.Service<
  JobStore,
  {
    /** A new job in state `receiving`. */
    readonly create: (job: NewJob) => Effect.Effect<Job, SqlError.SqlError>
    /** Stores input lines at positions `from`, `from + 1`, ... (a repeated call is a no-op). */
    readonly appendInputs: (
      id: string,
      from: number,
      addresses: ReadonlyArray<string>
    ) => Effect.Effect<void, SqlError.SqlError>
    /** The upload is complete: `total` inputs, state `queued`. */
    readonly seal: (id: string, total: number, now: number) => Effect.Effect<void, SqlError.SqlError>
    /** Deletes a job and everything it holds (an upload that failed half way). */
    readonly discard: (id: string) => Effect.Effect<void, SqlError.SqlError>
    /** The job, if it exists and belongs to `owner` (any owner when `owner` is undefined). */
    readonly get: (id: string, owner?: string) => Effect.Effect<Option.Option<Job>, SqlError.SqlError>
    /** The owner's jobs, newest first. */
    readonly list: (owner: string, limit: number) => Effect.Effect<ReadonlyArray<Job>, SqlError.SqlError>
    /** Jobs in one of `states`, oldest first. */
    readonly inStates: (states: ReadonlyArray<State>) => Effect.Effect<ReadonlyArray<Job>, SqlError.SqlError>
    /**
     * Moves a job to `to` when it is in one of `from` (all states when empty); true when it moved.
     * Entering `running` sets `startedAt` once; a final state sets `finishedAt`.
     */
    readonly transition: (
      id: string,
      from: ReadonlyArray<State>,
      to: State,
      now: number,
      error?: string
    ) => Effect.Effect<boolean, SqlError.SqlError>
    /** Up to `limit` inputs after `after` that have no result yet, by position. */
    readonly pending: (
      id: string,
      after: number,
      limit: number
    ) => Effect.Effect<ReadonlyArray<Input>, SqlError.SqlError>
    /** Writes results not yet written (others are ignored) and moves the counters; how many were new. */
    readonly record: (
      id: string,
      results: ReadonlyArray<Result>,
      now: number
    ) => Effect.Effect<number, SqlError.SqlError>
    /** Up to `limit` results with `seq > after`, by `seq`, optionally of some verdicts only. */
    readonly results: (
      id: string,
      options: {
        readonly after: number
        readonly limit: number
        readonly verdicts?: ReadonlyArray<Verdict> | undefined
      }
    ) => Effect.Effect<ReadonlyArray<StoredResult>, SqlError.SqlError>
    /** Records the webhook's delivery state. */
    readonly webhookState: (
      id: string,
      update: {
        readonly state?: WebhookState
        readonly attempts?: number
        readonly error?: string | null
        readonly sent?: number
        readonly dropped?: number
      }
    ) => Effect.Effect<void, SqlError.SqlError>
  }
>()("@rcpt/store/JobStore") {}

const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value))
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))
const textOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value))

/** A row of `rcpt_jobs` as a `Job`; numbers pass through `Number` (PostgreSQL may send strings). */
const toJob = (row: Record<string, unknown>): Job => ({
  id: String(row.id),
  owner: String(row.owner),
  state: String(row.state) as State,
  options: String(row.options),
  total: num(row.total),
  done: num(row.done),
  counts: {
    deliverable: num(row.deliverable),
    undeliverable: num(row.undeliverable),
    risky: num(row.risky),
    unknown: num(row.unknown)
  },
  error: textOrNull(row.error),
  createdAt: num(row.created_at),
  startedAt: numOrNull(row.started_at),
  finishedAt: numOrNull(row.finished_at),
  updatedAt: num(row.updated_at),
  webhook:
    row.webhook_url === null || row.webhook_url === undefined
      ? null
      : {
          url: String(row.webhook_url),
          secret: String(row.webhook_secret ?? ""),
          perResult: num(row.webhook_per_result) === 1,
          state: String(row.webhook_state) as WebhookState,
          attempts: num(row.webhook_attempts),
          error: textOrNull(row.webhook_error),
          sent: num(row.webhook_sent),
          dropped: num(row.webhook_dropped)
        }
})

/** `sql.insert` wants a non-empty array; callers check for empty input first. */
type NonEmpty = readonly [Record<string, unknown>, ...Array<Record<string, unknown>>]
const nonEmpty = (rows: ReadonlyArray<Record<string, unknown>>) => rows as unknown as NonEmpty

const finalStates: ReadonlyArray<State> = ["done", "cancelled", "failed"]

/**
 * The store over the `SqlClient` in context (SQLite or PostgreSQL), after running the migrations.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* Migrations.run.pipe(Effect.orDie)

  const get = (id: string, owner?: string) =>
    (owner === undefined
      ? sql`SELECT * FROM rcpt_jobs WHERE id = ${id}`
      : sql`SELECT * FROM rcpt_jobs WHERE id = ${id} AND owner = ${owner}`
    ).pipe(Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toJob)))

  return JobStore.of({
    create: (job) =>
      Effect.gen(function* () {
        yield* sql`INSERT INTO rcpt_jobs ${sql.insert({
          id: job.id,
          owner: job.owner,
          state: "receiving",
          options: job.options,
          created_at: job.now,
          updated_at: job.now,
          webhook_url: job.webhook?.url ?? null,
          webhook_secret: job.webhook?.secret ?? null,
          webhook_per_result: job.webhook?.perResult === true ? 1 : 0
        })}`
        return Option.getOrThrow(yield* get(job.id))
      }),
    appendInputs: (id, from, addresses) =>
      addresses.length === 0
        ? Effect.void
        : sql`INSERT INTO rcpt_job_inputs ${sql.insert(
            nonEmpty(addresses.map((address, i) => ({ job_id: id, position: from + i, address })))
          )} ON CONFLICT (job_id, position) DO NOTHING`.pipe(Effect.asVoid),
    seal: (id, total, now) =>
      sql`UPDATE rcpt_jobs SET state = 'queued', total = ${total}, updated_at = ${now}
          WHERE id = ${id} AND state = 'receiving'`.pipe(Effect.asVoid),
    discard: (id) =>
      sql.withTransaction(
        Effect.all(
          [
            sql`DELETE FROM rcpt_job_results WHERE job_id = ${id}`,
            sql`DELETE FROM rcpt_job_inputs WHERE job_id = ${id}`,
            sql`DELETE FROM rcpt_jobs WHERE id = ${id}`
          ],
          { discard: true }
        )
      ),
    get,
    list: (owner, limit) =>
      sql`SELECT * FROM rcpt_jobs WHERE owner = ${owner} ORDER BY created_at DESC, id LIMIT ${limit}`.pipe(
        Effect.map((rows) => rows.map(toJob))
      ),
    inStates: (states) =>
      sql`SELECT * FROM rcpt_jobs WHERE ${sql.in("state", states)} ORDER BY created_at, id`.pipe(
        Effect.map((rows) => rows.map(toJob))
      ),
    transition: (id, from, to, now, error) => {
      const started = to === "running" ? sql`, started_at = COALESCE(started_at, ${now})` : sql``
      const finished = finalStates.includes(to) ? sql`, finished_at = ${now}` : sql``
      const guard = from.length === 0 ? sql`` : sql` AND ${sql.in("state", from)}`
      return sql`UPDATE rcpt_jobs SET state = ${to}, updated_at = ${now}, error = ${error ?? null}${started}${finished}
                 WHERE id = ${id}${guard} RETURNING id`.pipe(Effect.map((rows) => rows.length > 0))
    },
    pending: (id, after, limit) =>
      sql<{ position: unknown; address: string }>`SELECT i.position, i.address FROM rcpt_job_inputs i
          LEFT JOIN rcpt_job_results r ON r.job_id = i.job_id AND r.position = i.position
          WHERE i.job_id = ${id} AND i.position > ${after} AND r.position IS NULL
          ORDER BY i.position LIMIT ${limit}`.pipe(
        Effect.map((rows) => rows.map((r) => ({ position: num(r.position), address: r.address })))
      ),
    record: (id, results, now) =>
      results.length === 0
        ? Effect.succeed(0)
        : sql.withTransaction(
            Effect.gen(function* () {
              // Lock the job row first: writers of one job take turns, so `seq` stays dense.
              const locked = yield* sql`UPDATE rcpt_jobs SET updated_at = ${now} WHERE id = ${id} RETURNING done`
              if (locked.length === 0) return 0
              const positions = results.map((r) => r.position)
              const present = new Set(
                (yield* sql<{ position: unknown }>`SELECT position FROM rcpt_job_results
                    WHERE job_id = ${id} AND ${sql.in("position", positions)}`).map((r) => num(r.position))
              )
              const fresh: Array<Result> = []
              for (const r of results) {
                if (!present.has(r.position)) {
                  present.add(r.position)
                  fresh.push(r)
                }
              }
              if (fresh.length === 0) return 0
              const done = num(locked[0]!.done)
              yield* sql`INSERT INTO rcpt_job_results ${sql.insert(
                nonEmpty(
                  fresh.map((r, i) => ({
                    job_id: id,
                    position: r.position,
                    seq: done + i + 1,
                    verdict: r.verdict,
                    data: r.data
                  }))
                )
              )} ON CONFLICT (job_id, position) DO NOTHING`
              const by = { deliverable: 0, undeliverable: 0, risky: 0, unknown: 0 }
              for (const r of fresh) by[r.verdict]++
              yield* sql`UPDATE rcpt_jobs SET done = done + ${fresh.length},
                  deliverable = deliverable + ${by.deliverable}, undeliverable = undeliverable + ${by.undeliverable},
                  risky = risky + ${by.risky}, unknown = unknown + ${by.unknown}
                  WHERE id = ${id}`
              return fresh.length
            })
          ),
    results: (id, options) => {
      const filter =
        options.verdicts === undefined || options.verdicts.length === 0
          ? sql``
          : sql` AND ${sql.in("verdict", options.verdicts)}`
      return sql<Record<string, unknown>>`SELECT position, seq, verdict, data FROM rcpt_job_results
          WHERE job_id = ${id} AND seq > ${options.after}${filter} ORDER BY seq LIMIT ${options.limit}`.pipe(
        Effect.map((rows) =>
          rows.map((r) => ({
            position: num(r.position),
            seq: num(r.seq),
            verdict: String(r.verdict) as Verdict,
            data: String(r.data)
          }))
        )
      )
    },
    webhookState: (id, update) => {
      const sets = [
        update.state === undefined ? undefined : sql`webhook_state = ${update.state}`,
        update.attempts === undefined ? undefined : sql`webhook_attempts = ${update.attempts}`,
        update.error === undefined ? undefined : sql`webhook_error = ${update.error}`,
        update.sent === undefined ? undefined : sql`webhook_sent = ${update.sent}`,
        update.dropped === undefined ? undefined : sql`webhook_dropped = ${update.dropped}`
      ].filter((s) => s !== undefined)
      return sets.length === 0
        ? Effect.void
        : sql`UPDATE rcpt_jobs SET ${sql.csv(sets)} WHERE id = ${id}`.pipe(Effect.asVoid)
    }
  })
})

/**
 * The store over the `SqlClient` provided to it.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<JobStore, never, SqlClient.SqlClient> = Layer.effect(JobStore, make)
