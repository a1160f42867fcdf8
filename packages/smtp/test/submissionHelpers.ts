// Drives Submission.step from a Go-style script, as helpers.ts does for the verification session:
// `S:` lines are server bytes (consecutive ones arrive in one packet), `C:` lines are what the
// client must have sent by then (`C:` alone is an empty line, e.g. the one after the headers),
// `*` lines are events (`* tls`, `* tls-fail`, `* close`, `* timeout`).
import { Option } from "effect"
import * as Crypto from "node:crypto"
import * as Submission from "../src/Submission.ts"
import { play, type Played } from "./helpers.ts"

export const hmacMd5 = (key: Uint8Array, data: Uint8Array): Uint8Array =>
  new Uint8Array(Crypto.createHmac("md5", key).update(data).digest())

export const config = (overrides: Partial<Submission.Config> = {}): Submission.Config => ({
  clientName: "client.example.net",
  servername: "smtp.example.com",
  ...Submission.defaults,
  ...overrides
})

const encoder = new TextEncoder()

export const message = (
  recipients: ReadonlyArray<string>,
  body = "Subject: hi\r\n\r\nHello\r\n",
  mailFrom = "sender@example.net",
  dsn?: Submission.Dsn
): Submission.Message => ({
  envelope: { mailFrom, recipients, ...(dsn === undefined ? {} : { dsn }) },
  body: encoder.encode(body)
})

export type Run = Played<Submission.Submission, Submission.SubmissionResult, Submission.Action["_tag"]>

export const run = (initial: Submission.Submission, script: string): Run =>
  play(Submission.step, initial, script, { authorized: true })

/** The transcript as `C: ...` / `S: ...` / `* ...` lines. */
export const transcript = (r: Run): ReadonlyArray<string> =>
  r.result.transcript.map((e) => (e.direction === "*" ? `* ${e.text}` : `${e.direction}: ${e.text}`))

export const outcomes = (r: Run): ReadonlyArray<string> => r.result.messages.map((m) => m.outcome._tag)

export const rcptCodes = (r: Run, message = 0): ReadonlyArray<number | undefined> =>
  r.result.messages[message]!.recipients.map((x) => Option.getOrUndefined(Option.map(x.reply, (y) => y.code)))

/** What the client writes for `message`'s default body, after 354. */
export const body = `
  C: Subject: hi
  C:
  C: Hello
  C: .
`

export const bye = `
  C: QUIT
  S: 221 bye
`

const ehloReply = (extensions: ReadonlyArray<string>, domain: string) =>
  [domain, ...extensions].map((e, i, all) => `S: 250${i === all.length - 1 ? " " : "-"}${e}`).join("\n")

/** Greeting and EHLO, in the clear. */
export const opening = (extensions: ReadonlyArray<string>) => `
  S: 220 mx.example.com ESMTP
  C: EHLO client.example.net
  ${ehloReply(extensions, "mx.example.com")}
`

/** The usual opening up to AUTH: greeting, EHLO, STARTTLS, EHLO again. */
export const tlsOpening = (extensions: ReadonlyArray<string>) => `
  S: 220 smtp.example.com ESMTP ready
  C: EHLO client.example.net
  S: 250-smtp.example.com
  S: 250-PIPELINING
  S: 250 STARTTLS
  C: STARTTLS
  S: 220 2.0.0 Ready to start TLS
  * tls
  C: EHLO client.example.net
  ${ehloReply(extensions, "smtp.example.com")}
`
