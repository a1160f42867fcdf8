// Verifies the address given on the command line and prints the Verification as JSON.
//   node src/main.ts alice@example.com
// Settings come from the environment (RCPT_HELO, RCPT_PORT, RCPT_DNS_SERVERS, ...): see
// NodeVerifier.layerConfig. Use an EHLO name you own (RCPT_HELO) against real servers.
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { NodeVerifier } from "@rcpt/node"
import { Verification, Verifier } from "@rcpt/verifier"

const program = Effect.gen(function* () {
  const address = process.argv[2]
  if (address === undefined) return yield* Console.error("usage: node src/main.ts <address>")
  const verifier = yield* Verifier.Verifier
  const result = yield* verifier.verify(address)
  yield* Console.log(JSON.stringify(Verification.encode(result), null, 2))
})

program.pipe(Effect.provide(NodeVerifier.layerConfig), NodeRuntime.runMain)
