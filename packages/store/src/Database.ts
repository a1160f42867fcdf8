/**
 * Which database a store lives in, from one string: `sqlite:FILE` (or `sqlite::memory:`) for the
 * embedded store, `postgres://...` / `postgresql://...` for PostgreSQL. The string is what
 * `rcpt serve --db` takes.
 *
 * @since 0.1.0
 */
import { PgClient } from "@effect/sql-pg"
import { Duration, Layer, Option, Redacted } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import * as JobStore from "./JobStore.ts"
import * as SqliteClient from "./SqliteClient.ts"

/**
 * @category models
 * @since 0.1.0
 */
export type Target =
  | { readonly _tag: "Sqlite"; readonly filename: string }
  | { readonly _tag: "Postgres"; readonly url: Redacted.Redacted }

/**
 * Reads `sqlite:FILE` or a `postgres://` / `postgresql://` URL; none for anything else.
 *
 * @category parsing
 * @since 0.1.0
 */
export const parse = (text: string): Option.Option<Target> => {
  if (text.startsWith("sqlite:")) {
    const filename = text.slice("sqlite:".length)
    return filename === "" ? Option.none() : Option.some({ _tag: "Sqlite", filename })
  }
  if (/^postgres(ql)?:\/\/./.test(text)) return Option.some({ _tag: "Postgres", url: Redacted.make(text) })
  return Option.none()
}

/**
 * The target as text with any password hidden, for logs.
 *
 * @category formatting
 * @since 0.1.0
 */
export const describe = (target: Target): string =>
  target._tag === "Sqlite" ? `sqlite:${target.filename}` : Redacted.value(target.url).replace(/:[^:@/]*@/, ":***@")

/**
 * The `SqlClient` for a target. PostgreSQL gets a small pool that gives up connecting after 10 s
 * (a database that is down is an error, not a hang).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerClient = (target: Target): Layer.Layer<SqlClient.SqlClient, SqlError.SqlError> =>
  target._tag === "Sqlite"
    ? SqliteClient.layer({ filename: target.filename })
    : PgClient.layer({ url: target.url, maxConnections: 8, connectTimeout: Duration.seconds(10) })

/**
 * A `JobStore` in the target, its migrations run.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerStore = (target: Target): Layer.Layer<JobStore.JobStore, SqlError.SqlError> =>
  JobStore.layer.pipe(Layer.provide(layerClient(target)))

/**
 * A `JobStore` in memory (SQLite `:memory:`): the in-memory layer for tests and one-off runs.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<JobStore.JobStore, SqlError.SqlError> = layerStore({
  _tag: "Sqlite",
  filename: ":memory:"
})
