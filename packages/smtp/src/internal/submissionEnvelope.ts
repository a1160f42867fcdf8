/**
 * From a message and the server's capabilities to the commands of one transaction, or to the
 * reason it cannot be sent: the checks that fail fast, before MAIL FROM, and the MAIL/RCPT
 * parameters, each only when the server advertised it.
 *
 * @internal
 */
import { Option, Result } from "effect"
import * as Address from "../Address.ts"
import type * as Capabilities from "../Capabilities.ts"
import * as Command from "../Command.ts"
import * as DataEncoder from "../DataEncoder.ts"
import type { Dsn, Message, RefusalReason } from "./submission.ts"

/** @internal */
export type Prepared =
  | { readonly _tag: "Refused"; readonly reason: RefusalReason; readonly message: string }
  | {
      readonly _tag: "Ready"
      readonly mail: Command.Command
      readonly rcpts: ReadonlyArray<Command.Command>
      /** The body on the wire: CRLF, dot-stuffed, terminated. */
      readonly chunks: ReadonlyArray<Uint8Array>
    }

/**
 * RFC 3461 §4: xtext, `+` and `=` and anything outside `!`..`~` as `+HH`.
 *
 * @internal
 */
export const xtext = (value: string): string =>
  Array.from(new TextEncoder().encode(value), (b) =>
    b < 33 || b > 126 || b === 43 || b === 61
      ? `+${b.toString(16).toUpperCase().padStart(2, "0")}`
      : String.fromCharCode(b)
  ).join("")

const refused = (reason: RefusalReason, message: string): Prepared => ({ _tag: "Refused", reason, message })

const mailParams = (
  caps: Capabilities.Capabilities,
  size: number,
  eightBit: boolean,
  utf8: boolean,
  dsn: Dsn | undefined
): ReadonlyArray<string> => [
  ...(Option.isSome(caps.size) ? [`SIZE=${size}`] : []),
  ...(eightBit ? ["BODY=8BITMIME"] : []),
  ...(utf8 ? ["SMTPUTF8"] : []),
  ...(dsn !== undefined && caps.dsn && dsn.ret !== undefined ? [`RET=${dsn.ret}`] : []),
  ...(dsn !== undefined && caps.dsn && dsn.envid !== undefined ? [`ENVID=${xtext(dsn.envid)}`] : [])
]

const rcptParams = (caps: Capabilities.Capabilities, mailbox: Address.Mailbox, dsn: Dsn | undefined) => {
  if (dsn === undefined || !caps.dsn) return []
  const notify = dsn.notify === undefined ? [] : [`NOTIFY=${dsn.notify === "NEVER" ? "NEVER" : dsn.notify.join(",")}`]
  // A UTF-8 ORCPT needs RFC 6533's utf-8-addr-xtext; leave it out rather than get it wrong.
  const orcpt = dsn.orcpt === true && !mailbox.needsSmtpUtf8 ? [`ORCPT=rfc822;${xtext(mailbox.address)}`] : []
  return [...notify, ...orcpt]
}

/**
 * Checks a message against the server and builds its transaction.
 *
 * @internal
 */
export const prepare = (caps: Capabilities.Capabilities, message: Message, chunkSize: number): Prepared => {
  const { envelope } = message
  if (envelope.recipients.length === 0) return refused("NoRecipients", "the envelope has no recipients")
  const parsed: Array<Address.Mailbox> = []
  for (const address of envelope.mailFrom === "" ? envelope.recipients : [envelope.mailFrom, ...envelope.recipients]) {
    const r = Address.parse(address)
    if (Result.isFailure(r)) return refused("InvalidAddress", `${JSON.stringify(address)}: ${r.failure.message}`)
    parsed.push(r.success)
  }
  const from = envelope.mailFrom === "" ? undefined : parsed[0]
  const to = from === undefined ? parsed : parsed.slice(1)
  const international = parsed.filter((m) => m.needsSmtpUtf8)
  // RFC 6531 §3.2: no non-ASCII mailbox to a server without SMTPUTF8.
  if (international.length > 0 && !caps.smtpUtf8) {
    return refused(
      "SmtpUtf8Unsupported",
      `the server does not offer SMTPUTF8, needed for ${international.map((m) => m.address).join(", ")}`
    )
  }
  const encoded = DataEncoder.encodeAll(message.body, { chunkSize })
  if (encoded._tag === "LineTooLong") {
    return refused(
      "LineTooLong",
      `line ${encoded.line} of the message is longer than ${DataEncoder.maxLineLength} octets; fold it`
    )
  }
  const { size, eightBit } = encoded.inspection
  // RFC 6152: 8-bit data only to a server that offers 8BITMIME.
  if (eightBit && !caps.eightBitMime) {
    return refused("EightBitUnsupported", "the message has 8-bit data and the server does not offer 8BITMIME")
  }
  const limit = Option.getOrElse(caps.size, () => 0)
  if (limit > 0 && size > limit) {
    return refused("MessageTooLarge", `the message is ${size} octets; the server takes at most ${limit}`)
  }
  const dsn = envelope.dsn
  return {
    _tag: "Ready",
    mail: Command.mailFrom(from?.address ?? "", mailParams(caps, size, eightBit, international.length > 0, dsn)),
    rcpts: to.map((m) => Command.rcptTo(m.address, rcptParams(caps, m, dsn))),
    chunks: encoded.chunks
  }
}
