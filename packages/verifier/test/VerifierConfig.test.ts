// The one reader of the RCPT_* variables: every setting read from a ConfigProvider, text that
// cannot be read refused naming its field, unset ones left to the defaults.
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Option } from "effect"
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
