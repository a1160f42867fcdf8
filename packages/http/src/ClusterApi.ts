/**
 * `GET /v1/cluster`: the cluster behind `rcpt serve --cluster` as operators see it (runners and
 * their health, batches waiting per MX host). The server reads it through {@link ClusterInfo},
 * which the cluster layer provides; a server that runs jobs itself answers `mode: "standalone"`.
 *
 * @since 0.2.0
 */
import { Context, Effect, Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "effect/http-api"
import { StorageUnavailable } from "./JobsApi.ts"

/**
 * @category schemas
 * @since 0.2.0
 */
export const ClusterStatus = Schema.Struct({
  mode: Schema.Literals(["standalone", "cluster"]),
  runners: Schema.Array(
    Schema.Struct({
      address: Schema.String,
      healthy: Schema.Boolean,
      /** Seconds since the runner's last heartbeat. */
      heartbeatAge: Schema.Number,
      /** Shards it holds a SQL lock on (0 where PostgreSQL advisory locks are used). */
      shards: Schema.Number
    })
  ),
  /** Batches stored and not processed yet (greylisting retries waiting for their time included). */
  pendingBatches: Schema.Number,
  /** The MX host entities with the most pending batches. */
  busiest: Schema.Array(Schema.Struct({ mx: Schema.String, pending: Schema.Number }))
}).annotate({ identifier: "ClusterStatus" })

/**
 * @category models
 * @since 0.2.0
 */
export type ClusterStatus = typeof ClusterStatus.Type

/**
 * Where the status comes from; standalone (no runners) unless the cluster layer provides one.
 *
 * @category services
 * @since 0.2.0
 */
export const ClusterInfo = Context.Reference<{ readonly status: Effect.Effect<ClusterStatus, Error> }>(
  "@rcpt/http/ClusterInfo",
  {
    defaultValue: () => ({
      status: Effect.succeed({ mode: "standalone", runners: [], pendingBatches: 0, busiest: [] } as const)
    })
  }
)

const status = HttpApiEndpoint.get("status", "/v1/cluster", {
  success: ClusterStatus,
  error: StorageUnavailable
})
  .annotate(OpenApi.Summary, "The cluster: runners, health, pending batches")
  .annotate(
    OpenApi.Description,
    "With `rcpt serve --cluster`, the runners registered in the cluster's database, whether each is healthy, and the batches waiting per MX host. Otherwise `mode: standalone`."
  )

/**
 * @category api
 * @since 0.2.0
 */
export class ClusterGroup extends HttpApiGroup.make("cluster").add(status) {}
