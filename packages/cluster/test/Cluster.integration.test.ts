// The cluster on one machine: a real PostgreSQL on loopback (started here), three `rcpt runner`
// processes, the dispatcher in this process (a client-only member, as `rcpt serve --cluster`
// runs it), and the in-process mail world. One runner is SIGKILLed mid-job. Checked: every
// address exactly once with the right verdict, never more than --per-host connections to any MX
// host (counted at the servers), and the killed runner's MX hosts answered again within 10 s.
import { spawn, type ChildProcess } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Layer, Option, Schedule, Scope } from "effect"
import { SqlClient } from "effect/sql"
import { JobStore } from "@rcpt/store"
import { MailWorld, Postgres } from "@rcpt/testing"
import { afterAll } from "vitest"
import * as Dispatcher from "../src/Dispatcher.ts"
import * as Runner from "../src/Runner.ts"

const bin = fileURLToPath(new URL("../../cli/bin/rcpt.ts", import.meta.url))
const PER_HOST = 2
const HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
const DOMAINS = 40
const PER_DOMAIN = 75
const USERS = 10

/** 40 domains over 4 MX hosts (domains share hosts, so entities are per host, not per domain). */
const world: MailWorld.WorldSpec = {
  hosts: HOSTS.map((address, h) => ({
    name: `mx${h}.shared.test`,
    address,
    behaviour: { greetingDelay: "150 millis" }
  })),
  domains: Array.from({ length: DOMAINS }, (_, d) => ({
    name: `d${d}.test`,
    mx: [{ host: `mx${d % HOSTS.length}.shared.test`, preference: 10 }],
    users: Array.from({ length: USERS }, (_, u) => `u${u}`)
  }))
}

const addresses = Array.from({ length: DOMAINS * PER_DOMAIN }, (_, i) => {
  const d = i % DOMAINS
  const u = Math.floor(i / DOMAINS)
  return `u${u}@d${d}.test`
})
const expected = (address: string) =>
  Number(/^u(\d+)@/.exec(address)![1]) < USERS ? "deliverable/accepted" : "undeliverable/mailbox_unknown"

const freePort = () =>
  Effect.callback<number>((resume) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resume(Effect.succeed(port)))
    })
  })

const scope = Effect.runSync(Scope.make())
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))
const pg = await Effect.runPromise(Effect.result(Scope.provide(scope)(Postgres.start)))

/** A runner child process, killed with the scope; `exited` completes when it ends. */
const startRunner = (url: string, port: number, mail: MailWorld.World) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(
        process.execPath,
        [
          bin,
          "runner",
          "--db",
          url,
          "--listen",
          `127.0.0.1:${port}`,
          "--dns-server",
          mail.dns,
          "--port",
          String(mail.smtpPort),
          "--helo",
          "runner.rcpt.test",
          "--timeout",
          "10s",
          "--per-host",
          String(PER_HOST),
          "--recipients-per-session",
          "20"
        ],
        { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } }
      )
      let log = ""
      child.stderr!.setEncoding("utf8").on("data", (d: string) => {
        log = (log + d).slice(-20_000)
      })
      return { child, port, log: () => log }
    }),
    ({ child }) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
  )

const exited = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
  })

if (pg._tag === "Failure") {
  if (process.getuid?.() === 0) {
    describe("cluster", () => {
      it("starts PostgreSQL (root can install it: apt-get install -y postgresql)", () => {
        assert.fail(`PostgreSQL unavailable: ${pg.failure.reason}`)
      })
    })
  } else {
    console.warn(`cluster suite skipped: ${pg.failure.reason}`)
    describe.skip(`cluster (skipped: ${pg.failure.reason})`, () => {
      it("runs 3 runners", () => {})
    })
  }
} else {
  const url = pg.success.url
  describe("cluster of three runners", () => {
    it.live(
      "a job over shared MX hosts: a runner SIGKILLed mid-job, every address once, per-host held, failover < 10 s",
      () =>
        Effect.gen(function* () {
          const mail = yield* MailWorld.start(world)
          const ports = [yield* freePort(), yield* freePort(), yield* freePort()]
          const runners = yield* Effect.forEach(ports, (port) => startRunner(url, port, mail))

          const pgLayer = Runner.layerPg(url)
          const listener = { stored: () => Effect.void, ended: () => Effect.void }
          const ended = yield* Deferred.make<void>()
          const member = Layer.mergeAll(
            Runner.layerSharding({ runner: Option.none() }),
            JobStore.layer,
            Runner.layerVerifier({ helo: "serve.rcpt.test", port: mail.smtpPort, dnsServers: [mail.dns] })
          ).pipe(Layer.provideMerge(pgLayer))

          return yield* Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            const store = yield* JobStore.JobStore
            // All three registered before the job starts.
            yield* sql<{ n: unknown }>`SELECT COUNT(*) AS n FROM cluster_runners WHERE healthy`.pipe(
              Effect.map((rows) => Number(rows[0]?.n ?? 0)),
              Effect.catch(() => Effect.succeed(0)),
              Effect.repeat({ until: (n) => n >= 3, schedule: Schedule.spaced("200 millis") }),
              // Generous: three Node processes loading on a busy 2-core machine.
              Effect.timeout("120 seconds"),
              Effect.catch(() =>
                Effect.die(new Error(`runners did not register:\n${runners.map((r) => r.log()).join("\n---\n")}`))
              )
            )
            // Shards move to new runners for a moment after they join: start once that settles.
            yield* Effect.sleep("3 seconds")

            const id = "cluster-job-1"
            yield* store.create({ id, owner: "t", options: "{}", now: Date.now() })
            yield* store.appendInputs(id, 0, addresses)
            yield* store.seal(id, addresses.length, Date.now())
            const dispatcher = yield* Dispatcher.make(
              { ...Dispatcher.defaults, batch: 50 },
              { ...listener, ended: () => Deferred.succeed(ended, undefined).pipe(Effect.asVoid) }
            )
            const t0 = Date.now()
            yield* dispatcher.start(id)

            // Kill, mid-job, the runner that wrote the latest results; note the MX hosts it served.
            const progress = store.get(id).pipe(Effect.map((j) => Option.getOrThrow(j).done))
            yield* progress.pipe(
              Effect.repeat({ until: (n) => n >= addresses.length / 4, schedule: Schedule.spaced("100 millis") })
            )
            const recent = yield* store.results(id, { after: 0, limit: 1_000_000 })
            const parsed = recent.map((r) => JSON.parse(r.data) as { runner: string; mx: { address: string } })
            const victim = parsed.at(-1)!.runner
            const victimHosts = new Set(parsed.filter((r) => r.runner === victim).map((r) => r.mx.address))
            const doneAtKill = recent.length
            const runner = runners.find((r) => `127.0.0.1:${r.port}` === victim)!
            runner.child.kill("SIGKILL")
            const killedAt = Date.now()
            yield* exited(runner.child)

            // The first result for one of its hosts written by another runner after the kill.
            let seq = recent.at(-1)!.seq
            let failover: number | undefined
            while (failover === undefined) {
              const rows = yield* store.results(id, { after: seq, limit: 10_000 })
              for (const r of rows) {
                const data = JSON.parse(r.data) as { runner: string; mx: { address: string } }
                if (data.runner !== victim && victimHosts.has(data.mx.address)) failover ??= Date.now() - killedAt
              }
              if (rows.length > 0) seq = rows.at(-1)!.seq
              if (Date.now() - killedAt > 30_000) break
              yield* Effect.sleep("100 millis")
            }
            yield* Deferred.await(ended).pipe(Effect.timeout("60 seconds"))
            const elapsed = Date.now() - t0

            const job = Option.getOrThrow(yield* store.get(id))
            const rows = yield* store.results(id, { after: 0, limit: 1_000_000 })
            const stats = yield* mail.stats
            const leftover = yield* sql<{
              n: unknown
            }>`SELECT COUNT(*) AS n FROM cluster_messages WHERE payload LIKE ${`%"jobId":"${id}"%`}`
            console.log(
              `cluster: ${addresses.length} addresses in ${elapsed} ms; killed ${victim} at ${doneAtKill} done; ` +
                `its hosts ${[...victimHosts].join(",")} answered again after ${failover} ms; ` +
                `peak connections per host ${JSON.stringify(stats.maxConcurrent)}`
            )

            assert.strictEqual(job.state, "done")
            assert.strictEqual(job.done, addresses.length)
            assert.strictEqual(rows.length, addresses.length, "one result row per input")
            assert.strictEqual(new Set(rows.map((r) => r.position)).size, addresses.length, "no position twice")
            const wrong = rows.filter((r) => {
              const v = JSON.parse(r.data) as { verdict: string; reason: string }
              return `${v.verdict}/${v.reason}` !== expected(addresses[r.position]!)
            })
            assert.deepStrictEqual(
              wrong.slice(0, 5).map((r) => [addresses[r.position], r.data.slice(0, 200)]),
              [],
              "verdicts"
            )
            // Two runners on one host would show up to 2 x --per-host. The + 1 is the close race the
            // CLI's test explains: the server counts a connection until our close reaches it, so the
            // next connection of the same runner can arrive first.
            for (const host of HOSTS) {
              assert.isAtMost(stats.maxConcurrent[host] ?? 0, PER_HOST + 1, `connections to ${host} at once`)
            }
            assert.isDefined(failover, "the killed runner's MX hosts were answered again")
            assert.isBelow(failover!, 10_000, "failover")
            assert.strictEqual(Number(leftover[0]?.n ?? -1), 0, "the job's message rows are cleared")
            const survivors = new Set(rows.map((r) => (JSON.parse(r.data) as { runner: string }).runner))
            assert.isAtLeast(survivors.size, 2, "work was spread over runners")
          }).pipe(Effect.provide(member))
        }).pipe(Effect.scoped),
      240_000
    )
  })
}
