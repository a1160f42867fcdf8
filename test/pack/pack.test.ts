// Packs every published package, installs the tarballs into a fresh project outside the repository
// (third-party dependencies from the public registry) and uses them as a user would, on the pinned
// Node and on the oldest Node that `engines` allows: the README's library example against an
// in-process mail world, `rcpt --version`, `rcpt demo`, `rcpt verify --json`, and a type-check of
// a consumer file against the installed .d.ts. Network: the registry for the install; the mail
// worlds are on 127.0.0.x.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { MailWorld } from "@rcpt/demo"
import { Effect, Exit, Scope } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { bundledSources, heavy, lightCommands, tracer } from "../../packages/cli/test/trace.ts"
import {
  cli,
  installNode,
  manifest,
  ok,
  oldestNode as oldest,
  packages,
  packAndInstall,
  root,
  run
} from "../../scripts/pack-install.ts"

let dir = ""
let project = ""
/** The directories of the Nodes to run on: the pinned one (this process's) and the oldest `engines` allows. */
const nodes = new Map<string, string>()

beforeAll(async () => {
  dir = await mkdtemp(Path.join(tmpdir(), "rcpt-pack-"))
  const [installedProject, oldestBin] = await Promise.all([
    packAndInstall(dir, {
      "example.ts": await readFile(Path.join(root, "test/pack/consumer/example.ts"), "utf8"),
      "tsconfig.json": JSON.stringify({
        compilerOptions: {
          target: "ES2023",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          types: ["node"]
        },
        include: ["*.ts"]
      })
    }),
    installNode(Path.join(dir, "node-oldest"), oldest)
  ])
  project = installedProject
  nodes.set("pinned", Path.dirname(process.execPath))
  nodes.set("oldest allowed", oldestBin)
})

afterAll(async () => {
  // RCPT_PACK_KEEP=1 keeps the project to look into.
  if (dir !== "" && process.env["RCPT_PACK_KEEP"] !== "1") await rm(dir, { recursive: true, force: true })
})

describe("the tarballs", () => {
  it("ship built JavaScript, declarations and maps, and point no export at a .ts file", async () => {
    for (const name of packages) {
      const pkg = await manifest(name)
      for (const [key, target] of Object.entries(pkg.exports)) {
        if (target === null || typeof target === "string") continue
        const entry = target as Record<string, string>
        assert.match(entry["import"] ?? "", /^\.\/dist\/.*\.js$/, `@rcpt/${name} exports["${key}"].import`)
        assert.match(entry["types"] ?? "", /^\.\/dist\/.*\.d\.ts$/, `@rcpt/${name} exports["${key}"].types`)
      }
      const listing = (
        await ok("tar", ["-tzf", Path.join(dir, "tarballs", `rcpt-${name}-${pkg.version}.tgz`)], { cwd: dir })
      ).stdout.split("\n")
      for (const file of [
        "package/dist/index.js",
        "package/dist/index.d.ts",
        "package/dist/index.d.ts.map",
        "package/LICENSE"
      ])
        assert.include(listing, file, `@rcpt/${name}`)
      assert.isFalse(
        listing.some((f) => f.startsWith("package/test/") || f.endsWith(".tsbuildinfo")),
        `@rcpt/${name}`
      )
      // The CLI's bin runs its bundle (packages/cli/scripts/bundle.ts), with the bundled code's licenses.
      if (name === "cli")
        for (const file of ["package/bundle/main.js", "package/bundle/THIRD-PARTY-LICENSES.md"])
          assert.include(listing, file, "@rcpt/cli")
    }
  })

  it("carry one license and one repository, the repository's", async () => {
    const rootManifest = JSON.parse(await readFile(Path.join(root, "package.json"), "utf8")) as { license: string }
    const license = await readFile(Path.join(root, "LICENSE"), "utf8")
    assert.match(license, new RegExp(`^${rootManifest.license} License`))
    for (const name of packages) {
      const pkg = await manifest(name)
      assert.strictEqual(pkg.license, rootManifest.license, `@rcpt/${name} license`)
      assert.strictEqual(pkg.repository.url, "git+https://github.com/rcpt-dev/rcpt.git", `@rcpt/${name} repository`)
      assert.strictEqual(pkg.repository.directory, `packages/${name}`, `@rcpt/${name} repository.directory`)
      assert.strictEqual(await readFile(Path.join(root, "packages", name, "LICENSE"), "utf8"), license, `@rcpt/${name}`)
    }
  })

  it("install no test tooling with the CLI", async () => {
    const tree = await ok("npm", ["ls", "--all", "--omit=dev", "--parseable"], { cwd: project })
    for (const forbidden of ["@rcpt/testing", "@effect/vitest", "vitest"])
      assert.notInclude(tree.stdout, `/node_modules/${forbidden}\n`, forbidden)
  })

  it("type-check a consumer against the installed .d.ts", async () => {
    const tsc = Path.join(root, "node_modules/.bin/tsc")
    assert.strictEqual((await ok(tsc, ["-p", "tsconfig.json"], { cwd: project })).stdout, "")
    // And the declarations are real types, not `any`: a wrong use is an error.
    await writeFile(
      Path.join(project, "wrong.ts"),
      'import { Verifier } from "@rcpt/verifier"\nexport const n: number = Verifier.Verifier\n'
    )
    const wrong = await run(tsc, ["-p", "tsconfig.json", "--noEmit"], { cwd: project })
    assert.notStrictEqual(wrong.code, 0)
    assert.include(wrong.stdout, "wrong.ts")
    await rm(Path.join(project, "wrong.ts"))
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
        "--allow-target",
        "127.0.0.0/8",
        "--allow-special-use",
        "test",
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

describe("the installed rcpt loads lazily", () => {
  const trace = tracer()
  afterAll(trace.remove)
  /** The sources in the bundle chunks `rcpt args` loads (bundle/modules.json says which chunk holds which). */
  const loaded = async (args: ReadonlyArray<string>) => {
    const cli = Path.join(project, "node_modules/@rcpt/cli")
    const modules = JSON.parse(await readFile(Path.join(cli, "bundle/modules.json"), "utf8"))
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("RCPT_")))
    const urls = trace.loaded(process.execPath, Path.join(cli, "bin/rcpt.js"), args, {
      ...env,
      NODE_OPTIONS: "",
      XDG_DATA_HOME: trace.dir
    })
    return bundledSources(urls, modules)
  }

  for (const args of lightCommands) {
    it(`rcpt ${args.join(" ")}`, async () => {
      const sources = await loaded(args)
      // The trace works, and it is the bundle: the command line's source is in a loaded chunk.
      assert.include(sources, "/packages/cli/src/main.ts")
      assert.deepStrictEqual(sources.filter(heavy), [])
    })
  }

  it("and `serve` does load the server when it runs (the check can fail)", async () => {
    const sources = await loaded(["serve", "--token-file", Path.join(trace.dir, "no-such-file")])
    assert.include(sources, "/packages/http/src/Server.ts")
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
      bin = Path.join(await installNode(Path.join(dir, "node-older"), "20"), "node")
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
