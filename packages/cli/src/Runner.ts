/**
 * `rcpt runner`: a cluster runner process (@rcpt/cluster). It registers with the cluster in
 * PostgreSQL, owns a share of the MX host entities, and verifies the batches `rcpt serve
 * --cluster` sends them, with this process's verifier flags (DNS, EHLO name, per-host limits,
 * source address). It runs until SIGTERM or Ctrl-C (then exits 0, its shards handed over).
 *
 * @since 0.2.0
 */
import { Effect, Layer, Option, References } from "effect"
import { Command, Flag } from "effect/cli"
import { VerifierConfig } from "@rcpt/verifier"
import * as ExitCode from "./ExitCode.ts"
import * as Options from "./Options.ts"
import * as Serve from "./Serve.ts"

/**
 * `--db` as a PostgreSQL URL: the cluster keeps runners, shard locks and batches there.
 *
 * @category parsing
 * @since 0.2.0
 */
export const parsePostgres = (text: string): Option.Option<string> =>
  /^postgres(ql)?:\/\/\S+$/.test(text.trim()) ? Option.some(text.trim()) : Option.none()

/**
 * @category commands
 * @since 0.2.0
 */
export const command = Command.make(
  "runner",
  {
    db: Flag.String("db").pipe(
      Flag.withMetavar("postgres://..."),
      Flag.withDescription("The cluster's PostgreSQL database (runners, shards, batches, job results)")
    ),
    listen: Flag.String("listen").pipe(
      Flag.withMetavar("host:port"),
      Flag.withDescription("Address this runner listens on and other members reach it at (not port 0)")
    ),
    name: Flag.String("name").pipe(
      Flag.withDescription("Name in logs and in each result's `runner` field. Default: the listen address"),
      Flag.optional
    ),
    ...Options.flags
  },
  Effect.fn(
    function* (input) {
      const listen = yield* Option.match(Serve.parseListen(input.listen), {
        onNone: () => Effect.fail(ExitCode.usage(`--listen: expected host:port, got ${JSON.stringify(input.listen)}`)),
        onSome: Effect.succeed
      })
      if (listen.port === 0) return yield* ExitCode.usage("--listen: a runner needs a fixed port (others dial it)")
      const db = yield* Option.match(parsePostgres(input.db), {
        onNone: () => Effect.fail(ExitCode.usage(`--db: expected postgres://..., got ${JSON.stringify(input.db)}`)),
        onSome: Effect.succeed
      })
      const resolved = yield* Options.resolve(input)
      const perHost = resolved.verifier.perHost ?? VerifierConfig.defaults.perHost
      const name = Option.getOrElse(input.name, () => `${listen.host}:${listen.port}`)
      // Loaded only here: the cluster brings effect/cluster, sockets and the PostgreSQL client.
      const { Runner } = yield* Effect.promise(() => import("@rcpt/cluster"))
      yield* Serve.exitZeroOnSignal
      yield* Effect.logInfo(`rcpt runner ${name} joining the cluster (per-host ${perHost})`)
      return yield* Layer.launch(
        Runner.layer({ host: listen.host, port: listen.port, perHost, name }).pipe(
          Layer.provide(Runner.layerVerifier(resolved.verifier)),
          Layer.provide(Options.policyLayer(resolved)),
          Layer.provide(Runner.layerPg(db))
        )
      )
    },
    Effect.scoped,
    (effect) =>
      effect.pipe(
        Effect.catchTag("InvalidConfig", (e) => Effect.fail(Options.invalidConfig(e))),
        Effect.catchTag("SqlError", (e) =>
          Effect.fail(
            new ExitCode.Exit({ code: Serve.cannotListen, message: `--db: cannot use the database: ${e.message}` })
          )
        ),
        Effect.catchTag("SocketServerError", (e) =>
          Effect.fail(new ExitCode.Exit({ code: Serve.cannotListen, message: `--listen: cannot listen: ${e.message}` }))
        ),
        Effect.provideService(References.LogToStderr, true)
      )
  )
).pipe(
  Command.withShortDescription("Run a cluster runner: verify the batches of jobs spread over several machines"),
  Command.withDescription(
    [
      "Join the cluster kept in PostgreSQL and verify the batches `rcpt serve --db postgres://... --cluster`",
      "  dispatches. Each MX host's batches run on exactly one runner at a time, so --per-host holds across",
      "  the cluster; a runner that dies hands its MX hosts to the others within seconds, and its unfinished",
      "  batches run again there (results are written once). Exit codes: 0 stopped by a signal; 64 usage; 69 database unreachable or cannot listen."
    ].join("\n")
  ),
  Command.withExamples([
    {
      command: "rcpt runner --db postgres://rcpt@db/rcpt --listen 10.0.0.5:34431 --helo mx1.example.net --per-host 2",
      description: "A runner on one egress host"
    }
  ])
)
