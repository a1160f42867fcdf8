// Start-up bench: how long the installed `rcpt` takes to start and answer, next to a bare
// `node -e 0`, side by side in one run. Packs and installs the packages outside the repository
// first (scripts/pack-install.ts), so it measures the built CLI as users run it, not the
// workspace's TypeScript sources. Not a test: it prints figures and writes
// bench/results/startup.json; the targets are in bench/README.md.
//   npm run bench:startup [-- --runs 21]
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { loadavg, cpus, tmpdir } from "node:os"
import * as Path from "node:path"
import { parseArgs } from "node:util"
import { MailWorld } from "@rcpt/demo"
import { RcptProcess } from "@rcpt/testing"
import { Effect, Exit, Scope } from "effect"
import { packAndInstall } from "../../scripts/pack-install.ts"

const { values } = parseArgs({ options: { runs: { type: "string", default: "21" } } })
const runs = Number(values.runs)
const time = "/usr/bin/time"
if (!existsSync(time)) throw new Error(`startup bench: needs GNU time at ${time} for peak RSS (apt-get install time)`)

interface Figure {
  readonly name: string
  readonly command: string
  readonly wallMs: ReadonlyArray<number>
  readonly rssMb: ReadonlyArray<number>
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/** One run, asynchronously: the mail world answering the child lives in this process's event loop. */
const once = (argv: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv) =>
  new Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }>((resolve) => {
    execFile(time, ["-f", "%M", ...argv], { cwd, env, encoding: "utf8" }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })

/** Runs `argv` `runs` times (after two unmeasured ones that fill Node's compile cache), one at a time. */
const measure = async (
  name: string,
  argv: ReadonlyArray<string>,
  cwd: string,
  check: (stdout: string) => boolean
): Promise<Figure> => {
  const env = { ...process.env, PATH: `${Path.dirname(process.execPath)}${Path.delimiter}${process.env["PATH"]}` }
  const wallMs: Array<number> = []
  const rssMb: Array<number> = []
  for (let i = -2; i < runs; i++) {
    const started = performance.now()
    const result = await once(argv, cwd, env)
    const wall = performance.now() - started
    if (result.code !== 0 || !check(result.stdout))
      throw new Error(`${name}: exit ${result.code}\n${result.stderr}\n${result.stdout}`)
    if (i < 0) continue
    wallMs.push(wall)
    rssMb.push(Number(result.stderr.trim().split("\n").at(-1)) / 1024)
  }
  return { name, command: argv.map((a) => (a.includes(cwd) ? Path.relative(cwd, a) : a)).join(" "), wallMs, rssMb }
}

const dir = await mkdtemp(Path.join(tmpdir(), "rcpt-startup-"))
const scope = Effect.runSync(Scope.make())
try {
  process.stderr.write("startup bench: packing and installing (a minute or two)...\n")
  const project = await packAndInstall(dir)
  const world = await Effect.runPromise(Scope.provide(MailWorld.start(MailWorld.demo), scope))
  const rcpt = Path.join(project, "node_modules/.bin/rcpt")
  process.stderr.write(`startup bench: ${runs} runs each\n`)
  const figures = [
    await measure("node -e 0", [process.execPath, "-e", "0"], project, () => true),
    await measure("rcpt --version", [rcpt, "--version"], project, (out) => out.startsWith("rcpt v")),
    await measure("rcpt --help", [rcpt, "--help"], project, (out) => out.includes("SUBCOMMANDS")),
    await measure(
      "rcpt verify --json (one address, loopback)",
      [
        rcpt,
        "verify",
        "--json",
        // The world's .test names on loopback, opened as every test world opens them.
        ...RcptProcess.worldFlags(world, { helo: "bench.rcpt.test" }),
        "alice@alpha.test"
      ],
      project,
      (out) => JSON.parse(out).verdict === "deliverable"
    )
  ]
  const base = figures[0]!
  const rows = figures.map((f) => {
    const wall = median(f.wallMs)
    const rss = median(f.rssMb)
    return `| ${f.name} | ${wall.toFixed(0)} | ${(wall / median(base.wallMs)).toFixed(1)}x | ${rss.toFixed(0)} | ${Math.max(...f.rssMb).toFixed(0)} |`
  })
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? "?"}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`
  console.log(
    [
      `Node ${process.version}, ${runs} runs each, ${machine}`,
      "",
      "| command | median wall ms | vs node -e 0 | median peak RSS MB | max peak RSS MB |",
      "| --- | ---: | ---: | ---: | ---: |",
      ...rows
    ].join("\n")
  )
  await writeFile(
    new URL("../results/startup.json", import.meta.url),
    JSON.stringify({ node: process.version, runs, machine, date: new Date().toISOString(), figures }, null, 2) + "\n"
  )
} finally {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await rm(dir, { recursive: true, force: true })
}
