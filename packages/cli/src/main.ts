/**
 * The `rcpt` command: `verify`, `bulk` and `demo` over @rcpt/verifier, run with
 * `NodeRuntime.runMain`. Importing this module runs the command line; the bin script does.
 *
 * Start-up cost: only the command definitions (flags, help) load at start; each command's
 * handler imports what it runs (the verifier, the bulk engine, the HTTP server, the mailer, the
 * demo's mail world) when it runs. `rcpt --version` alone is answered by the bin before this.
 *
 * Exit codes: see `ExitCode`. Usage errors print one message on stderr (not the whole help),
 * so `--json` output on stdout is never mixed with help text.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Console, Effect, Exit, Logger, Option, References, Runtime } from "effect"
import { Printable } from "@rcpt/verifier"
import { Argument, CliError, CliOutput, Command, Flag } from "effect/cli"
import * as Doctor from "./Doctor.ts"
import * as ExitCode from "./ExitCode.ts"
import * as Log from "./Log.ts"
import * as Options from "./Options.ts"
import * as Send from "./Send.ts"
import * as Runner from "./Runner.ts"
import * as Serve from "./Serve.ts"

/**
 * @category constants
 * @since 0.1.0
 */
export const version = "0.1.0"

/** Help text: the formatter indents only a description's first line, so the rest are indented here. */
const text = (lines: ReadonlyArray<string>): string =>
  lines
    .join("\n")
    .split("\n")
    .map((l, i) => (i === 0 || l === "" ? l : `  ${l}`))
    .join("\n")

const environment = [
  "Every verifier flag can also come from its RCPT_* environment variable (named in its",
  "description); a flag given on the command line wins over the variable, the variable over",
  "the default."
].join("\n")

/**
 * @category commands
 * @since 0.1.0
 */
export const verify = Command.make(
  "verify",
  {
    addresses: Argument.String("address").pipe(
      Argument.withDescription("Email addresses to verify"),
      Argument.atLeast(1)
    ),
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("One JSON object per address per line (the full result with its evidence)"),
      Flag.withDefault(false)
    ),
    transcript: Flag.Boolean("transcript").pipe(
      Flag.withDescription("Print the SMTP dialogue under each result (table mode)"),
      Flag.withDefault(false)
    ),
    ...Options.flags
  },
  Effect.fn(function* (input) {
    const resolved = yield* Options.resolve(input)
    const Verify = yield* Effect.promise(() => import("./Verify.ts"))
    yield* Verify.run(input.addresses, resolved, { json: input.json, transcript: input.transcript })
  })
).pipe(
  Command.withShortDescription("Verify addresses by asking their mail servers"),
  Command.withDescription(
    text([
      "Verify addresses by asking their own mail servers over SMTP (MX lookup, EHLO, STARTTLS,",
      "MAIL FROM, RCPT TO; no mail is sent). Prints a table on a terminal (coloured unless",
      "NO_COLOR is set), or JSON lines with --json.",
      "",
      environment,
      "",
      ExitCode.help
    ])
  ),
  Command.withExamples([
    { command: "rcpt verify alice@example.com", description: "One address, as a table" },
    {
      command: "rcpt verify --json --helo mx.mydomain.example a@example.com b@example.org",
      description: "JSON lines, with your own EHLO name"
    }
  ])
)

/**
 * @category commands
 * @since 0.1.0
 */
export const bulk = Command.make(
  "bulk",
  {
    input: Argument.String("file").pipe(
      Argument.withDescription('Address list: text (one a line) or CSV; "-" reads standard input')
    ),
    output: Flag.String("output").pipe(
      Flag.withAlias("o"),
      Flag.withMetavar("file"),
      Flag.withDescription("Append results to this file (must be new or empty unless --resume). Default: stdout"),
      Flag.optional
    ),
    format: Flag.Literals("format", ["jsonl", "csv"]).pipe(
      Flag.withDescription("Output format: JSON lines, or CSV with a header. Default: jsonl"),
      Flag.withDefault("jsonl")
    ),
    resume: Flag.Boolean("resume").pipe(
      Flag.withDescription(
        "Finish an interrupted run: keep the results in -o, drop a partial last line, skip the addresses done"
      ),
      Flag.withDefault(false)
    ),
    transcript: Flag.Boolean("transcript").pipe(
      Flag.withDescription(
        "Put each result's SMTP dialogue in its JSON line. Default: off (transcript [], the rest of the evidence kept)"
      ),
      Flag.withDefault(false)
    ),
    column: Flag.String("column").pipe(
      Flag.withMetavar("name"),
      Flag.withDescription(
        'CSV column with the addresses. Default: one named email/e-mail/mail/address, else the first with an "@"'
      ),
      Flag.optional
    ),
    ...Options.flags
  },
  Effect.fn(function* (input) {
    const given = yield* Options.resolve(input)
    // Without --transcript the verifier keeps no dialogue at all: smaller lines, less memory.
    const resolved = { ...given, verifier: { ...given.verifier, transcript: input.transcript } }
    const Bulk = yield* Effect.promise(() => import("./Bulk.ts"))
    yield* Effect.scoped(
      Bulk.run(
        {
          input: input.input,
          output: input.output,
          format: input.format,
          resume: input.resume,
          column: input.column,
          transcript: input.transcript,
          report: (text) => void process.stderr.write(text),
          progress:
            process.stderr.isTTY === true ? Option.some((text) => void process.stderr.write(text)) : Option.none()
        },
        resolved
      )
    )
  })
).pipe(
  Command.withShortDescription("Verify an address list, streamed, resumable"),
  Command.withDescription(
    text([
      "Verify an address list in constant memory. Input: text, one address a line (blank lines",
      "and # comments skipped, CRLF and a UTF-8 BOM fine), or CSV (a .csv name or a first line",
      "with a comma; see --column). A line over 64 KiB or with broken CSV quoting gets an",
      "undeliverable/syntax result and the run goes on.",
      "",
      "Each result is appended to the output as one line as soon as it is known. If the run is",
      "stopped (Ctrl-C, kill -9, a crash), run the same command with --resume to finish it: no",
      "address is lost and none is written twice. Progress (on a terminal) and a summary go to",
      "stderr. CSV columns: address,verdict,reason,score,retryable,mx_host,mx_address,rcpt_code,",
      "rcpt_enhanced,rcpt_text,catch_all,disposable,role_account,free_provider,suggestion,provider,detail.",
      "",
      environment,
      "",
      "Exit codes: 0 the run completed (every input line has a result, whatever the verdicts);",
      "64 usage error or invalid config; 66 input missing, unreadable, a directory or binary;",
      "70 internal error; 73 output cannot be written; 130 interrupted (finish with --resume)."
    ])
  ),
  Command.withExamples([
    { command: "rcpt bulk list.txt -o results.jsonl", description: "JSON lines to a file" },
    { command: "rcpt bulk list.txt -o results.jsonl --resume", description: "Finish it after Ctrl-C or a crash" },
    { command: "rcpt bulk contacts.csv --column work_email --format csv -o out.csv", description: "CSV in, CSV out" }
  ])
)

/**
 * @category commands
 * @since 0.1.0
 */
export const demo = Command.make("demo", {}, () =>
  // Loaded only here: the mail world's servers are not needed by the other commands.
  Effect.promise(() => import("./Demo.ts")).pipe(Effect.flatMap((Demo) => Effect.scoped(Demo.run)))
).pipe(
  Command.withShortDescription("An offline tour on an in-process mail world"),
  Command.withDescription(
    text([
      "An offline tour: starts a DNS server and SMTP servers on loopback (127.0.0.1-8) in this",
      "process, verifies one address per scenario (deliverable, unknown user, mailbox full,",
      "catch-all, greylisting, null MX, no such domain, implicit MX, MX failover, STARTTLS",
      "required) and explains each, then verifies ~200 generated addresses with bulk and shows",
      "how few SMTP connections that took. No network beyond loopback; exit 0."
    ])
  )
)

/**
 * @category commands
 * @since 0.1.0
 */
export const rcpt = Command.make("rcpt").pipe(
  Command.withDescription(
    text([
      "rcpt: verify email addresses by asking their own mail servers over SMTP, with the evidence.",
      "",
      "Verdicts: deliverable (the mailbox's server accepted it), undeliverable (it does not exist),",
      "risky (exists but mail may not arrive, or the answer proves little: catch-all, full),",
      "unknown (no answer to be had now: retry later). Run rcpt demo for an offline tour.",
      "",
      ExitCode.help
    ])
  ),
  Command.withSubcommands([verify, bulk, demo, Serve.command, Send.command, Runner.command, Doctor.command])
)

/**
 * Help on stdout; a usage error is one message on stderr and a pointer to `--help`.
 *
 * @category presentation
 * @since 0.1.0
 */
export const presenter: CliOutput.Presenter = {
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.gen(function* () {
          const formatter = yield* CliOutput.Formatter
          yield* Console.error(formatter.formatErrors(event.errors))
          yield* Console.error(`Run "${event.commandPath.join(" ")} --help" for usage.`)
        })
      : CliOutput.defaultPresenter.present(event)
}

/**
 * The exit code for how the command ended; messages for errors go to stderr here.
 *
 * @category running
 * @since 0.1.0
 */
export const exitCode = <E>(cause: Cause.Cause<E>): Effect.Effect<number, E> => {
  if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
  const error = Cause.findErrorOption(cause)
  if (Option.isSome(error)) {
    const e: unknown = error.value
    if (e instanceof ExitCode.Exit) {
      // Messages may quote input (a column name, a file's line): escaped like every other output.
      return Effect.as(
        e.message === "" ? Effect.void : Console.error(`rcpt: ${Printable.escapeControls(e.message)}`),
        e.code
      )
    }
    if (CliError.isCliError(e)) {
      // A ShowHelp without errors is plain help (e.g. `rcpt` alone); the rest were shown already.
      return Effect.succeed(e._tag === "ShowHelp" && e.errors.length === 0 ? ExitCode.codes.ok : ExitCode.codes.usage)
    }
  }
  return Effect.as(Console.error(`rcpt: internal error\n${Cause.pretty(cause)}`), ExitCode.codes.internal)
}

/**
 * The whole program: parse, run, and the exit code.
 *
 * @category running
 * @since 0.1.0
 */
export const program = Command.run(rcpt, { version }).pipe(
  // Logs (e.g. the verifier's EHLO warning) on stderr: stdout carries results only.
  Effect.provideService(References.LogToStderr, true),
  Effect.provide(Logger.layer([Log.escaping(Logger.defaultLogger)])),
  Effect.provide(CliOutput.layerPresenter(presenter)),
  Effect.provide(NodeServices.layer),
  Effect.matchCauseEffect({ onSuccess: () => Effect.succeed(ExitCode.codes.ok), onFailure: exitCode })
)

NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  teardown: (exit, onExit) =>
    Exit.isSuccess(exit) && typeof exit.value === "number" ? onExit(exit.value) : Runtime.defaultTeardown(exit, onExit)
})
