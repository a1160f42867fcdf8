// The cluster on one machine: a real PostgreSQL on loopback (started here), three `rcpt runner`
// processes, the dispatcher in this process (a client-only member, as `rcpt serve --cluster`
// runs it), and the in-process mail world. One runner is SIGKILLed mid-job. Checked: every
// address exactly once with the right verdict, never more than --per-host connections to any MX
// host (counted at the servers), and the killed runner's MX hosts answered again within 10 s.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option, Schedule, Scope } from "effect"
import { SqlClient } from "effect/sql"
import { JobStore } from "@rcpt/store"
import { MailWorld, Postgres } from "@rcpt/testing"
import { afterAll } from "vitest"
import * as Harness from "./harness.ts"
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

const scope = Effect.runSync(Scope.make())
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))
const pg = await Effect.runPromise(Effect.result(Scope.provide(scope)(Postgres.start)))
const flags = ["--per-host", String(PER_HOST), "--recipients-per-session", "20"]

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
          const runners = yield* Effect.forEach([1, 2, 3], () => Harness.startRunner(url, mail, flags))
          return yield* Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            const store = yield* JobStore.JobStore
            yield* Harness.awaitRunners(3, runners)
            const id = "cluster-job-1"
            const t0 = Date.now()
            const { ended } = yield* Harness.submit(id, addresses, { batch: 50 })

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
            const runner = runners.find((r) => r.name === victim)!
            runner.child.kill("SIGKILL")
            const killedAt = Date.now()
            yield* Harness.exited(runner.child)

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
            yield* ended.pipe(Effect.timeout("60 seconds"))
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
          }).pipe(Effect.provide(Harness.member(url, mail)))
        }).pipe(Effect.scoped),
      240_000
    )

    it.live(
      "rcpt serve --cluster: a job posted over HTTP runs on the runners; GET /v1/cluster lists them",
      () =>
        Effect.gen(function* () {
          const mail = yield* MailWorld.start(world)
          const runners = yield* Effect.forEach([1, 2], () => Harness.startRunner(url, mail, flags))
          const base = yield* Harness.startServe(url, mail)
          const list = addresses.slice(0, 400)
          const created = yield* Effect.promise(() =>
            fetch(`${base}/v1/jobs`, {
              method: "POST",
              headers: { "content-type": "text/plain" },
              body: list.join("\n")
            })
          )
          assert.strictEqual(created.status, 202)
          const { id } = (yield* Effect.promise(() => created.json())) as { id: string }
          const job = yield* Effect.promise(() =>
            fetch(`${base}/v1/jobs/${id}`).then((r) => r.json() as Promise<{ state: string; done: number }>)
          ).pipe(
            Effect.repeat({ until: (j) => j.state === "done", schedule: Schedule.spaced("250 millis") }),
            Effect.timeout("120 seconds")
          )
          assert.strictEqual(job.done, list.length)
          const lines = (yield* Effect.promise(() =>
            fetch(`${base}/v1/jobs/${id}/results?format=jsonl`).then((r) => r.text())
          ))
            .split("\n")
            .filter((l) => l !== "")
          assert.strictEqual(lines.length, list.length)
          const byRunner = new Set(lines.map((l) => (JSON.parse(l) as { runner?: string }).runner))
          assert.isTrue(
            [...byRunner].every((r) => runners.some((x) => x.name === r)),
            [...byRunner].join(",")
          )
          const status = (yield* Effect.promise(() => fetch(`${base}/v1/cluster`).then((r) => r.json()))) as {
            mode: string
            runners: ReadonlyArray<{ address: string; healthy: boolean }>
          }
          assert.strictEqual(status.mode, "cluster")
          // Runners of an earlier test in this database may still be listed (unhealthy or stale).
          const healthy = new Set(status.runners.filter((r) => r.healthy).map((r) => r.address))
          for (const r of runners) assert.isTrue(healthy.has(r.name), `${r.name} listed healthy`)
        }).pipe(Effect.scoped),
      240_000
    )
  })
}
