/**
 * `rcpt send`: one message through a submission server or relay with @rcpt/mailer. Prints the
 * queue id the server gave (read from its final reply) and each recipient's reply; with
 * `--transcript`, the dialogue first, like a telnet session, credentials masked.
 *
 * Exit codes: 0 the server took the message (for at least one recipient); 64 usage error; 66 a
 * file cannot be read; 69 refused for good (EX_UNAVAILABLE); 75 refused for now, try again later
 * (EX_TEMPFAIL).
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Option, Path, Result, Schedule } from "effect"
import { Command, Flag } from "effect/cli"
import { Mailer } from "@rcpt/mailer"
import { NodeMailer } from "@rcpt/node"
import type { MailMessage, SendError, SendResult } from "@rcpt/mailer"
import { Address } from "@rcpt/smtp"
import type { Submission } from "@rcpt/smtp"
import * as ExitCode from "./ExitCode.ts"
import * as Options from "./Options.ts"

/**
 * sysexits(3) codes for a message not sent.
 *
 * @category constants
 * @since 0.1.0
 */
export const codes = { unavailable: 69, tempFail: 75 } as const

/**
 * @category flags
 * @since 0.1.0
 */
export const flags = {
  host: Flag.String("host").pipe(Flag.withMetavar("host"), Flag.withDescription("Submission server or relay")),
  port: Flag.Int("port").pipe(
    Flag.withMetavar("n"),
    Flag.withDescription(
      "587 (submission), 465 (implicit TLS) or 25 (relay). Default: 465 with --tls implicit, else 587"
    ),
    Flag.optional
  ),
  tls: Flag.Literals("tls", ["required", "opportunistic", "implicit", "off"]).pipe(
    Flag.withDescription("STARTTLS required (default) or when offered, TLS from the start (465), or none"),
    Flag.withDefault("required")
  ),
  user: Flag.String("user").pipe(Flag.withMetavar("name"), Flag.withDescription("AUTH user name"), Flag.optional),
  passwordEnv: Flag.String("password-env").pipe(
    Flag.withMetavar("VAR"),
    Flag.withDescription("Environment variable holding the password (never on the command line)"),
    Flag.optional
  ),
  from: Flag.String("from").pipe(Flag.withMetavar("address"), Flag.withDescription("From (and MAIL FROM)")),
  to: Flag.String("to").pipe(Flag.withMetavar("address"), Flag.withDescription("To; repeatable"), Flag.atLeast(1)),
  cc: Flag.String("cc").pipe(Flag.withMetavar("address"), Flag.withDescription("Cc; repeatable"), Flag.atLeast(0)),
  bcc: Flag.String("bcc").pipe(
    Flag.withMetavar("address"),
    Flag.withDescription("Bcc: in the envelope, in no header; repeatable"),
    Flag.atLeast(0)
  ),
  subject: Flag.String("subject").pipe(Flag.withMetavar("text"), Flag.withDescription("Subject")),
  text: Flag.String("text").pipe(Flag.withMetavar("text"), Flag.withDescription("Plain text body"), Flag.optional),
  textFile: Flag.String("text-file").pipe(
    Flag.withMetavar("file"),
    Flag.withDescription("Plain text body from a file"),
    Flag.optional
  ),
  htmlFile: Flag.String("html-file").pipe(
    Flag.withMetavar("file"),
    Flag.withDescription("HTML body from a file"),
    Flag.optional
  ),
  attach: Flag.String("attach").pipe(
    Flag.withMetavar("file"),
    Flag.withDescription("Attach a file; repeatable"),
    Flag.atLeast(0)
  ),
  helo: Flag.String("helo").pipe(
    Flag.withMetavar("name"),
    Flag.withDescription("EHLO name. Default: this host's name"),
    Flag.optional
  ),
  ca: Flag.String("ca").pipe(
    Flag.withMetavar("file"),
    Flag.withDescription("Trust this CA certificate (PEM) too; repeatable"),
    Flag.atLeast(0)
  ),
  proxy: Options.flags.proxy,
  sourceAddress: Options.flags.sourceAddress,
  sourceSelection: Options.flags.sourceSelection,
  routing: Options.flags.routing,
  transcript: Flag.Boolean("transcript").pipe(
    Flag.withDescription("Print the SMTP dialogue (credentials masked)"),
    Flag.withDefault(false)
  )
}

/**
 * What the flags give.
 *
 * @category models
 * @since 0.1.0
 */
export interface Input {
  readonly host: string
  readonly port: Option.Option<number>
  readonly tls: Submission.TlsMode
  readonly user: Option.Option<string>
  readonly passwordEnv: Option.Option<string>
  readonly from: string
  readonly to: ReadonlyArray<string>
  readonly cc: ReadonlyArray<string>
  readonly bcc: ReadonlyArray<string>
  readonly subject: string
  readonly text: Option.Option<string>
  readonly textFile: Option.Option<string>
  readonly htmlFile: Option.Option<string>
  readonly attach: ReadonlyArray<string>
  readonly helo: Option.Option<string>
  readonly ca: ReadonlyArray<string>
  readonly transcript: boolean
  readonly proxy: Option.Option<string>
  readonly sourceAddress: ReadonlyArray<string>
  readonly sourceSelection: Option.Option<"round-robin" | "sticky" | "weighted">
  readonly routing: Option.Option<string>
}

const usage = (message: string) => new ExitCode.Exit({ code: ExitCode.codes.usage, message })

/**
 * The dialogue as lines, `S:`/`C:` like a telnet session, `*` for events.
 *
 * @category formatting
 * @since 0.1.0
 */
export const formatTranscript = (
  transcript: ReadonlyArray<{ readonly direction: "C" | "S" | "*"; readonly text: string }>
): string =>
  transcript
    .flatMap((e) => (e.direction === "*" ? [`* ${e.text}`] : e.text.split("\n").map((l) => `${e.direction}: ${l}`)))
    .map((l) => `${l}\n`)
    .join("")

const replyText = (reply: SendError.ReplyInfo) =>
  [String(reply.code), reply.enhanced, reply.text].filter((s) => s !== undefined && s !== "").join(" ")

/**
 * The summary of a message sent: queue id, Message-ID, final reply, each recipient.
 *
 * @category formatting
 * @since 0.1.0
 */
export const formatResult = (result: SendResult.SendResult): string => {
  const width = Math.max(...result.recipients.map((r) => r.address.length))
  return [
    `Queue ID:   ${Option.getOrElse(result.queueId, () => "(the server named none)")}`,
    ...Option.match(result.messageId, { onNone: () => [], onSome: (id) => [`Message-ID: ${id}`] }),
    `Reply:      ${replyText(result.reply)}`,
    "Recipients:",
    ...result.recipients.map(
      (r) => `  ${r.accepted ? "accepted" : "refused "}  ${r.address.padEnd(width)}  ${replyText(r.reply)}`
    ),
    ""
  ].join("\n")
}

/**
 * A `--from/--to/--cc/--bcc` value as exactly one mailbox (a bare `local@domain`, trimmed), or a
 * usage error: the mailer would read `a@x, b@y` as two recipients and `a@x\r\nBcc: v@evil` as a
 * header, so a list or anything else in one value is refused.
 *
 * @category parsing
 * @since 0.1.0
 */
export const oneMailbox = (flag: string, value: string): Effect.Effect<string, ExitCode.Exit> => {
  const text = value.trim()
  const parsed = Address.parse(text)
  return Result.isSuccess(parsed)
    ? Effect.succeed(text)
    : Effect.fail(
        usage(
          `${flag} ${JSON.stringify(value)}: expected exactly one address (give the flag once per recipient): ${parsed.failure.message}`
        )
      )
}

/** Reads the files and the password, and builds the message and the mailer options. */
const prepare = (input: Input) =>
  Effect.gen(function* () {
    const from = yield* oneMailbox("--from", input.from)
    const mailboxes = (flag: string, values: ReadonlyArray<string>) =>
      Effect.forEach(values, (v) => oneMailbox(flag, v))
    const to = yield* mailboxes("--to", input.to)
    const cc = yield* mailboxes("--cc", input.cc)
    const bcc = yield* mailboxes("--bcc", input.bcc)
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const noInput = (file: string) => (e: { readonly message: string }) =>
      new ExitCode.Exit({ code: ExitCode.codes.noInput, message: `cannot read ${file}: ${e.message}` })
    const readText = (file: string) => fs.readFileString(file).pipe(Effect.mapError(noInput(file)))
    if (Option.isSome(input.text) && Option.isSome(input.textFile)) {
      return yield* usage("--text and --text-file cannot be used together")
    }
    if (Option.isSome(input.user) !== Option.isSome(input.passwordEnv)) {
      return yield* usage("--user and --password-env go together")
    }
    const password = Option.map(input.passwordEnv, (name) => process.env[name])
    if (Option.isSome(password) && password.value === undefined) {
      return yield* usage(`the environment variable ${Option.getOrThrow(input.passwordEnv)} is not set`)
    }
    const text = Option.isSome(input.textFile)
      ? yield* readText(input.textFile.value)
      : Option.getOrUndefined(input.text)
    const html = Option.isSome(input.htmlFile) ? yield* readText(input.htmlFile.value) : undefined
    const attachments = yield* Effect.forEach(input.attach, (file) =>
      fs.readFile(file).pipe(
        Effect.mapError(noInput(file)),
        Effect.map((content): MailMessage.Attachment => ({ filename: path.basename(file), content }))
      )
    )
    const ca = yield* Effect.forEach(input.ca, readText)
    const route = yield* Options.resolveRouting(input)
    const mail: MailMessage.Mail = {
      from,
      to,
      cc,
      bcc,
      subject: input.subject,
      text,
      html,
      attachments
    }
    const options: NodeMailer.Options = {
      ...route,
      host: input.host,
      port: Option.getOrElse(input.port, () => (input.tls === "implicit" ? 465 : 587)),
      tls: input.tls,
      ca,
      maxConnections: 1,
      // The session ends with QUIT, so the dialogue printed is the whole conversation.
      maxMessages: 1,
      // One try: a temporary refusal is reported (exit 75) for the caller to try later.
      retry: Schedule.recurs(0),
      ...(Option.isSome(input.helo) ? { clientName: input.helo.value } : {}),
      ...(Option.isSome(input.user) && Option.isSome(password) && password.value !== undefined
        ? { auth: { _tag: "Password", username: input.user.value, password: password.value } }
        : {})
    }
    return { mail, options }
  })

/**
 * Sends the message and prints the outcome; a failure ends with exit 69 or 75.
 *
 * @category running
 * @since 0.1.0
 */
export const run = (input: Input) =>
  Effect.gen(function* () {
    const { mail, options } = yield* prepare(input)
    const print = (text: string) => Effect.sync(() => void process.stdout.write(text))
    const sent = yield* Effect.gen(function* () {
      const mailer = yield* Mailer.Mailer
      return yield* Effect.result(mailer.send(mail))
    }).pipe(
      Effect.provide(NodeMailer.layer(options)),
      Effect.mapError((e) =>
        usage(e._tag === "InvalidConfig" ? `invalid ${e.field}: ${e.message}` : `invalid routing: ${e.message}`)
      )
    )
    if (sent._tag === "Success") {
      if (input.transcript) yield* print(formatTranscript(sent.success.transcript))
      return yield* print(formatResult(sent.success))
    }
    const error = sent.failure
    if (input.transcript) yield* print(formatTranscript(error.transcript))
    return yield* new ExitCode.Exit({
      code: error.isRetryable ? codes.tempFail : codes.unavailable,
      message: `not sent: ${error.message}${error.isRetryable ? " (temporary: try again later)" : ""}`
    })
  })

/**
 * @category commands
 * @since 0.1.0
 */
export const command = Command.make("send", flags, run).pipe(
  Command.withShortDescription("Send one message through a submission server"),
  Command.withDescription(
    [
      "Send one message through a submission server or relay: STARTTLS (required by default),",
      "AUTH (PLAIN, LOGIN or CRAM-MD5, as offered) when --user is given, the password read from",
      "the environment variable named by --password-env. Prints the queue id from the server's",
      "final reply and each recipient's reply; --transcript shows the dialogue, credentials masked.",
      "",
      "Exit codes: 0 sent; 64 usage error; 66 a file cannot be read; 69 refused (permanent);",
      "75 refused for now (temporary: try again later)."
    ].join("\n  ")
  ),
  Command.withExamples([
    {
      command:
        "SMTP_PASSWORD=... rcpt send --host smtp.example.com --user me@example.com --password-env SMTP_PASSWORD --from me@example.com --to you@example.org --subject Hi --text Hello",
      description: "Submission on 587 with STARTTLS and AUTH"
    }
  ])
)
