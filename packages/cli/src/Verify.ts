/**
 * `rcpt verify`: a few addresses, results in the order given, as a table or JSON lines, and an
 * exit code for the worst verdict ({@link ExitCode.fromVerdicts}).
 *
 * @since 0.1.0
 */
import { Effect, Layer, Stream } from "effect"
import { Routing } from "@rcpt/client"
import * as NodeVerifier from "@rcpt/node/NodeVerifier"
import { Verifier, VerifierConfig } from "@rcpt/verifier"
import type { Verification } from "@rcpt/verifier"
import * as ExitCode from "./ExitCode.ts"
import * as Options from "./Options.ts"
import * as Output from "./Output.ts"
import * as Table from "./Table.ts"

/**
 * The verifier (and the greylisting policy, when changed) as one layer.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  resolved: Options.Resolved
): Layer.Layer<Verifier.Verifier, VerifierConfig.InvalidConfig | Routing.InvalidRouting> =>
  Layer.merge(NodeVerifier.layer(resolved.verifier), Options.policyLayer(resolved))

/**
 * Runs `effect` with the verifier; an invalid config or routing is a usage error (exit 64).
 *
 * @category layers
 * @since 0.1.0
 */
export const provide = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  resolved: Options.Resolved
): Effect.Effect<A, E | ExitCode.Exit, Exclude<R, Verifier.Verifier>> =>
  effect.pipe(
    Effect.provide(layer(resolved)),
    Effect.mapError((e) =>
      e instanceof VerifierConfig.InvalidConfig
        ? Options.invalidConfig(e)
        : e instanceof Routing.InvalidRouting
          ? ExitCode.usage(`invalid routing: ${e.message}`)
          : e
    )
  )

/**
 * Verifies `addresses` (sessions shared per domain) and returns the results in input order.
 *
 * @category running
 * @since 0.1.0
 */
export const verifyAll = (
  addresses: ReadonlyArray<string>,
  resolved: Options.Resolved
): Effect.Effect<ReadonlyArray<Verification.Verification>, ExitCode.Exit> =>
  Effect.gen(function* () {
    const verifier = yield* Verifier.Verifier
    const results = yield* Stream.runCollect(verifier.verifyMany(Stream.fromIterable(addresses)))
    // Completion order -> input order (duplicates each get their own slot).
    const slots = new Map<string, Array<number>>()
    addresses.forEach((a, i) => slots.set(a, [...(slots.get(a) ?? []), i]))
    const ordered: Array<Verification.Verification> = []
    for (const v of results) {
      const i = slots.get(v.address)?.shift()
      if (i !== undefined) ordered[i] = v
    }
    return ordered.filter((v) => v !== undefined)
  }).pipe((effect) => provide(effect, resolved))

/**
 * The results as text: JSON lines, or a table (coloured when `color`).
 *
 * @category formatting
 * @since 0.1.0
 */
export const format = (
  results: ReadonlyArray<Verification.Verification>,
  options: {
    readonly json: boolean
    readonly transcript: boolean
    readonly color: boolean
    readonly width?: number | undefined
  }
): string =>
  options.json
    ? results.map((v) => Output.jsonLine(v)).join("")
    : Table.render(results, { color: options.color, transcript: options.transcript, width: options.width })

/**
 * Runs `verify`: prints the results on stdout, fails with the verdicts' exit code when not 0.
 *
 * @category running
 * @since 0.1.0
 */
export const run = (
  addresses: ReadonlyArray<string>,
  resolved: Options.Resolved,
  options: { readonly json: boolean; readonly transcript: boolean }
): Effect.Effect<void, ExitCode.Exit> =>
  Effect.gen(function* () {
    const results = yield* verifyAll(addresses, resolved)
    const tty = process.stdout.isTTY === true
    yield* Effect.sync(() =>
      process.stdout.write(
        format(results, {
          ...options,
          color: Table.colorEnabled(process.stdout),
          width: tty ? process.stdout.columns : undefined
        })
      )
    )
    const code = ExitCode.fromVerdicts(results.map((v) => v.verdict))
    if (code !== ExitCode.codes.ok) return yield* ExitCode.silent(code)
  })
