/**
 * `rcpt serve`: the verifier as an HTTP service (@rcpt/http) until SIGTERM or Ctrl-C, with the
 * same verifier flags as `verify` and `bulk`.
 *
 * The bound address is logged on stderr (`rcpt http listening on http://host:port`), so
 * `--listen 127.0.0.1:0` can be used and the port read from there. SIGTERM or SIGINT stops it
 * gracefully (no new connections; requests in flight get `--grace`, 30 s, to finish, then 503)
 * and exits 0: for a server, that is the normal stop.
 *
 * Without `--secret-env`, `--token-env` or `--token-file` it listens only on loopback (exit 64
 * otherwise). Limits: `--max-connections`, `--max-requests-per-token` (429), `--max-requests`
 * (503), `--request-timeout` (a request, body included, must arrive within it: 408),
 * `--allowed-host` (other `Host` names get 421).
 *
 * @since 0.1.0
 */
import { Duration, Effect, Option, Redacted } from "effect"
import { Command, Flag } from "effect/cli"
// Only the defaults (for the help text): the server, the job store and their drivers load when
// `serve` runs (./Serving.ts), so that other commands and `--help` do not pay for them.
import * as Admission from "@rcpt/http/Admission"
import * as Defaults from "@rcpt/http/Defaults"
import { VerifierConfig } from "@rcpt/verifier"
import { homedir } from "node:os"
import { join } from "node:path"
import * as ExitCode from "./ExitCode.ts"
import * as Options from "./Options.ts"
import type * as Serving from "./Serving.ts"

/**
 * Exit code when the address cannot be listened on (in use, not local): EX_UNAVAILABLE.
 *
 * @category constants
 * @since 0.1.0
 */
export const cannotListen = 69

/**
 * @category models
 * @since 0.1.0
 */
export interface Listen {
  readonly host: string
  readonly port: number
}

/**
 * Reads `host:port`, `[ipv6]:port` or a bare port (on 127.0.0.1). Port 0 picks a free one.
 *
 * @category parsing
 * @since 0.1.0
 */
export const parseListen = (text: string): Option.Option<Listen> => {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]:|([^:[\]\s]*):)?(\d{1,5})$/.exec(text.trim())
  if (match === null || Number(match[3]) > 65535) return Option.none()
  const host = match[1] ?? match[2] ?? ""
  return Option.some({ host: host === "" ? "127.0.0.1" : host, port: Number(match[3]) })
}

/**
 * The default data directory: `$XDG_DATA_HOME/rcpt`, else `~/.local/share/rcpt`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultDataDir = (): string =>
  join(process.env["XDG_DATA_HOME"] || join(homedir(), ".local", "share"), "rcpt")

/** The secret from the variable named by `--secret-env`: must be set and not empty. */
const secretFrom = (name: Option.Option<string>): Effect.Effect<Option.Option<Redacted.Redacted>, ExitCode.Exit> =>
  Option.match(name, {
    onNone: () => Effect.succeed(Option.none()),
    onSome: (variable) => {
      const value = process.env[variable]
      return value === undefined || value === ""
        ? Effect.fail(ExitCode.usage(`--secret-env ${variable}: the variable is not set or empty`))
        : Effect.succeed(Option.some(Redacted.make(value, { label: variable })))
    }
  })

/**
 * Ends the process with 0 once everything scoped inside has closed, when the stop came from
 * SIGTERM or SIGINT (`NodeRuntime.runMain` reports any interruption as 130). An interruption
 * without a signal (in-process use) is left alone.
 */
export const exitZeroOnSignal = Effect.acquireRelease(
  Effect.sync(() => {
    const state = { signalled: false }
    const listener = () => {
      state.signalled = true
    }
    process.on("SIGTERM", listener)
    process.on("SIGINT", listener)
    return { state, listener }
  }),
  ({ state, listener }) =>
    Effect.sync(() => {
      process.off("SIGTERM", listener)
      process.off("SIGINT", listener)
      if (state.signalled) process.exit(ExitCode.codes.ok)
    })
)

/** A flag's value, else the environment variable's (read by `VerifierConfig.outerConfig`; empty is unset). */
const orEnv = (given: Option.Option<string>, text: Option.Option<string>): Option.Option<string> =>
  Option.isSome(given) ? given : Option.filter(text, (v) => v !== "")

const positive = (what: string, text: string): Effect.Effect<number, ExitCode.Exit> =>
  /^\s*\d+\s*$/.test(text) && Number(text) > 0
    ? Effect.succeed(Number(text))
    : Effect.fail(ExitCode.usage(`${what}: expected a positive integer, got ${JSON.stringify(text)}`))

const durationOf = (what: string, text: string): Effect.Effect<Duration.Duration, ExitCode.Exit> =>
  Option.match(Options.parseDuration(text), {
    onNone: () => Effect.fail(ExitCode.usage(`${what}: expected a duration like "30s", got ${JSON.stringify(text)}`)),
    onSome: Effect.succeed
  })

/**
 * @category commands
 * @since 0.1.0
 */
export const command = Command.make(
  "serve",
  {
    listen: Flag.String("listen").pipe(
      Flag.withMetavar("host:port"),
      Flag.withDescription("Address to listen on; port 0 picks a free one (logged on stderr). Default: 127.0.0.1:8080"),
      Flag.withDefault("127.0.0.1:8080")
    ),
    secretEnv: Flag.String("secret-env").pipe(
      Flag.withMetavar("VAR"),
      Flag.withDescription(
        "Name of an environment variable holding a shared secret: /v1/verify* then need it in the x-rcpt-secret header (else 401)"
      ),
      Flag.optional
    ),
    tokenEnv: Flag.String("token-env").pipe(
      Flag.withMetavar("VAR"),
      Flag.withDescription(
        "Name of an environment variable holding bearer tokens (separated by spaces, commas or newlines): /v1/verify* then accept Authorization: Bearer <token>"
      ),
      Flag.optional
    ),
    tokenFile: Flag.String("token-file").pipe(
      Flag.withMetavar("file"),
      Flag.withDescription(
        "File of bearer tokens, one a line (# comments); re-read when it changes, so tokens rotate without a restart (env RCPT_TOKEN_FILE)"
      ),
      Flag.optional
    ),
    allowedHost: Flag.String("allowed-host").pipe(
      Flag.withMetavar("name"),
      Flag.withDescription(
        'A name clients reach the service by (the Host header); repeatable (env RCPT_ALLOWED_HOSTS, comma-separated). IP addresses and localhost are always accepted; other names get 421. "*" accepts any'
      ),
      Flag.atLeast(0)
    ),
    maxConnections: Flag.String("max-connections").pipe(
      Flag.withMetavar("n"),
      Flag.withDescription(
        `Open connections at most (env RCPT_MAX_CONNECTIONS). Default: ${Defaults.server.maxConnections}`
      ),
      Flag.optional
    ),
    maxRequestsPerToken: Flag.String("max-requests-per-token").pipe(
      Flag.withMetavar("n"),
      Flag.withDescription(
        `Requests in flight per token (verifications and job calls; or per secret, or in all when open); more get 429 with Retry-After (env RCPT_MAX_REQUESTS_PER_TOKEN). Default: ${Admission.defaultLimits.perCaller}`
      ),
      Flag.optional
    ),
    maxRequests: Flag.String("max-requests").pipe(
      Flag.withMetavar("n"),
      Flag.withDescription(
        `Requests in flight in all (verifications and job calls); more get 503 with Retry-After (env RCPT_MAX_REQUESTS). Default: ${Admission.defaultLimits.total}`
      ),
      Flag.optional
    ),
    requestTimeout: Flag.String("request-timeout").pipe(
      Flag.withMetavar("duration"),
      Flag.withDescription(
        "Time for a whole request, body included, to arrive; a slower one gets 408 and is cut (env RCPT_REQUEST_TIMEOUT). Default: 30s"
      ),
      Flag.optional
    ),
    grace: Flag.String("grace").pipe(
      Flag.withMetavar("duration"),
      Flag.withDescription(
        "On SIGTERM/Ctrl-C, time requests in flight get to finish before they are cut with 503 (env RCPT_GRACE). Default: 30s"
      ),
      Flag.optional
    ),
    dataDir: Flag.String("data-dir").pipe(
      Flag.withMetavar("DIR"),
      Flag.withDescription(
        "Where the embedded job store lives (jobs.db). Default: $XDG_DATA_HOME/rcpt or ~/.local/share/rcpt"
      ),
      Flag.optional
    ),
    db: Flag.String("db").pipe(
      Flag.withMetavar("sqlite:FILE|postgres://..."),
      Flag.withDescription("The job store's database (overrides --data-dir): a SQLite file, or PostgreSQL"),
      Flag.optional
    ),
    cluster: Flag.Boolean("cluster").pipe(
      Flag.withDescription(
        "Dispatch jobs to `rcpt runner` processes sharing --db postgres://... instead of verifying here"
      ),
      Flag.withDefault(false)
    ),
    ...Options.flags
  },
  Effect.fn(function* (input) {
    const listen = yield* Option.match(parseListen(input.listen), {
      onNone: () =>
        Effect.fail(
          ExitCode.usage(`--listen: expected host:port, [ipv6]:port or port, got ${JSON.stringify(input.listen)}`)
        ),
      onSome: Effect.succeed
    })
    const secret = yield* secretFrom(input.secretEnv)
    const Serving = yield* Effect.promise(() => import("./Serving.ts"))
    const env = yield* VerifierConfig.outerConfig.pipe(Effect.mapError((e) => ExitCode.usage(e.message)))
    const tokens = yield* Serving.tokensFrom(input.tokenEnv, orEnv(input.tokenFile, env.tokenFile))
    const hosts = orEnv(Option.none(), env.allowedHosts)
    const allowedHosts =
      input.allowedHost.length > 0
        ? input.allowedHost
        : Option.match(hosts, { onNone: () => [], onSome: VerifierConfig.list })
    const count = (flag: Option.Option<string>, text: Option.Option<string>, name: string, fallback: number) =>
      Option.match(orEnv(flag, text), { onNone: () => Effect.succeed(fallback), onSome: (t) => positive(name, t) })
    const time = (
      flag: Option.Option<string>,
      text: Option.Option<string>,
      name: string,
      fallback: Duration.Duration
    ) =>
      Option.match(orEnv(flag, text), {
        onNone: () => Effect.succeed(fallback),
        onSome: (t) => durationOf(name, t)
      })
    const options: Serving.ServeOptions = {
      listen,
      secret,
      tokens,
      allowedHosts,
      maxConnections: yield* count(
        input.maxConnections,
        env.maxConnections,
        "--max-connections",
        Defaults.server.maxConnections
      ),
      maxRequestsPerToken: yield* count(
        input.maxRequestsPerToken,
        env.maxRequestsPerToken,
        "--max-requests-per-token",
        Admission.defaultLimits.perCaller
      ),
      maxRequests: yield* count(input.maxRequests, env.maxRequests, "--max-requests", Admission.defaultLimits.total),
      requestTimeout: yield* time(
        input.requestTimeout,
        env.requestTimeout,
        "--request-timeout",
        Defaults.server.requestTimeout
      ),
      grace: yield* time(input.grace, env.grace, "--grace", Defaults.server.gracePeriod)
    }
    const resolved = yield* Options.resolve(input)
    const db = yield* Serving.database(input.db, input.dataDir)
    return yield* Serving.run(options, resolved, db, input.cluster)
  })
).pipe(
  Command.withShortDescription("Serve the verifier over HTTP (JSON API, OpenAPI, docs)"),
  // The help formatter indents only a description's first line: the rest carry their own indent.
  Command.withDescription(
    [
      "Serve the verifier over HTTP until SIGTERM or Ctrl-C (then exit 0: requests in flight get",
      "  --grace, 30 s, to finish, then 503):",
      "    POST /v1/verify {address}            -> a verification (the same JSON as verify --json)",
      "    POST /v1/verify/batch {addresses}    -> {results}, in order; at most 1,000 addresses",
      "    GET  /v1/health                      -> {status, version}",
      "    POST /v1/jobs (a list: text, CSV, JSON, NDJSON, multipart) -> 202 {id, state}",
      "    GET  /v1/jobs[/{id}[/results|/events]], DELETE /v1/jobs/{id}: progress, results, cancel",
      "    GET  /                               -> a web page to upload lists and follow jobs",
      "  Jobs are stored (--db / --data-dir) and survive a restart, even kill -9; the verifier",
      "  flags below are the defaults every job runs with. With --cluster (and --db postgres://...)",
      "  jobs run on `rcpt runner` processes instead:  GET /v1/cluster -> runners, health, backlog.",
      "    GET  /openapi.json, GET /docs        -> the OpenAPI document and its reference page",
      "  A mail server's answer (or silence) is never an HTTP error: it is a verification, with",
      "  verdict unknown when no answer could be had. 400 is a malformed request, 401 a missing",
      "  or wrong secret/token, 408 a request slower than --request-timeout, 415 a body not sent",
      "  as application/json, 421 a Host header not naming the service, 429 a token over",
      "  --max-requests-per-token, 503 the service over --max-requests (both with Retry-After).",
      "  Without --secret-env/--token-env/--token-file it listens only on loopback.",
      "  Exit codes: 0 stopped by a signal; 64 usage error; 66 unreadable token file; 69 cannot listen."
    ].join("\n")
  ),
  Command.withExamples([
    { command: "rcpt serve", description: "On 127.0.0.1:8080" },
    {
      command:
        "rcpt serve --listen 0.0.0.0:8080 --token-file /etc/rcpt/tokens --allowed-host rcpt.internal --helo mx.mydomain.example",
      description: "On every interface, with bearer tokens from a file (edit it to rotate them)"
    }
  ])
)
