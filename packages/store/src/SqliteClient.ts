/**
 * An Effect `SqlClient` over Node's built-in `node:sqlite`: the embedded store, one file in WAL
 * mode, no native addon.
 *
 * Written by hand because no published SQLite driver works with effect 4.1 (the 4.x betas of
 * `@effect/sql-sqlite-node` import `effect/unstable/sql/*`, which 4.1 no longer has). Effect ships
 * the parts that matter (`Statement.makeCompilerSqlite`, `SqlClient.makeSqliteAcquirers`,
 * `SqlError.classifySqliteError`); this module is only the connection that runs compiled SQL.
 *
 * **Gotchas**
 * - One connection, behind a semaphore: a `.stream` holds it until the stream ends, so long reads
 *   should page (keyset) instead.
 * - node:sqlite binds null, numbers, bigints, strings and bytes only: booleans become 0/1 and
 *   Dates ISO strings here.
 *
 * @since 0.1.0
 */
import { Effect, Layer, Semaphore, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient, SqlConnection, SqlError, Statement } from "effect/sql"
import { DatabaseSync, type SQLInputValue } from "node:sqlite"

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** A file path, or `:memory:`. */
  readonly filename: string
  /** How long a statement waits for a lock another process holds (default 5 s). */
  readonly busyTimeoutMs?: number | undefined
}

const toSqlError = (cause: unknown, operation: string) => {
  // node:sqlite reports SQLite's code as `errcode`; the classifier reads `errno`.
  const withErrno =
    typeof cause === "object" && cause !== null && "errcode" in cause && !("errno" in cause)
      ? Object.assign(cause, { errno: (cause as { errcode: unknown }).errcode })
      : cause
  return new SqlError.SqlError({
    reason: SqlError.classifySqliteError(withErrno, {
      message: cause instanceof Error ? cause.message : `SQLite ${operation} failed`,
      operation
    })
  })
}

const bindable = (value: unknown): SQLInputValue => {
  if (typeof value === "boolean") return value ? 1 : 0
  if (value instanceof Date) return value.toISOString()
  if (value === undefined) return null
  return value as SQLInputValue
}

const makeConnection = (db: DatabaseSync): SqlConnection.Connection => {
  const run = <A>(
    sql: string,
    params: ReadonlyArray<unknown>,
    arrays: boolean
  ): Effect.Effect<Array<A>, SqlError.SqlError> =>
    Effect.try({
      try: () => {
        const statement = db.prepare(sql)
        statement.setReturnArrays(arrays)
        const bound = params.map(bindable)
        // A statement without result columns (INSERT without RETURNING, DDL) is run, not read.
        if (statement.columns().length === 0) {
          statement.run(...bound)
          return []
        }
        // Objects, or arrays after setReturnArrays(true): node:sqlite types both as objects.
        return statement.all(...bound) as Array<A>
      },
      catch: (cause) => toSqlError(cause, "execute")
    })
  const rows = (
    sql: string,
    params: ReadonlyArray<unknown>,
    transformRows: (<A extends object>(row: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined
  ) => {
    const effect = run<object>(sql, params, false)
    return transformRows === undefined ? effect : Effect.map(effect, transformRows)
  }
  return {
    execute: rows,
    executeRaw: (sql, params) => run(sql, params, false),
    executeUnprepared: rows,
    executeValues: (sql, params) => run<ReadonlyArray<unknown>>(sql, params, true),
    executeValuesUnprepared: (sql, params) => run<ReadonlyArray<unknown>>(sql, params, true),
    executeStream: (sql, params, transformRows) => Stream.fromIterableEffect(rows(sql, params, transformRows))
  }
}

/**
 * A scoped `SqlClient` on one SQLite file (created if missing), in WAL mode with
 * `synchronous=NORMAL` (a committed transaction survives a process crash; WAL makes readers and
 * the writer not block each other) and foreign keys on. Closed with the scope.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options) =>
  Effect.gen(function* () {
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => new DatabaseSync(options.filename, { timeout: options.busyTimeoutMs ?? 5_000 }),
        catch: (cause) => toSqlError(cause, "open")
      }),
      (db) => Effect.sync(() => db.isOpen && db.close())
    )
    yield* Effect.try({
      try: () => {
        if (options.filename !== ":memory:") db.exec("PRAGMA journal_mode = WAL")
        db.exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
      },
      catch: (cause) => toSqlError(cause, "configure")
    })
    const connection = makeConnection(db)
    const acquirers = SqlClient.makeSqliteAcquirers({
      connection: Effect.succeed(connection),
      semaphore: yield* Semaphore.make(1),
      isTransaction: () => db.isTransaction
    })
    return yield* SqlClient.make({
      ...acquirers,
      compiler: Statement.makeCompilerSqlite(),
      driver: "sqlite",
      spanAttributes: [["db.system.name", "sqlite"]]
    })
  })

/**
 * `SqlClient` on a SQLite file (see {@link make}).
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<SqlClient.SqlClient, SqlError.SqlError> =>
  Layer.effect(SqlClient.SqlClient, make(options)).pipe(Layer.provide(Reactivity.layer))
