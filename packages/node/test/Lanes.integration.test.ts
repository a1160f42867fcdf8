// Connections kept open between a bulk run's sessions (verifier internal/lanes.ts), against real
// servers on loopback (MailWorld): sessions to one MX address share its connections, a connection
// the server closed while it waited is replaced without a word in the results, and the run ends
// with QUIT on every connection it kept.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { MailWorld } from "@rcpt/testing"
import { HostProfile, Policy, Verifier } from "@rcpt/verifier"
import { worldVerifier } from "./helpers.ts"

const spec = (address: string, behaviour: NonNullable<MailWorld.HostSpec["behaviour"]> = {}): MailWorld.WorldSpec => ({
  domains: [{ name: "all.test", mx: [{ host: "mx.all.test", preference: 10 }], catchAll: true }],
  hosts: [{ name: "mx.all.test", address, behaviour }]
})

const count = (stats: MailWorld.Stats, address: string, verb: string) =>
  stats.commands.filter((c) => c.host === address && c.line.toUpperCase().startsWith(verb)).length

/** Verifies `input` with fixed sessions of 100 recipients, one connection at a time. */
const run = <E>(
  world: MailWorld.World,
  input: Stream.Stream<string, E>,
  how: "bulk" | "one by one",
  keepOpen: Policy.Policies["keepOpen"] = Policy.keepOpen
) =>
  Effect.gen(function* () {
    const verifier = yield* Verifier.Verifier
    const results =
      how === "bulk"
        ? Array.from(yield* verifier.verifyMany(input).pipe(Stream.runCollect))
        : Array.from(
            yield* input.pipe(
              Stream.mapEffect((a) => verifier.verify(a)),
              Stream.runCollect
            )
          )
    return { results, stats: yield* world.stats }
  }).pipe(
    Effect.provide(
      worldVerifier(world, { timeout: "30 seconds", perHost: 1, recipientsPerSession: 100, catchAllProbe: false })
    ),
    Effect.provideService(Policy.Policy, { ...Policy.defaults, hostShaping: HostProfile.fixed, keepOpen })
  )

const list = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `user${from + i}@all.test`)

describe("connections kept open between sessions", { timeout: 60_000 }, () => {
  it.live("a bulk run's sessions to one MX address share its connection; each ends with QUIT", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(spec("127.0.0.81"))
      const bulk = yield* run(world, Stream.fromIterable(list(600)), "bulk")
      assert.strictEqual(bulk.results.length, 600)
      assert.isTrue(bulk.results.every((v) => v.verdict === "deliverable" && v.reason === "accepted"))
      // Six sessions of 100 (fixed shaping), one after another on --per-host 1.
      assert.strictEqual(count(bulk.stats, "127.0.0.81", "MAIL FROM"), 6)
      assert.strictEqual(bulk.stats.connections["127.0.0.81"], 1, "one connection for the six sessions")
      assert.strictEqual(count(bulk.stats, "127.0.0.81", "EHLO"), 1)
      assert.strictEqual(count(bulk.stats, "127.0.0.81", "RSET"), 5, "each session after the first starts with RSET")
      assert.strictEqual(count(bulk.stats, "127.0.0.81", "QUIT"), 1, "the kept connection says QUIT at the end")
      // Outside a bulk run, a session dials and quits as before.
      yield* world.resetStats
      const single = yield* run(world, Stream.fromIterable(list(3)), "one by one")
      assert.isTrue(single.results.every((v) => v.verdict === "deliverable"))
      assert.strictEqual(single.stats.connections["127.0.0.81"], 3)
      assert.strictEqual(count(single.stats, "127.0.0.81", "QUIT"), 3)
      assert.strictEqual(count(single.stats, "127.0.0.81", "RSET"), 0)
      // Policy.keepOpen 0: every bulk session dials and quits.
      yield* world.resetStats
      const off = yield* run(world, Stream.fromIterable(list(600)), "bulk", 0)
      assert.isTrue(off.results.every((v) => v.verdict === "deliverable"))
      assert.strictEqual(off.stats.connections["127.0.0.81"], 6)
      assert.strictEqual(count(off.stats, "127.0.0.81", "QUIT"), 6)
    }).pipe(Effect.scoped)
  )

  /**
   * 600 unknown mailboxes on a host at `address`, one connection at a time, sessions of
   * `recipientsPerSession` and a cap of 300 refusals a connection: nothing widens, but what a session
   * showed is learnt (the host refuses everything). The server's commands and connections.
   */
  const refusing = (address: string, recipientsPerSession: number) =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start({
        domains: [{ name: "none.test", mx: [{ host: "mx.none.test", preference: 10 }], users: ["alice"] }],
        hosts: [{ name: "mx.none.test", address }]
      })
      const addresses = Array.from({ length: 600 }, (_, i) => `nobody${i}@none.test`)
      const shaping: HostProfile.Shaping = {
        ...HostProfile.fixed,
        learn: (safe, _, o) => HostProfile.learn(safe, safe, o)
      }
      const results = yield* Effect.gen(function* () {
        const verifier = yield* Verifier.Verifier
        return Array.from(yield* verifier.verifyMany(Stream.fromIterable(addresses)).pipe(Stream.runCollect))
      }).pipe(
        Effect.provide(
          worldVerifier(world, {
            timeout: "30 seconds",
            perHost: 1,
            recipientsPerSession,
            maxErrorsPerSession: 300,
            catchAllProbe: false
          })
        ),
        Effect.provideService(Policy.Policy, { ...Policy.defaults, hostShaping: shaping })
      )
      assert.strictEqual(results.length, 600)
      assert.isTrue(results.every((v) => v.verdict === "undeliverable" && v.reason === "mailbox_unknown"))
      const stats = yield* world.stats
      return { sessions: count(stats, address, "MAIL FROM"), connections: stats.connections[address] }
    })

  it.live("on a host that refuses everything a connection carries sessions until its refusals reach the cap", () =>
    Effect.gen(function* () {
      // Six sessions of 100, three a connection: 300 refusals each, the cap (not half of it).
      assert.deepStrictEqual(yield* refusing("127.0.0.89", 100), { sessions: 6, connections: 2 })
    }).pipe(Effect.scoped)
  )

  it.live(
    "on a refusing host a session takes what its connection's refusals have left, if half: no new connection",
    () =>
      Effect.gen(function* () {
        // 200 and the 100 left of the cap on each connection; whole sessions of 200 would take three.
        assert.deepStrictEqual(yield* refusing("127.0.0.98", 200), { sessions: 4, connections: 2 })
      }).pipe(Effect.scoped)
  )

  it.live("a connection the server closed while it waited is replaced; no result says so", () =>
    Effect.gen(function* () {
      // The server drops a connection idle for 200 ms; the run keeps one for two seconds, and the
      // second half of the list comes 600 ms after the first.
      const world = yield* MailWorld.start(spec("127.0.0.82", { idleTimeout: "200 millis" }))
      const input = Stream.fromIterable(list(100)).pipe(
        Stream.concat(Stream.fromEffect(Effect.sleep("600 millis")).pipe(Stream.drain)),
        Stream.concat(Stream.fromIterable(list(100, 100)))
      )
      const r = yield* run(world, input, "bulk", "2 seconds")
      assert.strictEqual(r.results.length, 200)
      assert.isTrue(r.results.every((v) => v.verdict === "deliverable" && v.reason === "accepted"))
      // The stale connection cost a second one, and nothing moved to another host or failed.
      assert.strictEqual(r.stats.connections["127.0.0.82"], 2)
      assert.strictEqual(count(r.stats, "127.0.0.82", "MAIL FROM"), 2)
    }).pipe(Effect.scoped)
  )
})

describe("bulk groups", { timeout: 60_000 }, () => {
  it.live("a third of the window gathering sends the largest group: the next one is read while two run", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(spec("127.0.0.90"))
      const results = yield* Effect.gen(function* () {
        const verifier = yield* Verifier.Verifier
        return Array.from(
          yield* verifier.verifyMany(Stream.fromIterable(list(300)), { window: 300 }).pipe(Stream.runCollect)
        )
      }).pipe(
        Effect.provide(
          worldVerifier(world, { timeout: "30 seconds", perHost: 1, recipientsPerSession: 5000, catchAllProbe: false })
        ),
        Effect.provideService(Policy.Policy, { ...Policy.defaults, hostShaping: HostProfile.fixed })
      )
      assert.strictEqual(results.length, 300)
      assert.isTrue(results.every((v) => v.verdict === "deliverable"))
      // Sessions could take 5,000: each group of 100 (a third of 300) is one session.
      assert.strictEqual(count(yield* world.stats, "127.0.0.90", "MAIL FROM"), 3)
    }).pipe(Effect.scoped)
  )

  it.live("a group whose host's lanes hold other groups' sessions goes whole to the next free one", () =>
    Effect.gen(function* () {
      // Each connection waits 300 ms for its greeting: the first group's two sessions hold both
      // lanes while the next two groups (of 200: a third of the window) are read.
      const world = yield* MailWorld.start(spec("127.0.0.94", { greetingDelay: "300 millis" }))
      const shaping: HostProfile.Shaping = {
        ...HostProfile.fixed,
        initial: (start) => ({ ...HostProfile.initial(start), recipientsPerSession: 5000 })
      }
      const results = yield* Effect.gen(function* () {
        const verifier = yield* Verifier.Verifier
        return Array.from(
          yield* verifier.verifyMany(Stream.fromIterable(list(600)), { window: 600 }).pipe(Stream.runCollect)
        )
      }).pipe(
        Effect.provide(
          worldVerifier(world, { timeout: "30 seconds", perHost: 2, recipientsPerSession: 50, catchAllProbe: false })
        ),
        Effect.provideService(Policy.Policy, { ...Policy.defaults, hostShaping: shaping })
      )
      assert.strictEqual(results.length, 600)
      assert.isTrue(results.every((v) => v.verdict === "deliverable"))
      const stats = yield* world.stats
      // The first group is shared by the two lanes (100 each); the other two wait, one session each.
      assert.strictEqual(count(stats, "127.0.0.94", "MAIL FROM"), 4)
      assert.strictEqual(stats.connections["127.0.0.94"], 2)
    }).pipe(Effect.scoped)
  )
})
