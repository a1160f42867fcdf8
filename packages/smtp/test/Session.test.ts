import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import * as fc from "fast-check"
import * as Classify from "../src/Classify.ts"
import * as Session from "../src/Session.ts"
import { config, mailbox, rcptCodes, run } from "./helpers.ts"

const verdicts = (r: ReturnType<typeof run>) =>
  r.result.recipients.map((_, i) => {
    const o = Classify.recipient(r.result, i)
    return `${o.verdict}/${o.reason}`
  })

describe("Session: the seeds' exchanges", () => {
  it("Gmail: 250 2.1.5 for an existing mailbox, multi-line 550-5.1.1, 451 temporary", () => {
    const r = run(
      config({ to: ["alice@gmail.com", "nobody@gmail.com", "later@gmail.com"], pipelining: false }),
      `
      S: 220 mx.google.com ESMTP a1-20020a170902b58100b001
      C: EHLO verifier.example.net
      S: 250-mx.google.com at your service, [192.0.2.7]
      S: 250-SIZE 157286400
      S: 250-8BITMIME
      S: 250-ENHANCEDSTATUSCODES
      S: 250 SMTPUTF8
      C: MAIL FROM:<>
      S: 250 2.1.0 OK a1-20020a170902b58100b001 - gsmtp
      C: RCPT TO:<alice@gmail.com>
      S: 250 2.1.5 OK a1-20020a170902b58100b001 - gsmtp
      C: RCPT TO:<nobody@gmail.com>
      S: 550-5.1.1 The email account that you tried to reach does not exist. Please try
      S: 550-5.1.1 double-checking the recipient's email address for typos or
      S: 550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser
      C: RCPT TO:<later@gmail.com>
      S: 451 4.3.0 Mail server temporarily rejected message.
      C: QUIT
      S: 221 2.0.0 closing connection
      `
    )
    assert.deepStrictEqual(rcptCodes(r), [250, 550, 451])
    assert.deepStrictEqual(verdicts(r), [
      "deliverable/accepted",
      "undeliverable/mailbox_unknown",
      "unknown/temporary_failure"
    ])
    assert.strictEqual(r.result.end._tag, "Completed")
    assert.deepStrictEqual(r.actions.slice(-2), ["Close", "Finished"])
    const second = r.result.recipients[1]!.rcpt.pipe(Option.getOrThrow)
    assert.strictEqual(second.lines.length, 3)
  })

  it("ties RCPT lines of the transcript to their recipient", () => {
    const r = run(
      config({ to: ["a@example.com", "b@example.com"], pipelining: false }),
      `
      S: 220 mx ESMTP
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@example.com>
      S: 250 ok
      C: RCPT TO:<b@example.com>
      S: 550 no
      C: QUIT
      S: 221 bye
      `
    )
    const mine = r.result.transcript.filter((e) => e.recipient === 1).map((e) => `${e.direction}: ${e.text}`)
    assert.deepStrictEqual(mine, ["C: RCPT TO:<b@example.com>", "S: 550 no"])
    assert.deepStrictEqual(r.result.transcript[0], { direction: "*", text: "connected" })
  })
})

describe("Session: EHLO and HELO", () => {
  for (const code of [500, 502, 504]) {
    it(`falls back to HELO on ${code}`, () => {
      const r = run(
        config(),
        `
        S: 220 old.example.com SMTP
        C: EHLO verifier.example.net
        S: ${code} command not recognized
        C: HELO verifier.example.net
        S: 250 old.example.com
        C: MAIL FROM:<>
        S: 250 ok
        C: RCPT TO:<alice@example.com>
        S: 250 ok
        C: QUIT
        S: 221 bye
        `
      )
      assert.deepStrictEqual(rcptCodes(r), [250])
      assert.deepStrictEqual(
        Option.map(r.result.capabilities, (c) => c.pipelining),
        Option.some(false)
      )
    })
  }

  it("ends when HELO is refused too", () => {
    const r = run(
      config(),
      `
      S: 220 old.example.com SMTP
      C: EHLO verifier.example.net
      S: 502 no
      C: HELO verifier.example.net
      S: 550 go away
      C: QUIT
      S: 221 bye
      `
    )
    assert.strictEqual(r.result.end._tag, "Rejected")
    assert.deepStrictEqual(verdicts(r), ["unknown/protocol_error"])
  })

  it("ends when EHLO is refused with a policy reply", () => {
    const r = run(
      config(),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 550 5.7.1 Your HELO name is not welcome here
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(verdicts(r), ["unknown/blocked"])
  })
})

describe("Session: greeting", () => {
  it("554 greeting: QUIT, no MAIL", () => {
    const r = run(
      config(),
      `
      S: 554 5.7.1 mx.example.com: your IP is listed at zen.spamhaus.org
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(verdicts(r), ["unknown/blocked"])
    assert.isTrue(Option.isSome(r.result.greeting))
  })

  it("421 greeting: closes without QUIT", () => {
    const r = run(config(), `S: 421 4.3.2 Service not available, try later`)
    assert.strictEqual(r.result.end._tag, "ServiceClosing")
    assert.deepStrictEqual(verdicts(r), ["unknown/service_unavailable"])
    assert.isTrue(Classify.recipient(r.result, 0).retryable)
  })

  it("greeting never sent: timeout in AwaitGreeting", () => {
    const r = run(config(), `* timeout`)
    assert.deepStrictEqual(r.result.end, { _tag: "TimedOut", phase: "AwaitGreeting" })
    assert.deepStrictEqual(verdicts(r), ["unknown/timeout"])
  })
})

describe("Session: STARTTLS", () => {
  const tlsScript = `
    S: 220 mx.example.com ESMTP
    C: EHLO verifier.example.net
    S: 250-mx.example.com
    S: 250-PIPELINING
    S: 250 STARTTLS
    C: STARTTLS
    S: 220 2.0.0 Ready to start TLS
    * tls
    C: EHLO verifier.example.net
    S: 250-mx.example.com
    S: 250 PIPELINING
    C: MAIL FROM:<>
    C: RCPT TO:<alice@example.com>
    S: 250 2.1.0 Ok
    S: 250 2.1.5 Ok
    C: QUIT
    S: 221 2.0.0 Bye
  `

  it("upgrades, forgets the capabilities and says EHLO again", () => {
    const r = run(config(), tlsScript)
    assert.strictEqual(r.result.tls._tag, "Established")
    assert.include(r.actions, "UpgradeTls")
    assert.deepStrictEqual(
      Option.map(r.result.capabilities, (c) => c.starttls),
      Option.some(false),
      "capabilities are those of the second EHLO"
    )
    assert.deepStrictEqual(rcptCodes(r), [250])
    assert.isTrue(r.result.transcript.some((e) => e.text.includes("certificate not verified: SELF_SIGNED")))
  })

  it("required mode works the same when offered", () => {
    const r = run(config({ tls: "required" }), tlsScript)
    assert.deepStrictEqual(rcptCodes(r), [250])
  })

  it("off: never sends STARTTLS", () => {
    const r = run(
      config({ tls: "off" }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 STARTTLS
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<alice@example.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.strictEqual(r.result.tls._tag, "Plaintext")
  })

  it("required and not offered: QUIT before MAIL", () => {
    const r = run(
      config({ tls: "required" }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(r.result.end, { _tag: "TlsUnavailable", reply: Option.none() })
    assert.deepStrictEqual(verdicts(r), ["unknown/tls_required"])
  })

  it("opportunistic: a 454 to STARTTLS goes on in plaintext", () => {
    const r = run(
      config(),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 STARTTLS
      C: STARTTLS
      S: 454 4.7.0 TLS not available due to local problem
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<alice@example.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(rcptCodes(r), [250])
  })

  it("required: a 454 to STARTTLS ends the session", () => {
    const r = run(
      config({ tls: "required" }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 STARTTLS
      C: STARTTLS
      S: 454 4.7.0 TLS not available
      C: QUIT
      S: 221 bye
      `
    )
    assert.strictEqual(r.result.end._tag, "TlsUnavailable")
  })

  it("discards plaintext injected after the 220 (RFC 3207 §6)", () => {
    const r = run(
      config(),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 STARTTLS
      C: STARTTLS
      S: 220 go ahead
      S: 250 injected
      * tls
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<alice@example.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.isTrue(r.result.transcript.some((e) => e.text === "discarded plaintext sent before TLS"))
    assert.deepStrictEqual(rcptCodes(r), [250])
  })

  it("a failed handshake ends the session with TlsFailed", () => {
    const r = run(
      config(),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 STARTTLS
      C: STARTTLS
      S: 220 go ahead
      * tls-fail
      `
    )
    assert.strictEqual(r.result.tls._tag, "Failed")
    assert.deepStrictEqual(verdicts(r), ["unknown/tls_failed"])
  })

  it("a handshake that stalls times out in AwaitTlsHandshake", () => {
    const r = run(
      config(),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 STARTTLS
      C: STARTTLS
      S: 220 go ahead
      * timeout
      `
    )
    assert.deepStrictEqual(r.result.end, { _tag: "TimedOut", phase: "AwaitTlsHandshake" })
  })
})

describe("Session: pipelining (RFC 2920)", () => {
  it("sends MAIL and every RCPT in one write, reads replies from one packet", () => {
    const r = run(
      config({ to: ["a@example.com", "b@example.com", "c@example.com"] }),
      `
      S: 220 mx ESMTP Postfix
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250-PIPELINING
      S: 250 ENHANCEDSTATUSCODES
      C: MAIL FROM:<>
      C: RCPT TO:<a@example.com>
      C: RCPT TO:<b@example.com>
      C: RCPT TO:<c@example.com>
      S: 250 2.1.0 Ok
      S: 250 2.1.5 Ok
      S: 550 5.1.1 <b@example.com>: Recipient address rejected: User unknown in virtual mailbox table
      S: 250 2.1.5 Ok
      C: QUIT
      S: 221 2.0.0 Bye
      `
    )
    assert.deepStrictEqual(r.writes[1], [
      "MAIL FROM:<>",
      "RCPT TO:<a@example.com>",
      "RCPT TO:<b@example.com>",
      "RCPT TO:<c@example.com>"
    ])
    assert.deepStrictEqual(rcptCodes(r), [250, 550, 250])
  })

  it("groups RCPTs by maxPipeline", () => {
    const r = run(
      config({ to: ["a@x.com", "b@x.com", "c@x.com"], maxPipeline: 2 }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@x.com>
      S: 250 ok
      S: 250 ok
      S: 250 ok
      C: RCPT TO:<c@x.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(
      r.writes.map((w) => w.length),
      [1, 3, 1, 1]
    )
  })

  it("replies arriving byte by byte give the same outcome", () => {
    const cfg = config({ to: ["a@x.com", "b@x.com"] })
    const server = ["220 mx", "250-mx\r\n250 PIPELINING", "250 ok\r\n250 ok\r\n550 5.1.1 no", "221 bye"]
    const encoder = new TextEncoder()
    let s = Session.make(cfg)
    let finished: Session.SessionResult | undefined
    for (const packet of server) {
      for (const byte of encoder.encode(`${packet}\r\n`)) {
        const step = Session.step(s, Session.Input.Received({ bytes: Uint8Array.of(byte) }))
        s = step.state
        for (const a of step.actions) if (a._tag === "Finished") finished = a.result
      }
    }
    assert.isDefined(finished)
    assert.deepStrictEqual(
      finished!.recipients.map((x) => Option.getOrUndefined(x.rcpt)?.code),
      [250, 550]
    )
  })

  it("MAIL refused: the pipelined RCPT replies are read and ignored", () => {
    const r = run(
      config({ to: ["a@x.com", "b@x.com"] }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@x.com>
      S: 550 5.7.1 Sender address rejected: null sender not accepted
      S: 503 5.5.1 Error: need MAIL command
      S: 503 5.5.1 Error: need MAIL command
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(rcptCodes(r), [undefined, undefined])
    assert.deepStrictEqual(verdicts(r), ["unknown/blocked", "unknown/blocked"])
    assert.deepStrictEqual(
      r.result.recipients.map((x) => x.skipped),
      [Option.some("MailRejected"), Option.some("MailRejected")]
    )
  })

  it("the configuration can refuse pipelining even when offered", () => {
    const r = run(
      config({ pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<alice@example.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.strictEqual(r.writes[1]!.length, 1)
  })
})

describe("Session: 452 too many recipients", () => {
  it("RSET and a new transaction for the rest (a full transaction is not asked again)", () => {
    const r = run(
      config({ to: ["a@x.com", "b@x.com", "c@x.com"], pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 250 ok
      C: RCPT TO:<b@x.com>
      S: 452 4.5.3 Error: too many recipients
      C: RSET
      S: 250 2.0.0 Ok
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<b@x.com>
      S: 550 5.1.1 unknown
      C: RCPT TO:<c@x.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(rcptCodes(r), [250, 550, 250])
  })

  it("452 4.2.2 is a full mailbox, not a limit", () => {
    const r = run(
      config({ pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<alice@example.com>
      S: 452 4.2.2 Mailbox full
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(verdicts(r), ["risky/mailbox_full"])
  })

  it("a transaction that takes no recipient at all is not retried forever", () => {
    const r = run(
      config({ pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<alice@example.com>
      S: 452 4.5.3 Too many recipients
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(verdicts(r), ["unknown/too_many_recipients"])
    assert.isTrue(Classify.recipient(r.result, 0).retryable)
  })

  it("a transaction that takes none, with recipients still queued: no RSET round after round", () => {
    const r = run(
      config({ to: ["a@x.com", "b@x.com"], pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 452 4.5.3 Too many recipients
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(verdicts(r), ["unknown/too_many_recipients", "unknown/too_many_recipients"])
  })

  it("RSET refused ends the session", () => {
    const r = run(
      config({ to: ["a@x.com", "b@x.com"], pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 250 ok
      C: RCPT TO:<b@x.com>
      S: 452 4.5.3 too many recipients
      C: RSET
      S: 500 no
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(rcptCodes(r), [250, undefined])
    assert.strictEqual(r.result.end._tag, "Rejected")
  })
})

describe("Session: 421 and early close never lose an outcome", () => {
  it("421 mid-session keeps the replies already obtained", () => {
    const r = run(
      config({ to: ["a@x.com", "b@x.com", "c@x.com"], pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 550 5.1.1 unknown
      C: RCPT TO:<b@x.com>
      S: 421 4.7.0 mx Error: too many errors
      `
    )
    assert.deepStrictEqual(verdicts(r), [
      "undeliverable/mailbox_unknown",
      "unknown/service_unavailable",
      "unknown/service_unavailable"
    ])
    assert.deepStrictEqual(r.actions.slice(-2), ["Close", "Finished"])
  })

  it("pipelined: Postfix's hard error limit cuts the group short", () => {
    const to = Array.from({ length: 4 }, (_, i) => `u${i}@x.com`)
    const r = run(
      config({ to }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<u0@x.com>
      C: RCPT TO:<u1@x.com>
      C: RCPT TO:<u2@x.com>
      C: RCPT TO:<u3@x.com>
      S: 250 ok
      S: 550 5.1.1 unknown
      S: 550 5.1.1 unknown
      S: 421 4.7.0 Error: too many errors
      * close
      `
    )
    assert.deepStrictEqual(rcptCodes(r), [550, 550, undefined, undefined])
    assert.strictEqual(r.result.end._tag, "ServiceClosing")
  })

  it("server closing after MAIL", () => {
    const r = run(
      config({ pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<alice@example.com>
      * close
      `
    )
    assert.deepStrictEqual(r.result.end, { _tag: "Closed", phase: "AwaitRcpt" })
    assert.deepStrictEqual(verdicts(r), ["unknown/connection_closed"])
  })

  it("a QUIT that never gets its 221 keeps every verdict", () => {
    for (const ending of ["* close", "* timeout", "S: 500 what"]) {
      const r = run(
        config({ pipelining: false }),
        `
        S: 220 mx
        C: EHLO verifier.example.net
        S: 250 mx
        C: MAIL FROM:<>
        S: 250 ok
        C: RCPT TO:<alice@example.com>
        S: 250 ok
        C: QUIT
        ${ending}
        `
      )
      assert.strictEqual(r.result.end._tag, "Completed", ending)
      assert.deepStrictEqual(verdicts(r), ["deliverable/accepted"], ending)
    }
  })

  it("an unsolicited 421 after QUIT's reply is not needed", () => {
    const s = Session.make(config())
    const step = Session.step(s, Session.Input.Received({ bytes: new TextEncoder().encode("220 mx\r\n421 bye\r\n") }))
    const finished = step.actions.find((a) => a._tag === "Finished")
    assert.isDefined(finished)
    assert.strictEqual(step.state.done, true)
  })

  it("garbage is a protocol error with the phase it came in", () => {
    const r = run(
      config(),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: hello there
      `
    )
    assert.strictEqual(r.result.end._tag, "ProtocolError")
    assert.deepStrictEqual(verdicts(r), ["unknown/protocol_error"])
  })

  it("a finished session ignores further input", () => {
    const r = run(config(), `S: 421 bye`)
    const again = Session.step(r.state, Session.Input.Received({ bytes: new TextEncoder().encode("250 ok\r\n") }))
    assert.deepStrictEqual(again.actions, [])
    assert.strictEqual(Session.phase(r.state), "Done")
    assert.isTrue(Session.isDone(r.state))
  })
})

describe("Session: catch-all probe", () => {
  it("probes after the real RCPT, in the same transaction", () => {
    const r = run(
      config({ probes: [mailbox("x7k2q9zz@example.com")], pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<alice@example.com>
      S: 250 ok
      C: RCPT TO:<x7k2q9zz@example.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.strictEqual(r.result.probes[0]!.result._tag, "Answered")
  })

  it("skips the probe when no real recipient was accepted", () => {
    const r = run(
      config({ probes: [mailbox("x7k2q9zz@example.com")], pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<alice@example.com>
      S: 550 5.1.1 unknown
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(r.result.probes[0]!.result, { _tag: "NotNeeded" })
  })

  it("a session that ends early reports the probe as not done", () => {
    const r = run(config({ probes: [mailbox("x7k2q9zz@example.com")] }), `* timeout`)
    assert.deepStrictEqual(r.result.probes[0]!.result, { _tag: "NotNeeded" })
  })
})

describe("Session: several domains, one probe each", () => {
  it("probes only the domains that accepted a real recipient", () => {
    const r = run(
      config({
        to: ["alice@one.test", "bob@two.test"],
        probes: [mailbox("zq9probe@one.test"), mailbox("zq9probe@two.test")],
        pipelining: false
      }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<alice@one.test>
      S: 550 5.1.1 unknown
      C: RCPT TO:<bob@two.test>
      S: 250 ok
      C: RCPT TO:<zq9probe@two.test>
      S: 550 5.1.1 unknown
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(
      r.result.probes.map((p) => [p.mailbox.address, p.result._tag]),
      [
        ["zq9probe@one.test", "NotNeeded"],
        ["zq9probe@two.test", "Answered"]
      ]
    )
  })

  it("sends each domain's probe, in order, after the real recipients", () => {
    const r = run(
      config({
        to: ["alice@one.test", "bob@two.test"],
        probes: [mailbox("zq9probe@one.test"), mailbox("zq9probe@two.test")],
        pipelining: false
      }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<alice@one.test>
      S: 250 ok
      C: RCPT TO:<bob@two.test>
      S: 250 ok
      C: RCPT TO:<zq9probe@one.test>
      S: 250 ok
      C: RCPT TO:<zq9probe@two.test>
      S: 550 5.1.1 unknown
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(
      r.result.probes.map((p) => (p.result._tag === "Answered" ? p.result.reply.code : p.result._tag)),
      [250, 550]
    )
  })
})

describe("Session: probes and the rejection cap", () => {
  const three = (maxErrors: number | undefined) =>
    run(
      config({
        to: ["alice@one.test", "bob@two.test", "carol@three.test"],
        probes: [mailbox("zq9probe@one.test"), mailbox("zq9probe@two.test"), mailbox("zq9probe@three.test")],
        pipelining: false,
        maxErrors
      }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<alice@one.test>
      S: 250 ok
      C: RCPT TO:<bob@two.test>
      S: 250 ok
      C: RCPT TO:<carol@three.test>
      S: 550 5.1.1 unknown
      C: RCPT TO:<zq9probe@one.test>
      S: 550 5.1.1 unknown
      ${maxErrors === undefined ? "C: RCPT TO:<zq9probe@two.test>\n      S: 550 5.1.1 unknown" : ""}
      C: QUIT
      S: 221 bye
      `
    )
  const tags = (r: ReturnType<typeof three>) => r.result.probes.map((p) => p.result._tag)

  it("a refused probe is an error like a refused recipient: at the cap, the next probe is postponed", () => {
    const r = three(2)
    assert.deepStrictEqual(tags(r), ["Answered", "Postponed", "NotNeeded"])
    assert.notInclude(r.writes.flat(), "RCPT TO:<zq9probe@two.test>")
  })

  it("with no cap, every probe due is asked", () => {
    assert.deepStrictEqual(tags(three(undefined)), ["Answered", "Answered", "NotNeeded"])
  })
})

describe("Session: VRFY fallback", () => {
  const withVrfy = (vrfyReply: string) =>
    run(
      config({ vrfy: "fallback", pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<alice@example.com>
      S: 252 2.1.5 Cannot verify
      C: VRFY alice@example.com
      S: ${vrfyReply}
      C: QUIT
      S: 221 bye
      `
    )

  it("VRFY 250 settles a 252", () =>
    assert.deepStrictEqual(verdicts(withVrfy("250 2.1.5 <alice@example.com>")), ["deliverable/accepted"]))
  it("VRFY 550 settles a 252", () =>
    assert.deepStrictEqual(verdicts(withVrfy("550 5.1.1 unknown")), ["undeliverable/mailbox_unknown"]))
  it("VRFY 252 settles nothing", () =>
    assert.deepStrictEqual(verdicts(withVrfy("252 2.0.0 alice")), ["unknown/cannot_verify"]))
  it("VRFY 502 settles nothing", () =>
    assert.deepStrictEqual(verdicts(withVrfy("502 5.5.1 VRFY command is disabled")), ["unknown/cannot_verify"]))

  it("502 stops further VRFYs; maxVrfy bounds them", () => {
    const to = ["a@x.com", "b@x.com", "c@x.com"]
    const r = run(
      config({ to, vrfy: "fallback", pipelining: false, maxVrfy: 2 }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 252 maybe
      C: RCPT TO:<b@x.com>
      S: 252 maybe
      C: RCPT TO:<c@x.com>
      S: 252 maybe
      C: VRFY a@x.com
      S: 250 ok
      C: VRFY b@x.com
      S: 550 no
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(verdicts(r), [
      "deliverable/accepted",
      "undeliverable/mailbox_unknown",
      "unknown/cannot_verify"
    ])
  })

  it("VRFY after a refused MAIL", () => {
    const r = run(
      config({ vrfy: "fallback", pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 553 5.7.1 null sender refused
      C: VRFY alice@example.com
      S: 250 alice
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(verdicts(r), ["deliverable/accepted"])
  })
})

describe("Session: SMTPUTF8 (RFC 6531)", () => {
  it("adds SMTPUTF8 to MAIL when a recipient needs it and the server offers it", () => {
    const r = run(
      config({ to: ["用户@example.com"], pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 SMTPUTF8
      C: MAIL FROM:<> SMTPUTF8
      S: 250 ok
      C: RCPT TO:<用户@example.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(rcptCodes(r), [250])
  })

  it("never sends a non-ASCII mailbox to a server without SMTPUTF8", () => {
    const r = run(
      config({ to: ["用户@example.com", "bob@example.com"], pipelining: false }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<bob@example.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(verdicts(r), ["unknown/smtputf8_unsupported", "deliverable/accepted"])
  })

  it("all recipients unsendable: no transaction at all", () => {
    const r = run(
      config({ to: ["用户@example.com"] }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(verdicts(r), ["unknown/smtputf8_unsupported"])
  })
})

describe("Session: config and phases", () => {
  it("refuses configs no session could use", () => {
    assert.throws(() => Session.make(config({ to: [] })))
    assert.throws(() => Session.make(config({ clientName: "bad name\r\nDATA" })))
    assert.throws(() => Session.make(config({ mailFrom: "a@b.com>\r\nRCPT TO:<x@y.com" })))
    assert.throws(() => Session.make(config({ maxPipeline: 0 })))
  })

  it("phase names what the machine waits for", () => {
    let s = Session.make(config())
    assert.strictEqual(Session.phase(s), "AwaitGreeting")
    s = Session.step(s, Session.Input.Received({ bytes: new TextEncoder().encode("220 mx\r\n") })).state
    assert.strictEqual(Session.phase(s), "AwaitEhlo")
  })

  it("a TLS event outside a handshake is ignored", () => {
    const s = Session.make(config())
    const step = Session.step(
      s,
      Session.Input.TlsEstablished({
        info: { protocol: "x", cipher: "y", authorized: true, authorizationError: Option.none() }
      })
    )
    assert.deepStrictEqual(step.actions, [])
    assert.strictEqual(step.state.tls._tag, "Plaintext")
  })

  it("any chunking of the server's turns gives the same result (property)", () => {
    // Each turn is what the server says after one write of ours; it may arrive in any pieces.
    const turns = [
      "220 mx\r\n",
      "250-mx\r\n250 PIPELINING\r\n",
      "250 ok\r\n250 ok\r\n550-5.1.1 a\r\n550 5.1.1 b\r\n",
      "221 bye\r\n"
    ].map((t) => new TextEncoder().encode(t))
    const cutsFor = (bytes: Uint8Array) => fc.array(fc.integer({ min: 1, max: bytes.length }), { maxLength: 6 })
    fc.assert(
      fc.property(fc.tuple(...turns.map(cutsFor)), (allCuts) => {
        let s = Session.make(config({ to: ["a@x.com", "b@x.com"] }))
        let result: Session.SessionResult | undefined
        turns.forEach((bytes, t) => {
          const points = [...new Set(allCuts[t])].sort((a, b) => a - b)
          let last = 0
          for (const p of [...points, bytes.length]) {
            const step = Session.step(s, Session.Input.Received({ bytes: bytes.subarray(last, p) }))
            s = step.state
            last = p
            for (const a of step.actions) if (a._tag === "Finished") result = a.result
          }
        })
        return (
          result !== undefined && result.recipients.map((r) => Option.getOrUndefined(r.rcpt)?.code).join() === "250,550"
        )
      }),
      { numRuns: 300 }
    )
  })

  it("a reply already received when a command goes out is not taken as its answer", () => {
    const r = run(
      config({ to: ["bob@example.com"] }),
      `
      S: 220 mx ESMTP
      S: 220 mx again
      C: EHLO verifier.example.net
      `
    )
    assert.strictEqual(r.result.end._tag, "ProtocolError")
    assert.deepStrictEqual(verdicts(r), ["unknown/protocol_error"])
  })

  it("a 421 may come early: the server is closing", () => {
    const r = run(
      config({ to: ["bob@example.com"] }),
      `
      S: 220 mx ESMTP
      S: 421 4.3.2 shutting down
      C: EHLO verifier.example.net
      `
    )
    assert.strictEqual(r.result.end._tag, "ServiceClosing")
  })
})

describe("Session: server limits", () => {
  it("maxErrors: after that many rejections the rest is postponed to a new session", () => {
    const r = run(
      config({ to: ["a@x.com", "b@x.com", "c@x.com"], pipelining: false, maxErrors: 2 }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 550 5.1.1 unknown
      C: RCPT TO:<b@x.com>
      S: 550 5.1.1 unknown
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(
      r.result.recipients.map((x) => x.skipped),
      [Option.none(), Option.none(), Option.some("Postponed")]
    )
    assert.deepStrictEqual(verdicts(r), [
      "undeliverable/mailbox_unknown",
      "undeliverable/mailbox_unknown",
      "unknown/temporary_failure"
    ])
  })

  it("maxErrors bounds a pipelined group: never more RCPTs in flight than rejections still allowed", () => {
    const r = run(
      config({ to: ["a@x.com", "b@x.com", "c@x.com", "d@x.com"], maxPipeline: 10, maxErrors: 2 }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@x.com>
      S: 250 ok
      S: 550 5.1.1 unknown
      S: 250 ok
      C: RCPT TO:<c@x.com>
      S: 550 5.1.1 unknown
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(r.writes[1], ["MAIL FROM:<>", "RCPT TO:<a@x.com>", "RCPT TO:<b@x.com>"])
    assert.deepStrictEqual(
      r.result.recipients.map((x) => x.skipped),
      [Option.none(), Option.none(), Option.none(), Option.some("Postponed")]
    )
  })

  it("careful: past afterErrors rejections, that many RCPTs per write; no group crosses the point", () => {
    const to = ["a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com"]
    const r = run(
      config({ to, maxPipeline: 10, maxErrors: 100, careful: { afterErrors: 2, pipeline: 1 } }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@x.com>
      S: 250 ok
      S: 550 5.1.1 unknown
      S: 550 5.1.1 unknown
      C: RCPT TO:<c@x.com>
      S: 550 5.1.1 unknown
      C: RCPT TO:<d@x.com>
      S: 250 ok
      C: RCPT TO:<e@x.com>
      S: 550 5.1.1 unknown
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(
      r.writes.map((w) => w.length),
      [1, 3, 1, 1, 1, 1]
    )
    assert.deepStrictEqual(rcptCodes(r), [550, 550, 550, 250, 550])
  })

  it("careful with growth: past the point, each write a share of the rejections taken quietly past it", () => {
    const to = "abcdefghijkl".split("").map((l) => `${l}@x.com`)
    const r = run(
      config({ to, maxPipeline: 10, maxErrors: 100, careful: { afterErrors: 2, pipeline: 1, growth: 0.5 } }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@x.com>
      S: 250 ok
      S: 550 5.1.1 unknown
      S: 550 5.1.1 unknown
      C: RCPT TO:<c@x.com>
      S: 550 5.1.1 unknown
      C: RCPT TO:<d@x.com>
      S: 550 5.1.1 unknown
      C: RCPT TO:<e@x.com>
      S: 550 5.1.1 unknown
      C: RCPT TO:<f@x.com>
      S: 550 5.1.1 unknown
      C: RCPT TO:<g@x.com>
      C: RCPT TO:<h@x.com>
      S: 550 5.1.1 unknown
      S: 550 5.1.1 unknown
      C: RCPT TO:<i@x.com>
      C: RCPT TO:<j@x.com>
      C: RCPT TO:<k@x.com>
      S: 550 5.1.1 unknown
      S: 550 5.1.1 unknown
      S: 550 5.1.1 unknown
      C: RCPT TO:<l@x.com>
      S: 550 5.1.1 unknown
      C: QUIT
      S: 221 bye
      `
    )
    // 2 past the point: 1 at a time until floor((errors - 2) / 2) reaches 2, then 2; as g's and h's
    // replies come (one packet), i goes once g's is in and j, k once h's is (3 unanswered at most).
    assert.deepStrictEqual(
      r.writes.map((w) => w.length),
      [1, 3, 1, 1, 1, 1, 2, 1, 2, 1, 1]
    )
    assert.strictEqual(rcptCodes(r).length, 12)
  })

  it("careful: on a server that accepts, groups grow with the accepted (not held to afterErrors a write)", () => {
    const to = ["a", "b", "c", "d", "e", "f", "g", "h"].map((l) => `${l}@x.com`)
    const r = run(
      config({ to, maxPipeline: 10, maxErrors: 100, careful: { afterErrors: 2, pipeline: 1 } }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@x.com>
      S: 250 ok
      S: 250 ok
      S: 250 ok
      C: RCPT TO:<c@x.com>
      C: RCPT TO:<d@x.com>
      C: RCPT TO:<e@x.com>
      S: 250 ok
      S: 250 ok
      S: 250 ok
      C: RCPT TO:<f@x.com>
      C: RCPT TO:<g@x.com>
      C: RCPT TO:<h@x.com>
      S: 250 ok
      S: 250 ok
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    // Two RCPTs (the careful point, nothing answered yet); once a's 250 is in, 2 * 2 / 1 = 4 may
    // be in flight: c, d and e go out before b's reply is read; after c's, 2 * 4 / 1 = 8, the rest.
    assert.deepStrictEqual(
      r.writes.map((w) => w.length),
      [1, 3, 3, 3, 1]
    )
    assert.deepStrictEqual(rcptCodes(r), [250, 250, 250, 250, 250, 250, 250, 250])
  })

  it("quitEarly: QUIT in the write of a group after which, all refused, nothing would follow", () => {
    const to = ["a@x.com", "b@x.com", "c@x.com"]
    const refused = run(
      config({ to, maxErrors: 2, quitEarly: true }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@x.com>
      C: QUIT
      S: 250 ok
      S: 550 5.1.1 unknown
      S: 550 5.1.1 unknown
      S: 221 bye
      `
    )
    assert.deepStrictEqual(
      refused.result.recipients.map((x) => x.skipped),
      [Option.none(), Option.none(), Option.some("Postponed")]
    )
    assert.strictEqual(refused.result.end._tag, "Completed")
    // The guess fails: a is accepted; b is answered, c waits for a new session.
    const accepted = run(
      config({ to, maxErrors: 2, quitEarly: true }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@x.com>
      C: QUIT
      S: 250 ok
      S: 250 ok
      S: 550 5.1.1 unknown
      S: 221 bye
      `
    )
    assert.deepStrictEqual(rcptCodes(accepted), [250, 550, undefined])
    assert.deepStrictEqual(
      accepted.result.recipients.map((x) => x.skipped),
      [Option.none(), Option.none(), Option.some("Postponed")]
    )
    // The last group of the queue, nothing accepted yet and no probe pending: QUIT goes with it.
    const last = run(
      config({ to: ["a@x.com"], quitEarly: true }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: QUIT
      S: 250 ok
      S: 250 ok
      S: 221 bye
      `
    )
    assert.deepStrictEqual(rcptCodes(last), [250])
  })

  it("quitEarly waits while a probe may be needed, and without PIPELINING", () => {
    const probe = run(
      config({ to: ["a@x.com"], quitEarly: true, probes: [mailbox("zq9probe@x.com")] }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      S: 250 ok
      S: 250 ok
      C: RCPT TO:<zq9probe@x.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.strictEqual(probe.result.probes[0]!.result._tag, "Answered")
    const plain = run(
      config({ to: ["a@x.com"], quitEarly: true }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 550 5.1.1 unknown
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(rcptCodes(plain), [550])
  })

  it("maxRecipientsPerTransaction: RSET and a new transaction before the server's limit, same session", () => {
    const r = run(
      config({ to: ["a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com"], maxRecipientsPerTransaction: 2 }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@x.com>
      S: 250 ok
      S: 250 ok
      S: 250 ok
      C: RSET
      S: 250 ok
      C: MAIL FROM:<>
      C: RCPT TO:<c@x.com>
      C: RCPT TO:<d@x.com>
      S: 250 ok
      S: 250 ok
      S: 250 ok
      C: RSET
      S: 250 ok
      C: MAIL FROM:<>
      C: RCPT TO:<e@x.com>
      S: 250 ok
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(rcptCodes(r), [250, 250, 250, 250, 250])
  })

  /** A session stepped by hand, as a driver would: `feed` gives it what the server sent. */
  const byHand = (cfg: Session.Config) => {
    const hand = {
      state: Session.step(Session.make(cfg), Session.Input.Connected()).state,
      feed: (text: string) => {
        const step = Session.step(hand.state, Session.Input.Received({ bytes: new TextEncoder().encode(text) }))
        hand.state = step.state
        return step.actions
      }
    }
    return hand
  }

  it("lowerMaxErrors: the recipients not yet sent are postponed once the lower cap is reached", () => {
    const hand = byHand(config({ to: ["a@x.com", "b@x.com", "c@x.com"], pipelining: false, maxErrors: 50 }))
    hand.feed("220 mx\r\n")
    hand.feed("250 mx\r\n")
    hand.feed("250 ok\r\n")
    hand.feed("550 5.1.1 unknown\r\n")
    // A driver saw that reply come a second late: no more rejections in this session.
    hand.state = Session.lowerMaxErrors(hand.state, 1)
    assert.strictEqual(Session.lowerMaxErrors(hand.state, 5), hand.state)
    hand.feed("550 5.1.1 unknown\r\n")
    assert.strictEqual(Session.phase(hand.state), "AwaitQuit")
    assert.deepStrictEqual(
      Session.result(hand.state).recipients.map((x) => x.skipped),
      [Option.none(), Option.none(), Option.some("Postponed")]
    )
  })

  it("abandon: the session ends at once, Closed where it stood, no QUIT, the RCPTs in flight unanswered", () => {
    const hand = byHand(config({ to: ["a@x.com", "b@x.com", "c@x.com", "d@x.com"], maxPipeline: 10 }))
    hand.feed("220 mx\r\n")
    hand.feed("250-mx\r\n250 PIPELINING\r\n")
    // MAIL and the four RCPTs are out; MAIL and a are answered, b, c, d in flight.
    hand.feed("250 ok\r\n550 5.1.1 unknown\r\n")
    assert.strictEqual(hand.state.inFlight, 3)
    const left = Session.abandon(hand.state, "replies slowed down after 1 rejections")
    assert.deepStrictEqual(
      left.actions.map((a) => a._tag),
      ["Close", "Finished"]
    )
    const finished = left.actions.find((a) => a._tag === "Finished")
    assert.isTrue(finished !== undefined && finished._tag === "Finished")
    if (finished?._tag !== "Finished") return
    assert.deepStrictEqual(finished.result.end, { _tag: "Closed", phase: "AwaitRcpt" })
    assert.deepStrictEqual(
      finished.result.recipients.map((r) => Option.getOrUndefined(Option.map(r.rcpt, (x) => x.code))),
      [550, undefined, undefined, undefined]
    )
    assert.isTrue(finished.result.transcript.some((e) => e.text.includes("leaving: replies slowed down")))
    assert.isTrue(Session.isDone(left.state))
    // A finished session is left as it is.
    assert.deepStrictEqual(Session.abandon(left.state, "again").actions, [])
  })

  it("a catch-all probe refused for a full transaction goes again after RSET, alone", () => {
    const r = run(
      config({ to: ["a@x.com"], pipelining: false, probes: [mailbox("zq9probe@x.com")] }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 250 ok
      C: RCPT TO:<zq9probe@x.com>
      S: 452 4.5.3 Error: too many recipients
      C: RSET
      S: 250 ok
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<zq9probe@x.com>
      S: 550 5.1.1 unknown
      C: QUIT
      S: 221 bye
      `
    )
    assert.strictEqual(r.result.probes[0]!.result._tag, "Answered")
    assert.deepStrictEqual(rcptCodes(r), [250])
    if (r.result.probes[0]!.result._tag === "Answered") assert.strictEqual(r.result.probes[0]!.result.reply.code, 550)
  })

  it("the probe goes again only once", () => {
    const r = run(
      config({ to: ["a@x.com"], pipelining: false, probes: [mailbox("zq9probe@x.com")] }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 250 ok
      C: RCPT TO:<zq9probe@x.com>
      S: 452 4.5.3 Error: too many recipients
      C: RSET
      S: 250 ok
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<zq9probe@x.com>
      S: 452 4.5.3 Error: too many recipients
      C: QUIT
      S: 221 bye
      `
    )
    assert.strictEqual(r.result.probes[0]!.result._tag, "Answered")
  })
})
