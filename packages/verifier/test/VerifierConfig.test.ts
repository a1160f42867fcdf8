// The one reader of the RCPT_* variables: every setting read from a ConfigProvider, text that
// cannot be read refused naming its field, unset ones left to the defaults.
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Option } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import * as VerifierConfig from "../src/VerifierConfig.ts"

const read = (env: Record<string, string>) =>
  VerifierConfig.config.parse(ConfigProvider.fromEnvRecord(env)).pipe(Effect.flatMap(VerifierConfig.fromTexts))

describe("VerifierConfig.config", () => {
  it.effect("reads every variable, typed", () =>
    Effect.gen(function* () {
      const settings = yield* read({
        RCPT_HELO: "verifier.example.net",
        RCPT_MAIL_FROM: "probe@example.net",
        RCPT_PORT: "2525",
        RCPT_TLS: "required",
        RCPT_TIMEOUT: "90s",
        RCPT_VRFY: "yes",
        RCPT_CATCH_ALL: "0",
        RCPT_PIPELINING: "off",
        RCPT_MAX_PIPELINE: "5",
        RCPT_RECIPIENTS_PER_SESSION: "20",
        RCPT_MAX_ERRORS_PER_SESSION: "3",
        RCPT_CONCURRENCY: "8",
        RCPT_PER_HOST: "1",
        RCPT_PER_HOST_RATE: "2",
        RCPT_FALLBACK_SENDER: "probe@example.net",
        RCPT_ALLOW_SPECIAL_USE: "test, localhost",
        RCPT_ALLOW: "vip@example.org,@partner.example",
        RCPT_DENY: "spam.example",
        RCPT_DEPTH: "big.example=dns, a@b.example=syntax",
        RCPT_DEFAULT_DEPTH: "dns",
        RCPT_TIMING: "true"
      })
      const { timeout, ...rest } = settings
      assert.strictEqual(Duration.toMillis(Duration.fromInputUnsafe(timeout!)), 90_000)
      assert.deepStrictEqual(rest, {
        helo: "verifier.example.net",
        mailFrom: "probe@example.net",
        port: 2525,
        tls: "required",
        vrfy: true,
        catchAllProbe: false,
        pipelining: false,
        maxPipeline: 5,
        recipientsPerSession: 20,
        maxErrorsPerSession: 3,
        concurrency: 8,
        perHost: 1,
        perHostRate: 2,
        fallbackSender: "probe@example.net",
        allowSpecialUse: ["test", "localhost"],
        allow: ["vip@example.org", "@partner.example"],
        deny: ["spam.example"],
        depth: { "big.example": "dns", "a@b.example": "syntax" },
        defaultDepth: "dns",
        timing: true
      })
    })
  )

  it.effect("unset variables are absent: the defaults apply", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* read({}), {})
    })
  )

  const bad: ReadonlyArray<readonly [string, string, string]> = [
    ["RCPT_TLS", "sometimes", "tls"],
    ["RCPT_PORT", "twenty-five", "port"],
    ["RCPT_TIMEOUT", "soon", "timeout"],
    ["RCPT_VRFY", "maybe", "vrfy"],
    ["RCPT_DEPTH", "big.example=deep", "depth"],
    ["RCPT_DEFAULT_DEPTH", "all", "defaultDepth"],
    ["RCPT_TIMING", "sometimes", "timing"]
  ]
  for (const [variable, value, field] of bad) {
    it.effect(`${variable}=${value}: InvalidConfig for ${field}`, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(read({ [variable]: value }))
        assert.strictEqual(error._tag, "InvalidConfig")
        assert.strictEqual((error as VerifierConfig.InvalidConfig).field, field)
        assert.include(error.message, JSON.stringify(value))
      })
    )
  }

  it("parseDuration: units and bare seconds", () => {
    const ms = (t: string) => Option.map(VerifierConfig.parseDuration(t), Duration.toMillis)
    assert.deepStrictEqual(ms("500ms"), Option.some(500))
    assert.deepStrictEqual(ms("2m"), Option.some(120_000))
    assert.deepStrictEqual(ms("3"), Option.some(3000))
    assert.isTrue(Option.isNone(ms("5 parsecs")))
  })
})

describe("VerifierConfig.outerConfig", () => {
  it.effect("reads every variable of the layers above as text, unset ones None", () =>
    Effect.gen(function* () {
      const names = Object.values(VerifierConfig.outerVariables)
      const env = Object.fromEntries(names.map((name, i) => [name, `value ${i}`]))
      const texts = yield* VerifierConfig.outerConfig.parse(ConfigProvider.fromEnvRecord(env))
      assert.deepStrictEqual(
        Object.values(texts),
        names.map((_, i) => Option.some(`value ${i}`))
      )
      const none = yield* VerifierConfig.outerConfig.parse(ConfigProvider.fromEnvRecord({}))
      assert.isTrue(Object.values(none).every(Option.isNone))
    })
  )

  it("list: comma-separated, trimmed, empty items dropped", () => {
    assert.deepStrictEqual(VerifierConfig.list(" a, b ,,c,"), ["a", "b", "c"])
    assert.deepStrictEqual(VerifierConfig.list(""), [])
  })
})

describe("the one list of RCPT_* names", () => {
  const names = [...Object.values(VerifierConfig.variables), ...Object.values(VerifierConfig.outerVariables)]

  it("every name is an RCPT_ variable, and no two settings share one", () => {
    for (const name of names) assert.match(name, /^RCPT_[A-Z0-9_]+$/)
    assert.strictEqual(new Set(names).size, names.length)
  })

  // The packages' sources, but this module: none may read an RCPT_* variable itself (a quoted
  // name, process.env) or name one in help text that the tables do not hold.
  const root = join(import.meta.dirname, "..", "..")
  const self = join(import.meta.dirname, "..", "src", "VerifierConfig.ts")
  const sources = (dir: string): Array<string> =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) return entry.name === "node_modules" || entry.name === "dist" ? [] : sources(path)
      return entry.name.endsWith(".ts") ? [path] : []
    })
  const files = readdirSync(root)
    .flatMap((pkg) => {
      try {
        return sources(join(root, pkg, "src"))
      } catch {
        return []
      }
    })
    .filter((file) => file !== self)

  it("the sources scanned include the front ends and the platform", () => {
    const scanned = files.map((file) => relative(root, file))
    for (const expected of ["cli/src/Options.ts", "cli/src/Serve.ts", "node/src/NodeVerifier.ts"]) {
      assert.include(scanned, expected)
    }
  })

  it("no other module reads an RCPT_* variable", () => {
    const offences: Array<string> = []
    for (const file of files) {
      // Comments may name variables (`RCPT_DNS_SERVERS`); code may not.
      const text = readFileSync(file, "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, "")
      const where = relative(root, file)
      if (/process\.env(\.|\[\s*["'`])RCPT_/.test(text)) offences.push(`${where}: process.env`)
      // The demo's SMTP server labels its replies RCPT_TO_OK and the like: words of SMTP, not variables.
      if (!where.startsWith("demo/")) {
        for (const match of text.matchAll(/["'`](RCPT_[A-Z0-9_]+)["'`]/g)) offences.push(`${where}: "${match[1]}"`)
      }
      for (const match of text.matchAll(/\(env (RCPT_[A-Z0-9_]+)/g)) {
        if (!names.includes(match[1] as (typeof names)[number])) offences.push(`${where}: help names ${match[1]}`)
      }
    }
    assert.deepStrictEqual(offences, [])
  })
})
