// Packs the published @rcpt packages and installs the tarballs into a fresh project outside the
// repository, as a user would (third-party dependencies from the public registry, the @rcpt ones
// only from the tarballs). Shared by the packaging test (test/pack) and the start-up bench
// (bench/src/startup.ts), which both use rcpt as installed, not the workspace's sources.
import { execFile } from "node:child_process"
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("..", import.meta.url))

export const manifest = async (name: string) =>
  JSON.parse(await readFile(Path.join(root, `packages/${name}/package.json`), "utf8")) as {
    readonly version: string
    readonly license: string
    readonly repository: { readonly url: string; readonly directory: string }
    readonly engines: { readonly node: string }
    readonly exports: Record<string, unknown>
    readonly peerDependencies?: Record<string, string>
  }

/** Published, in dependency order. @rcpt/testing is packed too but not installed (it pulls in vitest). */
export const packages = [
  "smtp",
  "client",
  "signals",
  "verifier",
  "node",
  "mailer",
  "http",
  "store",
  "cluster",
  "demo",
  "testing",
  "cli"
]
/** What the project depends on directly: the CLI and the README's library example. */
const installed = ["cli", "demo", "node", "verifier"]

export const cli = await manifest("cli")
/** The oldest Node the CLI's `engines` allows: ">=22.19" -> "22.19.0". */
export const oldestNode = (/^>=(\d+)\.(\d+)$/.exec(cli.engines.node) ?? []).slice(1).concat("0").join(".")

export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to its end; `path` goes first on PATH (where `npx` and a bin's `env node` look). */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly path?: string; readonly timeout?: number }
) =>
  new Promise<Run>((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", NODE_OPTIONS: "" }
    if (options.path !== undefined) env["PATH"] = `${options.path}${Path.delimiter}${env["PATH"] ?? ""}`
    execFile(
      command,
      args,
      { cwd: options.cwd, env, timeout: options.timeout ?? 110_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })

/** {@link run}, failing unless the command exits 0. */
export const ok = async (command: string, args: ReadonlyArray<string>, options: Parameters<typeof run>[2]) => {
  const result = await run(command, args, options)
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(" ")} exited ${result.code}:\n${result.stderr}\n${result.stdout}`)
  return result
}

/** Installs `node@version` under `dir`; returns the directory of its `node` binary. */
export const installNode = async (dir: string, version: string): Promise<string> => {
  await mkdir(dir, { recursive: true })
  await writeFile(Path.join(dir, "package.json"), '{ "private": true }\n')
  await ok("npm", ["install", "--no-audit", "--no-fund", `node@${version}`], { cwd: dir, timeout: 300_000 })
  return Path.join(dir, "node_modules/node/bin")
}

/**
 * Packs every package into `dir/tarballs` (`npm pack` runs each one's prepack: the build) and
 * installs them into `dir/project`, with `files` copied in. Returns the project's directory.
 */
export const packAndInstall = async (dir: string, files: Record<string, string> = {}): Promise<string> => {
  const project = Path.join(dir, "project")
  const tarballs = Path.join(dir, "tarballs")
  await Promise.all([mkdir(project, { recursive: true }), mkdir(tarballs, { recursive: true })])
  await ok("npm", ["pack", "--pack-destination", tarballs, ...packages.flatMap((p) => ["-w", `packages/${p}`])], {
    cwd: root,
    timeout: 300_000
  })
  const packed = await readdir(tarballs)
  const rcpt: Record<string, string> = {}
  for (const name of packages.filter((p) => p !== "testing")) {
    const file = packed.find((f) => f.startsWith(`rcpt-${name}-`) && f.endsWith(".tgz"))
    if (file === undefined) throw new Error(`no tarball for @rcpt/${name} in ${packed.join(", ")}`)
    rcpt[`@rcpt/${name}`] = `file:../tarballs/${file}`
  }
  const peers = (await manifest("node")).peerDependencies ?? {}
  const rootPackage = JSON.parse(await readFile(Path.join(root, "package.json"), "utf8"))
  const consumer = {
    name: "rcpt-pack-consumer",
    private: true,
    type: "module",
    dependencies: {
      ...Object.fromEntries(installed.map((p) => [`@rcpt/${p}`, rcpt[`@rcpt/${p}`]])),
      // What a user gets: the newest Effect 4 release the packages' peer ranges allow.
      "@effect/platform-node": peers["@effect/platform-node"],
      effect: peers["effect"]
    },
    devDependencies: { "@types/node": rootPackage.devDependencies["@types/node"] },
    // The other @rcpt packages from their tarballs too, never from a registry.
    overrides: rcpt
  }
  await writeFile(Path.join(project, "package.json"), JSON.stringify(consumer, null, 2))
  for (const [name, content] of Object.entries(files)) await writeFile(Path.join(project, name), content)
  await ok("npm", ["install", "--no-audit", "--no-fund", "--registry", "https://registry.npmjs.org/"], {
    cwd: project,
    timeout: 300_000
  })
  return project
}
