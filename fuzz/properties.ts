// The fuzzing properties of @rcpt/smtp, in one place: `fuzz/fuzz.ts` runs them for a long time
// (a million cases by default) and `packages/smtp/test/Fuzz.test.ts` runs the same ones briefly
// in every `npm test`. Each property names what must hold whatever the input:
//
// - ReplyParser: any bytes in any chunking never throw; the outcome is replies and at most one
//   RemoteProtocolError, the same whatever the chunking; the buffer never holds more than a line's
//   limit plus the chunk just fed, a pending reply never more than its limits. Valid generated
//   replies round-trip exactly, however chunked. Oversized input is refused with the right reason.
// - Capabilities.fromEhloReply: any reply lines never throw; keywords and AUTH mechanisms come out
//   upper-case; SIZE is a non-negative safe integer.
// - Address.parse: any string never throws; an accepted address has no control or line-break
//   character and no angle bracket, fits in 254 octets, parses again to itself, and makes exactly
//   one RCPT line.
// - Session.step: random server bytes and events never throw; every command sent is one clean
//   line of a known verb; Finished comes once, and at once after ConnectionClosed or TimedOut; a
//   finished session ignores everything; every recipient classifies to a known reason.
import * as fc from "fast-check"
import { Option, Result } from "effect"
import * as Address from "@rcpt/smtp/Address"
import * as Capabilities from "@rcpt/smtp/Capabilities"
import * as Classify from "@rcpt/smtp/Classify"
import * as Command from "@rcpt/smtp/Command"
import { RemoteProtocolError } from "@rcpt/smtp/ProtocolError"
import * as Reply from "@rcpt/smtp/Reply"
import * as ReplyParser from "@rcpt/smtp/ReplyParser"
import * as Session from "@rcpt/smtp/Session"

/** What one property run gave, in a form both the script and the test can print. */
export interface Outcome {
  readonly failed: boolean
  readonly numRuns: number
  /** fast-check's report with the (shrunk) counterexample and the seed, when it failed. */
  readonly report: string | undefined
}

export interface FuzzProperty {
  readonly name: string
  /** Share of the total number of cases. */
  readonly weight: number
  readonly check: (numRuns: number, seed?: number) => Outcome
}

const entry = <Ts>(name: string, weight: number, property: fc.IRawProperty<Ts, false>): FuzzProperty => ({
  name,
  weight,
  check: (numRuns, seed) => {
    const details = fc.check(property, {
      numRuns,
      includeErrorInReport: true,
      ...(seed === undefined ? {} : { seed })
    })
    return {
      failed: details.failed,
      numRuns: details.numRuns,
      report: details.failed ? (fc.defaultReportMessage(details) ?? "failed") : undefined
    }
  }
})

const fail = (message: string): never => {
  throw new Error(message)
}

const encoder = new TextEncoder()
const bytesOf = (text: string) => encoder.encode(text)
const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Splits `bytes` at the given cut points (any numbers; taken modulo the length). */
const chunk = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort((a, b) => a - b)
  const chunks: Array<Uint8Array> = []
  let from = 0
  for (const p of [...points, bytes.length]) {
    if (p > from) chunks.push(bytes.subarray(from, p))
    from = Math.max(from, p)
  }
  return chunks
}

// ---------------------------------------------------------------------------------------------
// ReplyParser
// ---------------------------------------------------------------------------------------------

const reasons = new Set<string>([
  "MalformedLine",
  "MixedCodes",
  "LineTooLong",
  "ReplyTooLong",
  "TooManyLines",
  "UnexpectedReply"
])

/** Bytes that look like SMTP often enough to get past the first line: tokens, glued together. */
const wireToken: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom("250", "220", "421", "550", "354", "599", "199", "600", "25") },
    { weight: 3, arbitrary: fc.constantFrom(" ", "-", "\r\n", "\n", "\r", "\r\r\n", "2.1.5 ", "5.1.1 ") },
    { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) }
  )
  .map(bytesOf)
const wireBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.array(wireToken, { maxLength: 40 }).map(concat),
  fc.array(fc.oneof(wireToken, fc.uint8Array({ maxLength: 6 })), { maxLength: 40 }).map(concat)
)
const cutPoints = fc.array(fc.nat(), { maxLength: 20 })
const smallLimits: fc.Arbitrary<ReplyParser.Limits> = fc.oneof(
  fc.constant(ReplyParser.defaultLimits),
  fc.record({
    maxLineLength: fc.integer({ min: 4, max: 64 }),
    maxReplyBytes: fc.integer({ min: 8, max: 256 }),
    maxLines: fc.integer({ min: 1, max: 8 })
  })
)

type Parsed = { readonly replies: ReadonlyArray<Reply.Reply>; readonly error: string | undefined }

/** Feeds the chunks one by one, draining after each; checks the bounds as it goes. */
const parseChunks = (limits: ReplyParser.Limits, chunks: ReadonlyArray<Uint8Array>): Parsed => {
  let parser = ReplyParser.make(limits)
  const replies: Array<Reply.Reply> = []
  for (const c of chunks) {
    parser = ReplyParser.feed(parser, c)
    if (parser.buffer.length > limits.maxLineLength + 1 + c.length) fail(`buffer ${parser.buffer.length} after feed`)
    for (;;) {
      const r = ReplyParser.next(parser)
      if (r._tag === "Error") {
        if (!(r.error instanceof RemoteProtocolError)) fail("an error that is not a RemoteProtocolError")
        if (!reasons.has(r.error.reason)) fail(`unknown reason ${r.error.reason}`)
        return { replies, error: r.error.reason }
      }
      if (r._tag === "NeedMoreData") {
        parser = r.parser
        break
      }
      replies.push(r.reply)
      parser = r.parser
    }
    // Drained: no line end left, at most one line's worth (plus a CR that may start a CRLF).
    if (parser.buffer.includes(10)) fail("a complete line left in the buffer")
    if (parser.buffer.length > limits.maxLineLength + 1) fail(`buffer ${parser.buffer.length} after drain`)
    if (parser.lines.length > limits.maxLines) fail(`${parser.lines.length} pending lines`)
    if (parser.replyBytes > limits.maxReplyBytes) fail(`${parser.replyBytes} pending reply bytes`)
  }
  return { replies, error: undefined }
}

const view = (p: Parsed) => JSON.stringify({ replies: p.replies.map((r) => [r.code, r.lines]), error: p.error })

const replyParserAnyBytes = entry(
  "ReplyParser: any bytes, any chunking",
  0.28,
  fc.property(smallLimits, wireBytes, cutPoints, (limits, bytes, cuts) => {
    const whole = parseChunks(limits, [bytes])
    const chunked = parseChunks(limits, chunk(bytes, cuts))
    const bytewise = parseChunks(limits, chunk(bytes, [...bytes.keys()]))
    if (view(chunked) !== view(whole)) fail(`chunked ${view(chunked)} != whole ${view(whole)}`)
    if (view(bytewise) !== view(whole)) fail(`byte by byte ${view(bytewise)} != whole ${view(whole)}`)
    for (const r of whole.replies) {
      if (!(r.code >= 200 && r.code <= 599)) fail(`code ${r.code}`)
      if (r.lines.length === 0) fail("a reply without lines")
    }
  })
)

/** Reply text: anything but CR and LF, Unicode included (it goes out as UTF-8). */
const replyText = fc.string({ unit: "grapheme", maxLength: 60 }).map((s) => s.replace(/[\r\n]/g, " "))
const validReply = fc.record({
  code: fc.integer({ min: 200, max: 599 }),
  lines: fc.array(fc.oneof(replyText, fc.constantFrom("2.1.5 Ok", "5.1.1 no such user", "4.7.1 try later", "")), {
    minLength: 1,
    maxLength: 12
  })
})

const wireOf = (code: number, lines: ReadonlyArray<string>, bareLf: boolean) =>
  lines.map((l, i) => `${code}${i === lines.length - 1 ? " " : "-"}${l}${bareLf ? "\n" : "\r\n"}`).join("")

const replyParserRoundTrip = entry(
  "ReplyParser: valid replies round-trip",
  0.15,
  fc.property(
    fc.array(validReply, { minLength: 1, maxLength: 8 }),
    fc.boolean(),
    cutPoints,
    (replies, bareLf, cuts) => {
      const bytes = bytesOf(replies.map((r) => wireOf(r.code, r.lines, bareLf)).join(""))
      const parsed = parseChunks(ReplyParser.defaultLimits, chunk(bytes, cuts))
      if (parsed.error !== undefined) fail(`refused: ${parsed.error}`)
      const expected = replies.map((r) => Reply.make(r.code, r.lines))
      if (JSON.stringify(parsed.replies) !== JSON.stringify(expected)) {
        fail(`got ${JSON.stringify(parsed.replies)}, expected ${JSON.stringify(expected)}`)
      }
      for (const [i, r] of parsed.replies.entries()) {
        if (`${Reply.format(r).replace(/\n/g, "\r\n")}\r\n` !== wireOf(replies[i]!.code, replies[i]!.lines, false)) {
          fail(`format does not give the wire text back: ${Reply.format(r)}`)
        }
      }
    }
  )
)

/** Input past a limit is refused with that limit's reason, and never kept whole. */
const replyParserLimits = entry(
  "ReplyParser: oversized input is refused, memory stays bounded",
  0.02,
  fc.property(
    fc.constantFrom("LineTooLong", "ReplyTooLong", "TooManyLines"),
    fc.integer({ min: 1, max: 3 }),
    cutPoints,
    (reason, extra, cuts) => {
      const limits = ReplyParser.defaultLimits
      const text =
        reason === "LineTooLong"
          ? `250 ${"a".repeat(limits.maxLineLength - 4 + extra)}\r\n`
          : reason === "ReplyTooLong"
            ? `${`250-${"b".repeat(1000)}\r\n`.repeat(Math.ceil(limits.maxReplyBytes / 1006) + extra)}250 end\r\n`
            : `${"250-x\r\n".repeat(limits.maxLines + extra - 1)}250 end\r\n`
      const parsed = parseChunks(limits, chunk(bytesOf(text), cuts))
      if (parsed.error !== reason) fail(`expected ${reason}, got ${parsed.error ?? "replies"}`)
      if (parsed.replies.length > 0) fail("a reply came out of an oversized one")
    }
  )
)

// ---------------------------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------------------------

const anyText = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  maxLength: 30
})
const ehloWord = fc.oneof(
  fc.constantFrom(
    "STARTTLS",
    "pipelining",
    "SmtpUtf8",
    "8bitmime",
    "ENHANCEDSTATUSCODES",
    "chunking",
    "DSN",
    "vrfy",
    "AUTH",
    "auth=login",
    "AUTH=",
    "SIZE",
    "size",
    "=",
    "__proto__",
    "constructor",
    "toString"
  ),
  fc.constantFrom("0", "-1", "1e9", "99999999999999999999", "NaN", "0x10", "10240000", " ", "\t", "\u00a0", "ß"),
  fc.string({ maxLength: 10 }),
  anyText
)
const ehloLine = fc.oneof(
  fc.array(ehloWord, { maxLength: 5 }).map((ws) => ws.join(" ")),
  anyText
)

const capabilitiesNeverThrow = entry(
  "Capabilities.fromEhloReply: any reply lines",
  0.15,
  fc.property(
    fc.integer({ min: 200, max: 599 }),
    fc.array(ehloLine, { minLength: 1, maxLength: 12 }),
    (code, lines) => {
      const caps = Capabilities.fromEhloReply(Reply.make(code, lines))
      for (const u of caps.unknown) {
        if (u.keyword !== u.keyword.toUpperCase()) fail(`keyword not upper-case: ${u.keyword}`)
        if (!Capabilities.has(caps, u.keyword)) fail(`has() misses ${u.keyword}`)
      }
      for (const m of caps.auth) if (m !== m.toUpperCase()) fail(`mechanism not upper-case: ${m}`)
      if (new Set(caps.auth).size !== caps.auth.length) fail("duplicate mechanisms")
      if (caps.size._tag === "Some" && !(Number.isSafeInteger(caps.size.value) && caps.size.value >= 0)) {
        fail(`size ${caps.size.value}`)
      }
      for (const flag of ["starttls", "pipelining", "smtpUtf8", "eightBitMime", "enhancedStatusCodes"] as const) {
        if (typeof caps[flag] !== "boolean") fail(`${flag} is not a boolean`)
      }
    }
  )
)

// ---------------------------------------------------------------------------------------------
// Address
// ---------------------------------------------------------------------------------------------

// C0, DEL, C1, the Unicode line and paragraph separators and lone surrogates, anywhere.
const forbidden =
  // oxlint-disable-next-line no-control-regex -- control characters are exactly what is looked for
  /[\x00-\x1f\x7f-\x9f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

const localChars = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("a", "b", "Z", "0", "9", ".", "+", "-", "_", "=", "'", "!", "#", "~") },
  { weight: 2, arbitrary: fc.constantFrom('"', "\\", " ", "@", "(", ")", ",", ":", ";", "[", "]", "<", ">") },
  { weight: 2, arbitrary: fc.constantFrom("é", "用", "😀", "\u0000", "\r", "\n", "\u2028", "\u0085", "\ud800") }
)
const domainChars = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("a", "b", "x", "0", "1", "-", ".", ".", "com", "test", "xn--") },
  { weight: 2, arbitrary: fc.constantFrom("ü", "Ⅻ", "ß", "ς", "\u200d", "。", "_", " ", "[", "]", ":", "IPv6:") },
  { weight: 1, arbitrary: fc.constantFrom("\r\n", "\u0000", ">", "<", "\u0085", "\udfff", "127.0.0.1", "::1") }
)
const addressInput = fc
  .oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(fc.array(localChars, { maxLength: 20 }), fc.array(domainChars, { maxLength: 20 }))
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.array(localChars, { maxLength: 70 }), fc.array(domainChars, { maxLength: 90 }))
    }
  )
  .map(([local, domain]) => `${local.join("")}@${domain.join("")}`)
const addressAny = fc.oneof(
  { weight: 6, arbitrary: addressInput },
  { weight: 1, arbitrary: anyText },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom("a@[127.0.0.1]", "a@[IPv6:::1]", '"a b"@c.test', "a@b.test") }
)

const addressParse = entry(
  "Address.parse: any string",
  0.2,
  fc.property(addressAny, (input) => {
    const parsed = Address.parse(input)
    if (Result.isFailure(parsed)) {
      if (parsed.failure._tag !== "AddressError") fail("a failure that is not an AddressError")
      return
    }
    const m = parsed.success
    if (forbidden.test(m.address)) fail(`accepted ${JSON.stringify(m.address)}`)
    // Angle brackets only inside a quoted local part ('"<a>"@example.com' is a valid mailbox).
    const unquoted = m.localPart.startsWith('"') ? m.address.slice(m.localPart.length) : m.address
    if (/[<>]/.test(unquoted)) fail(`an angle bracket outside quotes in ${JSON.stringify(m.address)}`)
    const domain = m.domain._tag === "DomainName" ? m.domain.ascii : m.domain.text
    if (m.address !== `${m.localPart}@${domain}`) fail(`${m.address} is not local part @ wire domain`)
    if (m.domain._tag === "DomainName" && /[^a-z0-9.-]/.test(domain)) fail(`domain not an A-label: ${domain}`)
    if (encoder.encode(m.address).length > 254) fail("longer than 254 octets")
    const again = Address.parse(m.address)
    if (Result.isFailure(again)) fail(`${JSON.stringify(m.address)} does not parse again: ${again.failure.message}`)
    if (Result.isSuccess(again) && again.success.address !== m.address) {
      fail(`${JSON.stringify(m.address)} parses again to ${JSON.stringify(again.success.address)}`)
    }
    const wire = new TextDecoder().decode(Command.encode(Command.rcptTo(m.address)))
    if (wire !== `RCPT TO:<${m.address}>\r\n` || wire.indexOf("\r\n") !== wire.length - 2) {
      fail(`RCPT line ${JSON.stringify(wire)}`)
    }
  })
)

// ---------------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------------

const mailbox = (s: string) => Result.getOrThrow(Address.parse(s))
const recipients = [mailbox("alice@example.com"), mailbox("bob@example.com"), mailbox("用户@example.com")]

const sessionConfig = fc.record({
  count: fc.integer({ min: 1, max: 3 }),
  tls: fc.constantFrom<Session.TlsMode>("opportunistic", "required", "off"),
  vrfy: fc.constantFrom<"off" | "fallback">("off", "fallback"),
  pipelining: fc.boolean(),
  maxPipeline: fc.integer({ min: 1, max: 3 }),
  maxVrfy: fc.integer({ min: 0, max: 2 }),
  probe: fc.boolean()
})

/** Replies a server may give in each phase: the happy one first, then the others. */
const expected: Record<string, ReadonlyArray<string>> = {
  AwaitGreeting: ["220 mx ESMTP", "220-mx\r\n220 welcome", "554 5.7.1 no service", "421 4.3.2 busy", "250 wrong"],
  AwaitEhlo: [
    "250-mx\r\n250-PIPELINING\r\n250-STARTTLS\r\n250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES",
    "250 mx",
    "250-mx\r\n250 PIPELINING",
    "250-mx\r\n250 STARTTLS",
    "250-mx\r\n250-SMTPUTF8\r\n250 VRFY",
    "502 5.5.1 no EHLO",
    "550 go away",
    "421 bye"
  ],
  AwaitHelo: ["250 mx", "550 no"],
  AwaitStartTls: ["220 2.0.0 go ahead", "454 4.7.0 TLS not available", "502 no", "220-go\r\n220 ahead"],
  AwaitMail: ["250 2.1.0 Ok", "550 5.7.1 sender rejected", "451 4.3.0 try later", "354 huh", "421 bye"],
  AwaitRcpt: [
    "250 2.1.5 Ok",
    "550 5.1.1 no such user",
    "251 forwarded",
    "252 cannot verify",
    "452 4.5.3 too many recipients",
    "450 4.2.0 greylisted",
    "552 5.2.2 mailbox full",
    "554 5.7.1 blocked",
    "354 huh",
    "421 bye"
  ],
  AwaitProbe: ["550 5.1.1 no such user", "250 2.1.5 Ok", "450 4.2.0 greylisted", "421 bye"],
  AwaitRset: ["250 2.0.0 Ok", "500 what"],
  AwaitVrfy: ["250 <alice@example.com>", "252 cannot VRFY", "502 5.5.1 disabled", "550 5.1.1 no", "421 bye"],
  AwaitQuit: ["221 2.0.0 Bye", "421 bye", "500 what", "250 ok"]
}
const anyReply = Object.values(expected).flat()

/**
 * One move of the fuzzing server. It looks at what the session waits for and, mostly, answers it
 * (the happy reply, another plausible one, or the replies to everything pending in one packet),
 * now and then says something unasked, sends garbage, splits a packet, or an event happens.
 */
type Move =
  | { readonly _tag: "Answer"; readonly pick: number; readonly happy: boolean; readonly all: boolean }
  | { readonly _tag: "Split"; readonly pick: number; readonly at: number }
  | { readonly _tag: "Unasked"; readonly pick: number }
  | { readonly _tag: "Garbage"; readonly bytes: Uint8Array }
  | { readonly _tag: "Event"; readonly input: Session.Input }

const tlsInfo = fc
  .record({ protocol: fc.constantFrom("TLSv1.3", ""), cipher: fc.string({ maxLength: 8 }), authorized: fc.boolean() })
  .map((info): Session.TlsInfo => ({ ...info, authorizationError: Option.none() }))
const move: fc.Arbitrary<Move> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .record({ pick: fc.nat(), happy: fc.nat(2).map((n) => n > 0), all: fc.boolean() })
      .map((m) => ({ _tag: "Answer", ...m }) as const)
  },
  { weight: 2, arbitrary: fc.record({ pick: fc.nat(), at: fc.nat() }).map((m) => ({ _tag: "Split", ...m }) as const) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ _tag: "Unasked", pick }) as const) },
  { weight: 1, arbitrary: wireBytes.map((bytes) => ({ _tag: "Garbage", bytes }) as const) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        tlsInfo.map((info) => Session.Input.TlsEstablished({ info })),
        fc.string({ maxLength: 20 }).map((message) => Session.Input.TlsFailed({ message })),
        fc.constant(Session.Input.Connected()),
        fc.constant(Session.Input.ConnectionClosed()),
        fc.constant(Session.Input.TimedOut())
      )
      .map((input) => ({ _tag: "Event", input }) as const)
  }
)

/** What the move does to a session in `state`: one or two inputs. */
const inputsOf = (state: Session.Session, m: Move, info: Session.TlsInfo): ReadonlyArray<Session.Input> => {
  const received = (text: string) => Session.Input.Received({ bytes: bytesOf(text) })
  const replyTo = (phase: string, pick: number, happy: boolean) => {
    const options = expected[phase] ?? anyReply
    return `${happy ? options[0]! : options[pick % options.length]!}\r\n`
  }
  switch (m._tag) {
    case "Answer": {
      const phase = Session.phase(state)
      if (phase === "AwaitTlsHandshake") {
        return [m.happy ? Session.Input.TlsEstablished({ info }) : Session.Input.TlsFailed({ message: "handshake" })]
      }
      if (phase === "Done") return [received(replyTo("AwaitQuit", m.pick, m.happy))]
      // Pipelining: the replies to everything pending, in one packet.
      const pending = Session.awaiting(state)
      const phases = m.all && pending.length > 1 ? pending.map((a) => a.phase) : [phase]
      return [received(phases.map((p, i) => replyTo(p, m.pick + i, m.happy)).join(""))]
    }
    case "Split": {
      const bytes = bytesOf(replyTo(Session.phase(state), m.pick, false))
      const at = m.at % (bytes.length + 1)
      return [
        Session.Input.Received({ bytes: bytes.subarray(0, at) }),
        Session.Input.Received({ bytes: bytes.subarray(at) })
      ]
    }
    case "Unasked":
      return [received(`${anyReply[m.pick % anyReply.length]!}\r\n`)]
    case "Garbage":
      return [Session.Input.Received({ bytes: m.bytes })]
    case "Event":
      return [m.input]
  }
}

const verbs = new Set(["EHLO", "HELO", "STARTTLS", "MAIL", "RCPT", "VRFY", "RSET", "QUIT", "NOOP"])
const decoder = new TextDecoder()
const reasonSet = new Set<string>(Classify.reasons)

const sessionStep = entry(
  "Session.step: a fuzzing server's bytes and events",
  0.2,
  fc.property(sessionConfig, tlsInfo, fc.array(move, { maxLength: 40 }), (c, info, moves) => {
    let state = Session.make({
      clientName: "verifier.example.net",
      mailFrom: "",
      recipients: recipients.slice(0, c.count),
      servername: "mx.example.com",
      ...Session.defaults,
      tls: c.tls,
      vrfy: c.vrfy,
      pipelining: c.pipelining,
      maxPipeline: c.maxPipeline,
      maxVrfy: c.maxVrfy,
      probes: c.probe ? [mailbox("zz9probe@example.com")] : []
    })
    let finished: Session.SessionResult | undefined
    let last = ""
    const apply = (input: Session.Input) => {
      const wasDone = Session.isDone(state)
      const step = Session.step(state, input)
      state = step.state
      if (wasDone && step.actions.length > 0) fail("a finished session acted")
      for (const action of step.actions) {
        if (finished !== undefined) fail(`${action._tag} after Finished`)
        if (action._tag === "Finished") finished = action.result
        if (action._tag === "UpgradeTls" && last !== "STARTTLS") fail(`TLS upgrade after ${last}, not STARTTLS`)
        if (action._tag === "Send") {
          const text = decoder.decode(action.bytes)
          if (!text.endsWith("\r\n")) fail(`a write not ending in CRLF: ${JSON.stringify(text)}`)
          for (const line of text.slice(0, -2).split("\r\n")) {
            // oxlint-disable-next-line no-control-regex -- control characters are exactly what is looked for
            if (/[\x00-\x1f\x7f]/.test(line)) fail(`a control character in ${JSON.stringify(line)}`)
            const verb = line.split(/[ :]/)[0]!
            if (!verbs.has(verb)) fail(`an unknown command ${JSON.stringify(line)}`)
            if (verb === "STARTTLS" && c.tls === "off") fail("STARTTLS with TLS off")
            if (verb === "MAIL" && c.tls === "required" && state.tls._tag !== "Established") {
              fail("MAIL without TLS when TLS is required")
            }
            // RFC 3207: after the handshake, EHLO again before anything else.
            if (last === "STARTTLS" && state.tls._tag === "Established" && verb !== "EHLO" && verb !== "QUIT") {
              fail(`${verb} right after the TLS handshake`)
            }
            last = verb
          }
        }
      }
      if ((input._tag === "ConnectionClosed" || input._tag === "TimedOut") && !Session.isDone(state)) {
        fail(`still running after ${input._tag}`)
      }
      if (Session.isDone(state) && finished === undefined) fail("done without Finished")
    }
    apply(Session.Input.Connected())
    for (const m of moves) for (const input of inputsOf(state, m, info)) apply(input)
    // However it stopped, the result so far is there, and each recipient has a known reason.
    const result = finished ?? Session.result(state)
    if (result.recipients.length !== c.count) fail("recipients lost")
    for (let i = 0; i < c.count; i++) {
      const o = Classify.recipient(result, i)
      if (!reasonSet.has(o.reason)) fail(`unknown reason ${o.reason}`)
      // An RCPT reply that was received is never lost, however the session ended.
      const { rcpt, vrfy } = result.recipients[i]!
      if (Option.isSome(rcpt) && Option.isNone(vrfy)) {
        const fromRcpt = Classify.classify("AwaitRcpt", rcpt.value)
        if (o.reason !== fromRcpt.reason) fail(`RCPT said ${fromRcpt.reason}, the recipient got ${o.reason}`)
      }
    }
    // Closing the connection always ends it.
    if (!Session.isDone(Session.step(state, Session.Input.ConnectionClosed()).state)) fail("not done after close")
  })
)

/** Every property, with its share of the cases. */
export const properties: ReadonlyArray<FuzzProperty> = [
  replyParserAnyBytes,
  replyParserRoundTrip,
  replyParserLimits,
  capabilitiesNeverThrow,
  addressParse,
  sessionStep
]

/** The input generators, for ad-hoc runs (`fc.statistics`, `fc.sample`). */
export const arbitraries = { wireBytes, validReply, ehloLine, addressAny, sessionConfig, move }
export { inputsOf }
