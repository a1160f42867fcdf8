// One connection, several sessions: a session with `keepOpen` ends without QUIT and hands over
// what the next one needs (`parked`); `resume` starts after EHLO with RSET, its MAIL and first
// RCPTs in the same write when PIPELINING allows.
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import * as Capabilities from "../src/Capabilities.ts"
import { LocalProtocolError } from "../src/ProtocolError.ts"
import * as Session from "../src/Session.ts"
import { config, mailbox, parkedWith, rcptCodes, resumed, run } from "./helpers.ts"

const parkedOf = (r: ReturnType<typeof run>) =>
  Option.getOrThrowWith(r.result.parked, () => new Error(`not parked: ${r.result.end._tag}`))

describe("Session: keepOpen", () => {
  it("a normal end leaves the connection open: Finished alone, no QUIT, no Close", () => {
    const r = run(
      config({ to: ["a@x.com", "b@x.com", "c@x.com"], keepOpen: true }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@x.com>
      C: RCPT TO:<c@x.com>
      S: 250 ok
      S: 250 ok
      S: 550 5.1.1 unknown
      S: 451 4.3.0 later
      `
    )
    assert.deepStrictEqual(r.actions, ["Send", "Send", "Finished"])
    assert.notInclude(r.wire, "QUIT")
    assert.strictEqual(r.result.end._tag, "Completed")
    assert.deepStrictEqual(rcptCodes(r), [250, 550, 451])
    const parked = parkedOf(r)
    assert.deepStrictEqual(
      { rejected: parked.rejected, accepted: parked.accepted, sessions: parked.sessions, resets: parked.resets },
      { rejected: 2, accepted: 1, sessions: 1, resets: 0 }
    )
    assert.isTrue(parked.capabilities.pipelining)
    assert.deepStrictEqual(parked.greeting, r.result.greeting)
    assert.deepStrictEqual(parked.tls, { _tag: "Plaintext" })
    assert.strictEqual(r.result.transcript.at(-1)?.text, "left the connection open (1 session on it)")
  })

  it("off: the same session QUITs and closes, parked is None", () => {
    const r = run(
      config({ to: ["a@x.com"] }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(r.actions.slice(-2), ["Close", "Finished"])
    assert.isTrue(Option.isNone(r.result.parked))
  })

  it("a session stopped at maxErrors still parks: the driver reads parked.rejected", () => {
    const r = run(
      config({ to: ["a@x.com", "b@x.com", "c@x.com"], maxErrors: 1, pipelining: false, keepOpen: true }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 550 5.1.1 unknown
      `
    )
    assert.deepStrictEqual(
      r.result.recipients.map((x) => Option.getOrUndefined(x.skipped)),
      [undefined, "Postponed", "Postponed"]
    )
    assert.strictEqual(parkedOf(r).rejected, 1)
  })

  it("QUIT is never pipelined early: not with the last group (quitEarly), not with the last probe", () => {
    const early = run(
      config({ to: ["a@x.com"], quitEarly: true, keepOpen: true }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      S: 250 ok
      S: 550 5.1.1 unknown
      `
    )
    assert.isTrue(Option.isSome(early.result.parked))
    const probe = run(
      config({ to: ["a@x.com"], probes: [mailbox("zq9probe@x.com")], keepOpen: true }),
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
      S: 550 5.1.1 unknown
      `
    )
    assert.deepStrictEqual(probe.writes.at(-1), ["RCPT TO:<zq9probe@x.com>"])
    assert.strictEqual(probe.result.probes[0]!.result._tag, "Answered")
    // The refused probe is an error to the server: the connection's refusals count it.
    assert.deepStrictEqual([parkedOf(probe).accepted, parkedOf(probe).rejected], [1, 1])
  })

  const ends: ReadonlyArray<readonly [name: string, script: string, end: Session.SessionEnd["_tag"]]> = [
    [
      "MAIL refused",
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 550 5.7.1 sender refused
      C: QUIT
      S: 221 bye
      `,
      "Rejected"
    ],
    [
      "421 mid-session",
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 421 4.4.2 bye
      `,
      "ServiceClosing"
    ],
    [
      "the server closes",
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      * close
      `,
      "Closed"
    ],
    [
      "a timeout",
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      * timeout
      `,
      "TimedOut"
    ],
    [
      "TLS required, not offered",
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: QUIT
      S: 221 bye
      `,
      "TlsUnavailable"
    ],
    [
      // The last reply and the start of another in one packet: the next session's first reply
      // would not be its own.
      "a reply half-read when the session would park",
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 250 ok
      S: 250-more
      C: QUIT
      * close
      `,
      "Completed"
    ]
  ]
  for (const [name, script, end] of ends) {
    it(`${name}: ends as without keepOpen, parked None`, () => {
      const tls: Session.TlsMode = name.startsWith("TLS") ? "required" : "opportunistic"
      const overrides = { to: ["a@x.com"], tls }
      const kept = run(config({ ...overrides, keepOpen: true }), script)
      const plain = run(config(overrides), script)
      assert.strictEqual(kept.result.end._tag, end)
      assert.isTrue(Option.isNone(kept.result.parked))
      assert.deepStrictEqual([kept.wire, kept.actions], [plain.wire, plain.actions])
    })
  }
})

describe("Session: resume", () => {
  it("with PIPELINING, RSET, MAIL FROM and the first RCPTs go in one write", () => {
    const r = resumed(
      config({ to: ["a@x.com", "b@x.com", "c@x.com"], maxPipeline: 2, keepOpen: true }),
      parkedWith({ rejected: 3, accepted: 4, sessions: 2, resets: 1 }),
      `
      C: RSET
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@x.com>
      S: 250 2.0.0 Ok
      S: 250 ok
      S: 250 ok
      S: 550 5.1.1 unknown
      C: RCPT TO:<c@x.com>
      S: 250 ok
      `
    )
    assert.deepStrictEqual(r.writes[0], ["RSET", "MAIL FROM:<>", "RCPT TO:<a@x.com>", "RCPT TO:<b@x.com>"])
    assert.deepStrictEqual(rcptCodes(r), [250, 550, 250])
    assert.deepStrictEqual(r.actions, ["Send", "Send", "Finished"])
    const parked = parkedOf(r)
    assert.deepStrictEqual(
      { rejected: parked.rejected, accepted: parked.accepted, sessions: parked.sessions, resets: parked.resets },
      { rejected: 4, accepted: 6, sessions: 3, resets: 2 }
    )
    assert.strictEqual(r.result.resets, 2, "the RSETs of the connection: the last session's and this one's")
    assert.deepStrictEqual(r.result.transcript[0], {
      direction: "*",
      text: "resumed an open connection (session 3 on it)"
    })
    assert.deepStrictEqual(r.result.greeting, parkedWith().greeting)
    assert.isTrue(Option.exists(r.result.capabilities, (c) => c.pipelining))
  })

  it("without PIPELINING, RSET alone, then a transaction as usual", () => {
    const r = resumed(
      config({ to: ["a@x.com"] }),
      parkedWith({ pipelining: false }),
      `
      C: RSET
      S: 250 2.0.0 Ok
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(r.writes, [["RSET"], ["MAIL FROM:<>"], ["RCPT TO:<a@x.com>"], ["QUIT"]])
    assert.isTrue(Option.isNone(r.result.parked))
    assert.deepStrictEqual(r.actions.slice(-2), ["Close", "Finished"])
  })

  it("the phase before the first reply is AwaitRset, one the driver has a timeout for", () => {
    const s = Session.resume(config(), parkedWith())
    assert.strictEqual(Session.phase(s), "AwaitRset")
    const first = Session.step(s, Session.Input.Connected())
    assert.strictEqual(Session.phase(first.state), "AwaitRset")
    // Connected again is noted, not a second first write.
    assert.deepStrictEqual(Session.step(first.state, Session.Input.Connected()).actions, [])
  })

  it("RSET refused: the MAIL and RCPT replies behind it are not counted, the recipients unanswered", () => {
    for (const together of [false, true]) {
      const pause = together ? "" : "C: QUIT"
      const r = resumed(
        config({ to: ["a@x.com", "b@x.com", "c@x.com"], maxPipeline: 2, keepOpen: true }),
        parkedWith({ rejected: 1, accepted: 1 }),
        `
        C: RSET
        C: MAIL FROM:<>
        C: RCPT TO:<a@x.com>
        C: RCPT TO:<b@x.com>
        S: 500 5.5.1 no
        ${pause}
        S: 503 5.5.1 nested MAIL
        S: 550 5.1.1 unknown
        S: 250 ok
        ${together ? "C: QUIT" : ""}
        S: 221 bye
        `
      )
      assert.deepStrictEqual(r.writes.at(-1), ["QUIT"])
      assert.deepStrictEqual(r.result.end, {
        _tag: "Rejected",
        phase: "AwaitRset",
        reply: r.result.end._tag === "Rejected" ? r.result.end.reply : (undefined as never)
      })
      assert.strictEqual(r.result.end._tag === "Rejected" && r.result.end.reply.code, 500)
      assert.deepStrictEqual(
        r.result.recipients.map((x) => [Option.getOrUndefined(x.rcpt), Option.getOrUndefined(x.skipped)]),
        [
          [undefined, undefined],
          [undefined, undefined],
          [undefined, undefined]
        ]
      )
      assert.strictEqual(Session.rejections(r.state), 1)
      assert.isTrue(Option.isNone(r.result.parked))
      assert.deepStrictEqual(r.actions.slice(-2), ["Close", "Finished"])
    }
  })

  it("RSET refused without PIPELINING: QUIT, as in a fresh session", () => {
    const r = resumed(
      config({ to: ["a@x.com"], keepOpen: true }),
      parkedWith({ pipelining: false }),
      `
      C: RSET
      S: 500 5.5.1 no
      C: QUIT
      S: 221 bye
      `
    )
    assert.strictEqual(r.result.end._tag, "Rejected")
    assert.deepStrictEqual(rcptCodes(r), [undefined])
  })

  it("TLS required on a plaintext connection: QUIT and nothing else", () => {
    const r = resumed(
      config({ tls: "required", keepOpen: true }),
      parkedWith(),
      `
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(r.result.end, { _tag: "TlsUnavailable", reply: Option.none() })
    const tls: Session.TlsStatus = {
      _tag: "Established",
      info: { protocol: "TLSv1.3", cipher: "x", authorized: true, authorizationError: Option.none() }
    }
    const secure = resumed(
      config({ tls: "required", keepOpen: true }),
      parkedWith({ tls }),
      `
      C: RSET
      C: MAIL FROM:<>
      C: RCPT TO:<alice@example.com>
      S: 250 ok
      S: 250 ok
      S: 250 ok
      `
    )
    assert.deepStrictEqual(parkedOf(secure).tls, tls)
  })

  it("maxErrors counts the connection's rejections: the window and the cap carry over", () => {
    const r = resumed(
      config({ to: ["a@x.com", "b@x.com", "c@x.com"], maxErrors: 9, keepOpen: true }),
      parkedWith({ rejected: 8 }),
      `
      C: RSET
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      S: 250 ok
      S: 250 ok
      S: 550 5.1.1 unknown
      `
    )
    assert.deepStrictEqual(
      r.result.recipients.map((x) => Option.getOrUndefined(x.skipped)),
      [undefined, "Postponed", "Postponed"]
    )
    assert.strictEqual(parkedOf(r).rejected, 9)
  })

  it("a connection already at maxErrors: nobody is asked, all postponed", () => {
    const cfg = (keepOpen: boolean) => config({ to: ["a@x.com", "b@x.com"], maxErrors: 9, keepOpen })
    const kept = resumed(cfg(true), parkedWith({ rejected: 9 }), ``)
    assert.deepStrictEqual([kept.wire, kept.actions], ["", ["Finished"]])
    assert.deepStrictEqual(
      kept.result.recipients.map((x) => Option.getOrUndefined(x.skipped)),
      ["Postponed", "Postponed"]
    )
    assert.deepStrictEqual([parkedOf(kept).rejected, parkedOf(kept).sessions], [9, 2])
    const plain = resumed(
      cfg(false),
      parkedWith({ rejected: 9 }),
      `
      C: QUIT
      S: 221 bye
      `
    )
    assert.strictEqual(plain.wire, "QUIT\r\n")
  })

  it("at maxErrors, those refused for a full transaction are postponed with the queue", () => {
    const r = resumed(
      config({ to: ["a@x.com", "b@x.com", "c@x.com", "d@x.com"], maxErrors: 2, maxPipeline: 3, keepOpen: true }),
      parkedWith({ accepted: 10 }),
      `
      C: RSET
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@x.com>
      C: RCPT TO:<c@x.com>
      S: 250 ok
      S: 250 ok
      S: 550 5.1.1 unknown
      S: 550 5.1.1 unknown
      S: 452 4.5.3 Error: too many recipients
      `
    )
    assert.deepStrictEqual(
      r.result.recipients.map((x) => Option.getOrUndefined(x.skipped)),
      [undefined, undefined, "Postponed", "Postponed"]
    )
  })

  it("SMTPUTF8 from the parked capabilities: a non-ASCII mailbox is not sent where it is not offered", () => {
    const to = ["a@x.com", "δοκιμή@x.com"]
    const without = resumed(
      config({ to, keepOpen: true }),
      parkedWith(),
      `
      C: RSET
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      S: 250 ok
      S: 250 ok
      S: 250 ok
      `
    )
    assert.deepStrictEqual(Option.getOrUndefined(without.result.recipients[1]!.skipped), "SmtpUtf8Unsupported")
    const utf8 = resumed(
      config({ to, keepOpen: true }),
      { ...parkedWith(), capabilities: { ...Capabilities.none, pipelining: true, smtpUtf8: true } },
      `
      C: RSET
      C: MAIL FROM:<> SMTPUTF8
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<δοκιμή@x.com>
      S: 250 ok
      S: 250 ok
      S: 250 ok
      S: 250 ok
      `
    )
    assert.deepStrictEqual(rcptCodes(utf8), [250, 250])
  })

  it("validates the config like make", () => {
    assert.throws(() => Session.resume(config({ to: [] }), parkedWith()), LocalProtocolError)
    assert.throws(() => Session.resume(config({ maxPipeline: 0 }), parkedWith()), LocalProtocolError)
  })
})
