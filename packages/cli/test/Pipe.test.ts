// `rcpt bulk list | head`: a reader that closes standard output early ends the run quietly with
// 141 (as a shell reports SIGPIPE), never an unhandled EPIPE stack trace.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { start } from "./helpers.ts"

describe("rcpt bulk into a closed pipe", { timeout: 30_000 }, () => {
  it.live("stops with 141 and no stack trace when stdout's reader goes away", () =>
    Effect.callback<{ code: number | null; stderr: string; first: string }>((resume) => {
      // Syntax errors only: no DNS, no SMTP, results as fast as they can be written.
      const lines = Array.from({ length: 20_000 }, (_, i) => `not-an-address-${i}`).join("\n")
      const child = start(["bulk", "-", "--dns-server", "127.0.0.1:1", "--helo", "test.rcpt.test"])
      let stderr = ""
      let first = ""
      child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
      child.stdout!.setEncoding("utf8").once("data", (d: string) => {
        first = d.split("\n")[0] ?? ""
        child.stdout!.destroy()
      })
      child.on("close", (code) => resume(Effect.succeed({ code, stderr, first })))
      // The child stops reading once it is done: our end of its stdin may meet EPIPE too.
      child.stdin!.on("error", () => {})
      child.stdin!.end(lines)
      return Effect.sync(() => child.kill("SIGKILL"))
    }).pipe(
      Effect.map(({ code, stderr, first }) => {
        assert.strictEqual(JSON.parse(first).reason, "syntax")
        assert.strictEqual(code, 141, stderr)
        assert.notInclude(stderr, "EPIPE")
        assert.notInclude(stderr, "Unhandled")
      })
    )
  )
})
