// The README's library example, pointed at an in-process mail world instead of the internet:
// run from a project that installed the packed tarballs (test/pack/pack.test.ts), and type-checked
// there against the installed .d.ts. Prints one JSON line per address.
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { MailWorld } from "@rcpt/demo"
import { NodeVerifier } from "@rcpt/node"
import { Verifier } from "@rcpt/verifier"
import type { Verification } from "@rcpt/verifier"

const program = Effect.gen(function* () {
  const verifier = yield* Verifier.Verifier
  for (const address of ["alice@alpha.test", "nobody@alpha.test"]) {
    const result: Verification.Verification = yield* verifier.verify(address)
    console.log(JSON.stringify({ address, verdict: result.verdict, reason: result.reason }))
  }
})

Effect.gen(function* () {
  const world = yield* MailWorld.start(MailWorld.demo)
  yield* program.pipe(
    // The mail world is on loopback, which the target policy refuses unless opened explicitly.
    Effect.provide(
      NodeVerifier.layer({
        helo: "verifier.example.net",
        dnsServers: [world.dns],
        port: world.smtpPort,
        allowTargets: ["127.0.0.0/8"],
        // Its names are .test (RFC 6761), refused unless allowed.
        allowSpecialUse: ["test"]
      })
    )
  )
}).pipe(Effect.scoped, NodeRuntime.runMain)
