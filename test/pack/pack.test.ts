// Packs every published package, installs the tarballs into a fresh project outside the repository
// (third-party dependencies from the public registry) and uses them as a user would, on the pinned
// Node and on the oldest Node that `engines` allows: the README's library example against an
// in-process mail world, `rcpt --version`, `rcpt demo`, `rcpt verify --json`, and a type-check of
// a consumer file against the installed .d.ts. Network: the registry for the install; the mail
// worlds are on 127.0.0.x.
import { execFile } from "node:child_process"
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { MailWorld } from "@rcpt/demo"
import { Effect, Exit, Scope } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))
const rootPackage = JSON.parse(await readFile(Path.join(root, "package.json"), "utf8"))
/** Published, in dependency order. @rcpt/testing is packed too but not installed (it pulls in vitest). */
const packages = ["smtp", "client", "signals", "verifier", "node", "mailer", "http", "store", "demo", "testing", "cli"]
const installed = ["cli", "demo", "node", "verifier"]
const cli = JSON.parse(await readFile(Path.join(root, "packages/cli/package.json"), "utf8"))
const nodePackage = JSON.parse(await readFile(Path.join(root, "packages/node/package.json"), "utf8"))
/** ">=22.19" -> "22.19.0" */
const oldest = (/^>=(\d+)\.(\d+)$/.exec(cli.engines.node) ?? []).slice(1).concat("0").join(".")

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const run = (command: string, args: ReadonlyArray<string>, options: { cwd: string; path?: string; timeout?: number }) =>
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

const ok = async (command: string, args: ReadonlyArray<string>, options: Parameters<typeof run>[2]) => {
  const result = await run(command, args, options)
  assert.strictEqual(result.code, 0, `${command} ${args.join(" ")} failed:\n${result.stderr}\n${result.stdout}`)
  return result
}

let dir = ""
let project = ""
/** The directories of the Nodes to run on: the pinned one (this process's) and the oldest `engines` allows. */
const nodes = new Map<string, string>()

beforeAll(async () => {
  dir = await mkdtemp(Path.join(tmpdir(), "rcpt-pack-"))
  project = Path.join(dir, "project")
  const tarballs = Path.join(dir, "tarballs")
  const olderNode = Path.join(dir, "node-oldest")
  await Promise.all([mkdir(project), mkdir(tarballs), mkdir(olderNode)])

  const installOldest = (async () => {
    await writeFile(Path.join(olderNode, "package.json"), '{ "private": true }\n')
    await ok("npm", ["install", "--no-audit", "--no-fund", `node@${oldest}`], { cwd: olderNode, timeout: 300_000 })
  })()

  // `npm pack` runs each package's prepack (the build) first.
  await ok("npm", ["pack", "--pack-destination", tarballs, ...packages.flatMap((p) => ["-w", `packages/${p}`])], {
    cwd: root,
    timeout: 300_000
  })
  const files = await readdir(tarballs)
  const tarball = (name: string) => {
    const file = files.find((f) => f.startsWith(`rcpt-${name}-`) && f.endsWith(".tgz"))
    assert.isDefined(file, `no tarball for @rcpt/${name} in ${files.join(", ")}`)
    return `file:../tarballs/${file}`
  }
  const rcpt = Object.fromEntries(packages.filter((p) => p !== "testing").map((p) => [`@rcpt/${p}`, tarball(p)]))
  await writeFile(
    Path.join(project, "package.json"),
    JSON.stringify(
      {
        name: "rcpt-pack-consumer",
        private: true,
        type: "module",
        dependencies: {
          ...Object.fromEntries(installed.map((p) => [`@rcpt/${p}`, rcpt[`@rcpt/${p}`]])),
          // What a user gets: the newest Effect 4 release the packages' peer ranges allow.
          "@effect/platform-node": nodePackage.peerDependencies["@effect/platform-node"],
          effect: nodePackage.peerDependencies.effect
        },
        devDependencies: { "@types/node": rootPackage.devDependencies["@types/node"] },
        // The other @rcpt packages from their tarballs too, never from a registry.
        overrides: rcpt
      },
      null,
      2
    )
  )
  await writeFile(
    Path.join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2023",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        exactOptionalPropertyTypes: true,
        noEmit: true,
        types: ["node"]
      },
      include: ["example.ts"]
    })
  )
  await copyFile(Path.join(root, "test/pack/consumer/example.ts"), Path.join(project, "example.ts"))
  await ok("npm", ["install", "--no-audit", "--no-fund", "--registry", "https://registry.npmjs.org/"], {
    cwd: project,
    timeout: 300_000
  })
  await installOldest
  nodes.set("pinned", Path.dirname(process.execPath))
  nodes.set("oldest allowed", Path.join(olderNode, "node_modules/node/bin"))
})

afterAll(async () => {
  // RCPT_PACK_KEEP=1 keeps the project to look into.
  if (dir !== "" && process.env["RCPT_PACK_KEEP"] !== "1") await rm(dir, { recursive: true, force: true })
})

describe("the tarballs", () => {
  it("ship built JavaScript, declarations and maps, and point no export at a .ts file", async () => {
    for (const name of packages) {
      const manifest = JSON.parse(await readFile(Path.join(root, `packages/${name}/package.json`), "utf8"))
      for (const [key, target] of Object.entries(manifest.exports)) {
        if (target === null || typeof target === "string") continue
        const entry = target as Record<string, string>
        assert.match(entry["import"] ?? "", /^\.\/dist\/.*\.js$/, `@rcpt/${name} exports["${key}"].import`)
        assert.match(entry["types"] ?? "", /^\.\/dist\/.*\.d\.ts$/, `@rcpt/${name} exports["${key}"].types`)
      }
      const listing = (
        await ok("tar", ["-tzf", Path.join(dir, "tarballs", `rcpt-${name}-${manifest.version}.tgz`)], { cwd: dir })
      ).stdout.split("\n")
      for (const file of ["package/dist/index.js", "package/dist/index.d.ts", "package/dist/index.d.ts.map"])
        assert.include(listing, file, `@rcpt/${name}`)
      assert.isFalse(
        listing.some((f) => f.startsWith("package/test/") || f.endsWith(".tsbuildinfo")),
        `@rcpt/${name}`
      )
    }
  })

  it("install no test tooling with the CLI", async () => {
    const tree = await ok("npm", ["ls", "--all", "--omit=dev", "--parseable"], { cwd: project })
    for (const forbidden of ["@rcpt/testing", "@effect/vitest", "vitest"])
      assert.notInclude(tree.stdout, `/node_modules/${forbidden}\n`, forbidden)
  })

  it("type-check a consumer against the installed .d.ts", async () => {
    await ok(Path.join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], { cwd: project })
  })
})

describe.each(["pinned", "oldest allowed"])("installed, on the %s Node", (which) => {
  const node = () => ({ name: which, bin: nodes.get(which) ?? "" })
  const scope = Effect.runSync(Scope.make())
  let world: MailWorld.World | undefined
  afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

  it("runs the README's library example against an in-process mail world", async () => {
    const result = await ok("node", ["example.ts"], { cwd: project, path: node().bin })
    const lines = result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
    assert.deepStrictEqual(
      lines,
      [
        { address: "alice@alpha.test", verdict: "deliverable", reason: "accepted" },
        { address: "nobody@alpha.test", verdict: "undeliverable", reason: "mailbox_unknown" }
      ],
      node().name
    )
  })

  it("npx rcpt --version", async () => {
    for (const args of [["--version"], ["verify", "--version"]]) {
      const result = await ok("npx", ["--no-install", "rcpt", ...args], { cwd: project, path: node().bin })
      assert.strictEqual(result.stdout.trim(), `rcpt v${cli.version}`, `${args.join(" ")} on ${node().name}`)
    }
  })

  it("npx rcpt demo", async () => {
    const result = await ok("npx", ["--no-install", "rcpt", "demo"], { cwd: project, path: node().bin })
    assert.include(result.stdout, "alice@alpha.test -> deliverable / accepted")
    assert.include(result.stdout, "nobody@alpha.test -> undeliverable / mailbox_unknown")
    assert.match(result.stdout, /The SMTP servers saw \d+ connections/)
  })

  it("npx rcpt verify --json against a loopback world", async () => {
    world ??= await Effect.runPromise(Scope.provide(MailWorld.start(MailWorld.demo), scope))
    const result = await ok(
      "npx",
      [
        "--no-install",
        "rcpt",
        "verify",
        "--json",
        "--dns-server",
        world.dns,
        "--port",
        String(world.smtpPort),
        "--helo",
        "pack.rcpt.test",
        "alice@alpha.test"
      ],
      { cwd: project, path: node().bin }
    )
    const line = JSON.parse(result.stdout.trim())
    assert.strictEqual(line.address, "alice@alpha.test")
    assert.strictEqual(line.verdict, "deliverable")
    assert.strictEqual(line.reason, "accepted")
  })
})

describe("on a Node older than engines", () => {
  it("the bin prints one line naming the required version and exits 1", async () => {
    // A Node below the minimum: the system's, when it is one (Debian's 20 here), else node@20 from the registry.
    let bin = "/usr/bin/node"
    const system = await run(bin, ["--version"], { cwd: project })
    const [major = 0, minor = 0] = system.stdout.trim().slice(1).split(".").map(Number)
    const [minMajor = 0, minMinor = 0] = oldest.split(".").map(Number)
    if (system.code !== 0 || major > minMajor || (major === minMajor && minor >= minMinor)) {
      const older = Path.join(dir, "node-older")
      await mkdir(older)
      await writeFile(Path.join(older, "package.json"), '{ "private": true }\n')
      await ok("npm", ["install", "--no-audit", "--no-fund", "node@20"], { cwd: older, timeout: 300_000 })
      bin = Path.join(older, "node_modules/node/bin/node")
    }
    const result = await run(bin, ["node_modules/@rcpt/cli/bin/rcpt.js", "verify", "a@b.test"], { cwd: project })
    assert.strictEqual(result.code, 1)
    assert.strictEqual(result.stdout, "")
    assert.match(
      result.stderr,
      new RegExp(
        `^rcpt: needs Node\\.js >= ${oldest.replace(/\.0$/, "").replace(".", "\\.")} \\(this is Node\\.js v[\\d.]+\\)\\n$`
      )
    )
  })
})
