/**
 * @rcpt/store: durable bulk jobs behind the `JobStore` service, on SQLite (node:sqlite, one file,
 * the embedded default) or PostgreSQL (@effect/sql-pg), with one set of migrations.
 *
 * @since 0.1.0
 */
export * as Database from "./Database.ts"
export * as JobResult from "./JobResult.ts"
export * as JobStore from "./JobStore.ts"
export * as Migrations from "./Migrations.ts"
export * as SqliteClient from "./SqliteClient.ts"
