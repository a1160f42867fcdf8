/**
 * Bundles the `rcpt` command for the published package: `src/main.ts` and everything it imports
 * (the @rcpt packages from their TypeScript sources, `effect`, the third-party libraries) into a
 * few ES module files in `bundle/`, which the installed bin imports. Run by the package's `build`
 * and `prepack`, after `tsc -b` (whose `dist/` stays the library's, with its `.d.ts`).
 *
 * Why: unbundled, an installed `rcpt verify` resolves, reads and compiles ~420 module files (Effect
 * alone is ~200 of them) before it does anything; bundled, ~20 (a dozen chunks, and the lists
 * `@rcpt/signals` reads). The commands' dynamic imports stay split points: `serve`, `send`,
 * `runner`, `demo` and `bulk` are chunks of their own that `--help` and `verify` never load
 * (`bundle/modules.json` says which sources each chunk holds; the packaging test traces what a
 * command loads against it).
 *
 * Left to be loaded at run time, by name, from the installed packages: files a package reads from
 * its own root (`@rcpt/signals`'s lists, `@rcpt/http`'s page, `@rcpt/node`'s `yaml`), which is why
 * those packages stay dependencies of the CLI. Node's built-in modules are external.
 *
 *   node scripts/bundle.ts
 *
 * @since 0.1.0
 */
import { readFile, rm, writeFile } from "node:fs/promises"
import { builtinModules } from "node:module"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { build, type Plugin } from "rolldown"

const root = fileURLToPath(new URL("..", import.meta.url))
const out = Path.join(root, "bundle")

/** A module's name in the manifest: `effect/dist/Schema.js`, `@rcpt/verifier/src/Bulk.ts`. */
const moduleName = (id: string): string => {
  const installed = /.*\/node_modules\/(.*)$/.exec(id)
  if (installed !== null) return installed[1]!
  const workspace = /\/packages\/([^/]+)\/(.*)$/.exec(id)
  return workspace === null ? id : `@rcpt/${workspace[1]}/${workspace[2]}`
}

/** The directory of the package a bundled third-party module comes from (`.../node_modules/tr46`). */
const packageOf = (id: string): ReadonlyArray<string> => {
  const match = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(id)
  return match === null ? [] : [match[1]!]
}

/**
 * Effect 4.1's `effect/cli` builds an `Intl.Segmenter` when its `CliOutput` module loads, for
 * measuring help text: ICU's break-iterator data, 30-80 ms of every start, `rcpt verify --json`
 * included, which measures no text. Built on first use instead. The build fails if the line
 * changes (a new Effect), rather than bundle without the change unnoticed.
 */
const lazySegmenter: Plugin = {
  name: "rcpt:lazy-grapheme-segmenter",
  transform: {
    filter: { id: /[\\/]effect[\\/]dist[\\/]cli[\\/]CliOutput\.js$/ },
    handler(code) {
      const eager =
        /const graphemeSegmenter = \/\*#__PURE__\*\/\s*new Intl\.Segmenter\(undefined, \{\s*granularity: "grapheme"\s*\}\);/
      if (!eager.test(code))
        throw new Error("effect/cli/CliOutput.js: the graphemeSegmenter line changed; see lazySegmenter")
      return code.replace(
        eager,
        'let graphemeSegmenterMemo; const graphemeSegmenter = { segment: (text) => (graphemeSegmenterMemo ??= new Intl.Segmenter(undefined, { granularity: "grapheme" })).segment(text) };'
      )
    }
  }
}

await rm(out, { recursive: true, force: true })
const result = await build({
  plugins: [lazySegmenter],
  input: { main: Path.join(root, "src/main.ts") },
  platform: "node",
  // The workspace's sources (the "@rcpt/source" export condition), as the repository runs them.
  resolve: { conditionNames: ["@rcpt/source", "node", "import", "default"] },
  external: [/^node:/, ...builtinModules],
  logLevel: "warn",
  output: {
    dir: out,
    format: "esm",
    entryFileNames: "[name].js",
    chunkFileNames: "[name]-[hash].js",
    // Less to read and parse at every start; names are kept, so stack traces still name functions.
    minify: { compress: true, mangle: false, codegen: { removeWhitespace: true } },
    comments: { legal: true, annotation: false, jsdoc: false }
  }
})

const chunks = result.output.filter((o) => o.type === "chunk")
const modules = Object.fromEntries(
  chunks.map((c) => [c.fileName, Object.keys(c.modules).map(moduleName).sort()] as const)
)
await writeFile(Path.join(out, "modules.json"), JSON.stringify(modules, null, 1) + "\n")

// The bundled third-party code's licenses, shipped with it.
const bundled = [...new Set(chunks.flatMap((c) => Object.keys(c.modules).flatMap(packageOf)))].sort()
const notices: Array<string> = []
for (const dir of bundled) {
  const manifest = JSON.parse(await readFile(Path.join(dir, "package.json"), "utf8")) as {
    readonly name: string
    readonly version: string
    readonly license?: string
  }
  const file = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license", "LICENCE"].map((f) => Path.join(dir, f))
  let text = ""
  for (const f of file) text ||= await readFile(f, "utf8").catch(() => "")
  notices.push(`## ${manifest.name} ${manifest.version} (${manifest.license ?? "see the package"})\n\n${text.trim()}\n`)
}
await writeFile(Path.join(out, "THIRD-PARTY-LICENSES.md"), `# Third-party code in this bundle\n\n${notices.join("\n")}`)
process.stdout.write(`bundle: ${chunks.length} chunks, ${bundled.length} third-party packages, in ${out}\n`)
