/**
 * The `jobs` group's handlers: uploads streamed into the `JobStore`, jobs started on the
 * `JobRunner`, results streamed back from the store in pages.
 *
 * **Tenants.** A job belongs to the caller the authorization middleware established (a bearer
 * token's fingerprint, the shared secret, or `anyone` on an open loopback service); every read
 * and the cancel look the job up with that owner, so another token's job is a 404 like a job
 * that does not exist. The group also runs under the per-caller limits (`Admission`), like the
 * verification endpoints: an upload holds its slot until it is stored.
 *
 * **Storage errors** are 503 problems: nothing was lost, the client retries.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Option, Redacted, Result, Schedule, Stream } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import type { Multipart } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import type { SqlError } from "effect/sql"
import { createHash, randomUUID } from "node:crypto"
import { JobStore } from "@rcpt/store"
import { ResultFormat, Verification } from "@rcpt/verifier"
import * as Api from "./Api.ts"
import * as JobOptions from "./JobOptions.ts"
import * as JobRunner from "./JobRunner.ts"
import * as JobsApi from "./JobsApi.ts"
import * as Upload from "./Upload.ts"

/**
 * Results read from the store per page while streaming a download (keyset pages: the store's
 * single SQLite connection is never held for a whole download).
 *
 * @category constants
 * @since 0.1.0
 */
export const downloadPage = 1_000

/**
 * The CSV download's header: `rcpt bulk`'s columns, then `cursor` (the row's place in completion
 * order, as in the JSONL lines), so that a filtered download can be resumed with `after=` too.
 *
 * @category constants
 * @since 0.2.0
 */
export const csvHeader = `${ResultFormat.csvColumns.join(",")},cursor\n`

/**
 * The owner of the jobs a request creates and sees: the {@link Api.Caller} the authorization
 * middleware established (`token:<fingerprint>`, `secret`, or `anyone` on a service without
 * credentials). Never read from the request's headers: a header the server did not check is
 * not an identity.
 *
 * @category tenants
 * @since 0.1.0
 */
export const requestOwner = Effect.map(Effect.service(Api.Caller), (caller) => caller.id)

/**
 * The webhook secret a job gets when it names none: hex SHA-256 of `rcpt-webhook:<credential>`,
 * which the caller can compute from its own token.
 *
 * @category tenants
 * @since 0.1.0
 */
export const defaultWebhookSecret = (credential: string) =>
  createHash("sha256").update(`rcpt-webhook:${credential}`, "utf8").digest("hex")

const unavailable = (e: SqlError.SqlError) =>
  Effect.logWarning(`storage: ${e.message}`).pipe(
    Effect.andThen(
      Effect.fail(new JobsApi.StorageUnavailable({ detail: `the job store is unavailable: ${e.message}` }))
    )
  )

const notFound = (id: string) => new JobsApi.JobNotFound({ detail: `no job ${id}` })

/**
 * The verifier options a job asks for, checked against the server's bounds ({@link
 * JobOptions.JobVerifiers}); a server without it (a cluster's dispatcher) takes none.
 */
const verifierOptions = (
  query: JobOptions.QueryValues,
  verifiers: Option.Option<JobOptions.JobVerifiers["Service"]>
): Effect.Effect<JobOptions.Overrides, JobsApi.BadOptions> =>
  Effect.gen(function* () {
    const asked = (Object.keys(JobOptions.Query) as Array<keyof JobOptions.QueryValues>).filter(
      (k) => query[k] !== undefined
    )
    if (asked.length === 0) return {}
    if (Option.isNone(verifiers)) {
      return yield* new JobsApi.BadOptions({
        detail: `${asked.join(", ")}: this server takes no verifier options per job (its runners use their own flags)`
      })
    }
    const server = verifiers.value.server
    const overrides = yield* Result.match(JobOptions.fromQuery(query, server), {
      onFailure: (detail) => Effect.fail(new JobsApi.BadOptions({ detail })),
      onSuccess: Effect.succeed
    })
    // And the config they make is valid (the sender an address): checked now, not when the job runs.
    yield* JobOptions.config(server, overrides).pipe(
      Effect.mapError((e) => new JobsApi.BadOptions({ detail: `${e.field}: ${e.message}` }))
    )
    return overrides
  })

/** The bytes and kind of an upload: the body itself, or the `file` part of a multipart body. */
const source = (
  contentType: string,
  payload: Stream.Stream<Uint8Array, unknown> | Stream.Stream<Multipart.Part, unknown>
): Effect.Effect<
  { readonly kind: Upload.Kind; readonly bytes: Stream.Stream<Uint8Array, unknown> },
  JobsApi.BadUpload | unknown
> =>
  Effect.gen(function* () {
    const direct = Upload.kindOf(contentType)
    if (Option.isSome(direct)) return { kind: direct.value, bytes: payload as Stream.Stream<Uint8Array, unknown> }
    // multipart/form-data: the first file part (fields before it are ignored).
    const file = yield* (payload as Stream.Stream<Multipart.Part, unknown>).pipe(
      Stream.filter((p): p is Multipart.File => p._tag === "File"),
      Stream.take(1),
      Stream.runHead
    )
    if (Option.isNone(file)) return yield* Effect.fail(new JobsApi.BadUpload({ detail: "no file part in the form" }))
    const part = file.value
    const kind = Option.getOrElse(Upload.kindOf(part.contentType), () =>
      part.name.toLowerCase().endsWith(".csv") ? ("csv" as const) : ("text" as const)
    )
    return { kind: part.name.toLowerCase().endsWith(".csv") && kind === "text" ? "csv" : kind, bytes: part.content }
  })

/**
 * The `jobs` group over the store and runner in context.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerHandlers = HttpApiBuilder.group(Api.Api, "jobs", (handlers) =>
  Effect.gen(function* () {
    const store = yield* JobStore.JobStore
    const runner = yield* JobRunner.JobRunner
    const verifiers = yield* Effect.serviceOption(JobOptions.JobVerifiers)
    const owned = (id: string, owner: string) =>
      store
        .get(id, owner)
        .pipe(
          Effect.catchTag("SqlError", unavailable),
          Effect.flatMap(Option.match({ onNone: () => Effect.fail(notFound(id)), onSome: Effect.succeed }))
        )
    const viewNow = (job: JobStore.Job) => Effect.map(Clock.currentTimeMillis, (now) => JobsApi.view(job, now))

    return handlers
      .handle("create", ({ payload, query, request }) =>
        Effect.gen(function* () {
          const caller = yield* Api.Caller
          const credential = caller.credential === undefined ? undefined : Redacted.value(caller.credential)
          const contentType = request.headers["content-type"] ?? ""
          const webhook =
            query.webhook === undefined
              ? undefined
              : {
                  url: query.webhook,
                  secret: query.webhookSecret ?? (credential === undefined ? "" : defaultWebhookSecret(credential)),
                  perResult: query.webhookPerResult === "true"
                }
          if (webhook !== undefined && !/^https?:\/\/[^\s]+$/i.test(webhook.url)) {
            return yield* Effect.fail(new JobsApi.BadUpload({ detail: `webhook: not an http(s) URL: ${webhook.url}` }))
          }
          if (webhook !== undefined && webhook.secret === "") {
            return yield* Effect.fail(
              new JobsApi.BadUpload({ detail: "webhook: give webhookSecret (no credential to derive one from)" })
            )
          }
          const overrides = yield* verifierOptions(query, verifiers)
          const id = randomUUID()
          const now = yield* Clock.currentTimeMillis
          yield* store
            .create({
              id,
              owner: caller.id,
              options: JobOptions.write(query.column, overrides),
              now,
              webhook
            })
            .pipe(Effect.catchTag("SqlError", unavailable))
          const stored = Effect.gen(function* () {
            const { kind, bytes } = yield* source(contentType, payload)
            const total = yield* Upload.store(id, Upload.addresses(bytes, kind, Option.fromUndefinedOr(query.column)))
            yield* store.seal(id, total, yield* Clock.currentTimeMillis)
          })
          // A failed upload leaves nothing behind (inputs stored so far included).
          yield* stored.pipe(
            Effect.onError(() => store.discard(id).pipe(Effect.retry(Schedule.recurs(2)), Effect.ignore)),
            Effect.catchIf(
              (e): e is SqlError.SqlError =>
                typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "SqlError",
              unavailable
            ),
            Effect.catchIf(
              (e): e is unknown => !(e instanceof JobsApi.BadUpload) && !(e instanceof JobsApi.StorageUnavailable),
              (e) => Effect.die(e)
            )
          )
          const queued = yield* viewNow(
            Option.getOrThrow(yield* store.get(id).pipe(Effect.catchTag("SqlError", unavailable)))
          )
          yield* runner.start(id)
          return queued
        })
      )
      .handle("list", () =>
        Effect.flatMap(requestOwner, (owner) => store.list(owner, 200)).pipe(
          Effect.catchTag("SqlError", unavailable),
          Effect.flatMap((jobs) =>
            Effect.forEach(
              jobs.filter((j) => j.state !== "receiving"),
              viewNow
            )
          ),
          Effect.map((jobs) => ({ jobs }))
        )
      )
      .handle("get", ({ params }) =>
        Effect.flatMap(requestOwner, (owner) => owned(params.id, owner)).pipe(Effect.flatMap(viewNow))
      )
      .handle("cancel", ({ params }) =>
        Effect.gen(function* () {
          const owner = yield* requestOwner
          yield* owned(params.id, owner)
          yield* runner.cancel(params.id).pipe(Effect.catchTag("SqlError", unavailable))
          return yield* viewNow(yield* owned(params.id, owner))
        })
      )
      .handle("results", ({ params, query, request }) =>
        Effect.gen(function* () {
          yield* owned(params.id, yield* requestOwner)
          const accept = request.headers["accept"] ?? ""
          const format = query.format ?? (/\btext\/csv\b/.test(accept) ? "csv" : "jsonl")
          const verdicts = (query.verdict ?? "")
            .split(",")
            .map((v) => v.trim())
            .filter((v): v is JobStore.Verdict => (JobStore.verdicts as ReadonlyArray<string>).includes(v))
          const pages = Stream.paginate(query.after ?? 0, (after: number) =>
            store
              .results(params.id, { after, limit: downloadPage, verdicts })
              .pipe(
                Effect.map(
                  (page) => [page, page.length < downloadPage ? Option.none() : Option.some(page.at(-1)!.seq)] as const
                )
              )
          )
          const encoder = new TextEncoder()
          // One write per page: a download is a few large chunks, not a million small ones.
          const lines = pages.pipe(
            Stream.mapArray((page) => [
              encoder.encode(
                page
                  .map((r) =>
                    format === "jsonl"
                      ? `${r.data.slice(0, -1)},"cursor":${r.seq}}\n`
                      : // The stored JSON is the encoded Verification; the CSV columns read only plain
                        // fields that encoding leaves as they are, so decoding (slow) is not needed.
                        `${ResultFormat.csvLine(JSON.parse(r.data) as Verification.Verification).slice(0, -1)},${r.seq}\n`
                  )
                  .join("")
              )
            ])
          )
          const body = format === "csv" ? Stream.concat(Stream.succeed(encoder.encode(csvHeader)), lines) : lines
          return HttpServerResponse.stream(body, {
            contentType: format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
            headers: { "content-disposition": `attachment; filename="rcpt-${params.id}.${format}"` }
          })
        })
      )
      .handle("events", ({ params }) =>
        Effect.gen(function* () {
          const owner = yield* requestOwner
          yield* owned(params.id, owner)
          let last = ""
          return Stream.fromEffectSchedule(store.get(params.id, owner), Schedule.spaced("1 second")).pipe(
            Stream.prepend([yield* store.get(params.id, owner).pipe(Effect.orDie)]),
            Stream.orDie,
            Stream.filter(Option.isSome),
            Stream.map((job) => job.value),
            Stream.mapEffect(viewNow),
            Stream.filter((view) => {
              const key = JSON.stringify(view)
              const changed = key !== last
              last = key
              return changed
            }),
            Stream.takeUntil((view) => view.state === "done" || view.state === "cancelled" || view.state === "failed")
          )
        })
      )
  })
)

/** Keeps `HttpServerRequest` imported for the handlers' request type. */
export type Request = HttpServerRequest.HttpServerRequest
