// The HTTP service end to end: a MailWorld (DNS + SMTP servers on loopback), a NodeVerifier
// pointed at it, the server on 127.0.0.1 port 0, and real `fetch` requests.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, References, Schema } from "effect"
import { HttpServer } from "effect/http"
import { NodeVerifier } from "@rcpt/node"
import { MailWorld } from "@rcpt/testing"
import { Verification } from "@rcpt/verifier"
import * as Api from "../src/Api.ts"
import * as Jobs from "../src/Jobs.ts"
import * as Server from "../src/Server.ts"

interface Reply {
  readonly status: number
  readonly contentType: string | null
  readonly text: string
  readonly json: unknown
}

/** An RFC 9457 problem as the service writes them. */
const Problem = Schema.Struct({
  type: Schema.String,
  title: Schema.String,
  status: Schema.Number,
  detail: Schema.optional(Schema.String),
  errors: Schema.optional(
    Schema.Array(
      Schema.Struct({ path: Schema.Array(Schema.Union([Schema.String, Schema.Number])), message: Schema.String })
    )
  )
})
const problem = (reply: Reply) => Schema.decodeUnknownSync(Problem)(reply.json)
const issues = (reply: Reply) => problem(reply).errors ?? []
const batchOf = (reply: Reply) => Schema.decodeUnknownSync(Api.BatchResponse)(reply.json).results

/** The parts of the OpenAPI document the tests read. */
interface OpenApiDoc {
  readonly info: { readonly title: string; readonly version: string }
  readonly paths: Record<string, Record<string, { readonly responses: Record<string, unknown> } | undefined>>
  readonly components: {
    readonly schemas: Record<string, unknown>
    readonly securitySchemes: Record<string, { readonly type: string; readonly name: string }>
  }
}

interface Service {
  readonly url: string
  readonly world: MailWorld.World
  readonly logs: ReadonlyArray<string>
  readonly request: (path: string, init?: RequestInit) => Effect.Effect<Reply>
  readonly post: (path: string, body: unknown, headers?: Record<string, string>) => Effect.Effect<Reply>
}

/** A domain whose only MX is down: the verifier's answer is `unknown`, never an HTTP error. */
const spec: MailWorld.WorldSpec = {
  ...MailWorld.demo,
  domains: [...MailWorld.demo.domains, { name: "down.test", mx: [{ host: "mx1.failover.test", preference: 10 }] }]
}

const withService = <A, E>(f: (service: Service) => Effect.Effect<A, E>, options: { readonly secret?: string } = {}) =>
  Effect.gen(function* () {
    const world = yield* MailWorld.start(spec)
    const logs: Array<string> = []
    const capture = Logger.make(({ message }) => {
      logs.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
    })
    const verifier = NodeVerifier.layer({
      // The servers are on loopback, which the target policy refuses unless opened.
      allowTargets: ["127.0.0.0/8"],
      helo: "http.rcpt.test",
      allowSpecialUse: ["test"],
      port: world.smtpPort,
      dnsServers: [world.dns],
      timeout: "10 seconds"
    })
    const server = Server.layer({ port: 0, ...options }).pipe(
      Layer.provide(Jobs.layerMemory.pipe(Layer.provideMerge(verifier), Layer.orDie)),
      Layer.provide([Logger.layer([capture]), Layer.succeed(References.MinimumLogLevel, "Info")])
    )
    return yield* HttpServer.addressFormattedWith((base) => {
      const request = (path: string, init?: RequestInit) =>
        Effect.promise(() =>
          fetch(`${base}${path}`, init).then((response) =>
            response.text().then((text) => {
              const contentType = response.headers.get("content-type")
              const json = contentType?.includes("json") ? JSON.parse(text) : undefined
              return { status: response.status, contentType, text, json }
            })
          )
        )
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        request(path, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: typeof body === "string" ? body : JSON.stringify(body)
        })
      return f({ url: base, world, logs, request, post })
    }).pipe(Effect.provide(server))
  }).pipe(Effect.scoped)

const verdict = (v: { readonly verdict: string; readonly reason: string }) => `${v.verdict}/${v.reason}`

describe("POST /v1/verify", () => {
  it.live("a mailbox that exists: 200 and a Verification, deliverable", () =>
    withService(({ post }) =>
      Effect.gen(function* () {
        const reply = yield* post("/v1/verify", { address: "alice@alpha.test" })
        assert.strictEqual(reply.status, 200, reply.text)
        assert.include(reply.contentType ?? "", "application/json")
        const v = Verification.decode(reply.json)
        assert.strictEqual(verdict(v), "deliverable/accepted")
        assert.strictEqual(v.address, "alice@alpha.test")
        assert.strictEqual(v.mx?.host, "mx1.alpha.test")
        assert.isTrue(v.transcript.some((t) => t.text === "RCPT TO:<alice@alpha.test>"))
      })
    )
  )

  it.live("a mailbox that does not exist: 200, undeliverable", () =>
    withService(({ post }) =>
      Effect.gen(function* () {
        const reply = yield* post("/v1/verify", { address: "nobody@alpha.test" })
        assert.strictEqual(reply.status, 200, reply.text)
        assert.strictEqual(verdict(Verification.decode(reply.json)), "undeliverable/mailbox_unknown")
      })
    )
  )

  it.live("what a mail server does is never an HTTP error: a dead MX is 200, unknown", () =>
    withService(({ post }) =>
      Effect.gen(function* () {
        const reply = yield* post("/v1/verify", { address: "alice@down.test" })
        assert.strictEqual(reply.status, 200, reply.text)
        const v = Verification.decode(reply.json)
        assert.strictEqual(verdict(v), "unknown/connection_failed")
        assert.isTrue(v.retryable)
      })
    )
  )

  it.live("an invalid address is a verification (syntax), not a 400", () =>
    withService(({ post }) =>
      Effect.gen(function* () {
        const reply = yield* post("/v1/verify", { address: "not an address" })
        assert.strictEqual(reply.status, 200, reply.text)
        assert.strictEqual(verdict(Verification.decode(reply.json)), "undeliverable/syntax")
      })
    )
  )

  it.live("a body that fails the schema: 400 problem naming the field", () =>
    withService(({ post }) =>
      Effect.gen(function* () {
        const wrongType = yield* post("/v1/verify", { address: 42 })
        assert.strictEqual(wrongType.status, 400, wrongType.text)
        assert.strictEqual(wrongType.contentType, "application/problem+json")
        assert.strictEqual(problem(wrongType).title, "Bad Request")
        assert.strictEqual(problem(wrongType).status, 400)
        assert.deepStrictEqual(issues(wrongType), [{ path: ["payload", "address"], message: "Expected string" }])

        const missing = yield* post("/v1/verify", { email: "alice@alpha.test" })
        assert.strictEqual(missing.status, 400, missing.text)
        assert.deepStrictEqual(issues(missing), [{ path: ["payload", "address"], message: "Missing key" }])

        const notJson = yield* post("/v1/verify", "{address:")
        assert.strictEqual(notJson.status, 400, notJson.text)
        assert.strictEqual(notJson.contentType, "application/problem+json")
        assert.strictEqual(issues(notJson)[0]?.message, "Expected a valid JSON body")
      })
    )
  )

  it.live("a body over the size limit: 413", () =>
    withService(({ post }) =>
      Effect.gen(function* () {
        const reply = yield* post("/v1/verify", { address: "a".repeat(2 * 1024 * 1024) })
        assert.strictEqual(reply.status, 413)
      })
    )
  )
})

describe("POST /v1/verify/batch", () => {
  it.live("results in input order, one SMTP session per domain", () =>
    withService(({ post, world }) =>
      Effect.gen(function* () {
        const addresses = [
          "nobody@alpha.test",
          "anything@catchall.test",
          "alice@alpha.test",
          "not an address",
          "alice@alpha.test"
        ]
        yield* world.resetStats
        const reply = yield* post("/v1/verify/batch", { addresses })
        assert.strictEqual(reply.status, 200, reply.text)
        const results = batchOf(reply)
        assert.deepStrictEqual(
          results.map((r) => r.address),
          addresses
        )
        assert.deepStrictEqual(results.map(verdict), [
          "undeliverable/mailbox_unknown",
          "risky/catch_all",
          "deliverable/accepted",
          "undeliverable/syntax",
          "deliverable/accepted"
        ])
        const stats = yield* world.stats
        assert.strictEqual(stats.connections["127.0.0.2"], 1, "alpha.test: one session for its addresses")
      })
    )
  )

  it.live(`${Api.maxBatch} addresses pass, ${Api.maxBatch + 1} are a 400`, () =>
    withService(({ post }) =>
      Effect.gen(function* () {
        // Invalid addresses are answered without any connection: the limit is tested, not SMTP.
        const full = Array.from({ length: Api.maxBatch }, (_, i) => `bad address ${i}`)
        const ok = yield* post("/v1/verify/batch", { addresses: full })
        assert.strictEqual(ok.status, 200, ok.text)
        const results = batchOf(ok)
        assert.strictEqual(results.length, Api.maxBatch)
        assert.strictEqual(results[Api.maxBatch - 1]?.address, `bad address ${Api.maxBatch - 1}`)

        const over = yield* post("/v1/verify/batch", { addresses: [...full, "one@too.many"] })
        assert.strictEqual(over.status, 400, over.text)
        assert.strictEqual(over.contentType, "application/problem+json")
        assert.deepStrictEqual(issues(over), [
          { path: ["payload", "addresses"], message: `Expected a value with a length of at most ${Api.maxBatch}` }
        ])
      })
    )
  )

  it.live("an empty batch is an empty result; a non-array is a 400", () =>
    withService(({ post }) =>
      Effect.gen(function* () {
        const empty = yield* post("/v1/verify/batch", { addresses: [] })
        assert.strictEqual(empty.status, 200, empty.text)
        assert.deepStrictEqual(empty.json, { results: [] })
        const wrong = yield* post("/v1/verify/batch", { addresses: "alice@alpha.test" })
        assert.strictEqual(wrong.status, 400, wrong.text)
      })
    )
  )
})

describe("service routes", () => {
  it.live("GET /v1/health", () =>
    withService(({ request }) =>
      Effect.gen(function* () {
        const reply = yield* request("/v1/health")
        assert.strictEqual(reply.status, 200, reply.text)
        assert.deepStrictEqual(reply.json, { status: "ok", version: Api.version })
      })
    )
  )

  it.live("GET /openapi.json describes the paths, schemas and the secret header; /docs is a page", () =>
    withService(({ request }) =>
      Effect.gen(function* () {
        const reply = yield* request("/openapi.json")
        assert.strictEqual(reply.status, 200, reply.text)
        const spec = reply.json as OpenApiDoc
        assert.strictEqual(spec.info.title, "rcpt")
        assert.strictEqual(spec.info.version, Api.version)
        assert.includeMembers(Object.keys(spec.paths), ["/v1/verify", "/v1/verify/batch", "/v1/health"])
        assert.isDefined(spec.paths["/v1/verify"]?.["post"]?.responses["200"])
        assert.isDefined(spec.paths["/v1/verify/batch"]?.["post"]?.responses["400"])
        assert.isDefined(spec.paths["/v1/verify"]?.["post"]?.responses["401"])
        assert.isDefined(spec.paths["/v1/health"]?.["get"])
        const schemes = Object.values(spec.components.securitySchemes)
        assert.deepInclude(
          schemes.map((s) => [s.type, s.name]),
          ["apiKey", Api.secretHeader]
        )
        assert.include(JSON.stringify(spec.components.schemas), "catchAll", "the Verification schema is described")

        const docs = yield* request("/docs")
        assert.strictEqual(docs.status, 200)
        assert.include(docs.contentType ?? "", "text/html")
      })
    )
  )

  it.live("logs the bound address", () =>
    withService(({ logs, url }) =>
      Effect.sync(() => {
        assert.match(url, /^http:\/\/127\.0\.0\.1:[1-9]\d*$/)
        assert.include(logs, `rcpt http listening on ${url}`)
      })
    )
  )
})

describe("lifecycle", () => {
  it.live("the server is closed when its scope closes", () =>
    Effect.gen(function* () {
      const url = yield* withService(({ url, request }) =>
        Effect.gen(function* () {
          assert.strictEqual((yield* request("/v1/health")).status, 200)
          return url
        })
      )
      const after = yield* Effect.promise(() =>
        fetch(`${url}/v1/health`).then(
          (response) => `answered ${response.status}`,
          (error: unknown) => `refused: ${String(error)}`
        )
      )
      assert.match(after, /^refused/)
    })
  )
})

describe("shared secret", () => {
  const secret = "s3cret-for-tests"

  it.live("missing or wrong x-rcpt-secret: 401 problem; the right one: 200", () =>
    withService(
      ({ post }) =>
        Effect.gen(function* () {
          const missing = yield* post("/v1/verify", { address: "alice@alpha.test" })
          assert.strictEqual(missing.status, 401, missing.text)
          assert.strictEqual(missing.contentType, "application/problem+json")
          assert.strictEqual(problem(missing).title, "Unauthorized")
          assert.strictEqual(problem(missing).detail, `Missing ${Api.secretHeader} header`)

          const wrong = yield* post("/v1/verify", { address: "alice@alpha.test" }, { [Api.secretHeader]: "guess" })
          assert.strictEqual(wrong.status, 401, wrong.text)
          const prefix = yield* post(
            "/v1/verify",
            { address: "alice@alpha.test" },
            { [Api.secretHeader]: `${secret}x` }
          )
          assert.strictEqual(prefix.status, 401, prefix.text)

          const batch = yield* post("/v1/verify/batch", { addresses: ["alice@alpha.test"] })
          assert.strictEqual(batch.status, 401, batch.text)

          const right = yield* post("/v1/verify", { address: "alice@alpha.test" }, { [Api.secretHeader]: secret })
          assert.strictEqual(right.status, 200, right.text)
          assert.strictEqual(Verification.decode(right.json).verdict, "deliverable")
        }),
      { secret }
    )
  )

  it.live("the secret is checked before the body: a bad body without it is 401, not 400", () =>
    withService(
      ({ post }) =>
        Effect.gen(function* () {
          const reply = yield* post("/v1/verify", { address: 42 })
          assert.strictEqual(reply.status, 401, reply.text)
        }),
      { secret }
    )
  )

  it.live("health and the docs need no secret", () =>
    withService(
      ({ request }) =>
        Effect.gen(function* () {
          assert.strictEqual((yield* request("/v1/health")).status, 200)
          assert.strictEqual((yield* request("/openapi.json")).status, 200)
        }),
      { secret }
    )
  )

  it.live("an empty secret admits nobody", () =>
    withService(
      ({ post }) =>
        Effect.gen(function* () {
          const none = yield* post("/v1/verify", { address: "alice@alpha.test" })
          assert.strictEqual(none.status, 401, none.text)
          const empty = yield* post("/v1/verify", { address: "alice@alpha.test" }, { [Api.secretHeader]: "" })
          assert.strictEqual(empty.status, 401, empty.text)
        }),
      { secret: "" }
    )
  )
})
