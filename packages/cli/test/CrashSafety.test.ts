// Crash safety of `rcpt bulk --resume`: a 5,000-line run killed with SIGKILL at random points,
// several times over, then finished; the output must hold every input line's result exactly once.
// The list arrives on stdin over a few seconds (the engine is faster than that), so every run
// spans them and each kill lands mid-run.
// The kill points come from a seeded PRNG; the seed is printed (set RCPT_TEST_SEED to replay one).
import * as Fs from "node:fs"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { parse as parseCsv } from "csv-parse/sync"
import { MailWorld } from "@rcpt/testing"
import { ResultFormat } from "@rcpt/verifier"
import type { Verification } from "@rcpt/verifier"
import { Output } from "@rcpt/cli"
import {
  completeLines,
  countDiff,
  feed,
  finish,
  mulberry32,
  rcpt,
  sleep,
  sortedCounts,
  start,
  tempDir,
  waitForLines,
  worldFlags
} from "./helpers.ts"

const seed = Number(process.env["RCPT_TEST_SEED"] ?? Date.now() % 2 ** 31)
// eslint-disable-next-line no-console
console.log(`CrashSafety seed: ${seed} (replay with RCPT_TEST_SEED=${seed})`)

/**
 * 5,000 lines over the demo domains (not greylist.test, whose 450s would make the run slow):
 * alpha.test users and unknown local parts, catchall.test, implicit.test, nullmx.test, an NXDOMAIN
 * domain, duplicates, and a few syntax errors.
 */
const bigList = (random: () => number): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i < 5000; i++) {
    switch (i % 10) {
      case 0:
      case 1:
        out.push(`u${i}@alpha.test`)
        break
      case 2:
        out.push(`${["alice", "bob", "carol", "dave"][i % 4]}@alpha.test`)
        break
      case 3:
      case 4:
        out.push(`p${i}@catchall.test`)
        break
      case 5:
        out.push(i % 3 === 0 ? "alice@implicit.test" : `n${i}@implicit.test`)
        break
      case 6:
        out.push(`x${i % 50}@nullmx.test`)
        break
      case 7:
        out.push(`y${i % 40}@nowhere.test`)
        break
      case 8:
        // Duplicates of earlier lines, far from them.
        out.push(out[Math.floor(random() * out.length)]!)
        break
      default:
        out.push(
          i % 500 === 9
            ? ["not an address", "a@@b.test", "@alpha.test", "trailing@"][Math.floor(i / 500) % 4]!
            : `d${i}@alpha.test`
        )
    }
  }
  return out
}

const byAddress = (results: ReadonlyArray<Verification.Encoded>) =>
  new Map(results.map((v) => [v["address"] as string, v]))

describe("rcpt bulk: kill -9 at random points, then --resume", { timeout: 60_000 }, () => {
  it.live(
    "5,000 lines, 6 SIGKILLs at random points: every line in the output exactly once, whole JSON lines only",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const random = mulberry32(seed)
          const world = yield* MailWorld.start(MailWorld.demo)
          const flags = worldFlags(world)
          const dir = yield* tempDir
          const list = bigList(random)
          const input = `${list.join("\n")}\n`
          const output = Path.join(dir, "out.jsonl")
          const slow = ["--per-host", "1", "--recipients-per-session", "10"]
          const args = ["bulk", "-", "-o", output, "--resume", ...slow, ...flags]

          const kills: Array<{ before: number; after: number; torn: boolean }> = []
          while (kills.length < 6) {
            const before = completeLines(output)
            const child = start(args)
            const running = yield* Effect.forkChild(finish(child, null))
            // The list from its start each time (--resume skips what the output has): 1,000 lines a second.
            yield* Effect.forkChild(feed(child, list, 50, 50))
            if (kills.length === 2) {
              // One kill at a plain random time, 150-900 ms: often during start-up or the resume
              // scan, before anything new is written.
              yield* sleep(150 + Math.floor(random() * 750))
            } else {
              // After a random number of new lines (results come out a group at a time, so often
              // more), plus a random delay; never waiting past half the list, so that six runs leave
              // work for the last one (a faster engine now and then wrote it all before the sixth kill).
              yield* waitForLines(output, Math.min(before + 1 + Math.floor(random() * 300), list.length / 2))
              yield* sleep(Math.floor(random() * 200))
            }
            child.kill("SIGKILL")
            const ran = yield* Fiber.join(running)
            assert.strictEqual(ran.signal, "SIGKILL", `run ${kills.length + 1} ended by itself: ${ran.stderr}`)
            const text = Fs.existsSync(output) ? Fs.readFileSync(output, "utf8") : ""
            const after = completeLines(output)
            kills.push({ before, after, torn: text !== "" && !text.endsWith("\n") })
            assert.isBelow(after, list.length, `run ${kills.length} was killed before the end`)
          }
          assert.isAtLeast(kills.filter((k) => k.after > k.before).length, 4, "at least 4 kills mid-run")
          // Pin down the torn-line repair too: the final run repairs what the last kill left, so if
          // that kill tore no write, tear one by hand (an earlier kill's torn line was repaired by
          // the run after it, and is not in the output any more).
          if (!kills.at(-1)!.torn) Fs.appendFileSync(output, '{"address":"torn@alpha.te')
          // eslint-disable-next-line no-console
          console.log(`CrashSafety kills (lines before -> after, torn): ${JSON.stringify(kills)}`)

          const final = yield* rcpt(args, {}, input)
          assert.strictEqual(final.code, 0, final.stderr)
          assert.include(final.stderr, "partial last line")
          assert.match(final.stderr, /skipped \(already in the output\)/)

          const text = Fs.readFileSync(output, "utf8")
          assert.isTrue(text.endsWith("\n"), "the output ends with a whole line")
          const lines = text.slice(0, -1).split("\n")
          const results = lines.map((l, i) => {
            try {
              return JSON.parse(l) as Verification.Encoded
            } catch {
              return assert.fail(`output line ${i + 1} is not JSON: ${l.slice(0, 200)}`)
            }
          })
          assert.deepStrictEqual(
            countDiff(
              results.map((v) => v["address"] as string),
              list
            ),
            [],
            "(address, times in the output - times in the input)"
          )
          assert.strictEqual(results.length, list.length)
          assert.deepStrictEqual(sortedCounts(results.map((v) => v["address"] as string)), sortedCounts(list))

          const by = byAddress(results)
          const verdict = (a: string) => `${by.get(a)?.["verdict"]}/${by.get(a)?.["reason"]}`
          assert.strictEqual(verdict("alice@alpha.test"), "deliverable/accepted")
          assert.strictEqual(verdict("u0@alpha.test"), "undeliverable/mailbox_unknown")
          assert.strictEqual(verdict("x6@nullmx.test"), "undeliverable/null_mx")
          assert.strictEqual(verdict("alice@implicit.test"), "deliverable/accepted")
          assert.strictEqual(by.get("p3@catchall.test")?.["reason"], "catch_all")
          assert.strictEqual(by.get("y7@nowhere.test")?.["verdict"], "undeliverable")
          assert.strictEqual(verdict("not an address"), "undeliverable/syntax")
          // Every result of the same address agrees (duplicates answered from one verification,
          // across runs too).
          for (const v of results) {
            const first = by.get(v["address"] as string)!
            assert.strictEqual(v["verdict"], first["verdict"], v["address"] as string)
          }

          // A further --resume has nothing to do and writes nothing.
          const again = yield* rcpt(args, {}, input)
          assert.strictEqual(again.code, 0, again.stderr)
          assert.include(again.stderr, `${list.length} skipped`)
          assert.strictEqual(Fs.readFileSync(output, "utf8"), text)
        })
      ),
    // A bound, not a target: seven CLI starts, which take seconds each on a loaded machine.
    180_000
  )

  it.live(
    "CSV output: 2,000 lines, 3 SIGKILLs mid-run, then --resume: one header, every line once",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const random = mulberry32(seed ^ 0x5bd1e995)
          const world = yield* MailWorld.start(MailWorld.demo)
          const flags = worldFlags(world)
          const dir = yield* tempDir
          const list = bigList(random).slice(0, 2000)
          const output = Path.join(dir, "out.csv")
          const slow = ["--per-host", "1", "--recipients-per-session", "10"]
          const args = ["bulk", "-", "--format", "csv", "-o", output, "--resume", ...slow, ...flags]
          for (let k = 0; k < 3; k++) {
            const child = start(args)
            const running = yield* Effect.forkChild(finish(child, null))
            // Killed at a random time while its list is still being fed (2 s at 1,000 lines a second),
            // so the run cannot have ended. Waiting for its first new lines instead raced the end: with
            // --resume a later run has few lines left, and a group gathers until the input ends.
            yield* Effect.forkChild(feed(child, list, 50, 50))
            yield* sleep(300 + Math.floor(random() * 1500))
            child.kill("SIGKILL")
            const ran = yield* Fiber.join(running)
            assert.strictEqual(ran.signal, "SIGKILL", `run ${k + 1} ended by itself: ${ran.stderr}`)
          }
          const final = yield* rcpt(args, {}, `${list.join("\n")}\n`)
          assert.strictEqual(final.code, 0, final.stderr)
          const text = Fs.readFileSync(output, "utf8")
          assert.isTrue(text.startsWith(Output.csvHeader))
          assert.strictEqual(text.split(Output.csvHeader).length, 2, "one header")
          const rows = parseCsv(text, { columns: true }) as Array<Record<string, string>>
          // CSV cells are written formula-safe (a line such as "@alpha.test" as "'@alpha.test").
          const written = list.map(ResultFormat.csvText)
          assert.deepStrictEqual(
            countDiff(
              rows.map((r) => r["address"]!),
              written
            ),
            []
          )
          assert.strictEqual(rows.length, list.length)
          assert.deepStrictEqual(sortedCounts(rows.map((r) => r["address"]!)), sortedCounts(written))
          const alice = rows.find((r) => r["address"] === "alice@alpha.test")!
          assert.strictEqual(alice["verdict"], "deliverable")
        })
      ),
    60_000
  )
})
