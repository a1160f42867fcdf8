// The probe book of one check (internal/probes.ts), as a table: sessions side by side hold a
// domain's probe one at a time, a cut session hands it back, and a due probe comes with an anchor.
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { Address, Reply, type Session } from "@rcpt/smtp"
import * as Probes from "../src/internal/probes.ts"

const mailbox = (text: string) => {
  const parsed = Address.parse(text)
  if (parsed._tag === "Failure") throw new Error(text)
  return parsed.success
}

const list = ["alice@a.test", "carol@a.test", "bob@b.test"].map(mailbox)
const probe = { a: mailbox("zz9probe@a.test"), b: mailbox("zz9probe@b.test") }

// "-": not asked (NotNeeded); "later": left for another session at the rejection cap (Postponed).
type Answer = "250" | "550" | "552" | "-" | "later"
/** A finished session: the RCPT replies of `batch` in order, the probe replies by key, and how it ended. */
const session = (
  batch: ReadonlyArray<number>,
  rcpts: ReadonlyArray<Answer>,
  probes: Readonly<Record<string, Answer>> = {},
  end: Session.SessionEnd = { _tag: "Completed" }
): Session.SessionResult => ({
  recipients: batch.map((i, k) => ({
    mailbox: list[i]!,
    rcpt: rcpts[k] === "-" || rcpts[k] === "later" ? Option.none() : Option.some(Reply.make(Number(rcpts[k]), ["x"])),
    vrfy: Option.none(),
    skipped: Option.none()
  })),
  probes: Object.entries(probes).map(([key, answer]) => ({
    mailbox: probe[key as "a" | "b"],
    result:
      answer === "-"
        ? { _tag: "NotNeeded" }
        : answer === "later"
          ? { _tag: "Postponed" }
          : { _tag: "Answered", reply: Reply.make(Number(answer), ["x"]) }
  })),
  greeting: Option.none(),
  capabilities: Option.none(),
  tls: { _tag: "Plaintext" },
  end,
  transcript: [],
  parked: Option.none(),
  resets: 0
})

const closed: Session.SessionEnd = { _tag: "Closed", phase: "AwaitProbe" }
const fresh = (retries = 2) =>
  Probes.make(
    new Map([
      ["a.test", probe.a],
      ["b.test", probe.b]
    ]),
    list,
    retries
  )
const summary = (book: Probes.Book) => ({
  catchAll: Object.fromEntries(book.catchAll),
  inconclusive: [...book.inconclusive].sort(),
  due: book.due()
})

describe("Probes: the catch-all probes of one check", () => {
  it("one holder at a time: a second session of the domain does not carry its probe", () => {
    const book = fresh()
    const first = book.claim(new Set(["a.test"]))
    const second = book.claim(new Set(["a.test", "b.test"]))
    assert.deepStrictEqual(first.keys, ["a.test"])
    assert.deepStrictEqual(second.keys, ["b.test"], "a.test is held by the first")
  })

  const table: ReadonlyArray<
    readonly [string, (book: Probes.Book) => void, ReturnType<typeof summary>, number | undefined]
  > = [
    [
      "answered 550: refused, settled",
      (book) => book.settle(book.claim(new Set(["a.test"])), [0], session([0], ["250"], { a: "550" })),
      { catchAll: { "a.test": false }, inconclusive: [], due: false },
      undefined
    ],
    [
      "answered 250: catch-all",
      (book) => book.settle(book.claim(new Set(["a.test"])), [0], session([0], ["250"], { a: "250" })),
      { catchAll: { "a.test": true }, inconclusive: [], due: false },
      undefined
    ],
    [
      "a real recipient refused as unknown: not catch-all, no probe needed",
      (book) => book.settle(book.claim(new Set(["a.test"])), [1], session([1], ["550"], { a: "-" })),
      { catchAll: { "a.test": false }, inconclusive: [], due: false },
      undefined
    ],
    [
      "cut after alice's 250, before the probe's answer: handed back, due with alice as anchor",
      (book) => book.settle(book.claim(new Set(["a.test"])), [0], session([0], ["250"], { a: "-" }, closed)),
      { catchAll: {}, inconclusive: [], due: true },
      0
    ],
    [
      "no recipient of the domain accepted (a full mailbox): handed back, not due",
      (book) => book.settle(book.claim(new Set(["a.test"])), [1], session([1], ["552"], { a: "-" })),
      { catchAll: {}, inconclusive: [], due: false },
      undefined
    ],
    [
      "cut three times with retries 2: inconclusive for good",
      (book) => {
        book.settle(book.claim(new Set(["a.test"])), [0], session([0], ["250"], { a: "-" }, closed))
        for (let i = 0; i < 2; i++) {
          const claim = book.claim(new Set())
          book.settle(claim, claim.anchors, session(claim.anchors, ["250"], { a: "-" }, closed))
        }
      },
      { catchAll: {}, inconclusive: ["a.test"], due: false },
      undefined
    ],
    [
      "accepted in a session not holding the probe: due once the holder gives it back",
      (book) => {
        const holder = book.claim(new Set(["a.test"]))
        book.settle(book.claim(new Set(["a.test"])), [0], session([0], ["250"]))
        book.settle(holder, [1], session([1], ["552"], { a: "-" }))
      },
      { catchAll: {}, inconclusive: [], due: true },
      0
    ],
    [
      "postponed three times (the session at its rejection cap): never a cut, still due with alice",
      (book) => {
        book.settle(book.claim(new Set(["a.test"])), [0], session([0], ["250"], { a: "later" }))
        for (let i = 0; i < 2; i++) {
          const claim = book.claim(new Set())
          book.settle(claim, claim.anchors, session(claim.anchors, ["250"], { a: "later" }))
        }
      },
      { catchAll: {}, inconclusive: [], due: true },
      0
    ],
    [
      "giveUp: a due probe is inconclusive, one never due stays unchecked",
      (book) => {
        book.settle(book.claim(new Set(["a.test"])), [0], session([0], ["250"], { a: "-" }, closed))
        book.giveUp()
      },
      { catchAll: {}, inconclusive: ["a.test"], due: false },
      undefined
    ]
  ]
  for (const [name, steps, expected, anchor] of table) {
    it(name, () => {
      const book = fresh()
      steps(book)
      assert.deepStrictEqual(summary(book), expected)
      if (anchor !== undefined) assert.deepStrictEqual(book.claim(new Set()).anchors, [anchor])
    })
  }

  it("known elsewhere (the run's memory): not claimed, settled as told; free lists the unheld ones", () => {
    const book = fresh()
    assert.deepStrictEqual(book.free(), ["a.test", "b.test"])
    book.known("a.test", true)
    assert.deepStrictEqual(book.free(), ["b.test"])
    assert.deepStrictEqual(book.claim(new Set(["a.test", "b.test"])).keys, ["b.test"])
    assert.deepStrictEqual(book.free(), [], "b.test is held")
    assert.deepStrictEqual(summary(book), { catchAll: { "a.test": true }, inconclusive: [], due: false })
  })

  it("known while a session holds the probe: left to that session's answer", () => {
    const book = fresh()
    const claim = book.claim(new Set(["a.test"]))
    book.known("a.test", true)
    assert.deepStrictEqual(summary(book).catchAll, {})
    assert.deepStrictEqual(book.settle(claim, [0], session([0], ["250"], { a: "550" })), [["a.test", false]])
    assert.deepStrictEqual(summary(book).catchAll, { "a.test": false })
  })

  it("settle gives what it settled, to be told to the run's memory", () => {
    const book = fresh()
    const claim = book.claim(new Set(["a.test", "b.test"]))
    const settled = book.settle(claim, [0, 2], session([0, 2], ["250", "550"], { a: "250", b: "-" }))
    assert.deepStrictEqual(settled, [
      ["a.test", true],
      ["b.test", false]
    ])
    assert.deepStrictEqual(book.settle(book.claim(new Set()), [], undefined), [])
  })

  it("retries 0: the first cut is final", () => {
    const book = fresh(0)
    book.settle(book.claim(new Set(["a.test"])), [0], session([0], ["250"], { a: "-" }, closed))
    assert.deepStrictEqual(summary(book), { catchAll: {}, inconclusive: ["a.test"], due: false })
  })
})
