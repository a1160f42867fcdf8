// The Node mailer's routes against smtp-server on loopback: through a SOCKS5 proxy (the server
// sees the proxy's address), from pooled source addresses in turn with their EHLO names, and a
// proxy refusing our password as a transport failure that names it.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { Socks5Server } from "@rcpt/testing"
import * as Mailer from "../src/Mailer.ts"
import { NodeMailer } from "@rcpt/node"
import * as TestServer from "./server.ts"

/** A server recording each MAIL FROM's client address and EHLO name. */
const recording = () =>
  Effect.gen(function* () {
    const seen: Array<string> = []
    const server = yield* TestServer.start({
      onMailFrom: (_address, session, callback) => {
        seen.push(`${session.remoteAddress} ${session.hostNameAppearsAs}`)
        callback()
      }
    })
    return { server, seen }
  })

const options = (port: number, more: Partial<NodeMailer.Options>): NodeMailer.Options => ({
  host: "127.0.0.1",
  port,
  servername: "localhost",
  ca: [TestServer.certificate],
  clientName: "client.example.net",
  auth: { _tag: "Password", username: TestServer.user, password: TestServer.password },
  retry: Schedule.recurs(0),
  maxMessages: 1,
  maxConnections: 1,
  ...more
})

const mail = { from: "ann@example.net", to: "bob@example.com", subject: "Hi", text: "Hello" }

const send = (opts: NodeMailer.Options, times = 1) =>
  Effect.gen(function* () {
    const mailer = yield* Mailer.Mailer
    for (let i = 0; i < times; i++) yield* mailer.send(mail)
  }).pipe(Effect.provide(NodeMailer.layer(opts).pipe(Layer.orDie)))

describe("NodeMailer routes", () => {
  it.live("through a SOCKS5 proxy: the server sees the proxy's external address", () =>
    Effect.gen(function* () {
      const { server, seen } = yield* recording()
      const proxy = yield* Socks5Server.start({ credentials: { username: "u", password: "p" }, external: "127.0.0.91" })
      yield* send(options(server.port, { proxy: `socks5://u:p@${proxy.address}:${proxy.port}` }))
      assert.deepStrictEqual(seen, ["127.0.0.91 client.example.net"])
      assert.strictEqual(server.received.length, 1)
    }).pipe(Effect.scoped)
  )

  it.live("from two source addresses in turn, each with its own EHLO name", () =>
    Effect.gen(function* () {
      const { server, seen } = yield* recording()
      yield* send(
        options(server.port, {
          sourceAddresses: [
            { address: "127.0.0.92", helo: "out92.example.net" },
            { address: "127.0.0.93", helo: "out93.example.net" }
          ]
        }),
        2
      )
      assert.deepStrictEqual(seen, ["127.0.0.92 out92.example.net", "127.0.0.93 out93.example.net"])
    }).pipe(Effect.scoped)
  )

  it.live("a proxy refusing the password: a connect failure with the proxy's reason", () =>
    Effect.gen(function* () {
      const { server } = yield* recording()
      const proxy = yield* Socks5Server.start({ credentials: { username: "u", password: "right" } })
      const error = yield* send(
        options(server.port, { proxy: `socks5://u:wrong@${proxy.address}:${proxy.port}` })
      ).pipe(Effect.flip)
      assert.strictEqual(error.reason._tag, "ConnectError")
      if (error.reason._tag === "ConnectError") assert.strictEqual(error.reason.transportReason, "ProxyAuthFailed")
      assert.notInclude(error.message, "wrong")
      assert.strictEqual(server.received.length, 0)
    }).pipe(Effect.scoped)
  )
})
