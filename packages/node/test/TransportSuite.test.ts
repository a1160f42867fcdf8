// The transport conformance suite against NodeSmtpTransport and a loopback server playing each
// script, dialled every way the transport dials: direct, bound to a source address, and through a
// SOCKS5 proxy (with user/password).
import { Effect, Layer } from "effect"
import { SmtpTransport, type ConnectOptions } from "@rcpt/client/SmtpTransport"
import * as Socks5Server from "@rcpt/testing/Socks5Server"
import * as TransportSuite from "@rcpt/testing/TransportSuite"
import * as NodeSmtpTransport from "../src/NodeSmtpTransport.ts"
import { scriptServer } from "./helpers.ts"

// Each case starts a loopback server playing the case's script; the transport dials it whatever
// address the suite asks for, with `via` added to the options.
const dialled =
  (via: Effect.Effect<Partial<ConnectOptions>, never, import("effect").Scope.Scope>) => (script: string) =>
    Effect.gen(function* () {
      const server = yield* scriptServer(script)
      const extra = yield* via
      const transport = yield* NodeSmtpTransport.make
      return Layer.succeed(
        SmtpTransport,
        SmtpTransport.of({
          connect: (options) => transport.connect({ ...options, ...extra, host: "127.0.0.1", port: server.port })
        })
      )
    })

TransportSuite.suite("NodeSmtpTransport (direct): conformance", dialled(Effect.succeed({})))

TransportSuite.suite(
  "NodeSmtpTransport (bound to source address 127.0.0.7): conformance",
  dialled(Effect.succeed({ localAddress: "127.0.0.7" }))
)

TransportSuite.suite(
  "NodeSmtpTransport (through SOCKS5 with user/password): conformance",
  dialled(
    Effect.map(
      Socks5Server.start({ credentials: { username: "rcpt", password: "s3cret" } }),
      (proxy): Partial<ConnectOptions> => ({
        proxy: { host: proxy.address, port: proxy.port, username: "rcpt", password: "s3cret", resolve: "local" }
      })
    )
  )
)
