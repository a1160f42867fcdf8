// Each command loads only what it runs: `rcpt --help`, `verify` and the help of `serve`, `send`
// and `runner` never load the HTTP server, the job store, the database drivers, the cluster, the
// mailer or the demo's mail world, nor the YAML parser (routing files) or the SOCKS client (--proxy). A module-load hook in the child process (node --import) records
// every module it loads.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { afterAll } from "vitest"
import { bin, cleanEnv } from "./helpers.ts"

const dir = mkdtempSync(join(tmpdir(), "rcpt-lazy-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const hook = join(dir, "trace.mjs")
writeFileSync(
  hook,
  [
    'import { registerHooks } from "node:module"',
    'import { appendFileSync } from "node:fs"',
    "registerHooks({ load(url, context, next) { appendFileSync(process.env.RCPT_TEST_TRACE, url + '\\n'); return next(url, context) } })"
  ].join("\n")
)

/** The modules `rcpt args` loads. */
const loaded = (args: ReadonlyArray<string>): ReadonlyArray<string> => {
  const trace = join(dir, `${args.join("_").replace(/[^\w-]/g, "")}.txt`)
  writeFileSync(trace, "")
  const ran = spawnSync(process.execPath, ["--import", pathToFileURL(hook).href, bin, ...args], {
    env: cleanEnv({ RCPT_TEST_TRACE: trace }),
    encoding: "utf8",
    timeout: 60_000
  })
  assert.isNull(ran.error ?? null, String(ran.error))
  return readFileSync(trace, "utf8").split("\n")
}

/** What only `serve`, `runner`, `send` and `demo` need (the service's defaults excepted: the help shows them). */
const heavy = (url: string) =>
  (/\/packages\/http\/src\//.test(url) && !/\/(Admission|Defaults)\.ts$/.test(url)) ||
  /\/packages\/(store|cluster|mailer|demo|testing)\/src\//.test(url) ||
  /\/node_modules\/(@effect\/sql-pg|nodemailer|@streamparser|yaml|socks|ip-address)\//.test(url)

describe("rcpt loads lazily", { timeout: 120_000 }, () => {
  const commands: ReadonlyArray<ReadonlyArray<string>> = [
    ["--help"],
    ["verify", "--json", "not an address"],
    ["serve", "--help"],
    ["send", "--help"],
    ["runner", "--help"]
  ]
  for (const args of commands) {
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
      const urls = loaded(["serve", "--token-file", join(dir, "no-such-file")])
      assert.isTrue(urls.some((u) => u.endsWith("/packages/http/src/Server.ts")))
    })
  )
})
