// A cluster on one machine, for the cluster test and the cluster bench: `rcpt runner` child
// processes against a PostgreSQL on loopback and an in-process mail world, and this process as
// a client-only member that dispatches jobs (as `rcpt serve --cluster` does).
import { spawn, type ChildProcess } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { Deferred, Effect, Layer, Option, Schedule } from "effect"
import type { Scope } from "effect"
import { SqlClient } from "effect/sql"
import { JobStore } from "@rcpt/store"
import { type MailWorld, RcptProcess } from "@rcpt/testing"
import * as Dispatcher from "../src/Dispatcher.ts"
import * as Runner from "../src/Runner.ts"

const bin = fileURLToPath(new URL("../../cli/bin/rcpt.js", import.meta.url))

export interface RunnerProcess {
  readonly child: ChildProcess
  readonly port: number
  readonly name: string
  readonly log: () => string
}

export const freePort = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as { port: number }).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** A runner child process, SIGKILLed with the scope if still running. */
export const startRunner = (
  url: string,
  world: MailWorld.World,
  flags: ReadonlyArray<string>
): Effect.Effect<RunnerProcess, never, Scope.Scope> =>
  Effect.gen(function* () {
    const port = yield* freePort
    const child = yield* RcptProcess.scoped(() =>
      spawn(
        process.execPath,
        [
          bin,
          "runner",
          "--db",
          url,
          "--listen",
          `127.0.0.1:${port}`,
          ...RcptProcess.worldFlags(world, { helo: "runner.rcpt.test" }),
          ...flags
        ],
        { stdio: ["ignore", "ignore", "pipe"], env: RcptProcess.cleanEnv({ NO_COLOR: "1" }) }
      )
    )
    let log = ""
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      log = (log + d).slice(-20_000)
    })
    return { child, port, name: `127.0.0.1:${port}`, log: () => log }
  })

/**
 * `rcpt serve --db url --cluster` as a child process; resolves to its base URL once it listens.
 * SIGKILLed with the scope if still running.
 */
export const startServe = (url: string, world: MailWorld.World): Effect.Effect<string, never, Scope.Scope> =>
  RcptProcess.scoped(() =>
    spawn(
      process.execPath,
      [bin, "serve", "--listen", "127.0.0.1:0", "--db", url, "--cluster", ...RcptProcess.worldFlags(world)],
      { stdio: ["ignore", "ignore", "pipe"], env: RcptProcess.cleanEnv({ NO_COLOR: "1" }) }
    )
  ).pipe(Effect.flatMap((child) => RcptProcess.listening(child, "120 seconds")))

export const exited = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
  })

/** This process as a client-only member: sharding, the job store, a verifier for planning. */
export const member = (url: string, world: MailWorld.World) =>
  Layer.mergeAll(
    Runner.layerSharding({ runner: Option.none() }),
    JobStore.layer,
    Runner.layerVerifier({
      helo: "serve.rcpt.test",
      allowSpecialUse: ["test"],
      port: world.smtpPort,
      dnsServers: [world.dns],
      allowTargets: ["127.0.0.0/8"]
    })
  ).pipe(Layer.provideMerge(Runner.layerPg(url)))

/** Waits until `n` runners are registered and healthy, then lets the shards settle. */
export const awaitRunners = (n: number, runners: ReadonlyArray<RunnerProcess>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql<{ n: unknown }>`SELECT COUNT(*) AS n FROM cluster_runners WHERE healthy`.pipe(
      Effect.map((rows) => Number(rows[0]?.n ?? 0)),
      Effect.catch(() => Effect.succeed(0)),
      Effect.repeat({ until: (count) => count >= n, schedule: Schedule.spaced("200 millis") }),
      // Generous: Node processes loading on a busy 2-core machine.
      Effect.timeout("120 seconds"),
      Effect.catch(() =>
        Effect.die(new Error(`runners did not register:\n${runners.map((r) => r.log()).join("\n---\n")}`))
      )
    )
    // Shards move to new runners for a moment after they join: start once that settles.
    yield* Effect.sleep("3 seconds")
  })

/** Stores a job and starts dispatching it; `ended` completes when it is done. */
export const submit = (id: string, addresses: ReadonlyArray<string>, options: Partial<Dispatcher.Options> = {}) =>
  Effect.gen(function* () {
    const store = yield* JobStore.JobStore
    yield* store.create({ id, owner: "t", options: "{}", now: Date.now() })
    yield* store.appendInputs(id, 0, addresses)
    yield* store.seal(id, addresses.length, Date.now())
    const ended = yield* Deferred.make<void>()
    const dispatcher = yield* Dispatcher.make(
      { ...Dispatcher.defaults, ...options },
      { stored: () => Effect.void, ended: () => Deferred.succeed(ended, undefined).pipe(Effect.asVoid) }
    )
    yield* dispatcher.start(id)
    return { dispatcher, ended: Deferred.await(ended) }
  })
