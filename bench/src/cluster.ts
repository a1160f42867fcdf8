/**
 * The cluster bench (`npm run bench:cluster -w bench`): one job verified by 1, 2 and 3 `rcpt
 * runner` processes against the same in-process mail world, side by side in one run. Each runner
 * dials from its own loopback source address (`--source-address 127.0.0.10N`), and every MX host
 * refuses more than `--per-host` connections from one client address, as Postfix's anvil does, so
 * a runner cannot go faster by opening more. A fresh PostgreSQL (on loopback, started here) per
 * round, so no runner of an earlier round is counted.
 *
 * Not a test: nothing asserts a timing. Prints a Markdown table; writes bench/results/cluster.json.
 *
 * @since 0.2.0
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { Effect, Exit, Scope } from "effect"
import type { Duration } from "effect"
import { MailWorld, Postgres } from "@rcpt/testing"
import * as Harness from "../../packages/cluster/test/harness.ts"

const args = new Map(
  process.argv.slice(2).flatMap((a, i, all) => (a.startsWith("--") ? [[a.slice(2), all[i + 1] ?? ""]] : []))
)
const HOSTS = Number(args.get("hosts") ?? 8)
const DOMAINS = Number(args.get("domains") ?? 80)
const SIZE = Number(args.get("size") ?? 4_000)
const PER_HOST = Number(args.get("per-host") ?? 2)
const GREETING = (args.get("greeting-delay") ?? "100 millis") as Duration.Input
const RUNNERS = (args.get("runners") ?? "1,2,3").split(",").map(Number)

const world: MailWorld.WorldSpec = {
  hosts: Array.from({ length: HOSTS }, (_, h) => ({
    name: `mx${h}.bench.test`,
    address: `127.0.11.${h + 1}`,
    behaviour: { greetingDelay: GREETING, maxConnectionsPerClient: PER_HOST }
  })),
  domains: Array.from({ length: DOMAINS }, (_, d) => ({
    name: `d${d}.bench.test`,
    mx: [{ host: `mx${d % HOSTS}.bench.test`, preference: 10 }],
    users: Array.from({ length: 20 }, (_, u) => `u${u}`)
  }))
}
const addresses = Array.from({ length: SIZE }, (_, i) => `u${Math.floor(i / DOMAINS) % 40}@d${i % DOMAINS}.bench.test`)

interface Round {
  readonly runners: number
  readonly seconds: number
  readonly rate: number
  readonly connections: number
  readonly peakPerHost: number
  readonly clients: number
}

const round = (n: number, mail: MailWorld.World) =>
  Effect.gen(function* () {
    const pg = yield* Postgres.start
    yield* mail.resetStats
    const runners = yield* Effect.forEach(
      Array.from({ length: n }, (_, i) => i),
      (i) =>
        Harness.startRunner(pg.url, mail, [
          "--per-host",
          String(PER_HOST),
          "--source-address",
          `127.0.0.${101 + i}`,
          "--allow-target",
          "127.0.0.0/8"
        ])
    )
    return yield* Effect.gen(function* () {
      yield* Harness.awaitRunners(n, runners)
      const t0 = Date.now()
      const { ended } = yield* Harness.submit(`bench-${n}`, addresses, { batch: 100 })
      yield* ended
      const seconds = (Date.now() - t0) / 1000
      const stats = yield* mail.stats
      const clients = new Set(Object.values(stats.clients).flatMap((byClient) => Object.keys(byClient)))
      return {
        runners: n,
        seconds,
        rate: Math.round(SIZE / seconds),
        connections: Object.values(stats.connections).reduce((a, b) => a + b, 0),
        peakPerHost: Math.max(...Object.values(stats.maxConcurrent)),
        clients: clients.size
      } satisfies Round
    }).pipe(Effect.provide(Harness.member(pg.url, mail)))
  }).pipe(Effect.scoped)

const main = Effect.gen(function* () {
  const mail = yield* MailWorld.start(world)
  const rounds: Array<Round> = []
  for (const n of RUNNERS) {
    process.stderr.write(`cluster bench: ${n} runner(s), ${SIZE} addresses...\n`)
    rounds.push(yield* round(n, mail))
  }
  const base = rounds[0]!.rate
  const lines = [
    `| runners | seconds | addr/s | vs 1 runner | connections | peak per host | client addresses |`,
    `| --- | --- | --- | --- | --- | --- | --- |`,
    ...rounds.map(
      (r) =>
        `| ${r.runners} | ${r.seconds.toFixed(1)} | ${r.rate} | ${(r.rate / base).toFixed(2)} | ${r.connections} | ${r.peakPerHost} | ${r.clients} |`
    )
  ]
  process.stdout.write(`${lines.join("\n")}\n`)
  mkdirSync(new URL("../results/", import.meta.url), { recursive: true })
  writeFileSync(
    new URL("../results/cluster.json", import.meta.url),
    JSON.stringify(
      { hosts: HOSTS, domains: DOMAINS, size: SIZE, perHost: PER_HOST, greeting: GREETING, rounds },
      null,
      2
    )
  )
})

const scope = Effect.runSync(Scope.make())
Effect.runPromise(Scope.provide(scope)(main))
  .then(
    () => Effect.runPromise(Scope.close(scope, Exit.void)),
    (error: unknown) => {
      process.stderr.write(`cluster bench failed: ${String(error)}\n`)
      process.exitCode = 1
      return Effect.runPromise(Scope.close(scope, Exit.void))
    }
  )
  .finally(() => process.exit())
