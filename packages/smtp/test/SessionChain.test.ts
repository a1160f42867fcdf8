// Recipient accounting over one connection: a fresh session, then sessions resumed from each
// parked result, against a server whose replies are random. Each session is also played with
// keepOpen off against the same replies: keepOpen may only take QUIT away (or move it).
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import * as fc from "fast-check"
import * as Reply from "../src/Reply.ts"
import * as Session from "../src/Session.ts"
import { config, mailbox } from "./helpers.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const weighted = (...options: ReadonlyArray<readonly [string, number]>) =>
  options.flatMap(([reply, weight]) => Array.from({ length: weight }, () => reply))

/** Replies by verb; the happy one most often. */
const replies: Record<string, ReadonlyArray<string>> = {
  MAIL: weighted(["250 2.1.0 Ok", 8], ["550 5.7.1 sender refused", 1], ["451 4.3.0 later", 1]),
  RCPT: weighted(
    ["250 2.1.5 Ok", 4],
    ["550 5.1.1 unknown", 4],
    ["452 4.5.3 Error: too many recipients", 2],
    ["450 4.2.0 greylisted", 1],
    ["252 2.1.5 maybe", 1],
    ["421 4.4.2 bye", 1]
  ),
  RSET: weighted(["250 2.0.0 Ok", 8], ["500 5.5.1 no", 1]),
  VRFY: ["252 2.0.0 cannot VRFY", "550 5.1.1 unknown"]
}

const tooMany = (reply: string) => reply.startsWith("452 4.5.3")

interface Served {
  readonly result: Session.SessionResult
  readonly lines: ReadonlyArray<string>
  /** QUIT went in the same write as a probe (a session without keepOpen, its last probe). */
  readonly quitWithProbe: boolean
  readonly actions: ReadonlyArray<string>
  /** Real recipients' RCPT replies the client should have counted: its MAIL taken, nothing ended. */
  readonly accepted: number
  readonly rejected: number
  /** The probe's refusals the client should have counted as well (a server counts them as errors). */
  readonly probesRefused: number
  /** Every reply the server gave to an RCPT, by address. */
  readonly said: ReadonlyMap<string, ReadonlyArray<string>>
}

/**
 * A server answering each command as it arrives, the n-th non-QUIT command with `choices[n]`; it
 * says nothing more after a 421. The client reads what is there in one packet or a reply at a time.
 */
const serve = (
  initial: Session.Session,
  greet: boolean,
  pipelining: boolean,
  choices: ReadonlyArray<number>,
  packing: ReadonlyArray<boolean>
): Served => {
  let step = Session.step(initial, Session.Input.Connected())
  const queue: Array<string> = greet ? ["220 mx"] : []
  const lines: Array<string> = []
  const actions: Array<string> = []
  const said = new Map<string, Array<string>>()
  let quitWithProbe = false
  let n = 0
  let reads = 0
  let closed = false
  // The server's view: whether RCPT replies now count (MAIL taken, no refused RSET or 421 yet).
  let counting = false
  let over = false
  let accepted = 0
  let rejected = 0
  // The probe's "too many recipients" so far, and its refusals the client should have counted.
  let probeFull = 0
  let probesRefused = 0
  for (let rounds = 0; ; rounds++) {
    // Every round either reads a reply or ends the session: a machine stuck in a loop fails here.
    if (rounds > 10_000) throw new Error(`no end after ${rounds} rounds: ${lines.slice(-5).join(" | ")}`)
    for (const a of step.actions) {
      actions.push(a._tag)
      if (a._tag === "Finished") {
        return { result: a.result, lines, quitWithProbe, actions, accepted, rejected, probesRefused, said }
      }
      if (a._tag !== "Send") continue
      const write = decoder.decode(a.bytes)
      quitWithProbe ||= write.includes("<zz9") && write.includes("QUIT")
      for (const line of write.split("\r\n").slice(0, -1)) {
        lines.push(line)
        if (closed) continue
        const verb = line.split(/[ :]/)[0]!
        if (verb === "QUIT") {
          queue.push("221 bye")
          continue
        }
        const options = verb === "EHLO" ? [pipelining ? "250-mx\r\n250 PIPELINING" : "250 mx"] : replies[verb]!
        const reply = options[choices[n++ % choices.length]! % options.length]!
        const positive = reply.startsWith("2") || reply.startsWith("3")
        if (verb === "MAIL") counting = !over && positive
        if (verb === "RSET") {
          counting = false
          over ||= !positive
        }
        if (verb === "RCPT") {
          const address = /<(.*)>/.exec(line)![1]!
          said.set(address, [...(said.get(address) ?? []), reply])
          if (counting && !address.startsWith("zz9") && !tooMany(reply) && !reply.startsWith("421")) {
            if (positive) accepted++
            else rejected++
          }
          // A refused probe counts as an error too; a "too many recipients" only at its second
          // try (the first sends it again in a new transaction).
          if (counting && address.startsWith("zz9") && !positive && !reply.startsWith("421")) {
            if (!tooMany(reply) || probeFull++ > 0) probesRefused++
          }
        }
        if (reply.startsWith("421")) closed = over = true
        queue.push(reply)
      }
    }
    const together = packing[reads++ % packing.length]!
    const packet = together ? queue.splice(0) : queue.splice(0, 1)
    step = Session.step(
      step.state,
      packet.length === 0
        ? Session.Input.ConnectionClosed()
        : Session.Input.Received({ bytes: encoder.encode(packet.map((r) => `${r}\r\n`).join("")) })
    )
  }
}

const withoutQuit = (lines: ReadonlyArray<string>) => lines.filter((l) => l !== "QUIT")
const quits = (lines: ReadonlyArray<string>) => lines.length - withoutQuit(lines).length

const chain = fc.record({
  pipelining: fc.boolean(),
  maxPipeline: fc.integer({ min: 1, max: 6 }),
  maxErrors: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
  maxRecipientsPerTransaction: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  probe: fc.boolean(),
  vrfy: fc.boolean(),
  sessions: fc.array(
    fc.record({
      recipients: fc.integer({ min: 1, max: 12 }),
      choices: fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
      packing: fc.array(fc.boolean(), { minLength: 1, maxLength: 8 })
    }),
    { minLength: 1, maxLength: 4 }
  )
})

describe("Session: one connection, several sessions (property)", () => {
  it("every recipient has one result; parked counts are the RCPT replies of the whole chain (refused probes too); QUIT only where due", () => {
    fc.assert(
      fc.property(chain, (c) => {
        let parked: Session.Parked | undefined
        let accepted = 0
        let rejected = 0
        for (const [k, s] of c.sessions.entries()) {
          const to = Array.from({ length: s.recipients }, (_, i) => `s${k}u${i}@x.test`)
          const cfg = (keepOpen: boolean) =>
            config({
              to,
              pipelining: true,
              maxPipeline: c.maxPipeline,
              maxErrors: c.maxErrors,
              maxRecipientsPerTransaction: c.maxRecipientsPerTransaction,
              probes: c.probe ? [mailbox("zz9probe@x.test")] : [],
              vrfy: c.vrfy ? "fallback" : "off",
              keepOpen
            })
          const start = (keepOpen: boolean) =>
            parked === undefined ? Session.make(cfg(keepOpen)) : Session.resume(cfg(keepOpen), parked)
          const kept = serve(start(true), parked === undefined, c.pipelining, s.choices, s.packing)
          const plain = serve(start(false), parked === undefined, c.pipelining, s.choices, s.packing)
          const { result } = kept

          // One result per recipient, the reply the server gave that address, or a reason why not.
          assert.strictEqual(result.recipients.length, to.length)
          let rcptAccepted = 0
          let rcptRejected = 0
          for (const [i, r] of result.recipients.entries()) {
            assert.isFalse(Option.isSome(r.rcpt) && Option.isSome(r.skipped), `recipient ${i}: a reply and a skip`)
            if (Option.isSome(r.rcpt)) {
              assert.include(kept.said.get(to[i]!) ?? [], Reply.format(r.rcpt.value).replace(/\r\n$/, ""))
              if (Reply.isPositive(r.rcpt.value)) rcptAccepted++
              else rcptRejected++
            } else if (result.end._tag === "Completed") {
              assert.isTrue(
                Option.isSome(r.skipped),
                `recipient ${i}: neither asked nor skipped in a completed session`
              )
            }
          }
          assert.deepStrictEqual([rcptAccepted, rcptRejected], [kept.accepted, kept.rejected])
          accepted += kept.accepted
          rejected += kept.rejected + kept.probesRefused
          // The server always answers: the client never waits in vain.
          assert.notStrictEqual(result.end._tag, "Closed")

          // keepOpen changes nothing but QUIT: same commands, same results, same end. (A plain session
          // that sent QUIT with its last probe may have stopped short of a probe's second try.)
          if (!plain.quitWithProbe) {
            assert.deepStrictEqual(withoutQuit(kept.lines), withoutQuit(plain.lines))
            assert.deepStrictEqual(result.recipients, plain.result.recipients)
            assert.deepStrictEqual(result.end, plain.result.end)
          }
          assert.isTrue(Option.isNone(plain.result.parked))
          if (Option.isNone(result.parked)) {
            // QUIT where the plain session wrote one, or none where that one went early (with the last
            // probe) and the end came before the normal one.
            assert.isAtMost(quits(kept.lines), quits(plain.lines))
            assert.isAtMost(quits(kept.lines), 1)
            assert.deepStrictEqual(kept.actions.slice(-2), ["Close", "Finished"])
            return
          }
          // Parked: no QUIT, no Close; the counts of every session so far.
          assert.strictEqual(result.end._tag, "Completed")
          assert.strictEqual(quits(kept.lines), 0)
          assert.strictEqual(quits(plain.lines), 1)
          assert.notInclude(kept.actions, "Close")
          parked = result.parked.value
          assert.deepStrictEqual([parked.accepted, parked.rejected, parked.sessions], [accepted, rejected, k + 1])
        }
      }),
      { numRuns: 400 }
    )
  })
})
