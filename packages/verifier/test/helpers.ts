// The Verifier over scripted SMTP sessions and a static DNS zone, as the unit tests build it:
// the target policy opened to every address (a scripted transport dials nothing real), no
// catch-all probe, no pipelining, unless a test says otherwise.
import { Effect, Layer } from "effect"
import { ScriptedTransport, type StaticDns } from "@rcpt/testing"
import * as Policy from "../src/Policy.ts"
import * as Verifier from "../src/Verifier.ts"
import * as VerifierConfig from "../src/VerifierConfig.ts"

/** The Verifier's layer over `transport` and `zone`, with the test config and `config` on top. */
export const scriptedVerifier = (
  transport: ReturnType<typeof ScriptedTransport.make>,
  zone: ReturnType<typeof StaticDns.layer>,
  config: Partial<VerifierConfig.VerifierConfig> = {}
) =>
  Verifier.layer.pipe(
    Layer.provide([
      VerifierConfig.layer({
        helo: "verifier.rcpt.test",
        allowSpecialUse: ["test"],
        allowTargets: ["0.0.0.0/0", "::/0"],
        catchAllProbe: false,
        pipelining: false,
        ...config
      }),
      zone,
      transport.layer
    ])
  )

/** The policies of scripted runs: a script is one session a connection, so none is kept open. */
export const scriptedPolicy: Policy.Policies = { ...Policy.defaults, keepOpen: 0 }

/** Runs `f` on a Verifier over `scripts`; its result and the transport's report. */
export const runScripted = <A, E>(
  zone: ReturnType<typeof StaticDns.layer>,
  scripts: ReadonlyArray<string>,
  f: (v: Verifier.Verifier["Service"]) => Effect.Effect<A, E>,
  config: Partial<VerifierConfig.VerifierConfig> = {}
) => {
  const transport = ScriptedTransport.make(scripts)
  return Effect.gen(function* () {
    const result = yield* f(yield* Verifier.Verifier)
    return { result, report: yield* transport.report }
  }).pipe(
    Effect.provide(scriptedVerifier(transport, zone, config)),
    Effect.provideService(Policy.Policy, scriptedPolicy)
  )
}
