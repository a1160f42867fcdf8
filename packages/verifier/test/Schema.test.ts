// The committed JSON Schema of a Verification (packages/verifier/schema/verification.schema.json): it must match the
// Schema class (so `npm test` fails on drift, as `npm run schema:check` does), and real Verifications, encoded and
// printed as JSON, must validate against it.
// Scripted transports dial nothing real: the target policy is opened to every address here.
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { Effect, JsonSchema, Layer, Schema, SchemaRepresentation } from "effect"
import * as ScriptedTransport from "@rcpt/testing/ScriptedTransport"
import * as StaticDns from "@rcpt/testing/StaticDns"
import { firstDifference, render, schemaPath } from "../../../scripts/json-schema.ts"
import * as Verification from "../src/Verification.ts"
import * as Verifier from "../src/Verifier.ts"
import * as VerifierConfig from "../src/VerifierConfig.ts"

const committed = readFileSync(schemaPath, "utf8")

describe("verification.schema.json", () => {
  it("is what scripts/json-schema.ts generates from the Verification class (else: npm run schema)", () => {
    const difference = firstDifference(committed, render())
    assert.isUndefined(
      difference,
      difference === undefined
        ? ""
        : `stale at line ${difference.line}: committed ${difference.committed.trim()}, generated ${difference.generated.trim()}; run \`npm run schema\``
    )
  })

  it("firstDifference names the first differing line", () => {
    assert.isUndefined(firstDifference("a\nb\n", "a\nb\n"))
    assert.deepStrictEqual(firstDifference("a\nb\nc\n", "a\nB\nc\n"), { line: 2, committed: "b", generated: "B" })
    assert.deepStrictEqual(firstDifference("a\n", "a\nb\n"), { line: 2, committed: "", generated: "b" })
    assert.deepStrictEqual(firstDifference("a", "a\n"), { line: 2, committed: "<end of file>", generated: "" })
  })

  it("is a draft 2020-12 document describing every field of a Verification", () => {
    const json = JSON.parse(committed) as Record<string, unknown>
    assert.strictEqual(json["$schema"], JsonSchema.META_SCHEMA_URI_DRAFT_2020_12)
    assert.strictEqual(json["type"], "object")
    assert.sameMembers(json["required"] as Array<string>, Object.keys(Verification.Verification.fields))
    const properties = json["properties"] as Record<string, Record<string, unknown>>
    assert.deepStrictEqual(properties["score"], {
      type: "integer",
      minimum: 0,
      maximum: 100,
      description: "0-100: how likely mail to this address is delivered"
    })
    const signals = properties["signals"] as { required: Array<string> }
    assert.sameMembers(signals.required, [
      "disposable",
      "roleAccount",
      "freeProvider",
      "suggestion",
      "acceptsAllProvider"
    ])
  })
})

// A validator built from the committed file alone (not from the Verification class): Effect's JSON Schema importer.
// The importer needs no services: its result is a plain decoder of JSON values.
const imported = SchemaRepresentation.fromJsonSchemaDocument(
  JsonSchema.fromSchemaDraft2020_12(JSON.parse(committed))
) as Schema.Decoder<unknown>
const validator = Schema.decodeUnknownResult(imported)
const validates = (json: unknown) => validator(json)._tag === "Success"

const zone = StaticDns.layer({
  "alpha.test": { mx: [[10, "mx1.alpha.test"]] },
  "mx1.alpha.test": { a: ["192.0.2.1"] }
})

const withTls = `
  S: 220 mx1.alpha.test ESMTP Postfix
  C: EHLO verifier.rcpt.test
  S: 250-mx1.alpha.test
  S: 250-STARTTLS
  S: 250 ENHANCEDSTATUSCODES
  C: STARTTLS
  S: 220 2.0.0 Ready to start TLS
  * tls
  C: EHLO verifier.rcpt.test
  S: 250-mx1.alpha.test
  S: 250 ENHANCEDSTATUSCODES
  C: MAIL FROM:<>
  S: 250 2.1.0 Ok
  C: RCPT TO:<info@alpha.test>
  S: 250 2.1.5 Ok
  C: QUIT
  S: 221 2.0.0 Bye
`

/** Real Verifications: an accepted role account with TLS and a transcript, a domain that does not exist, bad syntax. */
const verifications = Effect.gen(function* () {
  const verifier = yield* Verifier.Verifier
  return [
    yield* verifier.verify("info@alpha.test"),
    yield* verifier.verify("jane@gmial.com"),
    yield* verifier.verify("not an address")
  ]
}).pipe(
  Effect.provide(
    Verifier.layer.pipe(
      Layer.provide([
        VerifierConfig.layer({
          helo: "verifier.rcpt.test",
          allowSpecialUse: ["test"],
          allowTargets: ["0.0.0.0/0", "::/0"],
          port: 25,
          catchAllProbe: false
        }),
        zone,
        ScriptedTransport.layer([withTls])
      ])
    )
  )
)

/** What the CLI prints: the encoded Verification through JSON. */
const printed = (v: Verification.Verification): Record<string, unknown> =>
  JSON.parse(JSON.stringify(Verification.encode(v)))

describe("real Verifications against the committed schema", () => {
  it.effect("validate, with no field the schema does not describe", () =>
    Effect.gen(function* () {
      const results = yield* verifications
      assert.deepStrictEqual(
        results.map((v) => `${v.verdict}/${v.reason}`),
        ["deliverable/accepted", "undeliverable/no_such_domain", "undeliverable/syntax"]
      )
      const properties = Object.keys((JSON.parse(committed) as { properties: object }).properties)
      for (const v of results) {
        const json = printed(v)
        const result = validator(json)
        assert.strictEqual(result._tag, "Success", result._tag === "Failure" ? String(result.failure) : "")
        assert.sameMembers(Object.keys(json), properties)
      }
      const [accepted] = results
      assert.strictEqual(accepted!.tls.status, "established")
      assert.isTrue(accepted!.signals.roleAccount)
      assert.isAbove(accepted!.transcript.length, 0)
    })
  )

  it.effect("decode back to the same Verification (Schema round trip)", () =>
    Effect.gen(function* () {
      for (const v of yield* verifications) {
        const json = printed(v)
        assert.deepStrictEqual(Verification.encode(Verification.decode(json)), Verification.encode(v))
      }
    })
  )

  it.effect("encode is Schema's encoding, key for key and in the same order", () =>
    Effect.gen(function* () {
      const results = yield* verifications
      // And one with every nullable block filled: timing, provider, retryAfter, vrfy.
      const full = Verification.decode({
        ...printed(results[0]!),
        timing: { dnsMs: 1, connectMs: 2, tlsMs: 3, smtpMs: { AwaitRcpt: 4 }, connections: 1 },
        provider: {
          id: "google",
          name: "Google",
          kind: "mailbox-provider",
          acceptsAll: false,
          mxHost: "aspmx.l.google.com"
        },
        retryAfter: "2026-01-01T00:00:00.000Z",
        vrfy: { code: 252, enhanced: null, text: "Cannot VRFY user" }
      })
      for (const v of [...results, full]) {
        assert.strictEqual(
          JSON.stringify(Verification.encode(v)),
          JSON.stringify(Schema.encodeSync(Verification.Verification)(v))
        )
      }
      assert.isNotNull(full.timing)
    })
  )

  it.effect("the schema rejects what a Verification never is", () =>
    Effect.gen(function* () {
      const [v] = yield* verifications
      const json = printed(v!)
      const signals = json["signals"] as Record<string, unknown>
      const { roleAccount: _dropped, ...withoutRole } = signals
      const broken: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
        ["score above 100", { ...json, score: 101 }],
        ["score not an integer", { ...json, score: 50.5 }],
        ["score as a string", { ...json, score: "95" }],
        ["verdict outside the set", { ...json, verdict: "maybe" }],
        ["reason outside the set", { ...json, reason: "looks_fine" }],
        ["a signal missing", { ...json, signals: withoutRole }],
        ["catchAll not boolean or null", { ...json, catchAll: "yes" }],
        ["mx port out of range", { ...json, mx: { ...(json["mx"] as object), port: 70000 } }]
      ]
      assert.isTrue(validates(json))
      for (const [name, value] of broken) assert.isFalse(validates(value), name)
    })
  )
})
