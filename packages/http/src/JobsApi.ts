/**
 * The contract of bulk jobs: a list handed over once, verified in the background, durable across
 * restarts, read back as JSONL or CSV.
 *
 * - `POST /v1/jobs` (the list as `application/json` array, `application/x-ndjson`, `text/plain`,
 *   `text/csv` with `?column=`, or `multipart/form-data` with a `file`) -> 202 {@link Job}
 * - `GET /v1/jobs` -> the caller's jobs; `GET /v1/jobs/{id}` -> one; `DELETE /v1/jobs/{id}` cancels
 * - `GET /v1/jobs/{id}/results?format=jsonl|csv&after=N&verdict=...` -> the results, streamed
 * - `GET /v1/jobs/{id}/events` -> progress as Server-Sent Events
 *
 * Another token's job is a 404, exactly like a job that does not exist.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { Multipart } from "effect/http"
import { HttpApiEndpoint, HttpApiError, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import type { JobStore } from "@rcpt/store"
import * as JobOptions from "./JobOptions.ts"

/**
 * The largest upload read (a list of ten million addresses fits); past it, 413.
 *
 * @category constants
 * @since 0.1.0
 */
export const maxUploadBytes = "512 MiB"

/**
 * The media types `POST /v1/jobs` reads as a byte stream.
 *
 * @category constants
 * @since 0.1.0
 */
export const listTypes = ["text/plain", "text/csv", "application/x-ndjson", "application/json"] as const

/**
 * @category schemas
 * @since 0.1.0
 */
export const JobState = Schema.Literals(["queued", "running", "done", "cancelled", "failed"]).annotate({
  identifier: "JobState"
})

/**
 * @category schemas
 * @since 0.1.0
 */
export const Counts = Schema.Struct({
  deliverable: Schema.Number,
  undeliverable: Schema.Number,
  risky: Schema.Number,
  unknown: Schema.Number
}).annotate({ identifier: "JobCounts" })

/**
 * @category schemas
 * @since 0.1.0
 */
export const WebhookStatus = Schema.Struct({
  url: Schema.String,
  perResult: Schema.Boolean,
  state: Schema.Literals(["none", "pending", "delivered", "failed"]),
  attempts: Schema.Number,
  error: Schema.NullOr(Schema.String),
  sent: Schema.Number.annotate({ description: "Per-result calls delivered" }),
  dropped: Schema.Number.annotate({ description: "Results not sent per result because the queue was full" })
}).annotate({ identifier: "WebhookStatus" })

/**
 * A job as the API shows it.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Job = Schema.Struct({
  id: Schema.String,
  state: JobState,
  total: Schema.Number.annotate({ description: "Input lines (addresses, and lines that could not be read)" }),
  done: Schema.Number,
  counts: Counts,
  rate: Schema.Number.annotate({ description: "Results per second since the job started" }),
  etaSeconds: Schema.NullOr(Schema.Number).annotate({ description: "Seconds left at the current rate" }),
  error: Schema.NullOr(Schema.String),
  createdAt: Schema.String,
  startedAt: Schema.NullOr(Schema.String),
  finishedAt: Schema.NullOr(Schema.String),
  webhook: Schema.NullOr(WebhookStatus),
  options: JobOptions.Overrides.annotate({
    description: "The verifier options this job asked for; the others are the server's"
  })
}).annotate({ identifier: "Job" })

/**
 * @category models
 * @since 0.1.0
 */
export type Job = typeof Job.Type

/**
 * @category schemas
 * @since 0.1.0
 */
export const JobList = Schema.Struct({ jobs: Schema.Array(Job) }).annotate({ identifier: "JobList" })

/**
 * Options of `POST /v1/jobs`, as query parameters (the body is the list).
 *
 * @category schemas
 * @since 0.1.0
 */
export const CreateQuery = {
  column: Schema.optionalKey(Schema.String).annotate({
    description: "CSV: the column with the addresses (default: one named email/mail/address, else the first with an @)"
  }),
  webhook: Schema.optionalKey(Schema.String).annotate({
    description: "URL called (POST, JSON) when the job ends, signed with HMAC-SHA256 in x-rcpt-signature"
  }),
  webhookSecret: Schema.optionalKey(Schema.String).annotate({
    description: "The job's signing secret (default: the token's webhook secret, see the README)"
  }),
  webhookPerResult: Schema.optionalKey(Schema.Literals(["true", "false"])).annotate({
    description: "Also POST results as they come, in batches (never slows verification; overflow is counted)"
  }),
  ...JobOptions.Query
}

/**
 * 404: no such job for this token (another token's job included).
 *
 * @category errors
 * @since 0.1.0
 */
export class JobNotFound extends HttpApiError.Problem<JobNotFound>()("JobNotFound", {
  type: "about:blank",
  status: 404,
  title: "Not Found"
}) {}

/**
 * 400: the upload could not be read (a malformed line, no address column, not UTF-8 text).
 *
 * @category errors
 * @since 0.1.0
 */
export class BadUpload extends HttpApiError.Problem<BadUpload>()("BadUpload", {
  type: "about:blank",
  status: 400,
  title: "Bad Request"
}) {}

/**
 * 400: a job's verifier options are not allowed (past the server's bounds, not a duration, not
 * available on this server).
 *
 * @category errors
 * @since 0.2.0
 */
export class BadOptions extends HttpApiError.Problem<BadOptions>()("BadOptions", {
  type: "about:blank",
  status: 400,
  title: "Bad Request"
}) {}

/**
 * 503: the database is down or full; nothing was lost, try again.
 *
 * @category errors
 * @since 0.1.0
 */
export class StorageUnavailable extends HttpApiError.Problem<StorageUnavailable>()("StorageUnavailable", {
  type: "about:blank",
  status: 503,
  title: "Service Unavailable"
}) {}

const id = { id: Schema.String }

const create = HttpApiEndpoint.post("create", "/v1/jobs", {
  query: CreateQuery,
  payload: [
    HttpApiSchema.StreamUint8Array({ contentType: [...listTypes], maxBytes: maxUploadBytes }),
    Schema.Struct({ file: Multipart.SingleFileSchema }).pipe(
      HttpApiSchema.asMultipartStream({ maxParts: 8, maxFileSize: maxUploadBytes })
    )
  ],
  success: Job.pipe(HttpApiSchema.status(202)),
  error: [BadUpload, BadOptions, StorageUnavailable]
})
  .annotate(OpenApi.Summary, "Start a job")
  .annotate(
    OpenApi.Description,
    "The list is streamed into storage as it arrives (any size, bounded memory); the answer comes as soon as it is stored, with state queued. text/plain: one address a line (blank lines and # comments skipped). text/csv: a header, the address column chosen by ?column=. application/json: an array of strings. application/x-ndjson: one JSON string a line. multipart/form-data: a file part named file (text or CSV). Any other type: 415. Verifier options for this job (mailFrom, vrfy, catchAllProbe, tls, timeout, recipientsPerSession, maxMxHosts) go in the query; the server's flags are their defaults and bounds (a 400 problem names the one past them), and the job keeps them across restarts."
  )

const list = HttpApiEndpoint.get("list", "/v1/jobs", {
  success: JobList,
  error: StorageUnavailable
}).annotate(OpenApi.Summary, "The caller's jobs, newest first")

const get = HttpApiEndpoint.get("get", "/v1/jobs/:id", {
  params: id,
  success: Job,
  error: [JobNotFound, StorageUnavailable]
}).annotate(OpenApi.Summary, "A job's state, counts per verdict, rate and ETA")

const cancel = HttpApiEndpoint.delete("cancel", "/v1/jobs/:id", {
  params: id,
  success: Job,
  error: [JobNotFound, StorageUnavailable]
})
  .annotate(OpenApi.Summary, "Cancel a job")
  .annotate(OpenApi.Description, "The results so far are kept. A job already over is returned as it is.")

const results = HttpApiEndpoint.get("results", "/v1/jobs/:id/results", {
  params: id,
  query: {
    format: Schema.optionalKey(Schema.Literals(["jsonl", "csv"])).annotate({
      description: "Default: from Accept (text/csv), else jsonl"
    }),
    after: Schema.optionalKey(
      Schema.NumberFromString.pipe(Schema.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0)))
    ).annotate({
      description:
        "Cursor: only results after this one in completion order; give the `cursor` of the last line read (JSONL field, CSV column), with or without a filter"
    }),
    verdict: Schema.optionalKey(Schema.String).annotate({
      description: "Only these verdicts, comma separated (deliverable,undeliverable,risky,unknown)"
    })
  },
  success: HttpApiSchema.StreamUint8Array({ contentType: ["application/x-ndjson", "text/csv"] }),
  error: [JobNotFound, StorageUnavailable]
})
  .annotate(OpenApi.Summary, "The results so far, streamed")
  .annotate(
    OpenApi.Description,
    "The same fields as rcpt bulk: JSONL lines are Verification objects plus `cursor` (their place in completion order); CSV has rcpt bulk's columns plus a last `cursor` column. To resume a download that stopped, filtered or not, ask again with after= the last cursor received."
  )

const events = HttpApiEndpoint.get("events", "/v1/jobs/:id/events", {
  params: id,
  success: HttpApiSchema.StreamSse({ data: Job }),
  error: [JobNotFound, StorageUnavailable]
})
  .annotate(OpenApi.Summary, "Progress as Server-Sent Events")
  .annotate(
    OpenApi.Description,
    "One event with the job at once, then one a second while it changes; ends when the job is over."
  )

/**
 * The jobs endpoints (authorization is added where the group joins the API).
 *
 * @category api
 * @since 0.1.0
 */
export class JobsGroup extends HttpApiGroup.make("jobs").add(create, list, get, cancel, results, events) {}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/**
 * A stored job as the API shows it at `now`: the rate is results per second since it started (to
 * its end when it is over), the ETA what is left at that rate while it runs. A job still
 * `receiving` shows as `queued` (it is not listed by then anyway: the upload is in progress).
 *
 * @category constructors
 * @since 0.1.0
 */
export const view = (job: JobStore.Job, now: number): Job => {
  const elapsed = job.startedAt === null ? 0 : Math.max(1, (job.finishedAt ?? now) - job.startedAt) / 1000
  const rate = elapsed === 0 ? 0 : Math.round((job.done / elapsed) * 10) / 10
  const state = job.state === "receiving" ? "queued" : job.state
  return {
    id: job.id,
    state,
    total: job.total,
    done: job.done,
    counts: job.counts,
    rate,
    etaSeconds: state === "running" && rate > 0 ? Math.ceil((job.total - job.done) / rate) : null,
    error: job.error,
    createdAt: new Date(job.createdAt).toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    webhook:
      job.webhook === null
        ? null
        : {
            url: job.webhook.url,
            perResult: job.webhook.perResult,
            state: job.webhook.state,
            attempts: job.webhook.attempts,
            error: job.webhook.error,
            sent: job.webhook.sent,
            dropped: job.webhook.dropped
          },
    options: JobOptions.read(job.options).verifier ?? {}
  }
}
