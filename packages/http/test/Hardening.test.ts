// The service as an attacker meets it: a web page without CORS (no Content-Type, a rebinding
// Host), no credential beyond loopback, bearer tokens (rotated in a file), concurrency limits
// (429/503 with Retry-After), a slow body (408), a connection flood, an unknown path (404, no stack).
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Logger, References } from "effect"
import { HttpServer } from "effect/http"
import { NodeVerifier } from "@rcpt/node"
import { MailWorld } from "@rcpt/testing"
import * as Jobs from "../src/Jobs.ts"
import * as Server from "../src/Server.ts"
import * as Tokens from "../src/Tokens.ts"

/** The demo world plus `slow.test`, whose MX waits 1.5 s before its greeting. */
const spec: MailWorld.WorldSpec = {
  ...MailWorld.demo,
  domains: [
    ...MailWorld.demo.domains,
    { name: "slow.test", mx: [{ host: "mx.slow.test", preference: 10 }], users: ["alice"] }
  ],
  hosts: [
    ...MailWorld.demo.hosts,
    { name: "mx.slow.test", address: "127.0.0.9", behaviour: { greetingDelay: "1500 millis" } }
  ]
}

interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
}

const withServer = <A, E>(
  options: Omit<Server.Options, "port">,
  f: (base: string, logs: ReadonlyArray<string>) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const world = yield* MailWorld.start(spec)
    const logs: Array<string> = []
    const capture = Logger.make(({ message, cause }) => {
      const text = (Array.isArray(message) ? message : [message]).map(String).join(" ")
      logs.push(cause.reasons.length === 0 ? text : `${text}\n${Cause.pretty(cause)}`)
    })
    const verifier = NodeVerifier.layer({
      // The servers are on loopback, which the target policy refuses unless opened.
      allowTargets: ["127.0.0.0/8"],
      // The world's names are .test (RFC 6761), refused unless allowed.
      allowSpecialUse: ["test"],
      helo: "http.rcpt.test",
      port: world.smtpPort,
      dnsServers: [world.dns],
      timeout: "10 seconds"
    })
    const server = Server.layer({ port: 0, ...options }).pipe(
      Layer.provide(Jobs.layerMemory.pipe(Layer.provideMerge(verifier), Layer.orDie)),
      Layer.provide([Logger.layer([capture]), Layer.succeed(References.MinimumLogLevel, "Info")])
    )
    return yield* HttpServer.addressFormattedWith((base) => f(base, logs)).pipe(Effect.provide(server))
  }).pipe(Effect.scoped)

const send = (url: string, init: RequestInit = {}): Effect.Effect<Reply> =>
  Effect.promise(() =>
    fetch(url, init).then((r) => r.text().then((text) => ({ status: r.status, headers: r.headers, text })))
  )

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body)
})

/** A raw HTTP/1.1 exchange (fetch will not send a foreign Host header or omit Content-Type). */
const raw = (base: string, request: string, options: { readonly trickle?: boolean } = {}) =>
  Effect.callback<{ readonly text: string; readonly closedAfterMs: number }>((resume) => {
    const url = new URL(base)
    const started = Date.now()
    const socket = Net.connect(Number(url.port), url.hostname)
    let text = ""
    let timer: NodeJS.Timeout | undefined
    socket.setEncoding("utf8")
    socket.on("data", (d: string) => (text += d))
    socket.on("error", () => {})
    socket.on("close", () => {
      clearInterval(timer)
      resume(Effect.succeed({ text, closedAfterMs: Date.now() - started }))
    })
    socket.write(request)
    // A body that never finishes: one byte every 200 ms.
    if (options.trickle === true) timer = setInterval(() => socket.write("x"), 200)
    else socket.end()
    return Effect.sync(() => {
      clearInterval(timer)
      socket.destroy()
    })
  })

const status = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)

describe("CSRF and DNS rebinding", { timeout: 60_000 }, () => {
  it.live("a POST without Content-Type is 415, not read as JSON", () =>
    withServer({}, (base) =>
      Effect.gen(function* () {
        const body = JSON.stringify({ address: "alice@alpha.test" })
        const host = new URL(base).host
        const none = yield* raw(
          base,
          `POST /v1/verify HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
        )
        assert.strictEqual(status(none.text), 415, none.text)
        assert.include(none.text, "application/problem+json")
        const plain = yield* send(`${base}/v1/verify`, {
          method: "POST",
          headers: { "content-type": "text/plain" },
          body
        })
        assert.strictEqual(plain.status, 415)
        const form = yield* send(`${base}/v1/verify/batch`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "addresses=alice@alpha.test"
        })
        assert.strictEqual(form.status, 415)
        const ok = yield* send(
          `${base}/v1/verify`,
          json({ address: "alice@alpha.test" }, { "content-type": "application/json; charset=utf-8" })
        )
        assert.strictEqual(ok.status, 200, ok.text)
      })
    )
  )

  it.live("a Host header that does not name the service is 421; localhost and IP literals pass", () =>
    withServer({}, (base) =>
      Effect.gen(function* () {
        const port = new URL(base).port
        const get = (host: string) =>
          raw(base, `GET /v1/health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`).pipe(
            Effect.map((r) => status(r.text))
          )
        assert.strictEqual(yield* get(`rebind.attacker.example:${port}`), 421)
        assert.strictEqual(yield* get("rebind.attacker.example"), 421)
        assert.strictEqual(yield* get(""), 421)
        assert.strictEqual(yield* get(`localhost:${port}`), 200)
        assert.strictEqual(yield* get(`LOCALHOST.:${port}`), 200)
        assert.strictEqual(yield* get(`127.0.0.1:${port}`), 200)
        assert.strictEqual(yield* get(`[::1]:${port}`), 200)
        const body = JSON.stringify({ address: "alice@alpha.test" })
        const post = yield* raw(
          base,
          `POST /v1/verify HTTP/1.1\r\nHost: rebind.attacker.example:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
        )
        assert.strictEqual(status(post.text), 421)
        assert.notInclude(post.text, "deliverable")
      })
    )
  )

  it.live("allowedHosts names the service", () =>
    withServer({ allowedHosts: ["rcpt.internal"] }, (base) =>
      Effect.gen(function* () {
        const get = (host: string) =>
          raw(base, `GET /v1/health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`).pipe(
            Effect.map((r) => status(r.text))
          )
        assert.strictEqual(yield* get("rcpt.internal:8080"), 200)
        assert.strictEqual(yield* get("localhost"), 421)
        assert.strictEqual(yield* get("other.internal"), 421)
      })
    )
  )
})

describe("credentials", { timeout: 60_000 }, () => {
  it.effect("no secret and no tokens: refuses to listen beyond loopback", () =>
    Effect.gen(function* () {
      for (const host of ["0.0.0.0", "::", "192.0.2.1"]) {
        const built = yield* Layer.build(
          Server.layer({ port: 0, host }).pipe(
            Layer.provide(
              Jobs.layerMemory.pipe(Layer.provideMerge(NodeVerifier.layer({ helo: "x.rcpt.test" })), Layer.orDie)
            )
          )
        ).pipe(Effect.scoped, Effect.exit)
        assert.isTrue(Exit.isFailure(built), host)
        assert.include(String(Exit.isFailure(built) ? built.cause : ""), "OpenListen")
      }
      assert.isTrue(Server.isLoopback("127.0.0.1") && Server.isLoopback("::1") && Server.isLoopback("localhost"))
      assert.isFalse(Server.isLoopback("0.0.0.0") || Server.isLoopback("::") || Server.isLoopback("127.evil.example"))
    })
  )

  it.live("bearer tokens next to the secret: either passes, nothing else does", () =>
    withServer({ secret: "s3cret", tokens: Tokens.fromValues(["tok-a", "tok-b"]) }, (base) =>
      Effect.gen(function* () {
        const verify = (headers: Record<string, string>) =>
          send(`${base}/v1/verify`, json({ address: "alice@alpha.test" }, headers)).pipe(Effect.map((r) => r.status))
        assert.strictEqual(yield* verify({}), 401)
        assert.strictEqual(yield* verify({ authorization: "Bearer tok-c" }), 401)
        assert.strictEqual(yield* verify({ authorization: "Bearer tok-a" }), 200)
        assert.strictEqual(yield* verify({ authorization: "Bearer tok-b" }), 200)
        assert.strictEqual(yield* verify({ "x-rcpt-secret": "s3cret" }), 200)
        assert.strictEqual(yield* verify({ "x-rcpt-secret": "tok-a" }), 401)
      })
    )
  )

  it.live("a token file is re-read when it changes: rotation without restart", () =>
    Effect.gen(function* () {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "rcpt-tokens-"))
      const file = Path.join(dir, "tokens")
      Fs.writeFileSync(file, "# the deploy's tokens\nold-token\n")
      const tokens = yield* Tokens.fromFile(file, { recheckMillis: 0 })
      yield* withServer({ tokens }, (base) =>
        Effect.gen(function* () {
          const verify = (token: string) =>
            send(`${base}/v1/verify`, json({ address: "alice@alpha.test" }, { authorization: `Bearer ${token}` })).pipe(
              Effect.map((r) => r.status)
            )
          assert.strictEqual(yield* verify("old-token"), 200)
          assert.strictEqual(yield* verify("new-token"), 401)
          Fs.writeFileSync(file, "new-token, newer-token\n")
          Fs.utimesSync(file, new Date(), new Date(Date.now() + 5000))
          assert.strictEqual(yield* verify("new-token"), 200)
          assert.strictEqual(yield* verify("newer-token"), 200)
          assert.strictEqual(yield* verify("old-token"), 401)
          // An emptied file (a rotation half done) keeps the last good set.
          Fs.writeFileSync(file, "")
          Fs.utimesSync(file, new Date(), new Date(Date.now() + 10000))
          assert.strictEqual(yield* verify("new-token"), 200)
        })
      )
      Fs.rmSync(dir, { recursive: true })
    })
  )

  it.effect("a token file that is missing or empty at start is an error", () =>
    Effect.gen(function* () {
      const missing = yield* Tokens.fromFile("/nonexistent/rcpt-tokens").pipe(Effect.flip)
      assert.include(missing.message, "cannot read")
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "rcpt-tokens-"))
      Fs.writeFileSync(Path.join(dir, "t"), "# only a comment\n")
      const empty = yield* Tokens.fromFile(Path.join(dir, "t")).pipe(Effect.flip)
      assert.include(empty.message, "holds no token")
      Fs.rmSync(dir, { recursive: true })
      assert.deepStrictEqual(Tokens.parse("a, b\n# c\n d\te\r\n"), ["a", "b", "d", "e"])
    })
  )
})

describe("limits", { timeout: 60_000 }, () => {
  it.live("per-token concurrency: over the limit is 429 with Retry-After, before the body is read", () =>
    withServer({ tokens: Tokens.fromValues(["one", "two"]), limits: { perCaller: 2, total: 10 } }, (base) =>
      Effect.gen(function* () {
        const slow = (token: string) =>
          send(`${base}/v1/verify`, json({ address: "alice@slow.test" }, { authorization: `Bearer ${token}` }))
        const replies = yield* Effect.all([slow("one"), slow("one"), slow("one"), slow("two")], { concurrency: 4 })
        const codes = replies.map((r) => r.status).sort()
        assert.deepStrictEqual(codes, [200, 200, 200, 429])
        const refused = replies.find((r) => r.status === 429)!
        assert.strictEqual(refused.headers.get("retry-after"), "1")
        assert.include(refused.text, "At most 2 requests per caller")
        // Slots come back: the same token is served again.
        assert.strictEqual((yield* slow("one")).status, 200)
      })
    )
  )

  it.live("total concurrency: over the limit is 503 with Retry-After", () =>
    withServer({ limits: { perCaller: 10, total: 1 } }, (base) =>
      Effect.gen(function* () {
        const slow = send(`${base}/v1/verify`, json({ address: "alice@slow.test" }))
        const replies = yield* Effect.all([slow, slow], { concurrency: 2 })
        assert.deepStrictEqual(replies.map((r) => r.status).sort(), [200, 503])
        assert.strictEqual(replies.find((r) => r.status === 503)!.headers.get("retry-after"), "1")
      })
    )
  )

  it.live("a slow body is cut at the request timeout with 408", () =>
    withServer({ requestTimeout: "1 second" }, (base) =>
      Effect.gen(function* () {
        const host = new URL(base).host
        const slow = yield* raw(
          base,
          `POST /v1/verify HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`,
          { trickle: true }
        )
        assert.strictEqual(status(slow.text), 408, slow.text)
        assert.isBelow(slow.closedAfterMs, 5000)
      })
    )
  )

  it.live("connections over maxConnections are closed on arrival", () =>
    withServer({ maxConnections: 2 }, (base) =>
      Effect.gen(function* () {
        const url = new URL(base)
        const open = () =>
          new Promise<Net.Socket>((resolve) => {
            const s = Net.connect(Number(url.port), url.hostname, () => resolve(s))
            s.on("error", () => {})
          })
        const held = yield* Effect.promise(() => Promise.all([open(), open()]))
        yield* Effect.sleep("100 millis")
        const third = yield* raw(base, `GET /v1/health HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`)
        assert.strictEqual(third.text, "", "dropped without an answer")
        held.forEach((s) => s.destroy())
        yield* Effect.sleep("100 millis")
        const later = yield* raw(base, `GET /v1/health HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`)
        assert.strictEqual(status(later.text), 200)
      })
    )
  )

  it.live("an unknown path is a 404 problem, logged as one line without a stack", () =>
    withServer({}, (base, logs) =>
      Effect.gen(function* () {
        const reply = yield* send(`${base}/nope`)
        assert.strictEqual(reply.status, 404)
        assert.include(reply.headers.get("content-type") ?? "", "problem+json")
        yield* Effect.sleep("50 millis")
        assert.isDefined(
          logs.find((l) => l.startsWith("Sent HTTP response")),
          logs.join("\n")
        )
        assert.notMatch(logs.join("\n"), /RouteNotFound|\n\s+at /)
      })
    )
  )
})

describe("uploads", { timeout: 60_000 }, () => {
  it.live("POST /v1/jobs as text/plain: 415 from a page (no preflighted header), accepted with one", () =>
    withServer({}, (base) =>
      Effect.gen(function* () {
        const body = "alice@alpha.test\n"
        const page = yield* send(`${base}/v1/jobs`, { method: "POST", headers: { "content-type": "text/plain" }, body })
        assert.strictEqual(page.status, 415, page.text)
        const client = yield* send(`${base}/v1/jobs`, {
          method: "POST",
          headers: { "content-type": "text/plain", "x-requested-with": "curl" },
          body
        })
        assert.strictEqual(client.status, 202, client.text)
      })
    )
  )
})
