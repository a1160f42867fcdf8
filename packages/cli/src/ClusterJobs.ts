/**
 * `rcpt serve --cluster`: jobs go to the cluster's runners instead of this process's engine. The
 * server is a client-only cluster member; its `JobRunner` is @rcpt/cluster's `Dispatcher` (with
 * the same webhook listener as a standalone server) and `GET /v1/cluster` reads the cluster's
 * tables. Loaded only by `serve --cluster`.
 *
 * @since 0.2.0
 */
import { Effect, Layer, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { ClusterStatus, Dispatcher, Runner } from "@rcpt/cluster"
import { ClusterApi, JobRunner, Webhooks } from "@rcpt/http"
import { JobStore } from "@rcpt/store"
import type { NodeVerifier } from "@rcpt/node"

/**
 * The job store, the dispatcher as the `JobRunner`, and the cluster's status, on PostgreSQL.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (url: Redacted.Redacted, verifier: NodeVerifier.Options) => {
  const runner = Layer.unwrap(
    Effect.map(Webhooks.make(), (listener) =>
      Layer.effect(JobRunner.JobRunner, Dispatcher.make(Dispatcher.defaults, listener))
    )
  )
  const info = Layer.effect(
    ClusterApi.ClusterInfo,
    Effect.map(Effect.service(SqlClient.SqlClient), (sql) => ({
      status: ClusterStatus.read().pipe(
        Effect.provideService(SqlClient.SqlClient, sql),
        Effect.mapError((e) => new Error(e.message))
      )
    }))
  )
  return Layer.mergeAll(runner, info).pipe(
    Layer.provideMerge(JobStore.layer),
    Layer.provide(Layer.mergeAll(Runner.layerSharding({ runner: Option.none() }), Runner.layerVerifier(verifier))),
    Layer.provideMerge(Runner.layerPg(Redacted.value(url)))
  )
}
