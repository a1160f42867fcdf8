/**
 * The message to send, and its SMTP envelope. A `Mail` is composed into an RFC 5322 message by
 * nodemailer's MailComposer (MIME, encodings, attachments: never written by hand here); a
 * `RawMail` is a finished message with an explicit envelope.
 *
 * **Details**
 *
 * - The envelope of a `Mail` comes from its headers: MAIL FROM is the From address (or the
 *   `envelope.mailFrom` given), the recipients are To, Cc and Bcc, deduplicated (case-insensitively,
 *   first one kept). Bcc goes in the envelope and in no header.
 * - MailComposer runs with CRLF line ends, and with file and URL access off: an attachment's
 *   content is given as bytes or text, never as a path the composer would read.
 *
 * @since 0.1.0
 */
import { Effect, Option } from "effect"
import type { Submission } from "@rcpt/smtp"
import MailComposer from "nodemailer/lib/mail-composer"
import { InvalidMessage } from "./SendError.ts"

/**
 * `"a@example.com"`, `"Ann <a@example.com>"`, or a name and an address.
 *
 * @category models
 * @since 0.1.0
 */
export type Address = string | { readonly name: string; readonly address: string }

/**
 * @category models
 * @since 0.1.0
 */
export type Addresses = Address | ReadonlyArray<Address>

/**
 * @category models
 * @since 0.1.0
 */
export interface Attachment {
  readonly filename: string
  readonly content: string | Uint8Array
  readonly contentType?: string | undefined
  /** Content-ID, to show the attachment inline from the HTML (`<img src="cid:...">`). */
  readonly cid?: string | undefined
}

/**
 * A message to compose.
 *
 * @category models
 * @since 0.1.0
 */
export interface Mail {
  readonly from: Address
  readonly to?: Addresses | undefined
  readonly cc?: Addresses | undefined
  readonly bcc?: Addresses | undefined
  readonly replyTo?: Addresses | undefined
  readonly subject?: string | undefined
  readonly text?: string | undefined
  readonly html?: string | undefined
  readonly attachments?: ReadonlyArray<Attachment> | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly messageId?: string | undefined
  readonly date?: Date | undefined
  readonly inReplyTo?: string | undefined
  readonly references?: ReadonlyArray<string> | undefined
  /** Overrides of the derived envelope, e.g. a bounce address other than From. */
  readonly envelope?: Partial<Pick<Submission.Envelope, "mailFrom" | "recipients">> | undefined
  readonly dsn?: Submission.Dsn | undefined
}

/**
 * A finished RFC 5322 message and its envelope, sent as they are.
 *
 * @category models
 * @since 0.1.0
 */
export interface RawMail {
  readonly raw: string | Uint8Array
  readonly envelope: Submission.Envelope
}

/**
 * @category models
 * @since 0.1.0
 */
export type MailMessage = Mail | RawMail

/**
 * A message ready for a submission session.
 *
 * @category models
 * @since 0.1.0
 */
export interface Built {
  readonly envelope: Submission.Envelope
  readonly body: Uint8Array
  readonly messageId: Option.Option<string>
}

/**
 * @category predicates
 * @since 0.1.0
 */
export const isRaw = (message: MailMessage): message is RawMail => "raw" in message

/**
 * Removes repeated addresses, comparing without regard to case; the first spelling is kept.
 *
 * @category combinators
 * @since 0.1.0
 */
export const dedupe = (addresses: ReadonlyArray<string>): ReadonlyArray<string> => {
  const seen = new Set<string>()
  return addresses.filter((a) => {
    const key = a.toLowerCase()
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

const invalid = (why: string, message: string) => new InvalidMessage({ why, message })

const list = (value: Addresses | undefined) =>
  value === undefined
    ? undefined
    : (Array.isArray(value) ? value : [value]).map((a: Address) => (typeof a === "string" ? a : { ...a }))

const encoder = new TextEncoder()

const messageIdOf = (raw: Uint8Array): Option.Option<string> => {
  // The header block ends at the first empty line; Message-ID may be folded onto the next line.
  const text = new TextDecoder().decode(raw.subarray(0, 64 * 1024))
  const head = text.split(/\r?\n\r?\n/, 1)[0] ?? ""
  const m = /^message-id:\s*(<[^>\r\n]+>)/im.exec(head.replace(/\r?\n[ \t]+/g, " "))
  return Option.fromNullishOr(m?.[1])
}

const composed = (mail: Mail) =>
  new MailComposer({
    from: list(mail.from)?.[0],
    to: list(mail.to),
    cc: list(mail.cc),
    bcc: list(mail.bcc),
    replyTo: list(mail.replyTo),
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    attachments: mail.attachments?.map((a) => ({
      filename: a.filename,
      content: typeof a.content === "string" ? a.content : Buffer.from(a.content),
      contentType: a.contentType,
      cid: a.cid
    })),
    headers: mail.headers === undefined ? undefined : { ...mail.headers },
    messageId: mail.messageId,
    date: mail.date,
    inReplyTo: mail.inReplyTo,
    references: mail.references === undefined ? undefined : [...mail.references],
    newline: "windows",
    disableFileAccess: true,
    disableUrlAccess: true
  }).compile()

/**
 * Composes a `Mail` (or takes a `RawMail`) and works out its envelope.
 *
 * @category constructors
 * @since 0.1.0
 */
export const build = (message: MailMessage): Effect.Effect<Built, InvalidMessage> =>
  Effect.gen(function* () {
    if (isRaw(message)) {
      const body = typeof message.raw === "string" ? encoder.encode(message.raw) : message.raw
      const recipients = dedupe(message.envelope.recipients)
      if (recipients.length === 0) return yield* invalid("NoRecipients", "the envelope has no recipients")
      return { envelope: { ...message.envelope, recipients }, body, messageId: messageIdOf(body) }
    }
    const node = yield* Effect.try({
      try: () => composed(message),
      catch: (cause) => invalid("Compose", `the message could not be composed: ${String(cause)}`)
    })
    const derived = node.getEnvelope()
    const mailFrom = message.envelope?.mailFrom ?? (derived.from === false ? undefined : derived.from)
    if (mailFrom === undefined) return yield* invalid("NoSender", "the message has no From address")
    const recipients = dedupe(message.envelope?.recipients ?? derived.to)
    if (recipients.length === 0) return yield* invalid("NoRecipients", "the message has no To, Cc or Bcc recipient")
    const messageId = node.messageId()
    const raw = yield* Effect.tryPromise({
      try: () => node.build(),
      catch: (cause) => invalid("Compose", `the message could not be built: ${String(cause)}`)
    })
    return {
      envelope: { mailFrom, recipients, ...(message.dsn === undefined ? {} : { dsn: message.dsn }) },
      body: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength),
      messageId: Option.some(messageId)
    }
  })
