// A session of 5,000 recipients against a scripted Postfix-like server (pipelining, 1,000
// recipients per transaction, 452 past that, RSET between): every recipient ends with its own
// reply and its own transcript lines, and the persistent state (see internal/log.ts) leaves
// earlier states as they were, even when a step is taken twice from the same one.
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import * as Log from "../src/internal/log.ts"
import * as Session from "../src/Session.ts"
import { config, mailbox } from "./helpers.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** What the server says to recipient n: 550 every third, 450 every fifth (not third), else 250. */
const expected = (n: number): number => (n % 3 === 0 ? 550 : n % 5 === 0 ? 450 : 250)

/** A server answering each write in one packet, counting recipients per transaction like Postfix. */
const server = () => {
  let inTransaction = 0
  return (text: string): string =>
    text
      .split("\r\n")
      .slice(0, -1)
      .map((line) => {
        if (line.startsWith("EHLO")) return "250-mx.x.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
        if (line.startsWith("MAIL")) return "250 2.1.0 Ok\r\n"
        if (line === "RSET") {
          inTransaction = 0
          return "250 2.0.0 Ok\r\n"
        }
        if (line === "QUIT") return "221 2.0.0 Bye\r\n"
        const rcpt = /^RCPT TO:<u(\d+)@x\.test>$/.exec(line)
        if (rcpt !== null) {
          if (++inTransaction > 1000) return "452 4.5.3 Error: too many recipients\r\n"
          const code = expected(Number(rcpt[1]))
          return code === 550
            ? `550 5.1.1 <u${rcpt[1]}@x.test>: Recipient address rejected: User unknown\r\n`
            : code === 450
              ? "450 4.2.0 Greylisted\r\n"
              : "250 2.1.5 Ok\r\n"
        }
        if (line.startsWith("RCPT")) return "550 5.1.1 unknown\r\n" // the probe
        return "502 5.5.2 Error: command not recognized\r\n"
      })
      .join("")
}

type Step = ReturnType<typeof Session.step>

/** Runs the machine against the server from `state` on; `input` is the first input. */
const drive = (state: Session.Session, input: Session.Input, answer = server()) => {
  let step: Step = Session.step(state, input)
  const states: Array<Session.Session> = [step.state]
  for (;;) {
    const finished = step.actions.find((a) => a._tag === "Finished")
    if (finished !== undefined && finished._tag === "Finished") return { result: finished.result, states }
    const out = step.actions.flatMap((a) => (a._tag === "Send" ? [decoder.decode(a.bytes)] : [])).join("")
    const next: Session.Input =
      out === "" ? Session.Input.ConnectionClosed() : Session.Input.Received({ bytes: encoder.encode(answer(out)) })
    step = Session.step(step.state, next)
    states.push(step.state)
  }
}

const greeting = Session.Input.Received({ bytes: encoder.encode("220 mx.x.test ESMTP\r\n") })

describe("Session: 5,000 recipients in one session", () => {
  const size = 5000
  const cfg = config({
    to: Array.from({ length: size }, (_, n) => `u${n}@x.test`),
    maxPipeline: 100,
    maxErrors: undefined,
    probes: [mailbox("probe-4f1c@x.test")],
    tls: "off"
  })

  it("every recipient has its own reply and transcript; 452s go again after RSET", () => {
    const connected = Session.step(Session.make(cfg), Session.Input.Connected()).state
    const { result } = drive(connected, greeting)
    assert.strictEqual(result.end._tag, "Completed")
    assert.strictEqual(result.recipients.length, size)
    result.recipients.forEach((r, n) => {
      assert.strictEqual(r.mailbox.address, `u${n}@x.test`)
      assert.isTrue(Option.isNone(r.skipped), `u${n} skipped`)
      assert.strictEqual(Option.getOrThrow(r.rcpt).code, expected(n), `u${n}`)
    })
    // Each recipient's lines: its RCPT and the reply, after a RCPT and 452 for each transaction
    // that was full when it came.
    const lines = new Map<number, Array<string>>()
    for (const e of result.transcript) {
      if (e.recipient !== undefined) lines.set(e.recipient, [...(lines.get(e.recipient) ?? []), e.text])
    }
    let again = 0
    for (let n = 0; n < size; n++) {
      const mine = lines.get(n) ?? []
      assert.strictEqual(mine.length % 2, 0, `u${n}: ${JSON.stringify(mine)}`)
      for (let k = 0; k < mine.length; k += 2) {
        assert.strictEqual(mine[k], `RCPT TO:<u${n}@x.test>`)
        if (k < mine.length - 2) assert.match(mine[k + 1]!, /^452 /)
      }
      if (mine.length > 2) again++
      assert.strictEqual(Number(mine.at(-1)!.slice(0, 3)), expected(n))
    }
    // Transactions of 1,000 (the server's limit): the RCPTs in flight when a transaction's first
    // 452 came (a window, 100) went again after RSET; no more were sent into a full transaction.
    assert.strictEqual(again, 4 * 100)
    const sent = (command: string) =>
      result.transcript.filter((e) => e.direction === "C" && e.text.startsWith(command)).length
    assert.strictEqual(sent("MAIL FROM"), 5)
    assert.strictEqual(sent("RSET"), 4)
    assert.strictEqual(result.probes[0]!.result._tag, "Answered")
    assert.strictEqual(Session.rejections(Session.make(cfg)), 0)
  })

  it("earlier states stay as they were; a step taken twice from one state gives the same session", () => {
    const connected = Session.step(Session.make(cfg), Session.Input.Connected()).state
    const { result, states } = drive(connected, greeting)
    const middle = states[Math.floor(states.length / 2)]!
    const before = Session.result(middle)
    // Stepping on from the middle again (a second branch) appends to logs the first run shares.
    const branch = drive(middle, Session.Input.ConnectionClosed())
    assert.deepStrictEqual(Session.result(middle), before)
    assert.strictEqual(branch.result.end._tag, "Closed")
    assert.isBelow(branch.result.transcript.length, result.transcript.length)
    assert.deepStrictEqual(
      branch.result.transcript.slice(0, before.transcript.length),
      result.transcript.slice(0, before.transcript.length)
    )
    // And the first run's result is unchanged by the branch.
    const again = drive(Session.step(Session.make(cfg), Session.Input.Connected()).state, greeting).result
    assert.deepStrictEqual(again.transcript, result.transcript)
    assert.deepStrictEqual(again.recipients, result.recipients)
  })

  it("without a transcript: the same writes and result but the transcript, and as many lines counted", () => {
    const both = [cfg, { ...cfg, transcript: false }].map((c) => {
      const writes: Array<string> = []
      const answer = server()
      const run = drive(Session.step(Session.make(c), Session.Input.Connected()).state, greeting, (out) => {
        writes.push(out)
        return answer(out)
      })
      return { ...run, writes }
    })
    const [kept, counted] = both as [(typeof both)[0], (typeof both)[0]]
    assert.deepStrictEqual(counted.writes, kept.writes)
    assert.deepStrictEqual(counted.result, { ...kept.result, transcript: [] })
    // Its length still moves with every line (a driver's measure of progress), state for state.
    assert.deepStrictEqual(
      counted.states.map((s) => s.transcript.length),
      kept.states.map((s) => s.transcript.length)
    )
    assert.isAbove(kept.result.transcript.length, 2 * size)
  })
})

describe("Log: appends never show in other logs", () => {
  const cases: ReadonlyArray<
    readonly [string, () => ReadonlyArray<ReadonlyArray<number>>, ReadonlyArray<ReadonlyArray<number>>]
  > = [
    [
      "a line of appends",
      () => {
        const a = Log.append(Log.append(Log.empty<number>(), 1), 2)
        return [Log.toArray(a), Log.toArray(Log.append(a, 3))]
      },
      [
        [1, 2],
        [1, 2, 3]
      ]
    ],
    [
      "two appends to one log",
      () => {
        const a = Log.append(Log.empty<number>(), 1)
        const b = Log.append(a, 2)
        const c = Log.append(a, 3)
        return [Log.toArray(a), Log.toArray(b), Log.toArray(c), Log.toArray(Log.append(b, 4))]
      },
      [[1], [1, 2], [1, 3], [1, 2, 4]]
    ],
    [
      "a copy taken, then appended to",
      () => {
        const a = Log.fromArray([1, 2])
        const copy = Log.toArray(a)
        Log.appendAll(a, [3, 4])
        return [copy, Log.toArray(a)]
      },
      [
        [1, 2],
        [1, 2]
      ]
    ],
    [
      "a queue: push, peek and drop, take; emptied, it starts again",
      () => {
        const q = Log.push(Log.queueOf([1, 2, 3]), [4])
        const first = Log.peek(q)!
        const rest = Log.drop(q)
        const [two, more] = Log.take(rest, 2)
        const [left, empty] = Log.take(more, 5)
        return [[first], two, left, Log.queued(Log.push(empty, [9])), Log.queued(q), [Log.size(empty)]]
      },
      [[1], [2, 3], [4], [9], [1, 2, 3, 4], [0]]
    ],
    [
      "a queue dropped from: the rest, and an empty one stays as it is",
      () => {
        const q = Log.queueOf([1, 2])
        const once = Log.drop(q)
        const empty = Log.drop(Log.drop(once))
        return [Log.queued(once), Log.queued(q), [Log.size(empty), Number(Log.drop(empty) === empty)]]
      },
      [[2], [1, 2], [0, 1]]
    ],
    [
      "a counting log: the count, never the items",
      () => {
        const a = Log.appendAll(Log.append(Log.counting<number>(), 1), [2, 3])
        const b = Log.count(a, 2)
        return [Log.toArray(a), [a.length, b.length], [Number(Log.keeps(a)), Number(Log.keeps(Log.empty()))]]
      },
      [[], [3, 5], [0, 1]]
    ]
  ]
  for (const [name, run, want] of cases) it(name, () => assert.deepStrictEqual(run(), want))
})
