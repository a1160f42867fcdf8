// `--keep-open` (and RCPT_KEEP_OPEN) reach `Policy.keepOpen`, and `--input-idle` (RCPT_INPUT_IDLE)
// `Policy.inputIdle`: resolved into the policy layer, and seen in what the real binary does. A bulk
// run's sessions to one MX address share a connection kept between them; with "0" each session has
// a connection of its own. A list piped in slowly is checked when it pauses, not when it ends.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Exit, Fiber, Option } from "effect"
import { MailWorld } from "@rcpt/testing"
import { Policy } from "@rcpt/verifier"
import * as Options from "../src/Options.ts"
import { finish, jsonLines, rcpt, start, tempDir, waitForLines, worldFlags } from "./helpers.ts"

const policyNow = Effect.gen(function* () {
  return yield* Policy.Policy
})

/** A duration policy in millis as the resolved flags and variables give it. */
const policyFor = (field: "keepOpen" | "inputIdle", given: Partial<Options.Given>, env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const resolved = yield* Options.resolve({ ...Options.none, ...given })
    const policy = yield* Effect.provide(policyNow, Options.policyLayer(resolved))
    return Duration.toMillis(Duration.fromInputUnsafe(policy[field]))
  }).pipe(
    Effect.provide(NodeFileSystem.layer),
    Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))
  )

/** `Policy.keepOpen` in millis as the resolved flags and variables give it. */
const keptFor = (given: Partial<Options.Given>, env: Record<string, string> = {}) => policyFor("keepOpen", given, env)

describe("--keep-open", () => {
  it.effect("sets Policy.keepOpen: the flag first, then RCPT_KEEP_OPEN, else the default", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* keptFor({}), Duration.toMillis(Duration.fromInputUnsafe(Policy.defaults.keepOpen)))
      assert.strictEqual(yield* keptFor({ keepOpen: Option.some("0") }), 0)
      assert.strictEqual(yield* keptFor({ keepOpen: Option.some("2s") }), 2000)
      assert.strictEqual(yield* keptFor({}, { RCPT_KEEP_OPEN: "750ms" }), 750)
      assert.strictEqual(yield* keptFor({ keepOpen: Option.some("1s") }, { RCPT_KEEP_OPEN: "750ms" }), 1000)
      // The other policies stay as they were.
      const resolved = yield* Options.resolve({ ...Options.none, keepOpen: Option.some("0") }).pipe(
        Effect.provide(NodeFileSystem.layer),
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env: {} }))
      )
      const policy = yield* Effect.provide(policyNow, Options.policyLayer(resolved))
      assert.strictEqual(policy.greylistRetry, Policy.defaults.greylistRetry)
    })
  )

  it.effect("a value that is no duration is a usage error naming where it came from", () =>
    Effect.gen(function* () {
      const flag = yield* Effect.exit(keptFor({ keepOpen: Option.some("soon") }))
      const variable = yield* Effect.exit(keptFor({}, { RCPT_KEEP_OPEN: "soon" }))
      assert.isTrue(Exit.isFailure(flag) && Exit.isFailure(variable))
      assert.match(String(flag), /--keep-open: expected a duration/)
      assert.match(String(variable), /RCPT_KEEP_OPEN: expected a duration/)
    })
  )

  it.live(
    "rcpt bulk: one connection per session with --keep-open 0, all sessions on one with --keep-open 10s",
    () =>
      Effect.gen(function* () {
        // 12,000 mailboxes of a catch-all domain (not probed) at one MX address, one connection at a
        // time: the bulk engine's window (5,000) cuts them into groups, a session (at least) each.
        const world = yield* MailWorld.start({
          domains: [{ name: "all.test", mx: [{ host: "mx.all.test", preference: 10 }], catchAll: true }],
          hosts: [{ name: "mx.all.test", address: "127.0.0.2" }]
        })
        const dir = yield* tempDir
        const input = Path.join(dir, "list.txt")
        Fs.writeFileSync(input, Array.from({ length: 12_000 }, (_, i) => `user${i}@all.test\n`).join(""))
        const connections = (extra: ReadonlyArray<string>) =>
          Effect.gen(function* () {
            yield* world.resetStats
            const output = Path.join(dir, `out-${extra.join("")}.jsonl`)
            const flags = ["--per-host", "1", "--no-catch-all", ...worldFlags(world)]
            const ran = yield* rcpt(["bulk", input, "-o", output, ...flags, ...extra])
            assert.strictEqual(ran.code, 0, ran.stderr)
            const results = jsonLines(Fs.readFileSync(output, "utf8"))
            assert.strictEqual(results.filter((v) => v["verdict"] === "deliverable").length, 12_000)
            const stats = yield* world.stats
            return stats.connections["127.0.0.2"] ?? 0
          })
        // Kept long enough that a loaded machine's pause between groups does not close it.
        const kept = yield* connections(["--keep-open", "10s"])
        const closed = yield* connections(["--keep-open", "0"])
        const seen = `--keep-open 10s: ${kept} connections, --keep-open 0: ${closed}`
        assert.strictEqual(kept, 1, seen)
        assert.isAtLeast(closed, 3, seen)
      }).pipe(Effect.scoped),
    60_000
  )
})

describe("--input-idle", () => {
  it.effect("sets Policy.inputIdle: the flag first, then RCPT_INPUT_IDLE, else the default", () =>
    Effect.gen(function* () {
      const idle = (given: Partial<Options.Given>, env: Record<string, string> = {}) =>
        policyFor("inputIdle", given, env)
      assert.strictEqual(yield* idle({}), Duration.toMillis(Duration.fromInputUnsafe(Policy.defaults.inputIdle)))
      assert.strictEqual(yield* idle({ inputIdle: Option.some("300ms") }), 300)
      assert.strictEqual(yield* idle({}, { RCPT_INPUT_IDLE: "5s" }), 5000)
      assert.strictEqual(yield* idle({ inputIdle: Option.some("2s") }, { RCPT_INPUT_IDLE: "5s" }), 2000)
      const flag = yield* Effect.exit(idle({ inputIdle: Option.some("later") }))
      assert.isTrue(Exit.isFailure(flag))
      assert.match(String(flag), /--input-idle: expected a duration/)
    })
  )

  it.live(
    "rcpt bulk - (stdin): addresses written, then a pause: their results are out before the input ends",
    () =>
      Effect.gen(function* () {
        const world = yield* MailWorld.start({
          domains: [{ name: "pipe.test", mx: [{ host: "mx.pipe.test", preference: 10 }], users: ["alice"] }],
          hosts: [{ name: "mx.pipe.test", address: "127.0.0.97" }]
        })
        const dir = yield* tempDir
        const output = Path.join(dir, "out.jsonl")
        const child = start(["bulk", "-", "-o", output, "--input-idle", "300ms", ...worldFlags(world)])
        const ran = Effect.runFork(finish(child, null))
        child.stdin!.write("alice@pipe.test\nnobody@pipe.test\n")
        // The input stays open: only the pause sends them.
        yield* waitForLines(output, 2, 20_000)
        const early = jsonLines(Fs.readFileSync(output, "utf8"))
        child.stdin!.end("alice@pipe.test\n")
        const done = yield* Fiber.await(ran)
        assert.deepStrictEqual(early.map((v) => `${v.address}: ${v.verdict}`).sort(), [
          "alice@pipe.test: deliverable",
          "nobody@pipe.test: undeliverable"
        ])
        assert.isTrue(Exit.isSuccess(done) && done.value.code === 0, JSON.stringify(done))
        assert.strictEqual(jsonLines(Fs.readFileSync(output, "utf8")).length, 3)
      }).pipe(Effect.scoped),
    60_000
  )
})
