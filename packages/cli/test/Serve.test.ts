// `rcpt serve` as a child process: listens on a free port (read from its log on stderr), answers
// real HTTP requests against an in-process mail world, and stops with exit 0 on SIGTERM.
import * as Net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import type { Scope } from "effect"
import { MailWorld } from "@rcpt/testing"
import * as Serve from "../src/Serve.ts"
import { finish, listening, rcpt, serve, worldFlags } from "./helpers.ts"

const fetchJson = (url: string, init?: RequestInit) =>
  Effect.promise(() =>
    fetch(url, init).then((r) =>
      r.text().then((text) => ({ status: r.status, body: text ? (JSON.parse(text) as unknown) : null }))
    )
  )

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetchJson(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body)
  })

const withWorld = <A, E>(f: (flags: ReadonlyArray<string>) => Effect.Effect<A, E, Scope.Scope>) =>
  Effect.scoped(Effect.flatMap(MailWorld.start(MailWorld.demo), (world) => f(worldFlags(world))))

describe("rcpt serve", { timeout: 30_000 }, () => {
  it.live("serves the API on the port it logs, and exits 0 promptly on SIGTERM", () =>
    withWorld((flags) =>
      Effect.gen(function* () {
        const child = yield* serve(flags)
        const url = yield* listening(child)
        assert.match(url, /^http:\/\/127\.0\.0\.1:[1-9]\d*$/)

        const health = yield* fetchJson(`${url}/v1/health`)
        assert.deepStrictEqual(health, { status: 200, body: { status: "ok", version: "0.1.0" } })
        const verified = yield* postJson(`${url}/v1/verify`, { address: "alice@alpha.test" })
        assert.strictEqual(verified.status, 200)
        assert.strictEqual((verified.body as { verdict: string }).verdict, "deliverable")

        const stopped = Date.now()
        child.kill("SIGTERM")
        const ran = yield* finish(child)
        assert.strictEqual(ran.code, 0, ran.stderr)
        assert.isNull(ran.signal)
        assert.isBelow(Date.now() - stopped, 5000, "stopped promptly")
      })
    )
  )

  it.live("--secret-env: requests without the secret get 401, with it 200", () =>
    withWorld((flags) =>
      Effect.gen(function* () {
        const child = yield* serve([...flags, "--secret-env", "SERVE_TEST_SECRET"], {
          SERVE_TEST_SECRET: "open sesame"
        })
        const url = yield* listening(child)
        const without = yield* postJson(`${url}/v1/verify`, { address: "alice@alpha.test" })
        assert.strictEqual(without.status, 401)
        const wrong = yield* postJson(`${url}/v1/verify`, { address: "alice@alpha.test" }, { "x-rcpt-secret": "open" })
        assert.strictEqual(wrong.status, 401)
        const right = yield* postJson(
          `${url}/v1/verify`,
          { address: "alice@alpha.test" },
          { "x-rcpt-secret": "open sesame" }
        )
        assert.strictEqual(right.status, 200)
        child.kill("SIGTERM")
        assert.strictEqual((yield* finish(child)).code, 0)
      })
    )
  )

  it.live("usage errors exit 64: an unset --secret-env variable, a bad --listen", () =>
    Effect.gen(function* () {
      const [unset, badListen] = yield* Effect.all(
        [
          rcpt(["serve", "--listen", "127.0.0.1:0", "--secret-env", "SERVE_TEST_UNSET"]),
          rcpt(["serve", "--listen", "localhost:http"])
        ],
        { concurrency: "unbounded" }
      )
      assert.strictEqual(unset.code, 64, unset.stderr)
      assert.include(unset.stderr, "SERVE_TEST_UNSET")
      assert.strictEqual(badListen.code, 64, badListen.stderr)
      assert.include(badListen.stderr, "--listen")
    })
  )

  it.live("without a credential it refuses to listen beyond loopback (exit 64, saying why)", () =>
    Effect.gen(function* () {
      const ran = yield* rcpt(["serve", "--listen", "0.0.0.0:0"])
      assert.strictEqual(ran.code, 64, ran.stderr)
      assert.include(ran.stderr, "refusing to listen on 0.0.0.0 without a secret or tokens")
      const badLimit = yield* rcpt(["serve", "--listen", "127.0.0.1:0", "--max-requests", "0"])
      assert.strictEqual(badLimit.code, 64, badLimit.stderr)
      assert.include(badLimit.stderr, "--max-requests")
    })
  )

  it.live("--token-env: bearer tokens; a 404 is one log line without a stack", () =>
    withWorld((flags) =>
      Effect.gen(function* () {
        const child = yield* serve([...flags, "--token-env", "SERVE_TEST_TOKENS"], { SERVE_TEST_TOKENS: "t1, t2" })
        const url = yield* listening(child)
        const verify = (token: string) =>
          postJson(`${url}/v1/verify`, { address: "alice@alpha.test" }, { authorization: `Bearer ${token}` })
        assert.strictEqual((yield* verify("t2")).status, 200)
        assert.strictEqual((yield* verify("t3")).status, 401)
        assert.strictEqual((yield* fetchJson(`${url}/no/such/route`)).status, 404)
        child.kill("SIGTERM")
        const ran = yield* finish(child)
        assert.strictEqual(ran.code, 0, ran.stderr)
        assert.notMatch(ran.stderr, /RouteNotFound|\n\s+at /)
      })
    )
  )

  it.live("SIGTERM drains: a request in flight still gets its answer, then exit 0", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const world = yield* MailWorld.start({
          ...MailWorld.demo,
          domains: [
            ...MailWorld.demo.domains,
            { name: "slow.test", mx: [{ host: "mx.slow.test", preference: 10 }], users: ["alice"] }
          ],
          hosts: [
            ...MailWorld.demo.hosts,
            { name: "mx.slow.test", address: "127.0.0.9", behaviour: { greetingDelay: "2 seconds" } }
          ]
        })
        const child = yield* serve([...worldFlags(world), "--grace", "20s"])
        const url = yield* listening(child)
        const inFlight = yield* postJson(`${url}/v1/verify`, { address: "alice@slow.test" }).pipe(Effect.forkChild)
        yield* Effect.sleep("700 millis")
        child.kill("SIGTERM")
        const answered = yield* Fiber.join(inFlight)
        assert.strictEqual(answered.status, 200)
        assert.strictEqual((answered.body as { verdict: string }).verdict, "deliverable")
        const ran = yield* finish(child)
        assert.strictEqual(ran.code, 0, ran.stderr)
      })
    )
  )

  it.live(`a port in use: exit ${Serve.cannotListen}`, () =>
    Effect.gen(function* () {
      const taken = yield* Effect.acquireRelease(
        Effect.callback<Net.Server>((resume) => {
          const server = Net.createServer()
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) => Effect.callback<void>((resume) => void server.close(() => resume(Effect.void)))
      )
      const port = (taken.address() as Net.AddressInfo).port
      const ran = yield* rcpt(["serve", "--listen", `127.0.0.1:${port}`])
      assert.strictEqual(ran.code, Serve.cannotListen, ran.stderr)
      assert.include(ran.stderr, `cannot listen on 127.0.0.1:${port}`)
    }).pipe(Effect.scoped)
  )
})

describe("Serve.parseListen", () => {
  it("host:port, [ipv6]:port, :port and a bare port; nothing else", () => {
    const table: ReadonlyArray<readonly [string, Serve.Listen | undefined]> = [
      ["127.0.0.1:8080", { host: "127.0.0.1", port: 8080 }],
      ["0.0.0.0:0", { host: "0.0.0.0", port: 0 }],
      ["localhost:25", { host: "localhost", port: 25 }],
      ["[::1]:8080", { host: "::1", port: 8080 }],
      [":9000", { host: "127.0.0.1", port: 9000 }],
      ["9000", { host: "127.0.0.1", port: 9000 }],
      ["127.0.0.1:65536", undefined],
      ["127.0.0.1", undefined],
      ["::1:8080", undefined],
      ["localhost:http", undefined],
      ["", undefined]
    ]
    for (const [text, expected] of table) {
      assert.deepStrictEqual(Option.getOrUndefined(Serve.parseListen(text)), expected, text)
    }
  })
})
