// The transport conformance suite against NodeSmtpTransport and a loopback server playing each script.
import { Effect, Layer } from "effect"
import { SmtpTransport } from "@rcpt/client/SmtpTransport"
import * as TransportSuite from "@rcpt/testing/TransportSuite"
import * as NodeSmtpTransport from "../src/NodeSmtpTransport.ts"
import { scriptServer } from "./helpers.ts"

// Each case starts a loopback server playing the case's script; the transport dials it whatever
// address the suite asks for.
TransportSuite.suite("NodeSmtpTransport: conformance", (script) =>
  Effect.gen(function* () {
    const server = yield* scriptServer(script)
    const transport = yield* NodeSmtpTransport.make
    return Layer.succeed(
      SmtpTransport,
      SmtpTransport.of({
        connect: (options) => transport.connect({ ...options, host: "127.0.0.1", port: server.port })
      })
    )
  })
)
