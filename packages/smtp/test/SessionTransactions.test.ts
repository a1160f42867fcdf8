// A new transaction in the same session (the last one full, or at maxRecipientsPerTransaction, or
// a probe refused for a full transaction): with PIPELINING, RSET goes in the same write as the next
// MAIL FROM and its first RCPTs (RFC 2920 §3.1), a round trip less per transaction.
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { config, mailbox, rcptCodes, run } from "./helpers.ts"

const letters = (s: string) => s.split("").map((l) => `${l}@x.com`)

describe("Session: the write at a transaction boundary", () => {
  it("with PIPELINING: RSET, MAIL FROM and the next RCPTs in one write", () => {
    const r = run(
      config({ to: letters("abcd"), maxErrors: undefined, maxRecipientsPerTransaction: 2 }),
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
      C: MAIL FROM:<>
      C: RCPT TO:<c@x.com>
      C: RCPT TO:<d@x.com>
      S: 250 2.0.0 Ok
      S: 250 ok
      S: 250 ok
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(r.writes, [
      ["EHLO verifier.example.net"],
      ["MAIL FROM:<>", "RCPT TO:<a@x.com>", "RCPT TO:<b@x.com>"],
      ["RSET", "MAIL FROM:<>", "RCPT TO:<c@x.com>", "RCPT TO:<d@x.com>"],
      ["QUIT"]
    ])
    assert.deepStrictEqual(rcptCodes(r), [250, 250, 250, 250])
    assert.strictEqual(r.result.resets, 1)
  })

  it("a refused recipient takes no place: a list of unknown mailboxes is not cut into transactions", () => {
    const r = run(
      config({ to: letters("abcde"), maxErrors: undefined, maxRecipientsPerTransaction: 2 }),
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
      C: RCPT TO:<c@x.com>
      S: 550 5.1.1 unknown
      C: RCPT TO:<d@x.com>
      S: 250 ok
      S: 550 5.1.1 unknown
      C: RCPT TO:<e@x.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    // Two places: each refusal gives one back (replies come one at a time here, so one RCPT a write);
    // c accepted keeps its place; no RSET, one transaction.
    assert.deepStrictEqual(r.writes.slice(1), [
      ["MAIL FROM:<>", "RCPT TO:<a@x.com>", "RCPT TO:<b@x.com>"],
      ["RCPT TO:<c@x.com>"],
      ["RCPT TO:<d@x.com>"],
      ["RCPT TO:<e@x.com>"],
      ["QUIT"]
    ])
    assert.deepStrictEqual(rcptCodes(r), [550, 550, 250, 550, 250])
  })

  it("without PIPELINING: RSET alone, MAIL after its reply, as before", () => {
    const r = run(
      config({ to: letters("ab"), pipelining: false, maxRecipientsPerTransaction: 1 }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250 mx
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<a@x.com>
      S: 250 ok
      C: RSET
      S: 250 2.0.0 Ok
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<b@x.com>
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(r.writes.slice(3, 5), [["RSET"], ["MAIL FROM:<>"]])
  })

  it("RSET refused: the new transaction's replies are read and ignored, its recipients unanswered", () => {
    const r = run(
      config({ to: letters("abc"), maxErrors: undefined, maxRecipientsPerTransaction: 1 }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      S: 250 ok
      S: 250 ok
      C: RSET
      C: MAIL FROM:<>
      C: RCPT TO:<b@x.com>
      S: 500 5.5.1 no
      S: 503 5.5.1 nested MAIL
      S: 250 ok
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(r.writes.slice(-2), [["RSET", "MAIL FROM:<>", "RCPT TO:<b@x.com>"], ["QUIT"]])
    assert.deepStrictEqual(rcptCodes(r), [250, undefined, undefined])
    assert.deepStrictEqual(
      r.result.recipients.map((x) => Option.getOrUndefined(x.skipped)),
      [undefined, undefined, undefined]
    )
    assert.strictEqual(r.result.end._tag === "Rejected" && r.result.end.phase, "AwaitRset")
  })

  it("the new transaction's MAIL refused: its recipients MailRejected, as before", () => {
    const r = run(
      config({ to: letters("ab"), maxErrors: undefined, maxRecipientsPerTransaction: 1 }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      S: 250 ok
      S: 250 ok
      C: RSET
      C: MAIL FROM:<>
      C: RCPT TO:<b@x.com>
      S: 250 ok
      S: 451 4.3.0 later
      S: 503 5.5.1 need MAIL
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(rcptCodes(r), [250, undefined])
    assert.deepStrictEqual(Option.getOrUndefined(r.result.recipients[1]!.skipped), "MailRejected")
    assert.strictEqual(r.result.end._tag === "Rejected" && r.result.end.phase, "AwaitMail")
  })

  it("a pipelined transaction that takes nobody is not followed by RSET", () => {
    const r = run(
      config({ to: letters("abc"), maxPipeline: 2, maxErrors: undefined }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@x.com>
      S: 250 ok
      S: 452 4.5.3 Error: too many recipients
      S: 452 4.5.3 Error: too many recipients
      C: QUIT
      S: 221 bye
      `
    )
    assert.deepStrictEqual(
      r.result.recipients.map((x) => Option.getOrUndefined(x.skipped)),
      ["TooManyRecipients", "TooManyRecipients", "TooManyRecipients"]
    )
  })

  it("a probe refused for a full transaction: RSET, MAIL and the probe in one write", () => {
    const r = run(
      config({ to: ["a@x.com", "b@y.com"], probes: [mailbox("zq9probe@x.com"), mailbox("zq9probe@y.com")] }),
      `
      S: 220 mx
      C: EHLO verifier.example.net
      S: 250-mx
      S: 250 PIPELINING
      C: MAIL FROM:<>
      C: RCPT TO:<a@x.com>
      C: RCPT TO:<b@y.com>
      S: 250 ok
      S: 250 ok
      S: 250 ok
      C: RCPT TO:<zq9probe@x.com>
      S: 452 4.5.3 Error: too many recipients
      C: RSET
      C: MAIL FROM:<>
      C: RCPT TO:<zq9probe@x.com>
      S: 250 2.0.0 Ok
      S: 250 ok
      S: 550 5.1.1 unknown
      C: RCPT TO:<zq9probe@y.com>
      C: QUIT
      S: 550 5.1.1 unknown
      S: 221 bye
      `
    )
    assert.deepStrictEqual(r.writes.slice(-2), [
      ["RSET", "MAIL FROM:<>", "RCPT TO:<zq9probe@x.com>"],
      ["RCPT TO:<zq9probe@y.com>", "QUIT"]
    ])
    assert.deepStrictEqual(
      r.result.probes.map((p) => (p.result._tag === "Answered" ? p.result.reply.code : p.result._tag)),
      [550, 550]
    )
    assert.strictEqual(r.result.end._tag, "Completed")
  })

  it("the probe's second MAIL refused: the probe's reply means nothing", () => {
    const r = run(
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
      S: 452 4.5.3 Error: too many recipients
      C: RSET
      C: MAIL FROM:<>
      C: RCPT TO:<zq9probe@x.com>
      S: 250 2.0.0 Ok
      S: 451 4.3.0 later
      S: 503 5.5.1 need MAIL
      C: QUIT
      S: 221 bye
      `
    )
    assert.strictEqual(r.result.probes[0]!.result._tag, "NotNeeded")
    assert.strictEqual(r.result.end._tag === "Rejected" && r.result.end.phase, "AwaitMail")
    assert.isTrue(Option.isNone(r.result.parked))
  })
})
