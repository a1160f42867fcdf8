// The JobStore suite on the embedded backend (a SQLite file in WAL mode, and :memory:), and the
// node:sqlite driver's own behaviour: WAL, data kept across reopen, errors classified.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { SqlClient, SqlError } from "effect/sql"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { Database, JobStore, SqliteClient } from "../src/index.ts"
import { suite } from "./suite.ts"

const dir = mkdtempSync(join(tmpdir(), "rcpt-store-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const withClient = (filename: string) => JobStore.layer.pipe(Layer.provideMerge(SqliteClient.layer({ filename })))

suite("sqlite file", withClient(join(dir, "jobs.db")))
suite("sqlite :memory:", withClient(":memory:"))

describe("SqliteClient", () => {
  it.effect("a file is in WAL mode and keeps its rows across a reopen", () =>
    Effect.gen(function* () {
      const filename = join(dir, "reopen.db")
      const write = Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const [mode] = yield* sql<{ journal_mode: string }>`PRAGMA journal_mode`
        assert.strictEqual(mode?.journal_mode, "wal")
        yield* sql`CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, b INTEGER)`
        yield* sql`INSERT INTO t ${sql.insert({ k: "a", n: 1, b: true })}`
      })
      yield* write.pipe(Effect.provide(SqliteClient.layer({ filename })))
      const rows = yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        return yield* sql<{ k: string; n: number; b: number }>`SELECT k, n, b FROM t`
      }).pipe(Effect.provide(SqliteClient.layer({ filename })))
      assert.deepStrictEqual(rows, [{ k: "a", n: 1, b: 1 }])
    })
  )

  it.effect("SQLite's codes become SqlError reasons; a failed transaction rolls back", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE u (k TEXT PRIMARY KEY, m TEXT UNIQUE)`
      yield* sql`INSERT INTO u (k, m) VALUES ('x', 'x')`
      const unique = yield* Effect.flip(sql`INSERT INTO u (k, m) VALUES ('z', 'x')`)
      assert.instanceOf(unique, SqlError.SqlError)
      assert.strictEqual(unique.reason._tag, "UniqueViolation")
      const primary = yield* Effect.flip(sql`INSERT INTO u (k) VALUES ('x')`)
      assert.strictEqual(primary.reason._tag, "ConstraintError")
      const bad = yield* Effect.flip(sql`SELEC nothing`)
      assert.notInclude(["UniqueViolation", "ConstraintError"], bad.reason._tag)
      yield* Effect.flip(
        sql.withTransaction(Effect.andThen(sql`INSERT INTO u (k) VALUES ('y')`, sql`INSERT INTO u (k) VALUES ('x')`))
      )
      const rows = yield* sql<{ k: string }>`SELECT k FROM u ORDER BY k`
      assert.deepStrictEqual(rows, [{ k: "x" }])
      const values = yield* sql`SELECT k, 1 AS one FROM u`.values
      assert.deepStrictEqual(values, [["x", 1]])
    }).pipe(Effect.provide(SqliteClient.layer({ filename: ":memory:" })))
  )

  it("reads sqlite: and postgres:// targets, and nothing else", () => {
    assert.deepStrictEqual(Option.getOrThrow(Database.parse("sqlite:/tmp/x.db")), {
      _tag: "Sqlite",
      filename: "/tmp/x.db"
    })
    for (const bad of ["sqlite:", "mysql://h/db", "/tmp/x.db", "postgres://"]) {
      assert.strictEqual(Database.parse(bad)._tag, "None", bad)
    }
    for (const url of ["postgres://u:pw@127.0.0.1:5432/db", "postgresql://127.0.0.1/db"]) {
      const target = Database.parse(url)
      assert.strictEqual(target._tag, "Some")
      if (target._tag === "Some") assert.notInclude(Database.describe(target.value), "pw")
    }
  })
})
