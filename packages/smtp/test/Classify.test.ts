// Classify as tables of real-world replies (docs/real-servers.md, docs/field-notes.md) -> outcome.
import { assert, describe, it } from "@effect/vitest"
import { Option, Result } from "effect"
import * as fc from "fast-check"
import * as Address from "../src/Address.ts"
import * as Classify from "../src/Classify.ts"
import { RemoteProtocolError } from "../src/ProtocolError.ts"
import * as Reply from "../src/Reply.ts"
import * as ReplyParser from "../src/ReplyParser.ts"
import type { Phase, RecipientResult, SessionEnd, SessionResult, SkipReason } from "../src/Session.ts"

/** One reply from wire text; lines may end in "\n" or "\r\n", the last one needs no ending. */
const reply = (wire: string): Reply.Reply => {
  const text = wire.endsWith("\n") ? wire : `${wire}\r\n`
  const d = ReplyParser.drain(ReplyParser.feed(ReplyParser.make(), new TextEncoder().encode(text)))
  if (d._tag === "Error" || d.replies.length !== 1) throw new Error(`not one reply: ${JSON.stringify(wire)}`)
  return d.replies[0]!
}

const o = (verdict: Classify.Verdict, reason: Classify.Reason, retryable = false): Classify.Outcome => ({
  verdict,
  reason,
  retryable
})

const accepted = o("deliverable", "accepted")
const cannotVerify = o("unknown", "cannot_verify")
const unknownMailbox = o("undeliverable", "mailbox_unknown")
const blocked = o("unknown", "blocked")
const protocolError = o("unknown", "protocol_error")

const gmailUnknown =
  "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n" +
  "550-5.1.1 double-checking the recipient's email address for typos or\r\n" +
  "550-5.1.1 unnecessary spaces. For more information, go to\r\n" +
  "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp"
const gmailRate =
  "450-4.2.1 The user you are trying to contact is receiving mail at a rate that\r\n" +
  "450-4.2.1 prevents additional messages from being delivered. Please resend your\r\n" +
  "450-4.2.1 message at a later time. If the user is able to receive mail at that\r\n" +
  "450-4.2.1 time, your message will be delivered. For more information, please\r\n" +
  "450-4.2.1 visit\r\n" +
  "450 4.2.1  https://support.google.com/mail/?p=ReceivingRate a1si123 - gsmtp"
const gmailDisabled =
  "550-5.2.1 The email account that you tried to reach is disabled. Learn more at\r\n" +
  "550 5.2.1  https://support.google.com/mail/?p=DisabledUser a1si123 - gsmtp"
const gmailFull =
  "452-4.2.2 The email account that you tried to reach is over quota. Please direct\r\n" +
  "452-4.2.2 the recipient to\r\n" +
  "452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp a1si123 - gsmtp"
const gmailSpam =
  "550-5.7.1 [192.0.2.1] Our system has detected that this message is\r\n" +
  "550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\r\n" +
  "550 5.7.1 this message has been blocked. a1si123 - gsmtp"
const gmail421 =
  "421-4.7.0 [192.0.2.1] Our system has detected an unusual rate of\r\n" +
  "421 4.7.0 unsolicited mail originating from your IP address. a1si123 - gsmtp"
const spamhaus =
  "550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; " +
  "https://www.spamhaus.org/query/ip/192.0.2.1"

const rcpt: ReadonlyArray<readonly [wire: string, expected: Classify.Outcome]> = [
  // Accepted.
  ["250 2.1.5 Ok", accepted],
  ["250 Accepted", accepted],
  ["250 2.1.5 Destination address valid: Recipient ok", accepted],
  ["251 2.1.5 User not local; will forward to <bob@other.example>", accepted],
  ["252 2.1.5 Cannot VRFY user, but will accept message and attempt delivery", cannotVerify],
  ["253 2.0.0 odd but positive", cannotVerify],
  ["354 End data with <CR><LF>.<CR><LF>", protocolError],
  // Unknown users.
  ["550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in virtual mailbox table", unknownMailbox],
  ["550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in local recipient table", unknownMailbox],
  [gmailUnknown, unknownMailbox],
  ["550 5.1.0 Address rejected.", unknownMailbox],
  ["553 5.1.3 Bad recipient address syntax", unknownMailbox],
  ["550 Unrouteable address", unknownMailbox],
  ["550 Invalid recipient: <x@example.com>", unknownMailbox],
  ["550 5.0.0 <x@example.com>: User unknown", unknownMailbox],
  ["550 Requested action not taken: mailbox unavailable", unknownMailbox],
  ["553 Requested action not taken: mailbox name not allowed", unknownMailbox],
  ["550 5.7.1 Recipient address rejected: user does not exist", unknownMailbox],
  ["550 5.7.1 No such user here", unknownMailbox],
  // The echoed recipient's words are not the server's: a mailbox named like a blocklist or a refusal of us.
  ["550 5.1.1 <abuse@spamcop.net>: Recipient address rejected: User unknown in virtual mailbox table", unknownMailbox],
  [
    "550 5.1.1 <blacklist@example.com>: Recipient address rejected: User unknown in local recipient table",
    unknownMailbox
  ],
  ['550 5.1.1 <"sender rejected"@example.com>: Recipient address rejected: User unknown', unknownMailbox],
  ["550 No such user here: postmaster@spamhaus.org", unknownMailbox],
  // Bracketed and bare in one reply: both are left out.
  ["550 5.1.1 <relay@example.com>: No such user here: blacklist@spamhaus.org", unknownMailbox],
  ["550 5.7.1 <x@example.com>: Relay access denied", o("unknown", "relay_denied")],
  ["554 5.7.1 <x@example.com>: Client host rejected: blocked using zen.spamhaus.org", blocked],
  [
    "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [AM0PR01MB0001.eurprd01.prod.outlook.com]",
    unknownMailbox
  ],
  // Disabled, moved, no such domain, null MX.
  ["550 5.2.1 mailbox disabled", o("undeliverable", "mailbox_disabled")],
  [gmailDisabled, o("undeliverable", "mailbox_disabled")],
  ["550 5.1.1 <x@example.com>: Recipient address rejected: mailbox inactive", o("undeliverable", "mailbox_disabled")],
  ["550 Mailbox disabled for this recipient", o("undeliverable", "mailbox_disabled")],
  ["550 Address rejected: account suspended", o("undeliverable", "mailbox_disabled")],
  ["551 5.1.6 User has moved; please try <new@example.org>", o("undeliverable", "mailbox_moved")],
  ["551 User not local; please try <bob@other.example>", o("undeliverable", "mailbox_moved")],
  ["550 5.1.2 Host unknown", o("undeliverable", "no_such_domain")],
  ["556 5.1.10 Recipient address has null MX", o("undeliverable", "null_mx")],
  ["550 5.1.0 Domain of recipient has a null MX", o("undeliverable", "null_mx")],
  // Full: the mailbox exists.
  ["552 5.2.2 mailbox full", o("risky", "mailbox_full")],
  ["552 5.2.2 <x@example.com>: Recipient address rejected: Quota exceeded", o("risky", "mailbox_full")],
  ["552 Requested mail action aborted: exceeded storage allocation", o("risky", "mailbox_full")],
  ["550 User over quota", o("risky", "mailbox_full")],
  ["552 Message too big for this mailbox", o("risky", "mailbox_full")],
  // Policy, blocklists, relay, TLS: 5.7.x is not "mailbox unknown" unless the text says so.
  [spamhaus, blocked],
  [gmailSpam, blocked],
  ["550 5.7.606 Access denied, banned sending IP [192.0.2.1]", blocked],
  ["550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]", blocked],
  ["550 5.7.1 <x@example.com>: Client host rejected: PTR record does not exist", blocked],
  [
    "550-5.7.25 [192.0.2.1] The IP address sending this message does not have a\r\n" +
      "550 5.7.25 PTR record setup. a1si123 - gsmtp",
    blocked
  ],
  ["550 5.7.1 Message rejected by policy", blocked],
  ["554 5.7.1 <x@example.com>: Relay access denied", o("unknown", "relay_denied")],
  ["550 5.7.1 Unable to relay", o("unknown", "relay_denied")],
  ["550 relay not permitted", o("unknown", "relay_denied")],
  // Wording the sisimai suite taught (test/fixtures/sisimai): about us, our session or our message, not the mailbox.
  ["550 that domain isn't in my list of allowed rcpthost", o("unknown", "relay_denied")],
  ["550 not local host example.org, not a gateway", o("unknown", "relay_denied")],
  ["501 5.5.4 HELO/EHLO argument is invalid. https://support.google.com/mail/?p=helo", blocked],
  ["550 Host network not allowed", blocked],
  ["550 connection reset by peer", blocked],
  ["503 5.7.0 No identity changes permitted", blocked],
  ["550 syntax error: empty email address", o("unknown", "sender_rejected")],
  [
    "550 5.7.1 Try sending this from a different address or alias using the 'Send mail as' feature",
    o("unknown", "sender_rejected")
  ],
  ["550 5.0.350 x-dg-ref header is too long", blocked],
  ["550 sorry, your envelope recipient has been denied (#5.7.1)", unknownMailbox],
  ["550 Domain does not exist", o("undeliverable", "no_such_domain")],
  ["552 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]", o("risky", "mailbox_full")],
  ["550 5.1.1 <x@example.com>: Recipient address rejected: User unknown (quota)", unknownMailbox],
  ["550 mailbox exceeded the local limit", o("risky", "mailbox_full")],
  ["530 5.7.0 Must issue a STARTTLS command first", o("unknown", "tls_required")],
  ["550 5.7.1 Encryption required for requested authentication mechanism", o("unknown", "tls_required")],
  ["550 TLS required for this recipient", o("unknown", "tls_required")],
  ["550 Your IP is listed in our blacklist", blocked],
  ["554 5.0.0 Service unavailable", blocked],
  // SMTPUTF8, protocol, server errors.
  ["553 5.6.7 Non-ASCII addresses are not supported", o("unknown", "smtputf8_unsupported")],
  ["550 5.6.7 SMTPUTF8 is required but was not offered", o("unknown", "smtputf8_unsupported")],
  ["500 5.5.1 Invalid command: Pipelining not supported", protocolError],
  ["501 5.5.4 Syntax error in parameters", protocolError],
  ["503 5.5.1 Error: need MAIL command", protocolError],
  ["503 Bad sequence of commands", protocolError],
  ["500 Syntax error, command unrecognized", protocolError],
  ["555 MAIL FROM/RCPT TO parameters not recognized", protocolError],
  ["554 5.4.14 Hop count exceeded - possible mail loop", o("unknown", "server_error")],
  ["550 5.3.0 Other or undefined mail system status", o("unknown", "server_error")],
  // Transient: never undeliverable, always retryable.
  [gmailRate, o("unknown", "rate_limited", true)],
  [
    "450 4.2.0 <x@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html",
    o("unknown", "greylisted", true)
  ],
  ["451 4.7.1 Please try again later", o("unknown", "greylisted", true)],
  ["451 4.7.1 Greylisting in action, please come back later", o("unknown", "greylisted", true)],
  ["452 4.5.3 Error: too many recipients", o("unknown", "too_many_recipients", true)],
  ["451 4.5.3 Too many recipients", o("unknown", "too_many_recipients", true)],
  ["452 Too many recipients received this hour", o("unknown", "too_many_recipients", true)],
  ["452 4.2.2 Mailbox full", o("risky", "mailbox_full", true)],
  [gmailFull, o("risky", "mailbox_full", true)],
  ["450 Mailbox over quota, try again", o("risky", "mailbox_full", true)],
  ["452 4.3.1 Insufficient system storage", o("unknown", "temporary_failure", true)],
  ["450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]", o("unknown", "blocked", true)],
  ["451 4.7.1 Too many connections from your IP", o("unknown", "rate_limited", true)],
  [
    "450 4.1.1 <x@example.com>: Recipient address rejected: User unknown in local recipient table",
    o("unknown", "temporary_failure", true)
  ],
  ["451 4.3.0 Temporary lookup failure", o("unknown", "temporary_failure", true)],
  ["421 4.7.0 mx.example.com Error: too many errors", o("unknown", "service_unavailable", true)],
  [gmail421, o("unknown", "service_unavailable", true)],
  // Found by the outside corpora (test/fixtures/sisimai, zone-mta): wording about us beats a mailbox code...
  [
    "550 5.2.1 Mailbox unavailable. Your IP address 192.0.2.1 is blacklisted using SPAMHAUS-XBL.",
    o("unknown", "blocked")
  ],
  ["553 5.3.0 192.0.2.1 Rejected - see http://www.spamhaus.org", blocked],
  ["554 5.5.4 Your IP 192.0.2.1 address has a bad reputation", blocked],
  ["550 5.1.1 <a@b>... Relay denied", o("unknown", "relay_denied")],
  ["550 Sender verify failed", o("unknown", "sender_rejected")],
  ["550 too many connections from your host", o("unknown", "rate_limited")],
  ["550 5.4.317 STARTTLS is required to send mail", o("unknown", "tls_required")],
  ["550 too many recipients", o("unknown", "too_many_recipients")],
  ["550 5.7.26 This mail has been blocked because the sender is unauthenticated (SPF, DKIM)", blocked],
  // ...an enhanced code that names us, or settles something other than the mailbox...
  ["550 5.1.7 unknown sender address", o("unknown", "sender_rejected")],
  ["550 5.1.8 bad sender's system address", o("unknown", "sender_rejected")],
  ["550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", unknownMailbox],
  ["550 5.1.10 Recipient address has null MX", o("undeliverable", "null_mx")],
  ["550 5.5.0 Requested action not taken: mailbox unavailable", unknownMailbox],
  ["550 5.6.0 message content rejected", o("unknown", "server_error")],
  ["550 5.7.1 email quota exceeded", o("risky", "mailbox_full")],
  ["501 5.7.11 syntax error", protocolError],
  // ...and text with no enhanced code: mailbox words, domain words, then weaker refusal words, then the code.
  ["550 user is over the quota", o("risky", "mailbox_full")],
  ["550 mailbox is frozen", o("undeliverable", "mailbox_disabled")],
  ["550 host or domain name not found", o("undeliverable", "no_such_domain")],
  ["550 rejected for policy reasons", blocked],
  ["550 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1", blocked],
  // 4xx: the server's own trouble, "later" words, sender codes, 4.7.x policy.
  ["450 4.7.500 Server busy. Please try again later from [192.0.2.2]", o("unknown", "temporary_failure", true)],
  ["451 4.3.0 Please try again", o("unknown", "greylisted", true)],
  ["450 4.1.8 <a@b>: Sender address rejected: Domain not found", o("unknown", "sender_rejected", true)],
  ["450 4.7.0 temporarily refused", o("unknown", "blocked", true)],
  ["451 Sending denied by local policy", o("unknown", "blocked", true)]
]

const other: ReadonlyArray<readonly [phase: Phase, wire: string, expected: Classify.Outcome]> = [
  // VRFY.
  ["AwaitVrfy", "250 Alice Example <alice@example.com>", accepted],
  ["AwaitVrfy", "251 User not local; will forward to <alice@other.example>", accepted],
  ["AwaitVrfy", "252 2.0.0 alice@example.com", cannotVerify],
  ["AwaitVrfy", "252 Administrative prohibition", cannotVerify],
  ["AwaitVrfy", "502 5.5.1 VRFY command is disabled", cannotVerify],
  ["AwaitVrfy", "500 5.5.1 Invalid command", cannotVerify],
  ["AwaitVrfy", "504 5.5.2 Command parameter not implemented", cannotVerify],
  [
    "AwaitVrfy",
    "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in local recipient table",
    unknownMailbox
  ],
  ["AwaitVrfy", "553 5.1.3 Bad recipient address syntax", unknownMailbox],
  ["AwaitVrfy", "554 Too many nonmail commands", blocked],
  ["AwaitVrfy", "421 4.7.0 mx.example.com Error: too many errors", o("unknown", "service_unavailable", true)],
  // The catch-all probe reads like RCPT.
  ["AwaitProbe", "250 2.1.5 Ok", accepted],
  ["AwaitProbe", "550 5.1.1 <zq8x7@example.com>: Recipient address rejected: User unknown", unknownMailbox],
  ["AwaitProbe", "450 4.2.0 Greylisted", o("unknown", "greylisted", true)],
  // Before RCPT: why we could not ask.
  ["AwaitGreeting", "554 mx.example.com ESMTP not accepting messages", blocked],
  [
    "AwaitGreeting",
    "554-mx.example.com\r\n554 Your access to this mail system has been rejected due to poor reputation",
    blocked
  ],
  [
    "AwaitGreeting",
    "421 4.3.2 Service not available, closing transmission channel",
    o("unknown", "service_unavailable", true)
  ],
  ["AwaitGreeting", "220 mx.example.com ESMTP Postfix", protocolError],
  ["AwaitEhlo", "502 5.5.2 Error: command not recognized", protocolError],
  ["AwaitEhlo", "550 5.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]", blocked],
  ["AwaitEhlo", "354 unexpected", protocolError],
  ["AwaitHelo", "501 5.5.2 Syntax: HELO hostname", protocolError],
  ["AwaitStartTls", "454 4.7.0 TLS not available due to local problem", o("unknown", "temporary_failure", true)],
  ["AwaitStartTls", "502 5.5.1 Error: command not implemented", protocolError],
  ["AwaitMail", "530 5.7.0 Must issue a STARTTLS command first", o("unknown", "tls_required")],
  ["AwaitMail", "550 Encryption required for requested authentication mechanism", o("unknown", "tls_required")],
  ["AwaitMail", "550 5.7.1 sender rejected", blocked],
  ["AwaitMail", "550 5.7.1 <>: Sender address rejected: Access denied", blocked],
  ["AwaitMail", `554 ${spamhaus.slice(4)}`, blocked],
  ["AwaitMail", "554 Transaction failed", blocked],
  ["AwaitMail", "550 Sender address rejected: IP is on a blocklist", blocked],
  [
    "AwaitMail",
    "553 5.1.8 <bounce@verifier.example.net>: Sender address rejected: Domain not found",
    o("unknown", "sender_rejected")
  ],
  ["AwaitMail", "550 5.1.0 <>: Sender address rejected: null sender not allowed", o("unknown", "sender_rejected")],
  ["AwaitMail", "501 5.1.7 Bad sender address syntax", o("unknown", "sender_rejected")],
  [
    "AwaitMail",
    "451 4.3.0 <bounce@verifier.example.net>: Temporary lookup failure",
    o("unknown", "temporary_failure", true)
  ],
  ["AwaitMail", "450 4.7.1 Please try again later", o("unknown", "greylisted", true)],
  ["AwaitMail", "421 4.7.0 mx.example.com Error: too many errors", o("unknown", "service_unavailable", true)],
  ["AwaitMail", "250 2.1.0 Ok", protocolError],
  ["AwaitRset", "500 5.5.2 Error: bad syntax", protocolError],
  ["AwaitRset", "421 4.4.2 mx.example.com Error: timeout exceeded", o("unknown", "service_unavailable", true)],
  ["AwaitQuit", "221 2.0.0 Bye", protocolError]
]

const phases: ReadonlyArray<Phase> = [
  "AwaitGreeting",
  "AwaitEhlo",
  "AwaitHelo",
  "AwaitStartTls",
  "AwaitTlsHandshake",
  "AwaitMail",
  "AwaitRcpt",
  "AwaitProbe",
  "AwaitRset",
  "AwaitVrfy",
  "AwaitQuit",
  "Done"
]

const mailbox = (s: string): Address.Mailbox => Result.getOrThrow(Address.parse(s))

const recipientResult = (
  rcptWire: string | undefined,
  vrfyWire: string | undefined,
  skipped?: SkipReason
): RecipientResult => ({
  mailbox: mailbox("alice@example.com"),
  rcpt: rcptWire === undefined ? Option.none() : Option.some(reply(rcptWire)),
  vrfy: vrfyWire === undefined ? Option.none() : Option.some(reply(vrfyWire)),
  skipped: Option.fromUndefinedOr(skipped)
})

const sessionResult = (recipients: ReadonlyArray<RecipientResult>, end: SessionEnd): SessionResult => ({
  recipients,
  probes: [],
  greeting: Option.none(),
  capabilities: Option.none(),
  tls: { _tag: "Plaintext" },
  end,
  transcript: [],
  parked: Option.none(),
  resets: 0
})

describe("Classify", () => {
  describe("classify at RCPT", () => {
    it("has at least 60 real-world rows", () => {
      assert.isAtLeast(rcpt.length + other.length, 60)
    })
    for (const [wire, expected] of rcpt) {
      it(`${wire.split("\r\n")[0]} -> ${expected.verdict}/${expected.reason}`, () => {
        assert.deepStrictEqual(Classify.classify("AwaitRcpt", reply(wire)), expected)
      })
    }
  })

  describe("classify in other phases", () => {
    for (const [phase, wire, expected] of other) {
      it(`${phase}: ${wire.split("\r\n")[0]} -> ${expected.verdict}/${expected.reason}`, () => {
        assert.deepStrictEqual(Classify.classify(phase, reply(wire)), expected)
      })
    }
  })

  describe("properties", () => {
    const enhanced = fc.option(
      fc
        .tuple(fc.constantFrom(2, 4, 5), fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 999 }))
        .map(([c, s, d]) => `${c}.${s}.${d} `),
      { nil: "" }
    )
    const phrase = fc.constantFrom(...Object.values(Classify.phrases).flat())
    const text = fc.array(fc.oneof(fc.string(), phrase), { maxLength: 4 }).map((words) => words.join(" "))
    const lines = fc.array(
      fc.tuple(enhanced, text).map(([e, t]) => `${e}${t}`),
      { minLength: 1, maxLength: 4 }
    )

    it("no 4xx reply is ever undeliverable, in any phase, and every 4xx is retryable", () => {
      fc.assert(
        fc.property(fc.constantFrom(...phases), fc.integer({ min: 400, max: 499 }), lines, (phase, code, ls) => {
          const outcome = Classify.classify(phase, Reply.make(code, ls))
          assert.notStrictEqual(outcome.verdict, "undeliverable")
          assert.isTrue(outcome.retryable)
        }),
        { numRuns: 2000 }
      )
    })

    it("every reply gets a reason from the closed set; only 4xx are retryable", () => {
      fc.assert(
        fc.property(fc.constantFrom(...phases), fc.integer({ min: 200, max: 599 }), lines, (phase, code, ls) => {
          const r = Reply.make(code, ls)
          const outcome = Classify.classify(phase, r)
          assert.include(Classify.reasons, outcome.reason)
          assert.strictEqual(outcome.retryable, Reply.isTransient(r))
          if (outcome.verdict === "deliverable") assert.isTrue(code === 250 || code === 251)
        }),
        { numRuns: 2000 }
      )
    })
  })

  describe("the same text in other replies (outcomes are remembered per content)", () => {
    // One text, echoing a different mailbox each time: the phase, the code and the enhanced code still decide.
    const cases: ReadonlyArray<readonly [Phase, string, Classify.Outcome]> = [
      ["AwaitRcpt", "550 5.1.1 <a@x.test>: mailbox unavailable", unknownMailbox],
      ["AwaitRcpt", "550 5.7.1 <b@x.test>: mailbox unavailable", blocked],
      ["AwaitRcpt", "550 <c@x.test>: mailbox unavailable", unknownMailbox],
      ["AwaitRcpt", "554 <c@x.test>: mailbox unavailable", blocked],
      ["AwaitRcpt", "552 5.2.2 <d@x.test>: mailbox unavailable", o("risky", "mailbox_full")],
      ["AwaitRcpt", "450 4.1.1 <e@x.test>: mailbox unavailable", o("unknown", "temporary_failure", true)],
      ["AwaitRcpt", "250 2.1.5 <f@x.test>: mailbox unavailable", accepted],
      ["AwaitMail", "550 5.1.1 <g@x.test>: mailbox unavailable", o("unknown", "sender_rejected")],
      ["AwaitVrfy", "550 5.1.1 <h@x.test>: mailbox unavailable", unknownMailbox],
      ["AwaitRcpt", "550 5.1.1 <i@x.test>: Mailbox unavailable, blacklisted", blocked],
      // Remembered by the text as sent (bracketed mailboxes out), read in lower case: other cases, one outcome.
      ["AwaitRcpt", "550 5.1.1 <j@x.test>: MAILBOX UNAVAILABLE, BLACKLISTED", blocked],
      ["AwaitRcpt", "550 5.1.1 <K@X.TEST>: MAILBOX UNAVAILABLE", unknownMailbox],
      ["AwaitRcpt", "550 5.1.1 MAILBOX UNAVAILABLE", unknownMailbox],
      // A bare mailbox, named like a blocklist: left out of the lowered text, which is then the key.
      ["AwaitRcpt", "550 5.1.1 spamhaus@x.test: mailbox unavailable", unknownMailbox],
      ["AwaitRcpt", "550 5.1.1 SPAMHAUS@X.TEST: Mailbox Unavailable", unknownMailbox]
    ]
    const check = (order: ReadonlyArray<(typeof cases)[number]>) => {
      for (const [phase, wire, expected] of order) {
        assert.deepStrictEqual(Classify.classify(phase, reply(wire)), expected, `${phase} ${wire}`)
      }
    }

    it("each by its phase, code and enhanced code, in any order, before and after the memo fills", () => {
      check(cases)
      check(cases.toReversed())
      // More distinct texts than the memo holds: it empties and fills again, the outcomes stay.
      for (let i = 0; i < 5000; i++) {
        assert.deepStrictEqual(
          Classify.classify("AwaitRcpt", reply(`550 5.1.1 no mailbox number ${i}`)),
          unknownMailbox
        )
      }
      check(cases.toReversed())
    })
  })

  describe("isTooManyRecipients", () => {
    const cases: ReadonlyArray<readonly [wire: string, expected: boolean]> = [
      ["452 4.5.3 Error: too many recipients", true],
      ["451 4.5.3 Too many recipients", true],
      ["452 Too many recipients", true],
      ["452 Recipient limit exceeded", true],
      ["451 Too many recipients for this message", true],
      ["452 4.5.3 Your message has too many recipients", true],
      ["452 4.2.2 Mailbox full", false],
      ["452 4.3.1 Insufficient system storage", false],
      ["452 Insufficient system storage", false],
      ["452 4.2.2 Too many recipients, says the text; the code says full", false],
      ["450 4.5.3 Too many recipients", false],
      ["552 5.5.3 Too many recipients", false],
      ["421 4.5.3 Too many recipients", false],
      ["250 2.1.5 Ok", false]
    ]
    for (const [wire, expected] of cases) {
      it(`${wire} -> ${expected}`, () => {
        assert.strictEqual(Classify.isTooManyRecipients(reply(wire)), expected)
      })
    }
  })

  describe("needsVrfy", () => {
    const cases: ReadonlyArray<readonly [wire: string, expected: boolean]> = [
      ["252 2.1.5 Cannot VRFY user, but will accept message and attempt delivery", true],
      [spamhaus, true],
      ["550 5.7.1 Message rejected by policy", true],
      ["450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]", true],
      ["250 2.1.5 Ok", false],
      ["550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in virtual mailbox table", false],
      ["550 5.7.1 Recipient address rejected: user does not exist", false],
      ["554 5.7.1 <x@example.com>: Relay access denied", false],
      ["450 4.2.0 <x@example.com>: Recipient address rejected: Greylisted", false],
      ["452 4.2.2 Mailbox full", false],
      ["502 5.5.1 Error: command not implemented", false]
    ]
    for (const [wire, expected] of cases) {
      it(`${wire} -> ${expected}`, () => {
        assert.strictEqual(Classify.needsVrfy(reply(wire)), expected)
      })
    }
  })

  describe("says", () => {
    const cases: ReadonlyArray<readonly [wire: string, table: keyof typeof Classify.phrases, expected: boolean]> = [
      ["550 5.1.1 User Unknown", "unknownUser", true],
      ["550 5.1.1 Unknown", "unknownUser", false],
      ["550-5.1.1 no such\r\n550 5.1.1 user here", "unknownUser", true],
      ["550 Utilisateur inconnu", "unknownUser", true],
      ["550 5.2.1 Account DEACTIVATED", "disabled", true],
      ["452 4.2.2 Mailbox is FULL", "full", true],
      ["452 4.2.2 Mailbox", "full", false],
      ["554 5.7.1 <x@d>: Relay access denied", "relay", true],
      ["530 5.7.0 Must issue a STARTTLS command first", "tlsRequired", true],
      ["451 Greylisted, please wait", "greylist", true],
      ["450 4.2.1 receiving mail at a rate that", "rateLimit", true],
      ["452 4.5.3 Error: too many recipients", "tooManyRecipients", true],
      ["550 5.7.1 Blocked using Spamhaus", "blocklist", true],
      ["550 5.7.1 Client host rejected: PTR record does not exist", "blocklist", true],
      ["550 5.1.1 user unknown", "blocklist", false],
      ["556 5.1.10 Recipient address has null MX", "nullMx", true],
      ["556 5.1.10", "nullMx", false]
    ]
    for (const [wire, table, expected] of cases) {
      it(`${JSON.stringify(wire)} says ${table} -> ${expected}`, () => {
        assert.strictEqual(Classify.says(reply(wire), table), expected)
      })
    }

    it("is a substring test of the lower-cased text against each phrase (regex characters are literal)", () => {
      const tables = Object.keys(Classify.phrases) as Array<keyof typeof Classify.phrases>
      const piece = fc.oneof(
        fc.constantFrom(...Object.values(Classify.phrases).flat()),
        fc.constantFrom(".", "*", "(", ")", "[", "]", "|", "?", "+", "\\", "^", "$", "{", "}", " "),
        fc.string({ maxLength: 6 })
      )
      fc.assert(
        fc.property(fc.array(piece, { maxLength: 6 }), fc.constantFrom(...tables), (pieces, table) => {
          // Printable, one line: what a parsed reply's text is.
          const text = pieces.join(" ").replace(/[^\x20-\x7e]/g, "x")
          const r = Reply.make(550, [text])
          const lower = Reply.text(r).toLowerCase()
          assert.strictEqual(
            Classify.says(r, table),
            Classify.phrases[table].some((p) => lower.includes(p))
          )
        })
      )
    })

    it("phrases are lower case and every reason in the closed set is distinct", () => {
      for (const list of Object.values(Classify.phrases)) {
        for (const p of list) assert.strictEqual(p, p.toLowerCase())
      }
      assert.strictEqual(new Set(Classify.reasons).size, Classify.reasons.length)
    })
  })

  describe("fromEnd", () => {
    const cases: ReadonlyArray<readonly [end: SessionEnd, expected: Classify.Outcome]> = [
      [{ _tag: "Completed" }, protocolError],
      [
        { _tag: "Rejected", phase: "AwaitGreeting", reply: reply("554 mx.example.com ESMTP not accepting messages") },
        blocked
      ],
      [
        { _tag: "Rejected", phase: "AwaitEhlo", reply: reply("502 5.5.2 Error: command not recognized") },
        protocolError
      ],
      [
        {
          _tag: "Rejected",
          phase: "AwaitMail",
          reply: reply("553 5.1.8 <bounce@verifier.example.net>: Sender address rejected: Domain not found")
        },
        o("unknown", "sender_rejected")
      ],
      [
        { _tag: "Rejected", phase: "AwaitMail", reply: reply("530 5.7.0 Must issue a STARTTLS command first") },
        o("unknown", "tls_required")
      ],
      [{ _tag: "Rejected", phase: "AwaitRcpt", reply: reply("550 5.1.1 User unknown") }, unknownMailbox],
      [
        { _tag: "ServiceClosing", phase: "AwaitRcpt", reply: reply("421 4.7.0 mx.example.com Error: too many errors") },
        o("unknown", "service_unavailable", true)
      ],
      [{ _tag: "Closed", phase: "AwaitGreeting" }, o("unknown", "connection_closed", true)],
      [{ _tag: "TimedOut", phase: "AwaitRcpt" }, o("unknown", "timeout", true)],
      [
        {
          _tag: "ProtocolError",
          phase: "AwaitEhlo",
          error: new RemoteProtocolError({ reason: "MalformedLine", message: "not a reply line" })
        },
        o("unknown", "protocol_error", true)
      ],
      [{ _tag: "TlsUnavailable", reply: Option.none() }, o("unknown", "tls_required")],
      [
        { _tag: "TlsUnavailable", reply: Option.some(reply("454 4.7.0 TLS not available")) },
        o("unknown", "tls_required")
      ],
      [{ _tag: "TlsFailed", message: "certificate has expired" }, o("unknown", "tls_failed", true)]
    ]
    for (const [end, expected] of cases) {
      it(`${end._tag}${"phase" in end ? ` in ${end.phase}` : ""} -> ${expected.reason}`, () => {
        assert.deepStrictEqual(Classify.fromEnd(end), expected)
      })
    }
  })

  describe("recipient", () => {
    const closed: SessionEnd = { _tag: "Closed", phase: "AwaitRcpt" }
    const mailRejected: SessionEnd = { _tag: "Rejected", phase: "AwaitMail", reply: reply(spamhaus) }
    const cases: ReadonlyArray<
      readonly [name: string, recipient: RecipientResult, end: SessionEnd, expected: Classify.Outcome]
    > = [
      ["RCPT 250", recipientResult("250 2.1.5 Ok", undefined), closed, accepted],
      ["RCPT 550 5.1.1", recipientResult("550 5.1.1 User unknown", undefined), closed, unknownMailbox],
      [
        "RCPT 252, VRFY 250: VRFY settles it",
        recipientResult("252 2.1.5 Cannot VRFY user", "250 <alice@example.com>"),
        closed,
        accepted
      ],
      [
        "RCPT 252, VRFY 550 5.1.1: VRFY settles it",
        recipientResult("252 2.1.5 Cannot VRFY user", "550 5.1.1 User unknown"),
        closed,
        unknownMailbox
      ],
      [
        "RCPT 252, VRFY 252: RCPT's answer",
        recipientResult("252 2.1.5 Cannot VRFY user", "252 2.0.0 alice"),
        closed,
        cannotVerify
      ],
      [
        "RCPT 252, VRFY 502: RCPT's answer",
        recipientResult("252 2.1.5 Cannot VRFY user", "502 5.5.1 VRFY command is disabled"),
        closed,
        cannotVerify
      ],
      ["RCPT blocked, VRFY 250", recipientResult(spamhaus, "250 <alice@example.com>"), closed, accepted],
      [
        "RCPT 550 5.1.1, VRFY 250: RCPT settled it",
        recipientResult("550 5.1.1 User unknown", "250 <alice@example.com>"),
        closed,
        unknownMailbox
      ],
      [
        "RCPT 450 greylisted, VRFY 250: RCPT's answer",
        recipientResult("450 4.2.0 Greylisted", "250 <alice@example.com>"),
        closed,
        o("unknown", "greylisted", true)
      ],
      ["no RCPT, VRFY 550", recipientResult(undefined, "550 5.1.1 User unknown"), closed, unknownMailbox],
      [
        "no RCPT, VRFY 252: how the session ended",
        recipientResult(undefined, "252 2.0.0 alice"),
        closed,
        o("unknown", "connection_closed", true)
      ],
      [
        "skipped: SMTPUTF8 unsupported",
        recipientResult(undefined, undefined, "SmtpUtf8Unsupported"),
        { _tag: "Completed" },
        o("unknown", "smtputf8_unsupported")
      ],
      [
        "skipped: too many recipients",
        recipientResult(undefined, undefined, "TooManyRecipients"),
        { _tag: "Completed" },
        o("unknown", "too_many_recipients", true)
      ],
      ["skipped: MAIL rejected", recipientResult(undefined, undefined, "MailRejected"), mailRejected, blocked],
      [
        "never asked, timed out",
        recipientResult(undefined, undefined),
        { _tag: "TimedOut", phase: "AwaitRcpt" },
        o("unknown", "timeout", true)
      ]
    ]
    for (const [name, r, end, expected] of cases) {
      it(`${name}`, () => {
        assert.deepStrictEqual(Classify.recipient(sessionResult([r], end), 0), expected)
      })
    }

    it("an index with no recipient", () => {
      const result = sessionResult([recipientResult("250 2.1.5 Ok", undefined)], closed)
      assert.deepStrictEqual(Classify.recipient(result, 1), protocolError)
      assert.deepStrictEqual(Classify.recipient(result, -1), protocolError)
    })
  })
})
