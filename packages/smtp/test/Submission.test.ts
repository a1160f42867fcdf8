import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import * as Submission from "../src/Submission.ts"
import {
  body,
  bye,
  config,
  hmacMd5,
  opening,
  message,
  outcomes,
  rcptCodes,
  run,
  tlsOpening,
  transcript
} from "./submissionHelpers.ts"

const password = (username = "alice", pass = "s3cret-Pa55") =>
  Option.some({ _tag: "Password" as const, username, password: pass })

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")

/** The password, its base64 and every AUTH payload must be absent from the transcript. */
const assertNoSecrets = (r: ReturnType<typeof run>, secrets: ReadonlyArray<string>) => {
  const text = transcript(r).join("\n")
  for (const secret of secrets) assert.notInclude(text, secret, `transcript leaks ${JSON.stringify(secret)}`)
}

describe("Submission: the whole conversation", () => {
  it("STARTTLS, AUTH PLAIN, pipelined MAIL+RCPT+DATA, body, QUIT", () => {
    const r = run(
      Submission.make(config({ auth: password() }), [message(["bob@example.com", "carol@example.com"])]),
      `
      ${tlsOpening(["PIPELINING", "SIZE 10240000", "8BITMIME", "AUTH PLAIN LOGIN", "ENHANCEDSTATUSCODES"])}
      C: AUTH PLAIN ${b64("\u0000alice\u0000s3cret-Pa55")}
      S: 235 2.7.0 Authentication successful
      C: MAIL FROM:<sender@example.net> SIZE=22
      C: RCPT TO:<bob@example.com>
      C: RCPT TO:<carol@example.com>
      C: DATA
      S: 250 2.1.0 Ok
      S: 250 2.1.5 Ok
      S: 250 2.1.5 Ok
      S: 354 End data with <CR><LF>.<CR><LF>
      ${body}
      S: 250 2.0.0 Ok: queued as 4Xq1Zb2Lz3
      C: QUIT
      S: 221 2.0.0 Bye
      `
    )
    assert.deepStrictEqual(outcomes(r), ["Sent"])
    assert.deepStrictEqual(rcptCodes(r), [250, 250])
    assert.strictEqual(r.result.end._tag, "Completed")
    assert.deepStrictEqual(r.result.authenticated, Option.some("PLAIN"))
    assert.strictEqual(r.result.tls._tag, "Established")
    // MAIL, both RCPTs and DATA left in one write.
    assert.deepStrictEqual(
      r.writes.find((w) => w[0]?.startsWith("MAIL")),
      ["MAIL FROM:<sender@example.net> SIZE=22", "RCPT TO:<bob@example.com>", "RCPT TO:<carol@example.com>", "DATA"]
    )
    assert.include(transcript(r), "C: AUTH PLAIN ****")
    assert.include(transcript(r), "C: <message, 25 octets on the wire>")
    assertNoSecrets(r, ["s3cret-Pa55", b64("\u0000alice\u0000s3cret-Pa55"), b64("s3cret-Pa55")])
    assert.deepStrictEqual(r.actions.slice(-2), ["Close", "Finished"])
  })
})

describe("Submission: AUTH", () => {
  const sent = (r: ReturnType<typeof run>) => r.result.messages.map((m) => m.outcome._tag)

  it("LOGIN: username and password answer the two prompts, both masked", () => {
    const r = run(
      Submission.make(config({ auth: password(), pipelining: false }), [message(["bob@example.com"])]),
      `
      ${tlsOpening(["AUTH LOGIN"])}
      C: AUTH LOGIN
      S: 334 VXNlcm5hbWU6
      C: ${b64("alice")}
      S: 334 UGFzc3dvcmQ6
      C: ${b64("s3cret-Pa55")}
      S: 235 2.7.0 Authentication successful
      C: MAIL FROM:<sender@example.net>
      S: 250 2.1.0 Ok
      C: RCPT TO:<bob@example.com>
      S: 250 2.1.5 Ok
      C: DATA
      S: 354 go ahead
      ${body}
      S: 250 2.0.0 Ok: queued as ABC
      ${bye}
      `
    )
    assert.deepStrictEqual(sent(r), ["Sent"])
    assert.deepStrictEqual(r.result.authenticated, Option.some("LOGIN"))
    const lines = transcript(r)
    assert.deepStrictEqual(lines.slice(lines.indexOf("C: AUTH LOGIN"), lines.indexOf("C: AUTH LOGIN") + 6), [
      "C: AUTH LOGIN",
      "S: 334 VXNlcm5hbWU6",
      "C: ****",
      "S: 334 UGFzc3dvcmQ6",
      "C: ****",
      "S: 235 2.7.0 Authentication successful"
    ])
    assertNoSecrets(r, ["s3cret-Pa55", b64("s3cret-Pa55"), b64("alice")])
  })

  it("CRAM-MD5: the RFC 2195 challenge gives the RFC 2195 response", () => {
    const r = run(
      Submission.make(
        config({ auth: password("tim", "tanstaaftanstaaf"), hmacMd5: Option.some(hmacMd5), keepOpen: true }),
        []
      ),
      `
      ${tlsOpening(["AUTH CRAM-MD5"])}
      C: AUTH CRAM-MD5
      S: 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+
      C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw
      S: 235 Authentication successful
      `
    )
    assert.strictEqual(r.result.end._tag, "Held")
    assert.deepStrictEqual(r.result.authenticated, Option.some("CRAM-MD5"))
    assert.deepStrictEqual(r.actions, ["Send", "Send", "UpgradeTls", "Send", "Send", "Send", "Finished"])
    assertNoSecrets(r, ["tanstaaftanstaaf", "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"])
  })

  it("CRAM-MD5 is not picked without an HMAC-MD5 function", () => {
    const r = run(
      Submission.make(config({ auth: password() }), []),
      `
      ${tlsOpening(["AUTH CRAM-MD5"])}
      ${bye}
      `
    )
    assert.deepStrictEqual(r.result.end, {
      _tag: "AuthUnavailable",
      reason: "NoCommonMechanism",
      message: "no usable mechanism among those offered: CRAM-MD5"
    })
  })

  it("XOAUTH2: the token goes in the initial response", () => {
    const token = "ya29.a0AfH6SMBx"
    const r = run(
      Submission.make(config({ auth: Option.some({ _tag: "AccessToken", username: "alice@example.com", token }) }), []),
      `
      ${tlsOpening(["AUTH LOGIN PLAIN XOAUTH2"])}
      C: AUTH XOAUTH2 ${b64(`user=alice@example.com\u0001auth=Bearer ${token}\u0001\u0001`)}
      S: 235 2.7.0 Accepted
      ${bye}
      `
    )
    assert.deepStrictEqual(r.result.authenticated, Option.some("XOAUTH2"))
    assert.include(transcript(r), "C: AUTH XOAUTH2 ****")
    assertNoSecrets(r, [token])
  })

  it("XOAUTH2 refused: the error challenge is answered with an empty line, then 535", () => {
    const error = b64('{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}')
    const r = run(
      Submission.make(config({ auth: Option.some({ _tag: "AccessToken", username: "a@example.com", token: "t0k" }) }), [
        message(["bob@example.com"])
      ]),
      `
      ${tlsOpening(["AUTH XOAUTH2"])}
      C: AUTH XOAUTH2 ${b64("user=a@example.com\u0001auth=Bearer t0k\u0001\u0001")}
      S: 334 ${error}
      C:
      S: 535-5.7.8 Username and Password not accepted.
      S: 535 5.7.8 https://support.google.com/mail/?p=BadCredentials
      ${bye}
      `
    )
    assert.deepStrictEqual(
      { tag: r.result.end._tag, outcome: r.result.end._tag === "AuthFailed" ? r.result.end.outcome : undefined },
      { tag: "AuthFailed", outcome: "InvalidCredentials" }
    )
    assert.include(transcript(r), '* XOAUTH2: {"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}')
    assert.deepStrictEqual(outcomes(r), ["Pending"])
  })

  const failures = [
    { code: "535 5.7.8 Error: authentication failed: bad password", outcome: "InvalidCredentials" },
    { code: "534 5.7.9 Please log in with your web browser", outcome: "MechanismTooWeak" },
    { code: "454 4.7.0 Temporary authentication failure", outcome: "TemporaryFailure" },
    { code: "530 5.7.0 Authentication required", outcome: "AuthenticationRequired" },
    { code: "504 5.5.4 Unrecognized authentication type", outcome: "Rejected" }
  ] as const
  for (const { code, outcome } of failures) {
    it(`AUTH PLAIN answered ${code.slice(0, 3)}: ${outcome}, no MAIL, QUIT`, () => {
      const r = run(
        Submission.make(config({ auth: password() }), [message(["bob@example.com"])]),
        `
        ${tlsOpening(["AUTH PLAIN"])}
        C: AUTH PLAIN ${b64("\u0000alice\u0000s3cret-Pa55")}
        S: ${code}
        ${bye}
        `
      )
      const end = r.result.end
      assert.strictEqual(end._tag, "AuthFailed")
      if (end._tag === "AuthFailed") {
        assert.strictEqual(end.outcome, outcome)
        assert.strictEqual(end.mechanism, "PLAIN")
        assert.strictEqual(end.reply.code, Number(code.slice(0, 3)))
      }
      assert.deepStrictEqual(outcomes(r), ["Pending"])
      assertNoSecrets(r, ["s3cret-Pa55", b64("\u0000alice\u0000s3cret-Pa55")])
    })
  }

  it("538 before STARTTLS: cleartext AUTH allowed by the caller, refused by the server", () => {
    const r = run(
      Submission.make(config({ tls: "off", allowInsecureAuth: true, auth: password() }), []),
      `
      S: 220 localhost ESMTP
      C: EHLO client.example.net
      S: 250-localhost
      S: 250-STARTTLS
      S: 250 AUTH PLAIN LOGIN
      C: AUTH PLAIN ${b64("\u0000alice\u0000s3cret-Pa55")}
      S: 538 5.7.11 Encryption required for requested authentication mechanism
      ${bye}
      `
    )
    assert.strictEqual(r.result.end._tag === "AuthFailed" && r.result.end.outcome, "EncryptionRequired")
  })

  it("never sends credentials without TLS unless allowed", () => {
    const r = run(
      Submission.make(config({ tls: "opportunistic", auth: password() }), [message(["bob@example.com"])]),
      `
      S: 220 smtp.example.com ESMTP
      C: EHLO client.example.net
      S: 250-smtp.example.com
      S: 250 AUTH PLAIN LOGIN
      ${bye}
      `
    )
    assert.strictEqual(r.result.end._tag === "AuthUnavailable" && r.result.end.reason, "Cleartext")
    assert.isFalse(r.sent.some((l) => l.startsWith("AUTH")))
  })

  it("in the clear, CRAM-MD5 is preferred to PLAIN", () => {
    const r = run(
      Submission.make(
        config({
          tls: "off",
          allowInsecureAuth: true,
          auth: password("tim", "tanstaaftanstaaf"),
          hmacMd5: Option.some(hmacMd5)
        }),
        []
      ),
      `
      S: 220 localhost ESMTP
      C: EHLO client.example.net
      S: 250-localhost
      S: 250 AUTH PLAIN LOGIN CRAM-MD5
      C: AUTH CRAM-MD5
      S: 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+
      C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw
      S: 235 ok
      ${bye}
      `
    )
    assert.deepStrictEqual(r.result.authenticated, Option.some("CRAM-MD5"))
  })

  it("a forced mechanism is used even when not advertised", () => {
    const r = run(
      Submission.make(config({ auth: password(), mechanism: Option.some("LOGIN") }), []),
      `
      ${tlsOpening(["AUTH PLAIN"])}
      C: AUTH LOGIN
      S: 334 VXNlcm5hbWU6
      C: ${b64("alice")}
      S: 334 UGFzc3dvcmQ6
      C: ${b64("s3cret-Pa55")}
      S: 535 5.7.8 no
      ${bye}
      `
    )
    assert.strictEqual(r.result.end._tag === "AuthFailed" && r.result.end.outcome, "InvalidCredentials")
  })

  it("a server that offers no AUTH: AuthUnavailable/NotOffered", () => {
    const r = run(
      Submission.make(config({ auth: password() }), []),
      `
      ${tlsOpening(["PIPELINING"])}
      ${bye}
      `
    )
    assert.strictEqual(r.result.end._tag === "AuthUnavailable" && r.result.end.reason, "NotOffered")
  })

  it("an unexpected extra challenge is cancelled with *", () => {
    const r = run(
      Submission.make(config({ auth: password() }), []),
      `
      ${tlsOpening(["AUTH PLAIN"])}
      C: AUTH PLAIN ${b64("\u0000alice\u0000s3cret-Pa55")}
      S: 334
      C: *
      S: 501 5.0.0 Authentication cancelled
      ${bye}
      `
    )
    assert.strictEqual(r.result.end._tag === "AuthFailed" && r.result.end.outcome, "Rejected")
  })
})

describe("Submission: recipients and transactions", () => {
  const off = (overrides: Partial<Submission.Config> = {}) => config({ tls: "off", ...overrides })

  it("some recipients refused: the message goes to the others, the refusals are reported", () => {
    const r = run(
      Submission.make(off(), [message(["a@example.com", "nobody@example.com", "c@example.com"])]),
      `
      ${opening(["PIPELINING"])}
      C: MAIL FROM:<sender@example.net>
      C: RCPT TO:<a@example.com>
      C: RCPT TO:<nobody@example.com>
      C: RCPT TO:<c@example.com>
      C: DATA
      S: 250 2.1.0 Ok
      S: 250 2.1.5 Ok
      S: 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown
      S: 250 2.1.5 Ok
      S: 354 End data
      ${body}
      S: 250 2.0.0 Ok: queued as 1A2B3C
      ${bye}
      `
    )
    assert.deepStrictEqual(outcomes(r), ["Sent"])
    assert.deepStrictEqual(rcptCodes(r), [250, 550, 250])
    const mine = r.result.transcript.filter((e) => e.recipient === 1).map((e) => `${e.direction}: ${e.text}`)
    assert.deepStrictEqual(mine, [
      "C: RCPT TO:<nobody@example.com>",
      "S: 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown"
    ])
  })

  it("all recipients refused without pipelining: DATA is never sent", () => {
    const r = run(
      Submission.make(off(), [message(["x@example.com", "y@example.com"])]),
      `
      ${opening([])}
      C: MAIL FROM:<sender@example.net>
      S: 250 Ok
      C: RCPT TO:<x@example.com>
      S: 550 5.1.1 unknown
      C: RCPT TO:<y@example.com>
      S: 554 5.7.1 Relay access denied
      ${bye}
      `
    )
    assert.deepStrictEqual(outcomes(r), ["AllRecipientsRejected"])
    assert.isFalse(r.sent.includes("DATA"))
  })

  it("all recipients refused with pipelining: DATA refused, no body", () => {
    const r = run(
      Submission.make(off(), [message(["x@example.com"])]),
      `
      ${opening(["PIPELINING"])}
      C: MAIL FROM:<sender@example.net>
      C: RCPT TO:<x@example.com>
      C: DATA
      S: 250 Ok
      S: 550 5.1.1 unknown
      S: 554 5.5.1 Error: no valid recipients
      ${bye}
      `
    )
    assert.deepStrictEqual(outcomes(r), ["AllRecipientsRejected"])
    assert.isFalse(r.sent.includes("Hello"))
  })

  it("all recipients refused, yet 354 to the pipelined DATA: only the terminator goes out", () => {
    const r = run(
      Submission.make(off(), [message(["x@example.com"])]),
      `
      ${opening(["PIPELINING"])}
      C: MAIL FROM:<sender@example.net>
      C: RCPT TO:<x@example.com>
      C: DATA
      S: 250 Ok
      S: 550 5.1.1 unknown
      S: 354 go ahead
      C: .
      S: 554 5.5.1 no valid recipients
      ${bye}
      `
    )
    assert.deepStrictEqual(outcomes(r), ["AllRecipientsRejected"])
    assert.isFalse(r.wire.includes("Hello"))
  })

  it("MAIL refused with pipelining: the RCPT and DATA replies are read and ignored", () => {
    const r = run(
      Submission.make(off(), [message(["x@example.com"])]),
      `
      ${opening(["PIPELINING"])}
      C: MAIL FROM:<sender@example.net>
      C: RCPT TO:<x@example.com>
      C: DATA
      S: 530 5.7.0 Authentication required
      S: 503 5.5.1 Error: need MAIL command
      S: 503 5.5.1 Error: need RCPT command
      ${bye}
      `
    )
    const outcome = r.result.messages[0]!.outcome
    assert.strictEqual(outcome._tag === "MailRejected" && outcome.reply.code, 530)
    assert.deepStrictEqual(rcptCodes(r), [undefined])
  })

  it("the final reply refuses the message", () => {
    const r = run(
      Submission.make(off({ pipelining: false }), [message(["x@example.com"])]),
      `
      ${opening([])}
      C: MAIL FROM:<sender@example.net>
      S: 250 Ok
      C: RCPT TO:<x@example.com>
      S: 250 Ok
      C: DATA
      S: 354 go ahead
      ${body}
      S: 554 5.7.1 Message rejected as spam
      ${bye}
      `
    )
    const outcome = r.result.messages[0]!.outcome
    assert.strictEqual(outcome._tag === "MessageRejected" && outcome.reply.code, 554)
  })

  it("DATA refused after accepted recipients", () => {
    const r = run(
      Submission.make(off({ pipelining: false }), [message(["x@example.com"])]),
      `
      ${opening([])}
      C: MAIL FROM:<sender@example.net>
      S: 250 Ok
      C: RCPT TO:<x@example.com>
      S: 250 Ok
      C: DATA
      S: 451 4.3.0 try later
      ${bye}
      `
    )
    assert.deepStrictEqual(outcomes(r), ["DataRejected"])
  })

  it("RSET between two messages on one connection", () => {
    const r = run(
      Submission.make(off({ pipelining: false }), [
        message(["a@example.com"], "Subject: one\r\n\r\n1\r\n"),
        message(["b@example.com"], "Subject: two\r\n\r\n2\r\n")
      ]),
      `
      ${opening([])}
      C: MAIL FROM:<sender@example.net>
      S: 250 Ok
      C: RCPT TO:<a@example.com>
      S: 250 Ok
      C: DATA
      S: 354 go ahead
      C: Subject: one
      C:
      C: 1
      C: .
      S: 250 Ok: queued as ONE
      C: RSET
      S: 250 Ok
      C: MAIL FROM:<sender@example.net>
      S: 250 Ok
      C: RCPT TO:<b@example.com>
      S: 250 Ok
      C: DATA
      S: 354 go ahead
      C: Subject: two
      C:
      C: 2
      C: .
      S: 250 Ok: queued as TWO
      ${bye}
      `
    )
    assert.deepStrictEqual(outcomes(r), ["Sent", "Sent"])
  })

  it("keepOpen holds the connection; resume sends RSET and the next message; an empty resume says QUIT", () => {
    const first = run(
      Submission.make(off({ keepOpen: true }), [message(["a@example.com"])]),
      `
      ${opening(["PIPELINING"])}
      C: MAIL FROM:<sender@example.net>
      C: RCPT TO:<a@example.com>
      C: DATA
      S: 250 Ok
      S: 250 Ok
      S: 354 go ahead
      ${body}
      S: 250 Ok: queued as ONE
      `
    )
    assert.strictEqual(first.result.end._tag, "Held")
    assert.deepStrictEqual(first.actions.slice(-1), ["Finished"])
    const ready = Option.getOrThrow(first.result.ready)
    assert.isTrue(ready.dirty)
    assert.isTrue(ready.capabilities.pipelining)

    const second = run(
      Submission.resume(off({ keepOpen: true }), ready, [message(["b@example.com"])]),
      `
      C: RSET
      S: 250 Ok
      C: MAIL FROM:<sender@example.net>
      C: RCPT TO:<b@example.com>
      C: DATA
      S: 250 Ok
      S: 250 Ok
      S: 354 go ahead
      ${body}
      S: 250 Ok: queued as TWO
      `
    )
    assert.deepStrictEqual(outcomes(second), ["Sent"])
    assert.deepStrictEqual(transcript(second)[0], "* reusing the open connection")

    const closing = run(
      Submission.resume(off(), Option.getOrThrow(second.result.ready), []),
      `
      ${bye}
      `
    )
    assert.strictEqual(closing.result.end._tag, "Completed")
  })

  it("a stale pooled connection: closed at RSET", () => {
    const first = run(
      Submission.make(off({ keepOpen: true }), []),
      `
      ${opening([])}
      `
    )
    const r = run(
      Submission.resume(off(), { ...Option.getOrThrow(first.result.ready), dirty: true }, [message(["b@example.com"])]),
      `
      C: RSET
      * close
      `
    )
    assert.deepStrictEqual(r.result.end, { _tag: "Closed", phase: "AwaitRset" })
    assert.deepStrictEqual(outcomes(r), ["Pending"])
  })

  it("RSET refused ends the session", () => {
    const ready = Option.getOrThrow(run(Submission.make(off({ keepOpen: true }), []), opening([])).result.ready)
    const r = run(
      Submission.resume(off(), { ...ready, dirty: true }, [message(["b@example.com"])]),
      `
      C: RSET
      S: 500 what
      ${bye}
      `
    )
    assert.strictEqual(r.result.end._tag === "Rejected" && r.result.end.phase, "AwaitRset")
  })
})

describe("Submission: MAIL FROM parameters and fail-fast checks", () => {
  const off = (overrides: Partial<Submission.Config> = {}) => config({ tls: "off", pipelining: false, ...overrides })

  const cases: ReadonlyArray<{
    readonly name: string
    readonly extensions: ReadonlyArray<string>
    readonly message: Submission.Message
    readonly mail: string
    readonly rcpt: string
  }> = [
    {
      name: "nothing advertised: no parameters",
      extensions: [],
      message: message(["b@example.com"], "Subject: x\r\n\r\nhé\r\n"),
      mail: "MAIL FROM:<sender@example.net>",
      rcpt: "RCPT TO:<b@example.com>"
    },
    {
      name: "SIZE advertised: SIZE of the CRLF body",
      extensions: ["SIZE 1000"],
      message: message(["b@example.com"], "a\nb\n"),
      mail: "MAIL FROM:<sender@example.net> SIZE=6",
      rcpt: "RCPT TO:<b@example.com>"
    },
    {
      name: "8-bit body and 8BITMIME: BODY=8BITMIME",
      extensions: ["8BITMIME"],
      message: message(["b@example.com"], "Subject: x\r\n\r\nhé\r\n"),
      mail: "MAIL FROM:<sender@example.net> BODY=8BITMIME",
      rcpt: "RCPT TO:<b@example.com>"
    },
    {
      name: "UTF-8 mailbox and SMTPUTF8: SMTPUTF8",
      extensions: ["SMTPUTF8", "8BITMIME"],
      message: message(["jöran@bücher.de"]),
      mail: "MAIL FROM:<sender@example.net> SMTPUTF8",
      rcpt: "RCPT TO:<jöran@xn--bcher-kva.de>"
    },
    {
      name: "an IDN domain alone needs no SMTPUTF8 (A-label)",
      extensions: [],
      message: message(["user@bücher.de"]),
      mail: "MAIL FROM:<sender@example.net>",
      rcpt: "RCPT TO:<user@xn--bcher-kva.de>"
    },
    {
      name: "DSN advertised: RET, ENVID (xtext), NOTIFY, ORCPT",
      extensions: ["DSN"],
      message: message(["b+tag@example.com"], undefined, "sender@example.net", {
        ret: "HDRS",
        envid: "QQ=314 159",
        notify: ["SUCCESS", "FAILURE"],
        orcpt: true
      }),
      mail: "MAIL FROM:<sender@example.net> RET=HDRS ENVID=QQ+3D314+20159",
      rcpt: "RCPT TO:<b+tag@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Btag@example.com"
    },
    {
      name: "DSN asked for but not advertised: no DSN parameters",
      extensions: [],
      message: message(["b@example.com"], undefined, "", { ret: "FULL", notify: "NEVER" }),
      mail: "MAIL FROM:<>",
      rcpt: "RCPT TO:<b@example.com>"
    },
    {
      name: "NOTIFY=NEVER",
      extensions: ["DSN"],
      message: message(["b@example.com"], undefined, "", { notify: "NEVER" }),
      mail: "MAIL FROM:<>",
      rcpt: "RCPT TO:<b@example.com> NOTIFY=NEVER"
    }
  ]
  for (const c of cases) {
    it(c.name, () => {
      const body8 = c.message.body.some((b) => b > 127)
      const refusedFor8Bit = body8 && !c.extensions.includes("8BITMIME")
      if (refusedFor8Bit) {
        const r = run(Submission.make(off(), [c.message]), `${opening(c.extensions)}\nC: QUIT\nS: 221 bye`)
        const outcome = r.result.messages[0]!.outcome
        assert.strictEqual(outcome._tag === "Refused" && outcome.reason, "EightBitUnsupported")
        return
      }
      const r = run(
        Submission.make(off(), [c.message]),
        `
        ${opening(c.extensions)}
        C: ${c.mail}
        S: 250 Ok
        C: ${c.rcpt}
        S: 550 no
        ${bye}
        `
      )
      assert.deepStrictEqual(outcomes(r), ["AllRecipientsRejected"])
    })
  }

  const refusals: ReadonlyArray<{
    readonly name: string
    readonly extensions: ReadonlyArray<string>
    readonly message: Submission.Message
    readonly reason: Submission.RefusalReason
  }> = [
    {
      name: "a UTF-8 mailbox to a server without SMTPUTF8",
      extensions: ["8BITMIME"],
      message: message(["jöran@example.com"]),
      reason: "SmtpUtf8Unsupported"
    },
    {
      name: "a UTF-8 sender to a server without SMTPUTF8",
      extensions: [],
      message: message(["b@example.com"], undefined, "émile@example.net"),
      reason: "SmtpUtf8Unsupported"
    },
    {
      name: "8-bit data to a server without 8BITMIME",
      extensions: [],
      message: message(["b@example.com"], "Subject: x\r\n\r\nhé\r\n"),
      reason: "EightBitUnsupported"
    },
    {
      name: "a message over SIZE",
      extensions: ["SIZE 10"],
      message: message(["b@example.com"], "Subject: longer than ten\r\n"),
      reason: "MessageTooLarge"
    },
    {
      name: "a line over 998 octets",
      extensions: [],
      message: message(["b@example.com"], `Subject: x\r\n\r\n${"a".repeat(999)}\r\n`),
      reason: "LineTooLong"
    },
    { name: "no recipients", extensions: [], message: message([]), reason: "NoRecipients" },
    {
      name: "an invalid address",
      extensions: [],
      message: message(["b@example.com>\r\nDATA"]),
      reason: "InvalidAddress"
    }
  ]
  for (const c of refusals) {
    it(`fails fast, before MAIL: ${c.name}`, () => {
      const r = run(Submission.make(off(), [c.message]), `${opening(c.extensions)}\nC: QUIT\nS: 221 bye`)
      const outcome = r.result.messages[0]!.outcome
      assert.strictEqual(outcome._tag === "Refused" && outcome.reason, c.reason)
      assert.isFalse(r.sent.some((l) => l.startsWith("MAIL")))
    })
  }

  it("a refused message does not stop the next one", () => {
    const r = run(
      Submission.make(off(), [message(["jöran@example.com"]), message(["b@example.com"])]),
      `
      ${opening([])}
      C: MAIL FROM:<sender@example.net>
      S: 250 Ok
      C: RCPT TO:<b@example.com>
      S: 250 Ok
      C: DATA
      S: 354 go
      ${body}
      S: 250 Ok
      ${bye}
      `
    )
    assert.deepStrictEqual(outcomes(r), ["Refused", "Sent"])
    assert.include(
      transcript(r),
      "* message 1 not sent: the server does not offer SMTPUTF8, needed for jöran@example.com"
    )
  })

  it("the body on the wire: CRLF everywhere, dots stuffed, bare CR/LF never passed through", () => {
    const r = run(
      Submission.make(off(), [
        message(["b@example.com"], "Subject: x\n\n.leading dot\rbare CR\n.\nsmuggled\r\n.\r\nend")
      ]),
      `
      ${opening([])}
      C: MAIL FROM:<sender@example.net>
      S: 250 Ok
      C: RCPT TO:<b@example.com>
      S: 250 Ok
      C: DATA
      S: 354 go
      C: Subject: x
      C:
      C: ..leading dot
      C: bare CR
      C: ..
      C: smuggled
      C: ..
      C: end
      C: .
      S: 250 Ok
      ${bye}
      `
    )
    assert.deepStrictEqual(outcomes(r), ["Sent"])
    assert.isTrue(r.wire.endsWith("end\r\n.\r\nQUIT\r\n"))
    assert.notMatch(r.wire, /[^\r]\n|\r[^\n]/)
  })
})

describe("Submission: TLS and the end of the session", () => {
  it("TLS required, STARTTLS not offered: QUIT, nothing sent", () => {
    const r = run(
      Submission.make(config({ auth: password() }), [message(["b@example.com"])]),
      `
      S: 220 mx ESMTP
      C: EHLO client.example.net
      S: 250-mx
      S: 250 AUTH PLAIN
      ${bye}
      `
    )
    assert.deepStrictEqual(r.result.end, { _tag: "TlsUnavailable", reply: Option.none() })
    assert.deepStrictEqual(outcomes(r), ["Pending"])
  })

  it("TLS required, STARTTLS refused", () => {
    const r = run(
      Submission.make(config(), []),
      `
      S: 220 mx ESMTP
      C: EHLO client.example.net
      S: 250-mx
      S: 250 STARTTLS
      C: STARTTLS
      S: 454 4.7.0 TLS not available due to local problem
      ${bye}
      `
    )
    assert.strictEqual(r.result.end._tag, "TlsUnavailable")
  })

  it("opportunistic: STARTTLS refused, goes on in the clear", () => {
    const r = run(
      Submission.make(config({ tls: "opportunistic" }), [message(["b@example.com"])]),
      `
      S: 220 mx ESMTP
      C: EHLO client.example.net
      S: 250-mx
      S: 250 STARTTLS
      C: STARTTLS
      S: 454 4.7.0 TLS not available
      C: MAIL FROM:<sender@example.net>
      S: 250 Ok
      C: RCPT TO:<b@example.com>
      S: 250 Ok
      C: DATA
      S: 354 go
      ${body}
      S: 250 Ok
      ${bye}
      `
    )
    assert.deepStrictEqual(outcomes(r), ["Sent"])
    assert.include(transcript(r), "* STARTTLS refused; going on without TLS")
  })

  it("implicit TLS: no STARTTLS, AUTH at once", () => {
    const r = run(
      Submission.make(config({ tls: "implicit", auth: password() }), []),
      `
      S: 220 smtp.example.com ESMTP
      C: EHLO client.example.net
      S: 250-smtp.example.com
      S: 250 AUTH PLAIN
      C: AUTH PLAIN ${b64("\u0000alice\u0000s3cret-Pa55")}
      S: 235 ok
      ${bye}
      `
    )
    assert.deepStrictEqual(r.result.tls, { _tag: "Implicit" })
    assert.strictEqual(transcript(r)[0], "* connected (TLS by the transport)")
  })

  it("the TLS handshake fails: the session ends without QUIT", () => {
    const r = run(
      Submission.make(config(), []),
      `
      S: 220 mx ESMTP
      C: EHLO client.example.net
      S: 250-mx
      S: 250 STARTTLS
      C: STARTTLS
      S: 220 go
      * tls-fail
      `
    )
    assert.deepStrictEqual(r.result.end, { _tag: "TlsFailed", message: "handshake failure" })
    assert.deepStrictEqual(r.actions.slice(-2), ["Close", "Finished"])
  })

  it("HELO fallback, then a message", () => {
    const r = run(
      Submission.make(config({ tls: "off" }), [message(["b@example.com"])]),
      `
      S: 220 old ESMTP
      C: EHLO client.example.net
      S: 502 5.5.2 Error: command not recognized
      C: HELO client.example.net
      S: 250 old
      C: MAIL FROM:<sender@example.net>
      S: 250 Ok
      C: RCPT TO:<b@example.com>
      S: 250 Ok
      C: DATA
      S: 354 go
      ${body}
      S: 250 Ok
      ${bye}
      `
    )
    assert.deepStrictEqual(outcomes(r), ["Sent"])
  })

  it("421 in the middle: ends at once, the message stays pending", () => {
    const r = run(
      Submission.make(config({ tls: "off", pipelining: false }), [message(["b@example.com"])]),
      `
      S: 220 mx ESMTP
      C: EHLO client.example.net
      S: 250 mx
      C: MAIL FROM:<sender@example.net>
      S: 421 4.7.0 mx Error: too many connections
      `
    )
    assert.strictEqual(r.result.end._tag === "ServiceClosing" && r.result.end.phase, "AwaitMail")
    assert.deepStrictEqual(outcomes(r), ["Pending"])
    assert.isFalse(r.sent.includes("QUIT"))
  })

  it("a timeout waiting for the final reply", () => {
    const r = run(
      Submission.make(config({ tls: "off", pipelining: false }), [message(["b@example.com"])]),
      `
      S: 220 mx ESMTP
      C: EHLO client.example.net
      S: 250 mx
      C: MAIL FROM:<sender@example.net>
      S: 250 ok
      C: RCPT TO:<b@example.com>
      S: 250 ok
      C: DATA
      S: 354 go
      ${body}
      * timeout
      `
    )
    assert.deepStrictEqual(r.result.end, { _tag: "TimedOut", phase: "AwaitDataEnd" })
  })

  it("greeting 554: QUIT", () => {
    const r = run(Submission.make(config(), []), `S: 554 5.7.1 go away\nC: QUIT\nS: 221 bye`)
    assert.strictEqual(r.result.end._tag === "Rejected" && r.result.end.phase, "AwaitGreeting")
  })

  it("EHLO refused with 550: QUIT", () => {
    const r = run(
      Submission.make(config(), []),
      `S: 220 mx\nC: EHLO client.example.net\nS: 550 no\nC: QUIT\nS: 221 bye`
    )
    assert.strictEqual(r.result.end._tag === "Rejected" && r.result.end.phase, "AwaitEhlo")
  })

  it("a malformed reply is a protocol error", () => {
    const r = run(Submission.make(config(), []), `S: hello there`)
    assert.strictEqual(r.result.end._tag, "ProtocolError")
  })

  it("an unasked reply is a protocol error; an unasked 421 is a closing", () => {
    const held = Option.getOrThrow(
      run(
        Submission.make(config({ tls: "off", keepOpen: true }), []),
        `S: 220 mx\nC: EHLO client.example.net\nS: 250 mx`
      ).result.ready
    )
    const resumed = Submission.resume(config({ tls: "off" }), held, [])
    const unasked = (line: string) =>
      Submission.step(resumed, Submission.Input.Received({ bytes: new TextEncoder().encode(`${line}\r\n`) }))
    const error = unasked("250 ok")
    assert.strictEqual(Submission.result(error.state).end._tag, "ProtocolError")
    assert.isTrue(Submission.isDone(error.state))
    assert.strictEqual(Submission.result(unasked("421 4.4.2 idle timeout").state).end._tag, "ServiceClosing")
    // A finished session ignores everything.
    assert.deepStrictEqual(Submission.step(error.state, Submission.Input.TimedOut()).actions, [])
  })

  it("a resumed session with keepOpen and nothing to send holds at once", () => {
    const held = Option.getOrThrow(
      run(
        Submission.make(config({ tls: "off", keepOpen: true }), []),
        `S: 220 mx\nC: EHLO client.example.net\nS: 250 mx`
      ).result.ready
    )
    const step = Submission.step(
      Submission.resume(config({ tls: "off", keepOpen: true }), held, []),
      Submission.Input.Connected()
    )
    assert.deepStrictEqual(
      step.actions.map((a) => a._tag),
      ["Finished"]
    )
  })

  it("a TLS event outside a handshake is ignored", () => {
    const s = Submission.step(
      Submission.make(config(), []),
      Submission.Input.TlsEstablished({
        info: { protocol: "TLSv1.3", cipher: "x", authorized: true, authorizationError: Option.none() }
      })
    )
    assert.deepStrictEqual(s.actions, [])
    assert.strictEqual(Submission.phase(s.state), "AwaitGreeting")
  })

  it("the server closes while the session waits for QUIT's reply: completed", () => {
    const r = run(
      Submission.make(config({ tls: "off" }), []),
      `S: 220 mx\nC: EHLO client.example.net\nS: 250 mx\nC: QUIT\n* close`
    )
    assert.strictEqual(r.result.end._tag, "Completed")
  })

  it("rejects a config no session could use", () => {
    assert.throws(() => Submission.make(config({ clientName: "bad name" }), []))
    assert.throws(() => Submission.make(config({ chunkSize: 0 }), []))
  })

  it("the phase names what is awaited", () => {
    const s = Submission.make(config(), [])
    assert.strictEqual(Submission.phase(s), "AwaitGreeting")
  })
})
