// Per-job verifier options: what a request may ask for against the server's config (a table), how
// they are stored, and that a job runs with them (a catch-all domain is only recognised as one when
// the job probes for it).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Result, Schema } from "effect"
import { VerifierConfig } from "@rcpt/verifier"
import * as JobOptions from "../src/JobOptions.ts"
import * as JobsApi from "../src/JobsApi.ts"
import { finished, type Reply, type Service, withService } from "./jobsHarness.ts"

const server: VerifierConfig.VerifierConfig = {
  ...VerifierConfig.defaults,
  helo: "jobs.rcpt.test",
  timeout: "10 seconds",
  tls: "opportunistic",
  recipientsPerSession: 50,
  maxMxHosts: 5
}

describe("JobOptions.fromQuery", () => {
  const cases: ReadonlyArray<readonly [string, JobOptions.QueryValues, Result.Result<JobOptions.Overrides, string>]> = [
    ["nothing asked", {}, Result.succeed({})],
    [
      "the booleans and the sender",
      { vrfy: "false", catchAllProbe: "true", mailFrom: "probe@example.org" },
      Result.succeed({ vrfy: false, catchAllProbe: true, mailFrom: "probe@example.org" })
    ],
    ["the null sender", { mailFrom: "" }, Result.succeed({ mailFrom: "" })],
    ["the dialogue kept", { transcript: "true" }, Result.succeed({ transcript: true })],
    ["a shorter timeout", { timeout: "2s" }, Result.succeed({ timeoutMs: 2000 })],
    ["the server's timeout", { timeout: "10s" }, Result.succeed({ timeoutMs: 10_000 })],
    ["a longer timeout", { timeout: "11s" }, Result.fail("timeout: at most 10s on this server, got 11s")],
    ["not a duration", { timeout: "soon" }, Result.fail('timeout: expected a duration like "10s", got "soon"')],
    ["a zero timeout", { timeout: "0s" }, Result.fail('timeout: expected a duration like "10s", got "0s"')],
    ["stricter TLS", { tls: "required" }, Result.succeed({ tls: "required" })],
    ["the same TLS", { tls: "opportunistic" }, Result.succeed({ tls: "opportunistic" })],
    ["weaker TLS", { tls: "off" }, Result.fail("tls: off is weaker than this server's opportunistic")],
    [
      "fewer recipients and MX hosts",
      { recipientsPerSession: 5, maxMxHosts: 1 },
      Result.succeed({ recipientsPerSession: 5, maxMxHosts: 1 })
    ],
    [
      "more recipients",
      { recipientsPerSession: 51 },
      Result.fail("recipientsPerSession: at most 50 on this server, got 51")
    ],
    ["more MX hosts", { maxMxHosts: 6 }, Result.fail("maxMxHosts: at most 5 on this server, got 6")]
  ]
  for (const [name, query, expected] of cases) {
    it(name, () => {
      assert.deepStrictEqual(JobOptions.fromQuery(query, server), expected)
    })
  }

  it("stores them with the CSV column and reads them back; older jobs read as no options", () => {
    const stored = JobOptions.write("work", { catchAllProbe: false, timeoutMs: 2000 })
    assert.deepStrictEqual(JobOptions.read(stored), {
      column: "work",
      verifier: { catchAllProbe: false, timeoutMs: 2000 }
    })
    assert.deepStrictEqual(JobOptions.read(JobOptions.write(undefined, {})), { column: null })
    assert.deepStrictEqual(JobOptions.read('{"column":null}'), { column: null })
    assert.deepStrictEqual(JobOptions.read("not json"), {})
  })
})

const job = (reply: Reply) => Schema.decodeUnknownSync(JobsApi.Job)(JSON.parse(reply.text))

const verdicts = (service: Service, id: string) =>
  service.request(`/v1/jobs/${id}/results`).pipe(
    Effect.map((r) =>
      r.text
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { address: string; verdict: string; reason: string; transcript: Array<unknown> })
    )
  )

describe("POST /v1/jobs with verifier options", () => {
  it.live("a job runs with its own options, shown with it; the next job has the server's", () =>
    withService((service) =>
      Effect.gen(function* () {
        // Without the probe first: the catch-all memory is shared, and a probing job would fill it.
        const unprobed = yield* service.upload(
          "someone@catchall.test\n",
          "text/plain",
          "?catchAllProbe=false&timeout=5s"
        )
        assert.strictEqual(unprobed.status, 202, unprobed.text)
        assert.deepStrictEqual(job(unprobed).options, { catchAllProbe: false, timeoutMs: 5000 })
        const a = yield* finished(service, job(unprobed).id)
        assert.strictEqual(a.state, "done")
        assert.deepStrictEqual(a.options, { catchAllProbe: false, timeoutMs: 5000 })
        assert.deepStrictEqual(
          (yield* verdicts(service, a.id)).map((r) => r.verdict),
          ["deliverable"]
        )

        const plain = yield* service.upload("someone@catchall.test\n", "text/plain")
        const b = yield* finished(service, job(plain).id)
        assert.deepStrictEqual(b.options, {})
        assert.deepStrictEqual(
          (yield* verdicts(service, b.id)).map((r) => [r.verdict, r.reason, r.transcript.length]),
          [["risky", "catch_all", 0]]
        )
        // The SMTP dialogue only when the job asks for it (as rcpt bulk --transcript).
        const dialogue = yield* service.upload("someone@catchall.test\n", "text/plain", "?transcript=true")
        const c = yield* finished(service, job(dialogue).id)
        assert.deepStrictEqual(c.options, { transcript: true })
        assert.isAbove((yield* verdicts(service, c.id))[0]!.transcript.length, 0)
      })
    )
  )

  it.live("options past the server's bounds or malformed: a 400 problem naming them, and no job", () =>
    withService((service) =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [string, string]> = [
          ["?timeout=1h", "timeout: at most 10s"],
          ["?timeout=later", "timeout: expected a duration"],
          ["?tls=off", "tls: off is weaker"],
          ["?maxMxHosts=99", "maxMxHosts: at most 5"],
          ["?recipientsPerSession=0", "recipientsPerSession"],
          ["?vrfy=maybe", "vrfy"],
          ["?mailFrom=not%20an%20address", "mailFrom"]
        ]
        for (const [query, names] of cases) {
          const reply = yield* service.upload("alice@alpha.test\n", "text/plain", query)
          assert.strictEqual(reply.status, 400, `${query}: ${reply.text}`)
          assert.include(reply.contentType ?? "", "application/problem+json")
          assert.include(reply.text, names, query)
        }
        assert.deepStrictEqual(JSON.parse((yield* service.request("/v1/jobs")).text).jobs, [])
      })
    )
  )
})

describe("the OpenAPI document", () => {
  it.live("names the job options as POST /v1/jobs parameters, and 429 on the job endpoints", () =>
    withService((service) =>
      Effect.gen(function* () {
        const reply = yield* service.request("/openapi.json")
        const spec = JSON.parse(reply.text) as {
          paths: Record<
            string,
            Record<string, { parameters?: Array<{ name: string }>; responses: Record<string, unknown> }>
          >
        }
        const create = spec.paths["/v1/jobs"]?.["post"]
        assert.includeMembers(
          (create?.parameters ?? []).map((p) => p.name),
          ["mailFrom", "vrfy", "catchAllProbe", "tls", "timeout", "recipientsPerSession", "maxMxHosts"]
        )
        assert.isDefined(create?.responses["429"])
        assert.isDefined(spec.paths["/v1/jobs/{id}"]?.["get"]?.responses["429"])
        assert.include(JSON.stringify(spec), "JobOptions")
      })
    )
  )
})
