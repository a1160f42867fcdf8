/**
 * What a job may choose for itself: the verifier options that concern one list (the envelope
 * sender, VRFY as a fallback, the catch-all probe, the TLS requirement, the reply timeout, how
 * many recipients share a session, how many MX hosts are tried) and whether results keep their
 * SMTP dialogue (like `rcpt bulk --transcript`), asked for with `POST /v1/jobs`
 * and stored with the job, so that a restarted server continues it with the same options.
 *
 * **Bounds.** The server's flags (`rcpt serve --timeout ...`) are every job's defaults and its
 * limits: a job may ask for a shorter timeout, fewer recipients per session, fewer MX hosts and a
 * stricter TLS requirement, never more. What concerns the remote servers more than one list stays
 * process-wide and is not here: the EHLO name, the per-host limits, the target policy.
 *
 * **Verifiers.** A job with options runs on its own `Verifier` built by {@link JobVerifiers} over
 * the process's transport and shared state (MX cache, catch-all memory, per-host permits), so it
 * still shares the politeness limits with every other job and `/v1/verify`.
 *
 * @since 0.2.0
 */
import { Context, Duration, Effect, Layer, Option, Result, Schema } from "effect"
import type { Bulk } from "@rcpt/verifier"
import { Verifier, VerifierConfig } from "@rcpt/verifier"

/**
 * TLS requirements, weakest first: a job may only ask for one at least as strict as the server's.
 *
 * @category constants
 * @since 0.2.0
 */
export const tlsModes = ["off", "opportunistic", "required"] as const

/**
 * A job's verifier options, as stored and shown (`options` of a job). Each absent field is the
 * server's.
 *
 * @category schemas
 * @since 0.2.0
 */
export const Overrides = Schema.Struct({
  mailFrom: Schema.optionalKey(Schema.String).annotate({
    description: 'Envelope sender for MAIL FROM ("" for the null sender <>)'
  }),
  vrfy: Schema.optionalKey(Schema.Boolean).annotate({ description: "Ask VRFY when RCPT TO proves nothing" }),
  catchAllProbe: Schema.optionalKey(Schema.Boolean).annotate({
    description: "Probe a random address per domain to detect catch-all servers"
  }),
  tls: Schema.optionalKey(Schema.Literals(tlsModes)).annotate({ description: "STARTTLS requirement" }),
  timeoutMs: Schema.optionalKey(Schema.Number).annotate({ description: "Timeout per SMTP reply, milliseconds" }),
  recipientsPerSession: Schema.optionalKey(Schema.Number),
  maxMxHosts: Schema.optionalKey(Schema.Number),
  transcript: Schema.optionalKey(Schema.Boolean).annotate({
    description: "Keep each result's SMTP dialogue (default: transcript [], as rcpt bulk without --transcript)"
  })
}).annotate({ identifier: "JobOptions" })

/**
 * @category models
 * @since 0.2.0
 */
export type Overrides = typeof Overrides.Type

/**
 * What the store keeps in a job's `options` column (JSON text): the CSV column chosen for the
 * upload and the verifier options. Jobs stored before verifier options existed read as none.
 *
 * @category schemas
 * @since 0.2.0
 */
export const Stored = Schema.Struct({
  column: Schema.optionalKey(Schema.NullOr(Schema.String)),
  verifier: Schema.optionalKey(Overrides)
})

const decodeStored = Schema.decodeUnknownOption(Schema.fromJsonString(Stored))

/**
 * The stored options of a job (none readable: no options).
 *
 * @category decoding
 * @since 0.2.0
 */
export const read = (text: string): typeof Stored.Type => Option.getOrElse(decodeStored(text), () => ({}))

/**
 * The options as the store keeps them.
 *
 * @category encoding
 * @since 0.2.0
 */
export const write = (column: string | undefined, verifier: Overrides): string =>
  JSON.stringify({ column: column ?? null, ...(Object.keys(verifier).length === 0 ? {} : { verifier }) })

/**
 * `POST /v1/jobs`'s query parameters for the options (all text, checked by {@link fromQuery}).
 *
 * @category schemas
 * @since 0.2.0
 */
export const Query = {
  mailFrom: Schema.optionalKey(Schema.String).annotate({
    description: "Envelope sender for this job's MAIL FROM (empty: the null sender). Default: the server's --mail-from"
  }),
  vrfy: Schema.optionalKey(Schema.Literals(["true", "false"])).annotate({
    description: "Ask VRFY when RCPT TO proves nothing. Default: the server's --vrfy"
  }),
  catchAllProbe: Schema.optionalKey(Schema.Literals(["true", "false"])).annotate({
    description: "Probe each domain for catch-all. Default: the server's setting"
  }),
  tls: Schema.optionalKey(Schema.Literals(tlsModes)).annotate({
    description: "STARTTLS requirement, at least as strict as the server's --tls"
  }),
  timeout: Schema.optionalKey(Schema.String).annotate({
    description: 'Timeout per SMTP reply ("10s", "1500ms"), at most the server\'s --timeout'
  }),
  recipientsPerSession: Schema.optionalKey(
    Schema.NumberFromString.pipe(Schema.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(1)))
  ).annotate({ description: "Recipients asked per SMTP session, at most the server's" }),
  maxMxHosts: Schema.optionalKey(
    Schema.NumberFromString.pipe(Schema.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(1)))
  ).annotate({ description: "MX hosts tried per domain, at most the server's" }),
  transcript: Schema.optionalKey(Schema.Literals(["true", "false"])).annotate({
    description: "Keep each result's SMTP dialogue, like rcpt bulk --transcript. Default: false"
  })
}

/**
 * @category models
 * @since 0.2.0
 */
export interface QueryValues {
  readonly mailFrom?: string | undefined
  readonly vrfy?: "true" | "false" | undefined
  readonly catchAllProbe?: "true" | "false" | undefined
  readonly tls?: (typeof tlsModes)[number] | undefined
  readonly timeout?: string | undefined
  readonly recipientsPerSession?: number | undefined
  readonly maxMxHosts?: number | undefined
  readonly transcript?: "true" | "false" | undefined
}

const duration = (ms: number) => Duration.format(Duration.millis(ms))

/**
 * The options a request asks for, checked against the server's config (its defaults and bounds):
 * the options, or why not (one message naming the parameter).
 *
 * @category validation
 * @since 0.2.0
 */
export const fromQuery = (
  query: QueryValues,
  server: VerifierConfig.VerifierConfig
): Result.Result<Overrides, string> => {
  const out: { -readonly [K in keyof Overrides]: Overrides[K] } = {}
  if (query.mailFrom !== undefined) out.mailFrom = query.mailFrom
  if (query.vrfy !== undefined) out.vrfy = query.vrfy === "true"
  if (query.catchAllProbe !== undefined) out.catchAllProbe = query.catchAllProbe === "true"
  if (query.transcript !== undefined) out.transcript = query.transcript === "true"
  if (query.tls !== undefined) {
    if (tlsModes.indexOf(query.tls) < tlsModes.indexOf(server.tls)) {
      return Result.fail(`tls: ${query.tls} is weaker than this server's ${server.tls}`)
    }
    out.tls = query.tls
  }
  if (query.timeout !== undefined) {
    const parsed = VerifierConfig.parseDuration(query.timeout)
    if (Option.isNone(parsed) || Duration.toMillis(parsed.value) <= 0) {
      return Result.fail(`timeout: expected a duration like "10s", got ${JSON.stringify(query.timeout)}`)
    }
    const ms = Duration.toMillis(parsed.value)
    const max = Duration.toMillis(Duration.fromInputUnsafe(server.timeout))
    if (ms > max) return Result.fail(`timeout: at most ${duration(max)} on this server, got ${duration(ms)}`)
    out.timeoutMs = ms
  }
  for (const field of ["recipientsPerSession", "maxMxHosts"] as const) {
    const value = query[field]
    if (value === undefined) continue
    if (value > server[field]) return Result.fail(`${field}: at most ${server[field]} on this server, got ${value}`)
    out[field] = value
  }
  return Result.succeed(out)
}

/**
 * The verifier config of a job: the server's with the job's options.
 *
 * @category constructors
 * @since 0.2.0
 */
export const config = (
  server: VerifierConfig.VerifierConfig,
  overrides: Overrides
): Effect.Effect<VerifierConfig.VerifierConfig, VerifierConfig.InvalidConfig> => {
  // `transcript` is how results are stored, not a verifier setting.
  const { timeoutMs, transcript: _, ...rest } = overrides
  return VerifierConfig.make({
    ...server,
    ...rest,
    ...(timeoutMs === undefined ? {} : { timeout: Duration.millis(timeoutMs) })
  })
}

/**
 * Verifiers for jobs with options, over the process's transport and shared state; `server` is
 * the config every job starts from (and is bounded by).
 *
 * @category services
 * @since 0.2.0
 */
export class JobVerifiers extends Context.Service<
  JobVerifiers,
  {
    readonly server: VerifierConfig.VerifierConfig
    readonly make: (overrides: Overrides) => Effect.Effect<Verifier.Verifier["Service"], VerifierConfig.InvalidConfig>
  }
>()("@rcpt/http/JobVerifiers") {}

/**
 * {@link JobVerifiers} over the verifier's requirements in context: provide it from the same
 * requirements as the process's `Verifier` (`Verifier.layerWithState`), so both share the MX
 * cache, the catch-all memory and the per-host permits.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer: Layer.Layer<JobVerifiers, never, Bulk.Requirements> = Layer.effect(
  JobVerifiers,
  Effect.gen(function* () {
    const server = yield* VerifierConfig.Service
    // The whole context (the router too, when a layer gave one), with the job's config in place of the server's.
    const context = yield* Effect.context<Bulk.Requirements>()
    return JobVerifiers.of({
      server,
      make: (overrides) =>
        Effect.flatMap(config(server, overrides), (jobConfig) =>
          Verifier.make.pipe(Effect.provideContext(Context.add(context, VerifierConfig.Service, jobConfig)))
        )
    })
  })
)

/**
 * The process's `Verifier` and {@link JobVerifiers} over one set of requirements (so one set of
 * shared state): what a server whose jobs may have options provides to `Jobs.layer`.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerWithVerifier = <E, R>(
  requirements: Layer.Layer<Bulk.Requirements, E, R>
): Layer.Layer<Verifier.Verifier | JobVerifiers, E, R> =>
  Layer.mergeAll(Verifier.layerWithState, layer).pipe(Layer.provide(requirements))
