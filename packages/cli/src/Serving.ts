/**
 * What `rcpt serve` runs: the HTTP server (@rcpt/http) over the job store (@rcpt/store). Loaded by
 * the `serve` command only when it runs (`Serve.ts` holds its flags), so that `rcpt --help`,
 * `verify` and `bulk` never load the server, the store or the database drivers.
 *
 * @since 0.2.0
 */
import { Duration, Effect, Layer, Option, Redacted, References } from "effect"
import type { JobRunner } from "@rcpt/http"
import { JobOptions, Jobs, Server, Tokens } from "@rcpt/http"
import type { HttpServerError } from "effect/http"
import type { Verifier } from "@rcpt/verifier"
import * as NodeVerifier from "@rcpt/node/NodeVerifier"
import { Database, type JobStore } from "@rcpt/store"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import * as ExitCode from "./ExitCode.ts"
import * as Options from "./Options.ts"
import * as Serve from "./Serve.ts"
import * as Verify from "./Verify.ts"

/**
 * Where jobs are stored: `--db` when given (`sqlite:FILE` or `postgres://...`), else
 * `sqlite:<data dir>/jobs.db` (the directory is created).
 *
 * @category parsing
 * @since 0.1.0
 */
export const database = (
  db: Option.Option<string>,
  dataDir: Option.Option<string>
): Effect.Effect<Database.Target, ExitCode.Exit> =>
  Option.match(db, {
    onSome: (text) =>
      Option.match(Database.parse(text), {
        onNone: () =>
          Effect.fail(ExitCode.usage(`--db: expected sqlite:FILE or postgres://..., got ${JSON.stringify(text)}`)),
        onSome: Effect.succeed
      }),
    onNone: () => {
      const dir = Option.getOrElse(dataDir, Serve.defaultDataDir)
      return Effect.try({
        try: () => {
          mkdirSync(dir, { recursive: true })
          return { _tag: "Sqlite" as const, filename: join(dir, "jobs.db") }
        },
        catch: (e) =>
          ExitCode.usage(`--data-dir ${dir}: cannot create it (${e instanceof Error ? e.message : String(e)})`)
      })
    }
  })

/**
 * What `serve` runs with, besides the verifier's options.
 *
 * @category models
 * @since 0.1.0
 */
export interface ServeOptions {
  readonly listen: Serve.Listen
  readonly secret: Option.Option<Redacted.Redacted>
  readonly tokens: Option.Option<Tokens.Tokens>
  readonly allowedHosts: ReadonlyArray<string>
  readonly maxConnections: number
  readonly maxRequestsPerToken: number
  readonly maxRequests: number
  readonly requestTimeout: Duration.Duration
  readonly grace: Duration.Duration
}

/**
 * Serves until interrupted. A bad verifier config, or a listen address beyond loopback without a
 * credential, fails with exit 64; an address that cannot be listened on with {@link cannotListen}.
 *
 * @category running
 * @since 0.1.0
 */
export const run = (
  options: ServeOptions,
  resolved: Options.Resolved,
  db: Database.Target = { _tag: "Sqlite", filename: ":memory:" },
  cluster = false
): Effect.Effect<never, ExitCode.Exit> =>
  Effect.gen(function* () {
    yield* Serve.exitZeroOnSignal
    const { listen } = options
    if (cluster && db._tag !== "Postgres") {
      return yield* ExitCode.usage("--cluster: the cluster needs --db postgres://... (its runners share that database)")
    }
    const serve = <E>(
      jobs: Layer.Layer<JobStore.JobStore | JobRunner.JobRunner | Verifier.Verifier, E>
    ): Effect.Effect<never, E | HttpServerError.ServeError | Server.OpenListen> =>
      Layer.launch(
        Server.layer({
          port: listen.port,
          host: listen.host,
          secret: Option.getOrUndefined(options.secret),
          tokens: Option.getOrUndefined(options.tokens),
          allowedHosts: options.allowedHosts.length > 0 ? options.allowedHosts : undefined,
          maxConnections: options.maxConnections,
          limits: { perCaller: options.maxRequestsPerToken, total: options.maxRequests },
          requestTimeout: options.requestTimeout,
          gracePeriod: options.grace
        }).pipe(
          // The store is built (migrations run, jobs resumed) before the server listens.
          Layer.provide(jobs)
        )
      )
    if (cluster && db._tag === "Postgres") {
      const ClusterJobs = yield* Effect.promise(() => import("./ClusterJobs.ts"))
      return yield* serve(ClusterJobs.layer(db.url, resolved.verifier).pipe(Layer.provideMerge(Verify.layer(resolved))))
    }
    return yield* serve(
      Jobs.layer({ db }).pipe(
        // Jobs may ask for their own verifier options: the runner builds their verifiers over the
        // process's transport and shared state (the per-host limits stay process-wide).
        Layer.provideMerge(JobOptions.layerWithVerifier(NodeVerifier.layerRequirements(resolved.verifier))),
        Layer.provideMerge(Options.policyLayer(resolved))
      )
    )
  }).pipe(
    Effect.scoped,
    Effect.catchTags({
      InvalidConfig: (e) => Effect.fail(Options.invalidConfig(e)),
      OpenListen: (e) => Effect.fail(ExitCode.usage(e.message)),
      ConfigError: (e) => Effect.fail(ExitCode.usage(`cluster settings: ${e.message}`)),
      SocketServerError: (e) =>
        Effect.fail(new ExitCode.Exit({ code: Serve.cannotListen, message: `cluster: cannot listen: ${e.message}` })),
      InvalidRouting: (e) => Effect.fail(ExitCode.usage(`invalid routing: ${e.message}`)),
      SqlError: (e) =>
        Effect.fail(
          new ExitCode.Exit({ code: Serve.cannotListen, message: `job store ${Database.describe(db)}: ${e.message}` })
        ),
      ServeError: (e) =>
        Effect.fail(
          new ExitCode.Exit({
            code: Serve.cannotListen,
            message: `cannot listen on ${options.listen.host}:${options.listen.port}: ${e.cause instanceof Error ? e.cause.message : String(e.cause)}`
          })
        )
    }),
    Effect.provideService(References.LogToStderr, true)
  )

/**
 * The tokens of `--token-env` and `--token-file` together (none when neither is given).
 *
 * @category parsing
 * @since 0.2.0
 */
export const tokensFrom = (
  variable: Option.Option<string>,
  file: Option.Option<string>
): Effect.Effect<Option.Option<Tokens.Tokens>, ExitCode.Exit> =>
  Effect.gen(function* () {
    const sources: Array<Tokens.Tokens> = []
    if (Option.isSome(variable)) {
      const values = Tokens.parse(process.env[variable.value] ?? "")
      if (values.length === 0) {
        return yield* ExitCode.usage(`--token-env ${variable.value}: the variable is not set or holds no token`)
      }
      sources.push(Tokens.fromValues(values))
    }
    if (Option.isSome(file)) {
      sources.push(
        yield* Tokens.fromFile(file.value).pipe(Effect.mapError((e) => ExitCode.noInput(`--token-file: ${e.message}`)))
      )
    }
    return sources.length === 0 ? Option.none() : Option.some(Tokens.combine(sources))
  })
