/**
 * Bulk jobs in one layer: the `JobStore` in a database (`Database.Target`, from
 * `rcpt serve --db`) and the `JobRunner` with webhooks, over the process's `Verifier`.
 *
 * @since 0.1.0
 */
import { Layer } from "effect"
import type { SqlError } from "effect/sql"
import { Database, type JobStore } from "@rcpt/store"
import type { Verifier } from "@rcpt/verifier"
import * as JobRunner from "./JobRunner.ts"
import * as Webhooks from "./Webhooks.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  readonly db: Database.Target
  readonly policy?: JobRunner.Policy | undefined
  readonly webhooks?: Webhooks.Options | undefined
}

/**
 * The store (migrations run) and the runner (interrupted jobs resumed) for `rcpt serve`.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options: Options
): Layer.Layer<JobStore.JobStore | JobRunner.JobRunner, SqlError.SqlError, Verifier.Verifier> =>
  Webhooks.layerRunner(options.policy, options.webhooks).pipe(Layer.provideMerge(Database.layerStore(options.db)))

/**
 * Jobs in memory (SQLite `:memory:`): for tests and servers that keep nothing.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<JobStore.JobStore | JobRunner.JobRunner, SqlError.SqlError, Verifier.Verifier> =
  layer({ db: { _tag: "Sqlite", filename: ":memory:" } })
