/**
 * The cluster as operators see it (`GET /v1/cluster`): the runners effect/cluster has registered,
 * whether each is healthy and when it last said so, which of them own shards, and the batches
 * waiting per MX host entity. Read from the cluster's own tables, so any member (or the server,
 * which is only a client) can answer.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { SqlClient } from "effect/sql"

/**
 * @category models
 * @since 0.1.0
 */
export const Runner = Schema.Struct({
  address: Schema.String,
  healthy: Schema.Boolean,
  /** Seconds since its last heartbeat. */
  heartbeatAge: Schema.Number,
  /** Shards it holds a lock on (SQL locks; 0 where PostgreSQL advisory locks are used instead). */
  shards: Schema.Number
})

/**
 * @category models
 * @since 0.1.0
 */
export const Status = Schema.Struct({
  runners: Schema.Array(Runner),
  /** Batches stored and not processed yet (greylisting retries waiting for their time included). */
  pendingBatches: Schema.Number,
  /** The MX host entities with the most pending batches. */
  busiest: Schema.Array(Schema.Struct({ mx: Schema.String, pending: Schema.Number }))
})

/**
 * @category models
 * @since 0.1.0
 */
export type Status = typeof Status.Type

const num = (value: unknown) => (value === null || value === undefined ? 0 : Number(value))

/**
 * Reads the status; before any runner created the tables, an empty cluster.
 *
 * @category operations
 * @since 0.1.0
 */
export const read = Effect.fn("ClusterStatus.read")(function* (prefix = "cluster") {
  const sql = yield* SqlClient.SqlClient
  const runners = yield* sql<Record<string, unknown>>`SELECT r.address, r.healthy,
        EXTRACT(EPOCH FROM (NOW() - r.last_heartbeat)) AS age,
        (SELECT COUNT(*) FROM ${sql(`${prefix}_locks`)} l WHERE l.address = r.address) AS shards
      FROM ${sql(`${prefix}_runners`)} r ORDER BY r.address`.pipe(Effect.catch(() => Effect.succeed([])))
  const pending = yield* sql<Record<string, unknown>>`SELECT entity_id, COUNT(*) AS n
      FROM ${sql(`${prefix}_messages`)} WHERE processed = ${false} AND kind = 0
      GROUP BY entity_id ORDER BY n DESC`.pipe(Effect.catch(() => Effect.succeed([])))
  return {
    runners: runners.map((r) => ({
      address: String(r.address),
      healthy: r.healthy === true || r.healthy === 1 || r.healthy === "t",
      heartbeatAge: Math.round(num(r.age) * 10) / 10,
      shards: num(r.shards)
    })),
    pendingBatches: pending.reduce((n, r) => n + num(r.n), 0),
    busiest: pending.slice(0, 10).map((r) => ({ mx: String(r.entity_id), pending: num(r.n) }))
  } satisfies Status
})
