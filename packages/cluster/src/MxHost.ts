/**
 * The MX host entity: one per group key (`Bulk.groupKey`, the key the bulk engine groups by), so
 * domains that share their MX hosts share an entity, and the shard that owns the entity decides
 * the one runner that talks to those hosts at a time. Per-host limits and what a runner learns of
 * a host then hold across the whole cluster, not per process.
 *
 * A batch is a persisted message: a runner that dies mid-batch leaves it unprocessed in storage,
 * and the next owner of the shard runs it again. Its primary key (job, batch, attempt) makes a
 * batch sent twice (a dispatcher restarted half way) one message. Results are written keyed by
 * (job, input position), so a batch run twice writes nothing twice.
 *
 * A greylisted address does not hold a runner while it waits: it goes back as a new batch of the
 * next attempt, delivered at the time the greylisting schedule says ({@link Batch.notBefore}).
 *
 * @since 0.1.0
 */
import { DateTime, PrimaryKey, Schema } from "effect"
import { ClusterSchema, DeliverAt, Entity } from "effect/cluster"
import { Rpc } from "effect/rpc"

/**
 * One input of a job: its position in the uploaded list and the address as given.
 *
 * @category models
 * @since 0.1.0
 */
export const Input = Schema.Struct({ position: Schema.Number, address: Schema.String })

/**
 * @category models
 * @since 0.1.0
 */
export type Input = typeof Input.Type

/**
 * A batch of one job's inputs whose domains share the entity's MX hosts.
 *
 * @category models
 * @since 0.1.0
 */
export class Batch extends Schema.Class<Batch>("@rcpt/cluster/Batch")({
  jobId: Schema.String,
  /** Unique within the job, the same whenever the same inputs are cut into a batch again. */
  batch: Schema.String,
  /** 0 for the first ask; n for the n-th retry of greylisted addresses. */
  attempt: Schema.Number,
  /** Not delivered before this time (epoch milliseconds); 0 means now. */
  notBefore: Schema.Number,
  inputs: Schema.Array(Input)
}) {
  [PrimaryKey.symbol](): string {
    return `${this.jobId}/${this.batch}/${this.attempt}`
  }
  [DeliverAt.symbol](): DateTime.DateTime {
    return DateTime.makeUnsafe(this.notBefore)
  }
}

/**
 * What a batch did: results written now (a re-run writes 0), addresses sent back to wait.
 *
 * @category models
 * @since 0.1.0
 */
export const BatchDone = Schema.Struct({ written: Schema.Number, deferred: Schema.Number })

/**
 * @category rpcs
 * @since 0.1.0
 */
export const VerifyBatch = Rpc.make("VerifyBatch", { payload: Batch, success: BatchDone }).annotate(
  ClusterSchema.Persisted,
  true
)

/**
 * @category entities
 * @since 0.1.0
 */
export const MxHost = Entity.make("MxHost", [VerifyBatch])

/**
 * The prefix of a job's message ids in the cluster's message table (`message_id` is
 * `<entity type>/<entity id>/<rpc>/<primary key>` hashed; the primary key starts with the job id).
 *
 * @category constants
 * @since 0.1.0
 */
export const entityType = "MxHost"
