// What a watched session reports about itself (internal/observe.ts), from the pure machine driven
// by a scripted server: no I/O, a fixed clock.
import { assert, describe, it } from "@effect/vitest"
import { Clock, Option } from "effect"
import { Address, Capabilities, Session } from "@rcpt/smtp"
import { watch } from "../src/internal/observe.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

// watch reads only the synchronous clock: a fixed one (no reply is ever slow).
const clock = { currentTimeMillisUnsafe: () => 0 } as unknown as Clock.Clock

/** A plain-text, pipelining session to `recipients` mailboxes (`user0@example.com`, ...), no VRFY. */
const sessionConfig = (recipients: number, overrides: Partial<Session.Config>): Session.Config => ({
  clientName: "verifier.example.net",
  mailFrom: "",
  recipients: Array.from({ length: recipients }, (_, i) => {
    const parsed = Address.parse(`user${i}@example.com`)
    if (parsed._tag === "Failure") throw new Error(parsed.failure.message)
    return parsed.success
  }),
  probes: [],
  tls: "off",
  servername: "mx.example.com",
  vrfy: "off",
  pipelining: true,
  maxPipeline: 10,
  maxVrfy: 0,
  maxErrors: undefined,
  ...overrides
})

/**
 * Drives a watched session from `first`: each line of each write is answered by `answer` (given the
 * write's lines too), after `replies` already due; the client reads one reply at a time, or with
 * `together` every reply due in one read (a server answering a pipelined write in one packet).
 * `before` sees each reply before it is read (a test's clock moves there).
 */
const drive = (
  watched: ReturnType<typeof watch>,
  first: ReturnType<ReturnType<typeof watch>["machine"]["step"]>,
  answer: (line: string, lines: ReadonlyArray<string>) => string,
  {
    replies = [],
    together = false,
    before
  }: {
    readonly replies?: Array<string>
    readonly together?: boolean
    readonly before?: (reply: string | undefined) => void
  } = {}
): Session.SessionResult => {
  let step = first
  for (;;) {
    for (const a of step.actions) {
      if (a._tag === "Finished") return a.result
      if (a._tag !== "Send") continue
      const lines = decoder.decode(a.bytes).split("\r\n").slice(0, -1)
      for (const line of lines) replies.push(answer(line, lines))
    }
    const reply = together && replies.length > 0 ? replies.splice(0).join("\r\n") : replies.shift()
    before?.(reply)
    step = watched.machine.step(
      step.state,
      reply === undefined
        ? Session.Input.ConnectionClosed()
        : Session.Input.Received({ bytes: encoder.encode(`${reply}\r\n`) })
    )
  }
}

/** A pipelining server's answer to `line`: RCPT's from `rcpt`, 250 to the rest (QUIT: 221). */
const server =
  (rcpt: (line: string) => string) =>
  (line: string): string =>
    line.startsWith("EHLO")
      ? "250-mx\r\n250 PIPELINING"
      : line.startsWith("RCPT")
        ? rcpt(line)
        : line === "QUIT"
          ? "221 bye"
          : "250 ok"

/** A clock a test moves by hand (`watch` reads only the synchronous one). */
const ticking = () => {
  let now = 0
  return {
    clock: { currentTimeMillisUnsafe: () => now } as unknown as Clock.Clock,
    pass: (ms: number) => void (now += ms)
  }
}

/**
 * Runs a watched session against a server that accepts every RCPT, up to `limit` a transaction (then
 * 452 until RSET or MAIL); the client reads one reply at a time.
 */
const session = (
  recipients: number,
  maxPipeline: number,
  maxErrors: number | undefined,
  {
    limit = Infinity,
    maxRecipientsPerTransaction,
    refuseEvery
  }: { limit?: number; maxRecipientsPerTransaction?: number; refuseEvery?: number | undefined } = {}
) => {
  const watched = watch(clock, { careful: false })
  const config = sessionConfig(recipients, { maxPipeline, maxErrors, maxRecipientsPerTransaction })
  let accepted = 0
  let widestWrite = 0
  let rcpts = 0
  const result = drive(
    watched,
    watched.machine.step(Session.make(config), Session.Input.Connected()),
    (line, lines) => {
      widestWrite = Math.max(widestWrite, lines.filter((l) => l.startsWith("RCPT")).length)
      if (line === "RSET" || line.startsWith("MAIL")) accepted = 0
      // As Postfix and Exim: a refused recipient does not count toward the limit.
      if (line.startsWith("RCPT") && refuseEvery !== undefined && ++rcpts % refuseEvery === 0)
        return "550 5.1.1 unknown"
      if (line.startsWith("RCPT") && accepted++ >= limit) return "452 4.5.3 Too many recipients"
      return line.startsWith("EHLO") ? "250-mx\r\n250 PIPELINING" : line === "QUIT" ? "221 bye" : "250 ok"
    },
    { replies: ["220 mx"] }
  )
  return { observation: watched.observe(result), widestWrite }
}

describe("observe: the widest pipeline a session used", () => {
  const table: ReadonlyArray<readonly [string, number, number, number | undefined, number]> = [
    // [case, recipients, maxPipeline, maxErrors, expected]
    ["one write of everything", 5, 10, undefined, 5],
    ["the window, reached in one write", 40, 8, undefined, 8],
    // A cap of 2 makes the first write 2 RCPTs; the window then grows with the acceptances,
    // a reply at a time, so no single write carries it: the RCPTs in flight do.
    ["the window, reached a few RCPTs a write", 40, 8, 2, 8]
  ]
  for (const [name, recipients, maxPipeline, maxErrors, expected] of table) {
    it(name, () => {
      const { observation, widestWrite } = session(recipients, maxPipeline, maxErrors)
      assert.strictEqual(observation.widestWrite, expected)
      assert.isAtLeast(observation.widestWrite!, widestWrite, "never less than the largest write")
    })
  }
  it("the last row's writes are narrower than its window (the case writes alone undercount)", () => {
    assert.isBelow(session(40, 8, 2).widestWrite, 8)
  })
})

/** A pipelining connection left open by one session, no refusals, `resets` RSETs on it. */
const parkedWith = (resets: number): Session.Parked => ({
  greeting: Option.none(),
  capabilities: { ...Capabilities.none, pipelining: true },
  tls: { _tag: "Plaintext" },
  rejected: 0,
  accepted: 0,
  sessions: 1,
  resets
})

describe("observe: an RSET refused", () => {
  /** A session resumed on a connection with `resets` RSETs, whose server answers its RSET with `reply`, then hangs up. */
  const refusedAt = (resets: number, reply: string) => {
    const watched = watch(clock, { careful: false, rejectedBefore: 0 })
    const config = sessionConfig(1, { keepOpen: true })
    let step = watched.machine.step(Session.resume(config, parkedWith(resets)), Session.Input.Connected())
    const inputs = [Session.Input.Received({ bytes: encoder.encode(`${reply}\r\n`) }), Session.Input.ConnectionClosed()]
    for (;;) {
      const finished = step.actions.find((a) => a._tag === "Finished")
      if (finished !== undefined && finished._tag === "Finished") return watched.observe(finished.result)
      step = watched.machine.step(step.state, inputs.shift() ?? Session.Input.ConnectionClosed())
    }
  }

  it("554 (Exim's non-mail limit): the RSET count it was refused at, no error limit", () => {
    const o = refusedAt(11, "554 5.7.0 Too many nonmail commands")
    assert.strictEqual(o.cutAtReset, 12)
    assert.strictEqual(o.cutAfter, undefined)
    assert.strictEqual(o.resets, 12)
  })

  it("421 (an idle connection timed out): not an RSET limit", () => {
    const o = refusedAt(3, "421 4.4.2 mx Error: timeout exceeded")
    assert.strictEqual(o.cutAtReset, undefined)
  })
})

/**
 * A session of `n` recipients to a server that refuses every one, watched; from the `slowFrom`th
 * rejection on, each reply comes a second late. With `careful`, a trying session (ramping from its
 * cap); what `advance` was told, the result, and how many refusals were read.
 */
const refusing = (
  n: number,
  slowFrom: number,
  options: { readonly careful?: Session.Config["careful"]; readonly advanceFrom?: number } = {}
) => {
  const time = ticking()
  const told: Array<number> = []
  const watched = watch(time.clock, {
    careful: options.careful !== undefined,
    advance: (o) => {
      assert.isTrue(o.completed)
      assert.isUndefined(o.slowAfter)
      told.push(o.rejections)
    },
    advanceFrom: options.advanceFrom
  })
  const config = sessionConfig(n, { maxPipeline: 1000, maxErrors: 100_000, careful: options.careful })
  let refused = 0
  const result = drive(
    watched,
    watched.machine.step(Session.make(config), Session.Input.Connected()),
    server(() => "550 5.1.1 unknown"),
    {
      replies: ["220 mx"],
      before: (reply) => {
        if (reply?.startsWith("550")) refused++
        time.pass(refused >= slowFrom ? 1000 : 1)
      }
    }
  )
  return { told, result, observation: watched.observe(result), refused }
}

// The default ramp's shape: one at a time from a cap of 9, four times as many each round trip from 11.
const ramp = { afterErrors: 9, pipeline: 1, growth: 1 }
const steep = { ...ramp, steepFrom: 2, steepGrowth: 3 }

describe("observe: a trying session's progress (advance)", () => {
  it("told each time the rejections have doubled, from the error limits met in practice on", () => {
    const { told, observation } = refusing(200, Infinity, { careful: ramp, advanceFrom: 18 })
    assert.deepStrictEqual(told, [20, 40, 80, 160])
    assert.strictEqual(observation.rejections, 200)
  })

  it("not before advanceFrom when that is higher", () => {
    assert.deepStrictEqual(refusing(200, Infinity, { careful: ramp, advanceFrom: 100 }).told, [100, 200])
  })

  it("never after a slowdown: what came after it is no progress", () => {
    const { told, observation } = refusing(200, 30, { careful: ramp, advanceFrom: 18 })
    assert.deepStrictEqual(told, [20])
    assert.strictEqual(observation.slowAfter, 29)
  })

  it("a session below the error limits in practice tells nothing", () => {
    assert.deepStrictEqual(refusing(15, Infinity, { careful: ramp, advanceFrom: 0 }).told, [])
  })
})

describe("observe: a trying session's RSETs (advance)", () => {
  /**
   * A trying session resumed on a connection that took `before` RSETs, to a server that accepts
   * every RCPT (`rset`: its answer to RSET), transactions of 3: what `advance` was told, as
   * [RSETs, rejections, widest pipeline].
   */
  // `rset`: the reply to every RSET, or to the n-th (from 1) of this session.
  const resumed = (
    before: number,
    recipients: number,
    rset: string | ((n: number) => string) = "250 ok",
    pipelining = true,
    together = false
  ) => {
    let rsets = 0
    const told: Array<readonly [number | undefined, number, number | undefined]> = []
    const watched = watch(clock, {
      careful: true,
      rejectedBefore: 0,
      advance: (o) => void told.push([o.resets, o.rejections, o.widestWrite])
    })
    const config = sessionConfig(recipients, { keepOpen: true, maxRecipientsPerTransaction: 3, pipelining })
    const result = drive(
      watched,
      watched.machine.step(Session.resume(config, parkedWith(before)), Session.Input.Connected()),
      (line) => (line !== "RSET" ? "250 ok" : typeof rset === "string" ? rset : rset(++rsets)),
      { together }
    )
    return { told, observation: watched.observe(result) }
  }

  it("each RSET answered is told (the connection's count), raising nothing else", () => {
    const { told, observation } = resumed(2, 8)
    assert.deepStrictEqual(told, [
      [3, 0, 0],
      [4, 0, 0],
      [5, 0, 0]
    ])
    assert.strictEqual(observation.resets, 5)
  })

  // A read that brings a transaction's MAIL reply and its RCPTs' also lets the next transaction
  // (RSET, MAIL) go out behind them: the step ends with that MAIL unanswered. The RSET answered
  // in that read was told only at the session's end (the other lane met the cap a transaction early).
  it("each RSET answered is told when a read brings a whole write's replies", () => {
    const { told, observation } = resumed(2, 8, "250 ok", true, true)
    assert.deepStrictEqual(
      told.map(([resets]) => resets),
      [3, 4, 5]
    )
    assert.strictEqual(observation.resets, 5)
  })

  it("an RSET refused is not told", () => {
    const { told, observation } = resumed(2, 8, "554 5.7.0 Too many nonmail commands")
    assert.deepStrictEqual(told, [])
    assert.strictEqual(observation.cutAtReset, 3)
  })

  // Without PIPELINING, RSET goes alone and the next MAIL after its reply.
  it("without PIPELINING: each RSET told once the next MAIL is answered, as with it", () => {
    const { told } = resumed(2, 8, "250 ok", false)
    assert.deepStrictEqual(
      told.map(([resets]) => resets),
      [3, 4, 5]
    )
  })

  it("without PIPELINING: an RSET refused is not told either (it was, as it went out)", () => {
    // The session's first RSET (taking the connection over) answered, its second refused.
    const { told, observation } = resumed(
      2,
      8,
      (n) => (n >= 2 ? "554 5.7.0 Too many nonmail commands" : "250 ok"),
      false
    )
    assert.deepStrictEqual(
      told.map(([resets]) => resets),
      [3]
    )
    assert.strictEqual(observation.cutAtReset, 4)
  })
})

/**
 * A Postfix-like server for a mostly valid list: every `refuseEvery`th RCPT refused, the reply to a
 * transaction's first accepted RCPT a second late (in_flow_delay, a server starved of flow tokens),
 * and, from `sleepFrom` errors on, every reply a second late (the error sleep past the soft limit).
 * Transactions of 20; the client reads one reply at a time.
 */
const postfix = (
  n: number,
  {
    refuseEvery,
    sleepFrom = Infinity,
    careful
  }: { refuseEvery: number; sleepFrom?: number; careful?: Session.Config["careful"] }
) => {
  const time = ticking()
  const watched = watch(time.clock, { careful: careful !== undefined })
  const config = sessionConfig(n, { maxErrors: 100_000, maxRecipientsPerTransaction: 20, careful })
  // Whether each reply due, in order, comes late (told to the clock as it is read).
  const late: Array<boolean> = [false]
  let rcpts = 0
  let errors = 0
  let opened = false
  const result = drive(
    watched,
    watched.machine.step(Session.make(config), Session.Input.Connected()),
    (line) => {
      if (line === "RSET" || line.startsWith("MAIL")) opened = false
      let slow = errors >= sleepFrom
      const text = server(() => {
        if (++rcpts % refuseEvery === 0) {
          errors++
          return "550 5.1.1 unknown"
        }
        if (!opened) {
          opened = true
          slow = true
        }
        return "250 ok"
      })(line)
      late.push(slow)
      return text
    },
    { replies: ["220 mx"], before: () => time.pass(late.shift() === true ? 1000 : 1) }
  )
  return { result, observation: watched.observe(result) }
}

describe("observe: Postfix's in_flow_delay is not an error sleep", () => {
  it("a transaction's first accepted recipient a second late: no slowdown, whatever came before", () => {
    const { result, observation } = postfix(100, { refuseEvery: 7 })
    assert.strictEqual(result.end._tag, "Completed")
    assert.isUndefined(observation.slowAfter)
    assert.strictEqual(observation.rejections, 14)
  })

  it("a careful session goes on past it", () => {
    const { result, observation } = postfix(100, { refuseEvery: 7, careful: steep })
    assert.strictEqual(result.end._tag, "Completed")
    assert.isUndefined(observation.slowAfter)
    assert.isUndefined(observation.cutAfter)
    assert.strictEqual(observation.rejections + observation.accepted, 100)
  })

  it("the error sleep as well: seen, from the errors it starts at", () => {
    const { observation } = postfix(100, { refuseEvery: 7, sleepFrom: 10 })
    assert.strictEqual(observation.slowAfter, 10)
  })

  it("the error sleep, in a careful session: it leaves there", () => {
    const { result, observation } = postfix(100, { refuseEvery: 7, sleepFrom: 10, careful: steep })
    assert.strictEqual(result.end._tag, "Closed")
    assert.strictEqual(observation.slowAfter ?? observation.cutAfter, 10)
  })
})

describe("observe: a careful session past a slowdown", () => {
  it("with RCPTs still in flight it leaves at the first slowed reply: one slowed reply, not the write's", () => {
    const { result, observation, refused } = refusing(500, 40, { careful: steep })
    assert.strictEqual(observation.slowAfter, 39)
    assert.deepStrictEqual(result.end, { _tag: "Closed", phase: "AwaitRcpt" })
    // The slowed reply was read; nothing after it.
    assert.strictEqual(refused, 40)
    assert.isTrue(result.transcript.some((e) => e.text.startsWith("leaving: replies slowed down after 39")))
  })

  it("a session not trying waits its RCPTs out (it never went past a safe cap)", () => {
    const { result, refused } = refusing(60, 40)
    assert.strictEqual(result.end._tag, "Completed")
    assert.strictEqual(refused, 60)
  })

  it("with nothing in flight at the slowdown (one RCPT at a time) it ends as before, with QUIT", () => {
    // Slowed from the 11th on, Postfix's soft limit: the ramp has one RCPT out there.
    const { result, observation } = refusing(60, 11, { careful: steep })
    assert.strictEqual(observation.slowAfter, 10)
    assert.strictEqual(result.end._tag, "Completed")
  })
})

describe("observe: the server's recipient limit, as seen", () => {
  const table: ReadonlyArray<readonly [string, number, number | undefined, number | undefined]> = [
    // [case, the server's limit, every how many RCPTs one is refused, expected]
    ["no limit met", Infinity, undefined, undefined],
    // 452 from the 4th RCPT on, within the first half of the window: the transaction still open.
    ["met in the transaction being sent", 3, undefined, 3],
    // 452 from the 7th on: after half the window (8) was answered the next transaction went, so
    // these are replies to the one closing behind it; what that one had accepted counts.
    ["met in a transaction closing behind the next", 6, undefined, 6],
    // Every 3rd refused: the 8th RCPT gets the 452, after 5 accepted and 2 refused. The accepted
    // ones are the limit (counted by the RCPTs answered, it was learnt as 7).
    ["met with refusals among them: the accepted ones", 5, 3, 5],
    // Every 5th refused, the 452s in the transaction closing behind the next: its accepted ones.
    ["met with refusals, in a transaction closing behind the next", 6, 5, 6]
  ]
  for (const [name, limit, refuseEvery, expected] of table) {
    it(name, () => {
      const { observation } = session(20, 8, undefined, { limit, maxRecipientsPerTransaction: 8, refuseEvery })
      assert.strictEqual(observation.tooManyRecipientsAfter, expected)
      assert.strictEqual(observation.completed, true)
    })
  }
})

describe("observe: a refused catch-all probe", () => {
  /**
   * A session to `user0@example.com` (accepted) and `refused` more (each refused), then the domain's
   * probe, refused; each reply a millisecond after the last, the probe's a second (an error sleep
   * that starts there). The client reads one reply at a time.
   */
  const probed = (refused: number) => {
    const time = ticking()
    const watched = watch(time.clock, { careful: false })
    const probe = Address.parse("zq9probe@example.com")
    if (probe._tag === "Failure") throw new Error(probe.failure.message)
    const config = sessionConfig(1 + refused, { maxPipeline: 100, probes: [probe.success] })
    const result = drive(
      watched,
      watched.machine.step(Session.make(config), Session.Input.Connected()),
      server((line) =>
        line === "RCPT TO:<user0@example.com>"
          ? "250 ok"
          : line === "RCPT TO:<zq9probe@example.com>"
            ? "550 5.1.1 unknown (probe)"
            : "550 5.1.1 unknown"
      ),
      { replies: ["220 mx"], before: (reply) => time.pass(reply?.endsWith("(probe)") === true ? 1000 : 1) }
    )
    return watched.observe(result)
  }

  it("counts among the rejections, as the server and the machine count it", () => {
    assert.strictEqual(probed(5).rejections, 6)
  })

  // Postfix's error sleep after its 10th error: the 11th, a refused probe, is the first slowed
  // reply and nothing follows it. Counted without the probe, the session had 10 rejections, no
  // more than the 10 the slowdown came after, and the sign was dropped.
  it("a slowdown whose slowed reply is the refused probe is a sign", () => {
    const o = probed(10)
    assert.strictEqual(o.rejections, 11)
    assert.strictEqual(o.slowAfter, 10)
  })
})
