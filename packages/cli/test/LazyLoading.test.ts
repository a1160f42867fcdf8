// Each command loads only what it runs: `rcpt --help`, `verify` and the help of `serve`, `send`
// and `runner` never load the HTTP server, the job store, the database drivers, the cluster, the
// mailer or the demo's mail world, nor the YAML parser (routing files) or the SOCKS client (--proxy). A module-load hook in the child process (node --import) records
// every module it loads. These are the sources, as the repository runs them; the packaging test
// (test/pack) checks the same of the installed bundle.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { join } from "node:path"
import { afterAll } from "vitest"
import { bin, cleanEnv } from "./helpers.ts"
import { heavy, lightCommands, tracer } from "./trace.ts"

const trace = tracer()
afterAll(trace.remove)

/** The modules `rcpt args` loads. */
const loaded = (args: ReadonlyArray<string>): ReadonlyArray<string> =>
  trace.loaded(process.execPath, bin, args, cleanEnv())

describe("rcpt loads lazily", { timeout: 120_000 }, () => {
  for (const args of lightCommands) {
    it.effect(`rcpt ${args.join(" ")}`, () =>
      Effect.sync(() => {
        const urls = loaded(args)
        // The trace works: the command line itself is in it.
        assert.isTrue(
          urls.some((u) => u.endsWith("/packages/cli/src/main.ts")),
          "main.ts traced"
        )
        assert.deepStrictEqual(urls.filter(heavy), [])
      })
    )
  }

  it.effect("and `serve` does load the server when it runs (the check can fail)", () =>
    Effect.sync(() => {
      // A token file that does not exist: read (and refused, exit 66) once the server module is loaded.
      const urls = loaded(["serve", "--token-file", join(trace.dir, "no-such-file")])
      assert.isTrue(urls.some((u) => u.endsWith("/packages/http/src/Server.ts")))
    })
  )
})
