/**
 * `rcpt bulk`: an address list (text or CSV, a file or stdin) streamed through the verifier in
 * constant memory, each result appended to the output as one line the moment it is known.
 *
 * Crash safe: with `--resume`, a run killed at any point (Ctrl-C, kill -9) is finished by
 * running it again; no address is lost and none is written twice. On SIGINT the input stops,
 * results in flight get {@link gracePeriod} to finish (the rest are redone on resume), the
 * summary is printed and the process exits 130.
 *
 * @since 0.1.0
 */
import { Deferred, Effect, Exit, Fiber, FileSystem, Option, Semaphore, Stream } from "effect"
import type { Array as Arr, Scope, Stdio } from "effect"
import { Bulk as VerifierBulk, HostProfile, Lines, type Verification, Verifier } from "@rcpt/verifier"
import * as ExitCode from "./ExitCode.ts"
import * as Input from "./Input.ts"
import type * as Options from "./Options.ts"
import * as Output from "./Output.ts"
import * as Progress from "./Progress.ts"
import { provide } from "./Verify.ts"

/**
 * How long results in flight may take to finish after Ctrl-C.
 *
 * @category constants
 * @since 0.1.0
 */
export const gracePeriod = "2 seconds"

/**
 * Addresses the verifier holds while grouping them by domain and shared MX host: the library's
 * default (`Bulk.defaults.window`).
 *
 * @category constants
 * @since 0.1.0
 */
export const window = VerifierBulk.defaults.window

/**
 * Inputs read but not yet written, at most: a second bound beside the verifier's own (its window
 * and its bounded result buffer), so that unreadable lines answered here and results waiting for
 * the writer cannot pile up either. Above {@link window}, so the verifier can always fill its
 * window and go on.
 *
 * @category constants
 * @since 0.1.0
 */
export const maxInFlight = 2 * window

/**
 * A stream whose chunks hold at most `size` items: a larger chunk is cut, a smaller one goes on as
 * it is (`Stream.rechunk` would wait to fill one: a list typed into stdin would sit there).
 *
 * @category streams
 * @since 0.3.0
 */
export const atMost =
  (size: number) =>
  <A, E, R>(self: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
    Stream.transformPull(self, (pull) =>
      Effect.sync(() => {
        let rest: Arr.NonEmptyReadonlyArray<A> | undefined
        const cut = (chunk: Arr.NonEmptyReadonlyArray<A>): Arr.NonEmptyReadonlyArray<A> => {
          if (chunk.length <= size) return chunk
          rest = chunk.slice(size) as unknown as Arr.NonEmptyReadonlyArray<A>
          return chunk.slice(0, size) as unknown as Arr.NonEmptyReadonlyArray<A>
        }
        return Effect.suspend(() => {
          if (rest === undefined) return Effect.map(pull, cut)
          const next = rest
          rest = undefined
          return Effect.succeed(cut(next))
        })
      })
    )

/**
 * @category models
 * @since 0.1.0
 */
export interface RunOptions {
  /** A file, or `"-"` for standard input. */
  readonly input: string
  /** Append results here; standard output when none. */
  readonly output: Option.Option<string>
  readonly format: Output.Format
  readonly resume: boolean
  readonly column: Option.Option<string>
  /** Each JSON line with its SMTP transcript (`--transcript`); off, `transcript` is `[]`. */
  readonly transcript: boolean
  /** Where notices and the summary go (stderr for the command). */
  readonly report: (text: string) => void
  /** Where the live progress line is drawn, if anywhere (a terminal's stderr). */
  readonly progress: Option.Option<(text: string) => void>
}

/**
 * Host profiles shown after the summary, at most (those with a limit found first).
 *
 * @category constants
 * @since 0.2.0
 */
export const profilesShown = 10

/**
 * What the run learnt about the MX addresses it talked to, for the summary: one line each, those
 * where a limit was found first; empty when there were none.
 *
 * @category formatting
 * @since 0.2.0
 */
export const profileSummary = (profiles: ReadonlyArray<readonly [string, HostProfile.HostProfile]>): string => {
  if (profiles.length === 0) return ""
  const limited = (p: HostProfile.HostProfile) => Object.values(p.found).some((f) => f)
  const sorted = [...profiles].sort(([, a], [, b]) => Number(limited(b)) - Number(limited(a)))
  const lines = sorted.slice(0, profilesShown).map(([address, p]) => `  ${address}: ${HostProfile.describe(p)}\n`)
  const more = profiles.length > profilesShown ? `  and ${profiles.length - profilesShown} more\n` : ""
  return `sessions per MX address, as learnt:\n${lines.join("")}${more}`
}

/**
 * Runs `bulk`; succeeds when every input line has its result in the output.
 *
 * @category running
 * @since 0.1.0
 */
export const run = (
  options: RunOptions,
  resolved: Options.Resolved
): Effect.Effect<Progress.Counts, ExitCode.Exit, FileSystem.FileSystem | Stdio.Stdio | Scope.Scope> =>
  Effect.gen(function* () {
    if (options.resume && Option.isNone(options.output)) {
      return yield* ExitCode.usage("--resume needs -o/--output: the file to finish")
    }
    const source = yield* Input.open(options.input)
    const target = yield* Option.match(options.output, {
      onNone: () =>
        Effect.map(Output.stdout(options.format, { transcript: options.transcript }), (writer) => ({
          writer,
          done: new Output.Done(),
          dropped: 0,
          unreadable: 0
        })),
      onSome: (path) => Output.toFile(path, options.format, { resume: options.resume, transcript: options.transcript })
    })
    if (target.dropped > 0) options.report(`dropped a partial last line (${target.dropped} bytes) from the output\n`)
    if (target.unreadable > 0) {
      options.report(
        `${target.unreadable} lines of the output are not results; their addresses will be verified again\n`
      )
    }
    // One write at a time, never cut short: each result is one whole line or nothing.
    const lock = yield* Semaphore.make(1)
    const write = (vs: ReadonlyArray<Verification.Verification>) =>
      lock.withPermits(1)(Effect.uninterruptible(target.writer.write(vs)))

    const progress = yield* Progress.make({
      live: Option.isSome(options.progress),
      write: Option.getOrElse(options.progress, () => options.report)
    })
    if (source.regular) {
      yield* Effect.forkScoped(Input.countLines(source).pipe(Effect.flatMap(progress.setTotal), Effect.ignore))
    }

    const stop = yield* Deferred.make<void>()
    const inFlight = yield* Semaphore.make(maxInFlight)
    // What the run learnt per MX address, for the summary.
    let learnt: ReadonlyArray<readonly [string, HostProfile.HostProfile]> = []
    const pipeline = Effect.gen(function* () {
      const verifier = yield* Verifier.Verifier
      const addresses = Input.items(Lines.fromBytes(source.bytes, { live: !source.regular }), {
        csv: source.csv,
        column: options.column
      }).pipe(
        Stream.interruptWhen(Deferred.await(stop)),
        atMost(maxInFlight),
        // A chunk at a time: what the output has already (resume) is skipped, once per time it is
        // there; unreadable lines are answered here; the addresses go on to the verifier, each
        // holding an in-flight permit.
        Stream.mapAccumArrayEffect(
          () => undefined,
          (state, items) =>
            Effect.gen(function* () {
              const addresses: Array<string> = []
              const unreadable: Array<Verification.Verification> = []
              let skipped = 0
              for (let i = 0; i < items.length; i++) {
                const item = items[i]!
                if (target.done.take(Output.key(options.format, item.address))) skipped++
                else if (item._tag === "Address") addresses.push(item.address)
                else unreadable.push(yield* VerifierBulk.syntaxFailure(item.address, item.detail))
              }
              if (skipped > 0) yield* progress.skipMany(skipped)
              if (unreadable.length > 0) {
                yield* write(unreadable)
                yield* progress.recordAll(unreadable)
              }
              if (addresses.length > 0) yield* inFlight.take(addresses.length)
              return [state, addresses] as const
            })
        )
      )
      yield* verifier.verifyMany(addresses, { window }).pipe(
        // The results ready together (a session's worth, often) in one write.
        Stream.runForEachArray((vs) =>
          write(vs).pipe(Effect.andThen(progress.recordAll(vs)), Effect.andThen(inFlight.release(vs.length)))
        )
      )
      learnt = yield* verifier.hostProfiles
    }).pipe((effect) => provide(effect, resolved))

    // Detached so Ctrl-C (which interrupts this fiber) can let it finish its results first.
    const fiber = yield* Effect.forkDetach(pipeline)
    const exit = yield* Fiber.await(fiber).pipe(
      Effect.onInterrupt(() =>
        Effect.gen(function* () {
          yield* Deferred.succeed(stop, undefined)
          const finished = yield* Fiber.await(fiber).pipe(Effect.timeoutOption(gracePeriod))
          if (Option.isNone(finished)) yield* Fiber.interrupt(fiber)
          options.report(`${yield* progress.finish(true)}\n`)
        })
      )
    )
    if (Exit.isFailure(exit)) {
      yield* progress.finish(false)
      return yield* Effect.failCause(exit.cause)
    }
    options.report(`${yield* progress.finish(false)}\n${profileSummary(learnt)}`)
    return yield* progress.counts
  })
