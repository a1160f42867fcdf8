// Drives Submission.step from a Go-style script, as helpers.ts does for the verification session:
// `S:` lines are server bytes (consecutive ones arrive in one packet), `C:` lines are what the
// client must have sent by then (`C:` alone is an empty line, e.g. the one after the headers),
// `*` lines are events (`* tls`, `* tls-fail`, `* close`, `* timeout`).
import { assert } from "@effect/vitest"
import { Option } from "effect"
import * as Crypto from "node:crypto"
import * as Submission from "../src/Submission.ts"

export const hmacMd5 = (key: Uint8Array, data: Uint8Array): Uint8Array =>
  new Uint8Array(Crypto.createHmac("md5", key).update(data).digest())

export const config = (overrides: Partial<Submission.Config> = {}): Submission.Config => ({
  clientName: "client.example.net",
  servername: "smtp.example.com",
  ...Submission.defaults,
  ...overrides
})

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const message = (
  recipients: ReadonlyArray<string>,
  body = "Subject: hi\r\n\r\nHello\r\n",
  mailFrom = "sender@example.net",
  dsn?: Submission.Dsn
): Submission.Message => ({
  envelope: { mailFrom, recipients, ...(dsn === undefined ? {} : { dsn }) },
  body: encoder.encode(body)
})

export interface Run {
  readonly result: Submission.SubmissionResult
  readonly sent: ReadonlyArray<string>
  /** Bytes of each Send action, split in lines: shows what was pipelined together. */
  readonly writes: ReadonlyArray<ReadonlyArray<string>>
  readonly actions: ReadonlyArray<Submission.Action["_tag"]>
  readonly state: Submission.Submission
  /** Everything the client wrote, as one string. */
  readonly wire: string
}

export const run = (initial: Submission.Submission, script: string): Run => {
  let state = initial
  const sent: Array<string> = []
  const writes: Array<Array<string>> = []
  const actions: Array<Submission.Action["_tag"]> = []
  let wire = ""
  let finished: Submission.SubmissionResult | undefined
  const apply = (input: Submission.Input) => {
    const step = Submission.step(state, input)
    state = step.state
    for (const a of step.actions) {
      actions.push(a._tag)
      if (a._tag === "Send") {
        const text = decoder.decode(a.bytes)
        wire += text
        const lines = text.split("\r\n").slice(0, -1)
        writes.push(lines)
        sent.push(...lines)
      }
      if (a._tag === "Finished") {
        assert.isUndefined(finished, "Finished emitted twice")
        finished = a.result
      }
    }
  }
  apply(Submission.Input.Connected())
  const expected: Array<string> = []
  let packet: Array<string> = []
  const flush = () => {
    if (packet.length > 0)
      apply(Submission.Input.Received({ bytes: encoder.encode(packet.map((l) => `${l}\r\n`).join("")) }))
    packet = []
  }
  for (const raw of script.split("\n")) {
    const line = raw.trim()
    if (line === "") continue
    if (line.startsWith("S: ")) {
      packet.push(line.slice(3))
      continue
    }
    flush()
    if (line === "C:" || line.startsWith("C: ")) {
      expected.push(line.slice(3))
      assert.deepStrictEqual(sent.slice(0, expected.length), expected, `client lines up to ${JSON.stringify(line)}`)
    } else if (line === "* tls") {
      apply(
        Submission.Input.TlsEstablished({
          info: {
            protocol: "TLSv1.3",
            cipher: "TLS_AES_256_GCM_SHA384",
            authorized: true,
            authorizationError: Option.none()
          }
        })
      )
    } else if (line === "* tls-fail") apply(Submission.Input.TlsFailed({ message: "handshake failure" }))
    else if (line === "* close") apply(Submission.Input.ConnectionClosed())
    else if (line === "* timeout") apply(Submission.Input.TimedOut())
    else throw new Error(`bad script line: ${line}`)
  }
  flush()
  assert.deepStrictEqual(sent, expected, "the client sent exactly the scripted lines")
  assert.isDefined(finished, "the session finished")
  return { result: finished!, sent, writes, actions, state, wire }
}

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
