/**
 * The job tables, in SQL that SQLite and PostgreSQL both read the same way: one set of
 * migrations for both backends.
 *
 * Portable on purpose: no BIGINT (PostgreSQL returns int8 as a bigint), times as milliseconds in
 * DOUBLE PRECISION, JSON as TEXT, no AUTOINCREMENT/SERIAL (positions and completion sequence
 * numbers are assigned by the store).
 *
 * - `rcpt_jobs`: one row per job, with its counters (kept in step with the results in the same
 *   transaction) and its webhook's delivery state.
 * - `rcpt_job_inputs`: the uploaded list, keyed by job and input position (1-based).
 * - `rcpt_job_results`: at most one result per input position (the primary key makes a repeated
 *   write a no-op), with `seq`, its place in completion order (dense, from 1), the download cursor.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { Migrator, SqlClient } from "effect/sql"

/**
 * The table recording which migrations ran.
 *
 * @category constants
 * @since 0.1.0
 */
export const table = "rcpt_migrations"

const createJobs = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE rcpt_jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    state TEXT NOT NULL,
    options TEXT NOT NULL,
    total INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    deliverable INTEGER NOT NULL DEFAULT 0,
    undeliverable INTEGER NOT NULL DEFAULT 0,
    risky INTEGER NOT NULL DEFAULT 0,
    unknown INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    updated_at DOUBLE PRECISION NOT NULL,
    webhook_url TEXT,
    webhook_secret TEXT,
    webhook_per_result INTEGER NOT NULL DEFAULT 0,
    webhook_state TEXT NOT NULL DEFAULT 'none',
    webhook_attempts INTEGER NOT NULL DEFAULT 0,
    webhook_error TEXT,
    webhook_sent INTEGER NOT NULL DEFAULT 0,
    webhook_dropped INTEGER NOT NULL DEFAULT 0
  )`
  yield* sql`CREATE INDEX rcpt_jobs_owner ON rcpt_jobs (owner, created_at)`
  yield* sql`CREATE INDEX rcpt_jobs_state ON rcpt_jobs (state)`
  yield* sql`CREATE TABLE rcpt_job_inputs (
    job_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    address TEXT NOT NULL,
    PRIMARY KEY (job_id, position)
  )`
  yield* sql`CREATE TABLE rcpt_job_results (
    job_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (job_id, position)
  )`
  yield* sql`CREATE INDEX rcpt_job_results_seq ON rcpt_job_results (job_id, seq)`
})

/**
 * Every migration, by id and name.
 *
 * @category constants
 * @since 0.1.0
 */
export const loader = Migrator.fromRecord({ "1_create_jobs": createJobs })

/**
 * Runs the migrations not yet run (a no-op when there are none). Safe to run from several
 * processes at once on PostgreSQL (the migrator locks its table).
 *
 * @category running
 * @since 0.1.0
 */
export const run = Migrator.make({})({ loader, table })
