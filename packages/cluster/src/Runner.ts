/**
 * A cluster runner process (`rcpt runner`): effect/cluster over sockets, PostgreSQL for the
 * runner registry, shard locks and persisted batches, and the MX host entity's handlers with this
 * runner's verifier (its DNS, source address, EHLO name, per-host limits).
 *
 * Failover is tuned for this workload ({@link failover}): effect/cluster's defaults move a killed
 * runner's shards after about 38 s (the shard lock expiry plus the assignment refresh); a
 * verification batch is seconds long, so the lock here expires after 4 s and is refreshed every
 * second, and a dead runner is noticed within 2 s.
 *
 * @since 0.1.0
 */
import { NodeClusterSocket } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Duration, Layer, Option, Redacted } from "effect"
import { RunnerAddress } from "effect/cluster"
import type { ShardingConfig } from "effect/cluster"
import { NodeVerifier } from "@rcpt/node"
import { JobStore } from "@rcpt/store"
import * as Worker from "./Worker.ts"

/**
 * Sharding settings for fast failover: a SIGKILLed runner's MX hosts move within ~5 s.
 *
 * @category constants
 * @since 0.1.0
 */
export const failover: Partial<ShardingConfig.ShardingConfig["Service"]> = {
  shardLockExpiration: "3 seconds",
  shardLockRefreshInterval: "500 millis",
  refreshAssignmentsInterval: "500 millis",
  runnerHealthCheckInterval: "1 second",
  entityMessagePollInterval: "1 second",
  entityReplyPollInterval: "1 second",
  sendRetryInterval: "200 millis",
  runnerJoinDebounce: "200 millis"
}

/**
 * The PostgreSQL client a runner (or a dispatching server) shares with the job store.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerPg = (url: string) =>
  PgClient.layer({ url: Redacted.make(url), maxConnections: 8, connectTimeout: Duration.seconds(10) })

/**
 * What the bulk engine runs on in this process (`Bulk.Requirements`, the routes included):
 * `NodeVerifier.layerRequirements`. In-memory state is right for a runner: the MX host entity
 * lives on one runner at a time, so its per-host permits and catch-all memory are the cluster's.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerVerifier = NodeVerifier.layerRequirements

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** Where other members reach this runner, and where it listens. */
  readonly host: string
  readonly port: number
  /** Batches of one MX host entity at once (`--per-host`). */
  readonly perHost: number
  /** Named in results and logs; the runner's address by default. */
  readonly name?: string | undefined
  readonly sharding?: Partial<ShardingConfig.ShardingConfig["Service"]> | undefined
}

/**
 * The sharding of a cluster member over sockets with SQL storage: a runner, or (`clientOnly`)
 * the server that dispatches jobs.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerSharding = (options: {
  readonly runner: Option.Option<{ readonly host: string; readonly port: number }>
  readonly sharding?: Partial<ShardingConfig.ShardingConfig["Service"]> | undefined
}) =>
  Option.match(options.runner, {
    onNone: () => NodeClusterSocket.layer({ clientOnly: true, shardingConfig: { ...failover, ...options.sharding } }),
    onSome: ({ host, port }) =>
      NodeClusterSocket.layer({
        shardingConfig: {
          ...failover,
          ...options.sharding,
          runnerAddress: Option.some(RunnerAddress.make(host, port))
        }
      })
  })

/**
 * A runner: the MX host entity's handlers on sharding over sockets. Needs the verifier's
 * requirements (`Bulk.Requirements`, from `NodeVerifier`) and a `SqlClient` on PostgreSQL
 * (see {@link layerPg}).
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options) =>
  Worker.layer({ concurrency: options.perHost, runner: options.name ?? `${options.host}:${options.port}` }).pipe(
    Layer.provide(layerSharding({ runner: Option.some(options), sharding: options.sharding })),
    Layer.provide(JobStore.layer)
  )
