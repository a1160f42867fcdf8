/**
 * The cluster as operators see it (`GET /v1/cluster`): the runners effect/cluster has registered,
 * whether each is healthy and when it last said so, the shards they hold SQL locks on, and the
 * batches waiting per MX host entity. Read from the cluster's own tables, so any member (the
 * server too, which is only a client) can answer. The shape is @rcpt/http's `ClusterStatus`.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * @category models
 * @since 0.1.0
 */
export interface Status {
  readonly mode: "cluster"
  readonly runners: ReadonlyArray<{
    readonly address: string
    readonly healthy: boolean
    readonly heartbeatAge: number
    readonly shards: number
  }>
  readonly pendingBatches: number
  readonly busiest: ReadonlyArray<{ readonly mx: string; readonly pending: number }>
}

const num = (value: unknown) => (value === null || value === undefined ? 0 : Number(value))

/** Kind 0 of effect/cluster's message table: a request (the others are acks and interrupts). */
const requestKind = 0

/**
 * Reads the status (PostgreSQL); before any runner created the tables, an empty cluster.
 *
 * @category operations
 * @since 0.1.0
 */
export const read = Effect.fn("ClusterStatus.read")(function* (prefix = "cluster") {
  const sql = yield* SqlClient.SqlClient
  const missing = (e: { readonly message: string }) =>
    /does not exist/.test(e.message) ? Effect.succeed([]) : Effect.fail(e)
  const runners = yield* sql<Record<string, unknown>>`SELECT r.address, r.healthy,
        EXTRACT(EPOCH FROM (NOW() - r.last_heartbeat)) AS age,
        (SELECT COUNT(*) FROM ${sql(`${prefix}_locks`)} l WHERE l.address = r.address) AS shards
      FROM ${sql(`${prefix}_runners`)} r ORDER BY r.address`.pipe(Effect.catch(missing))
  const pending = yield* sql<Record<string, unknown>>`SELECT entity_id, COUNT(*) AS n
      FROM ${sql(`${prefix}_messages`)} WHERE processed = ${false} AND kind = ${requestKind}
      GROUP BY entity_id ORDER BY n DESC`.pipe(Effect.catch(missing))
  const status: Status = {
    mode: "cluster",
    runners: runners.map((r) => ({
      address: String(r.address),
      healthy: r.healthy === true || r.healthy === 1 || r.healthy === "t",
      heartbeatAge: Math.round(num(r.age) * 10) / 10,
      shards: num(r.shards)
    })),
    pendingBatches: pending.reduce((n, r) => n + num(r.n), 0),
    busiest: pending.slice(0, 10).map((r) => ({ mx: String(r.entity_id), pending: num(r.n) }))
  }
  return status
})
