// What a `rcpt` process loads: a module-load hook (node --import) appends every URL the child
// loads to a file. Shared by LazyLoading.test.ts (the sources, in the repository) and the
// packaging test (the installed bundle, whose chunks bundle/modules.json maps back to sources).
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"

/** A directory with the hook in it; `remove` when done. */
export const tracer = () => {
  const dir = mkdtempSync(join(tmpdir(), "rcpt-trace-"))
  const hook = join(dir, "trace.mjs")
  writeFileSync(
    hook,
    [
      'import { registerHooks } from "node:module"',
      'import { appendFileSync } from "node:fs"',
      "registerHooks({ load(url, context, next) { appendFileSync(process.env.RCPT_TEST_TRACE, url + '\\n'); return next(url, context) } })"
    ].join("\n")
  )
  let runs = 0
  return {
    dir,
    /** The URLs `node bin args` loads. */
    loaded: (
      node: string,
      bin: string,
      args: ReadonlyArray<string>,
      env: NodeJS.ProcessEnv,
      cwd?: string
    ): ReadonlyArray<string> => {
      const trace = join(dir, `${runs++}.txt`)
      writeFileSync(trace, "")
      const ran = spawnSync(node, ["--import", pathToFileURL(hook).href, bin, ...args], {
        env: { ...env, RCPT_TEST_TRACE: trace },
        encoding: "utf8",
        timeout: 60_000,
        ...(cwd === undefined ? {} : { cwd })
      })
      if (ran.error !== undefined) throw ran.error
      return readFileSync(trace, "utf8").split("\n")
    },
    remove: () => rmSync(dir, { recursive: true, force: true })
  }
}

/** What only `serve`, `runner`, `send` and `demo` need (the service's defaults excepted: the help shows them). */
export const heavy = (url: string) =>
  (/\/packages\/http\/src\//.test(url) && !/\/(Admission|Defaults)\.ts$/.test(url)) ||
  /\/packages\/(store|cluster|mailer|demo|testing)\/src\//.test(url) ||
  /\/node_modules\/(@effect\/sql-pg|nodemailer|@streamparser|yaml|socks|ip-address)\//.test(url)

/** The commands that must stay light: none of them loads anything {@link heavy}. */
export const lightCommands: ReadonlyArray<ReadonlyArray<string>> = [
  ["--help"],
  ["verify", "--json", "not an address"],
  ["serve", "--help"],
  ["send", "--help"],
  ["runner", "--help"]
]

/**
 * The sources in the bundle's chunks among `urls`, as the paths {@link heavy} reads
 * (`/packages/http/src/Server.ts`, `/node_modules/yaml/...`), from the bundle's `modules.json`
 * (`{ "Serving-x1.js": ["@rcpt/http/src/Server.ts", "yaml/dist/index.js", ...] }`).
 */
export const bundledSources = (
  urls: ReadonlyArray<string>,
  modules: Readonly<Record<string, ReadonlyArray<string>>>
): ReadonlyArray<string> =>
  urls.flatMap((url) => {
    const chunk = /\/bundle\/([^/]+\.js)$/.exec(url)?.[1]
    if (chunk === undefined) return url === "" ? [] : [url]
    return (modules[chunk] ?? [`unknown chunk ${chunk}`]).map((m) => {
      const own = /^@rcpt\/([^/]+)\/(.*)$/.exec(m)
      return own === null ? `/node_modules/${m}` : `/packages/${own[1]}/${own[2]}`
    })
  })
