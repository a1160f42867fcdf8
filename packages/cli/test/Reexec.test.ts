// The bin's re-exec for long commands (bin/rcpt.js): the process running `rcpt bulk` is the same pid started again
// with a small young generation and two malloc arenas (the memory of a long run, bench/README.md). Read from /proc,
// so Linux only.
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { finish, sleep, start } from "./helpers.ts"

const proc = (pid: number, file: "cmdline" | "environ"): ReadonlyArray<string> =>
  readFileSync(`/proc/${pid}/${file}`, "utf8").split("\0")

/** `rcpt bulk -` waiting on its stdin, once it runs with the bin's flags: its environment. */
const environOfBulk = (env: Record<string, string>) =>
  Effect.gen(function* () {
    const child = start(["bulk", "-"], env)
    const ended = finish(child, null)
    try {
      for (let i = 0; i < 200; i++) {
        if (proc(child.pid!, "cmdline").includes("--max-semi-space-size=4")) return proc(child.pid!, "environ")
        yield* sleep(50)
      }
      return assert.fail("rcpt bulk never ran with --max-semi-space-size=4")
    } finally {
      child.kill("SIGKILL")
      yield* ended
    }
  })

describe.runIf(process.platform === "linux" && typeof process.execve === "function")("bin re-exec", () => {
  it.effect("rcpt bulk runs with MALLOC_ARENA_MAX=2, same pid", () =>
    Effect.gen(function* () {
      assert.include(yield* environOfBulk({}), "MALLOC_ARENA_MAX=2")
    })
  )

  it.effect("a MALLOC_ARENA_MAX of the user's is kept", () =>
    Effect.gen(function* () {
      const environ = yield* environOfBulk({ MALLOC_ARENA_MAX: "8" })
      assert.include(environ, "MALLOC_ARENA_MAX=8")
      assert.notInclude(environ, "MALLOC_ARENA_MAX=2")
    })
  )
})
