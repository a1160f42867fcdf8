/**
 * One constructor per SMTP verb, each producing the exact wire line (RFC 5321 §4.1).
 *
 * Every argument is checked before a command exists: CR, LF, NUL or any other control character
 * throws a `LocalProtocolError`, so `a@b.example>\r\nDATA` can never reach a socket. Paths must
 * also be well-formed mailboxes (or `<>`), so a `>` cannot close the path early and smuggle
 * parameters in. Callers that take such values from users validate them first (see `Address`).
 *
 * @since 0.1.0
 */
import * as Address from "./Address.ts"
import { LocalProtocolError } from "./ProtocolError.ts"

/**
 * A command, as data. `line` is what goes on the wire, CRLF excluded.
 *
 * @category models
 * @since 0.1.0
 */
export interface Command {
  readonly verb: Verb
  readonly line: string
}

/**
 * @category models
 * @since 0.1.0
 */
export type Verb = "EHLO" | "HELO" | "STARTTLS" | "AUTH" | "MAIL" | "RCPT" | "DATA" | "VRFY" | "RSET" | "NOOP" | "QUIT"

// RFC 5321 §4.1.2 esmtp-keyword and esmtp-value (printable ASCII but "=" and SP).
const keywordPattern = /^[A-Za-z0-9][A-Za-z0-9-]*$/
const valuePattern = /^[\x21-\x3c\x3e-\x7e]+$/

const refuse = (reason: LocalProtocolError["reason"], message: string): never => {
  throw new LocalProtocolError({ reason, message })
}

const checkText = (what: string, value: string): string => {
  // oxlint-disable-next-line no-control-regex -- control characters are exactly what is refused
  const bad = /[\x00-\x1f\x7f]/.exec(value)
  if (bad !== null) {
    refuse("ForbiddenCharacter", `${what} contains ${JSON.stringify(bad[0])} at position ${bad.index}`)
  }
  return value
}

const checkPath = (what: string, path: string): string => {
  checkText(what, path)
  if (path === "") return path
  const parsed = Address.parse(path)
  if (parsed._tag === "Failure") refuse("InvalidArgument", `${what} is not a mailbox: ${parsed.failure.message}`)
  return path
}

const checkParams = (params: ReadonlyArray<string>): string => {
  for (const p of params) {
    checkText("parameter", p)
    const eq = p.indexOf("=")
    const keyword = eq === -1 ? p : p.slice(0, eq)
    if (!keywordPattern.test(keyword) || (eq !== -1 && !valuePattern.test(p.slice(eq + 1)))) {
      refuse("InvalidArgument", `not an ESMTP parameter: ${JSON.stringify(p)}`)
    }
  }
  return params.map((p) => ` ${p}`).join("")
}

const checkDomain = (name: string): string => {
  checkText("client name", name)
  // Before SMTPUTF8 is agreed the EHLO name must be ASCII: send the A-label form.
  if ([...name].some((c) => c.charCodeAt(0) > 0x7f))
    refuse("InvalidArgument", `client name must be ASCII (an A-label): ${name}`)
  const parsed = Address.parseDomain(name)
  if (parsed._tag === "Failure") refuse("InvalidArgument", `client name: ${parsed.failure.message}`)
  return name
}

const make = (verb: Verb, line: string): Command => ({ verb, line })

/**
 * `EHLO <domain>`; the domain is an FQDN or an address literal.
 *
 * @category constructors
 * @since 0.1.0
 */
export const ehlo = (clientName: string): Command => make("EHLO", `EHLO ${checkDomain(clientName)}`)

/**
 * @category constructors
 * @since 0.1.0
 */
export const helo = (clientName: string): Command => make("HELO", `HELO ${checkDomain(clientName)}`)

/**
 * @category constructors
 * @since 0.1.0
 */
export const starttls: Command = make("STARTTLS", "STARTTLS")

// RFC 4422 §3.1 sasl-mech; RFC 4648 base64 (a SASL response, RFC 4954 §4).
const mechanismPattern = /^[A-Z0-9_-]{1,20}$/
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/**
 * `AUTH <mechanism> [initial-response]` (RFC 4954 §4). The initial response is base64, or `=`
 * for an empty one. The line carries a secret: log it with `redact`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const auth = (mechanism: string, initialResponse?: string): Command => {
  if (!mechanismPattern.test(checkText("SASL mechanism", mechanism))) {
    refuse("InvalidArgument", `not a SASL mechanism name: ${JSON.stringify(mechanism)}`)
  }
  if (initialResponse === undefined) return make("AUTH", `AUTH ${mechanism}`)
  if (initialResponse !== "=" && (initialResponse === "" || !base64Pattern.test(initialResponse))) {
    refuse("InvalidArgument", 'an initial response must be base64 or "="')
  }
  return make("AUTH", `AUTH ${mechanism} ${initialResponse}`)
}

/**
 * One client line inside an AUTH exchange (RFC 4954 §4): base64, empty, or `*` to cancel.
 *
 * @category constructors
 * @since 0.1.0
 */
export const authResponse = (response: string): Command => {
  if (response !== "*" && !base64Pattern.test(response)) {
    refuse("InvalidArgument", 'a SASL response must be base64 or "*"')
  }
  return make("AUTH", response)
}

/**
 * The line as it may be shown: AUTH exchanges lose their credentials (`AUTH PLAIN ****`, `****`).
 *
 * @category formatting
 * @since 0.1.0
 */
export const redact = (command: Command): string => {
  if (command.verb !== "AUTH") return command.line
  if (command.line.startsWith("AUTH ")) {
    const [verb, mechanism, response] = command.line.split(" ")
    return response === undefined ? command.line : `${verb} ${mechanism} ****`
  }
  return command.line === "*" || command.line === "" ? command.line : "****"
}

/**
 * `MAIL FROM:<path>`; `""` is the null reverse path `<>` that MTA callouts use.
 *
 * @category constructors
 * @since 0.1.0
 */
export const mailFrom = (reversePath: string, params: ReadonlyArray<string> = []): Command =>
  make("MAIL", `MAIL FROM:<${checkPath("reverse path", reversePath)}>${checkParams(params)}`)

/**
 * `RCPT TO:<path>`. A mailbox that `Address.parse` made is not parsed again (bulk sends millions).
 *
 * @category constructors
 * @since 0.1.0
 */
export const rcptTo = (forwardPath: string | Address.Mailbox, params: ReadonlyArray<string> = []): Command => {
  const raw = typeof forwardPath === "string" ? forwardPath : forwardPath.address
  if (raw === "") refuse("InvalidArgument", "a forward path cannot be empty")
  const path = typeof forwardPath !== "string" && Address.wasParsed(forwardPath) ? raw : checkPath("forward path", raw)
  return make("RCPT", params.length === 0 ? `RCPT TO:<${path}>` : `RCPT TO:<${path}>${checkParams(params)}`)
}

/**
 * `VRFY <string>`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const vrfy = (argument: string): Command => {
  if (checkText("VRFY argument", argument).trim() === "") refuse("InvalidArgument", "VRFY needs an argument")
  return make("VRFY", `VRFY ${argument}`)
}

/**
 * @category constructors
 * @since 0.1.0
 */
export const data: Command = make("DATA", "DATA")

/**
 * @category constructors
 * @since 0.1.0
 */
export const rset: Command = make("RSET", "RSET")

/**
 * @category constructors
 * @since 0.1.0
 */
export const noop: Command = make("NOOP", "NOOP")

/**
 * @category constructors
 * @since 0.1.0
 */
export const quit: Command = make("QUIT", "QUIT")

const encoder = new TextEncoder()

/**
 * The wire bytes: the line and CRLF, UTF-8 encoded (SMTPUTF8 paths are UTF-8 on the wire).
 *
 * @category encoding
 * @since 0.1.0
 */
export const encode = (command: Command): Uint8Array => encoder.encode(`${command.line}\r\n`)

/**
 * Several commands in one write (RFC 2920 pipelining).
 *
 * @category encoding
 * @since 0.1.0
 */
export const encodeAll = (commands: ReadonlyArray<Command>): Uint8Array => {
  // The lines joined by CRLF, an empty last one giving the final CRLF: no string per command.
  const lines = commands.map((c) => c.line)
  lines.push("")
  return encoder.encode(lines.join("\r\n"))
}
