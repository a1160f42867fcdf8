// Reading address lists: line splitting in any chunking, text and CSV records, bounds.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Option, Stream } from "effect"
import { ExitCode, Input, Options, Output } from "@rcpt/cli"
import { Lines } from "@rcpt/verifier"

const bytes = (text: string) => new TextEncoder().encode(text)

/** The input split into chunks of `size` bytes. */
const chunked = (data: Uint8Array, size: number) => {
  const out: Array<Uint8Array> = []
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size))
  return Stream.fromIterable(out)
}

const read = (text: string | Uint8Array, options: Partial<Input.Options> = {}, chunk = 1 << 16) =>
  Input.items(Lines.fromBytes(chunked(typeof text === "string" ? bytes(text) : text, chunk)), {
    csv: false,
    column: Option.none(),
    ...options
  }).pipe(Stream.runCollect)

const summary = (items: ReadonlyArray<Input.Item>) =>
  items.map((i) => (i._tag === "Address" ? `${i.line}:${i.address}` : `${i.line}:! ${i.detail}`))

describe("Lines.fromBytes", () => {
  it.effect("splits LF and CRLF, drops a BOM, keeps a last line without newline, in any chunking", () =>
    Effect.gen(function* () {
      const data = bytes("\uFEFFa@b.test\r\n\r\n# note\nc@d.test\ne@f.test")
      for (const size of [1, 2, 3, 7, 64]) {
        const lines = yield* Lines.fromBytes(chunked(data, size)).pipe(Stream.runCollect)
        assert.deepStrictEqual(
          lines.map((l) => (l._tag === "Line" ? l.text : l._tag)),
          ["a@b.test", "", "# note", "c@d.test", "e@f.test"],
          `chunk size ${size}`
        )
      }
    })
  )

  it.effect("a line over 64 KiB is reported with its length, not buffered", () =>
    Effect.gen(function* () {
      const data = bytes(`a@b.test\n${"x".repeat(70_000)}\nc@d.test\n`)
      const lines = yield* Lines.fromBytes(chunked(data, 4096)).pipe(Stream.runCollect)
      assert.deepStrictEqual(
        lines.map((l) => l._tag),
        ["Line", "Overlong", "Line"]
      )
      const long = lines[1]!
      assert.isTrue(long._tag === "Overlong" && long.bytes === 70_000 && long.line === 2)
    })
  )

  it.effect("a NUL byte in the first 8 KiB: Binary and nothing before it", () =>
    Effect.gen(function* () {
      const data = new Uint8Array([...bytes("a@b.test\nc@d.test\n"), 0, 1, 2])
      const lines = yield* Lines.fromBytes(chunked(data, 5)).pipe(Stream.runCollect)
      assert.deepStrictEqual(
        lines.map((l) => l._tag),
        ["Binary"]
      )
      const failed = yield* Effect.flip(read(data))
      assert.strictEqual(failed.code, ExitCode.codes.noInput)
    })
  )

  it.effect("live (standard input): each line leaves as its chunk arrives; a later NUL still ends it", () =>
    Effect.gen(function* () {
      const data = new Uint8Array([...bytes("a@b.test\nc@d.test\n"), 0, 1, 2])
      const lines = yield* Lines.fromBytes(chunked(data, 9), { live: true }).pipe(Stream.runCollect)
      assert.deepStrictEqual(
        lines.map((l) => (l._tag === "Line" ? l.text : l._tag)),
        ["a@b.test", "c@d.test", "Binary"]
      )
      // A chunk that holds the NUL: nothing of it before, as without `live`.
      const whole = yield* Lines.fromBytes(Stream.make(data), { live: true }).pipe(Stream.runCollect)
      assert.deepStrictEqual(
        whole.map((l) => l._tag),
        ["Binary"]
      )
    })
  )
})

describe("Input.items", () => {
  it.effect("text: trims, skips blanks and # comments", () =>
    Effect.gen(function* () {
      const items = yield* read("  a@b.test \n\n# c@d.test\n\tnot an address\n")
      assert.deepStrictEqual(summary(items), ["1:a@b.test", "4:not an address"])
    })
  )

  it.effect("CSV by a comma in the first line: the email column by name, quoted fields", () =>
    Effect.gen(function* () {
      const items = yield* read('name,E-Mail\n"Smith, A",a@b.test\n"x ""y""", c@d.test \n')
      assert.deepStrictEqual(summary(items), ["2:a@b.test", "3:c@d.test"])
    })
  )

  it.effect("CSV: --column picks the column; an unknown one is a usage error", () =>
    Effect.gen(function* () {
      const csv = "email,backup\na@b.test,c@d.test\n"
      const items = yield* read(csv, { column: Option.some("Backup") })
      assert.deepStrictEqual(summary(items), ["2:c@d.test"])
      const failed = yield* Effect.flip(read(csv, { column: Option.some("nope") }))
      assert.strictEqual(failed.code, ExitCode.codes.usage)
    })
  )

  it.effect("CSV: no named column -> the first with an @ in the first row; headerless data too", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(summary(yield* read("id,contact\n1,a@b.test\n2,c@d.test\n")), ["2:a@b.test", "3:c@d.test"])
      assert.deepStrictEqual(summary(yield* read("x,a@b.test\ny,c@d.test\n", { csv: true })), [
        "1:a@b.test",
        "2:c@d.test"
      ])
    })
  )

  it.effect("CSV: a quoted field over two lines is one record; a stray quote is one bad line", () =>
    Effect.gen(function* () {
      const items = yield* read(
        'name,email,note\nBob,bob@b.test,"two\nlines"\nBroken,"nobody@b.test,oops\nCarol,carol@b.test,\nDan,dan@b.test,x\n'
      )
      assert.deepStrictEqual(summary(items), [
        "2:bob@b.test",
        "4:! CSV line 4: broken quoting (a quoted field does not end on this line)",
        "5:carol@b.test",
        "6:dan@b.test"
      ])
    })
  )

  it.effect("CSV: a quote in the middle of a field is taken as it is; an empty cell is reported", () =>
    Effect.gen(function* () {
      const items = yield* read('name,email\nO"Brien,ob@b.test\nNobody,\n')
      assert.deepStrictEqual(summary(items), ["2:ob@b.test", "3:! CSV line 3: no value in column email"])
    })
  )

  it.effect("an overlong line is an Invalid item; the lines after it are read", () =>
    Effect.gen(function* () {
      const items = yield* read(`a@b.test\n${"y".repeat(100_000)}\nc@d.test\n`, {}, 1000)
      assert.strictEqual(items.length, 3)
      assert.strictEqual(items[1]!._tag, "Invalid")
      assert.deepStrictEqual(summary([items[0]!, items[2]!]), ["1:a@b.test", "3:c@d.test"])
    })
  )
})

describe("Input.quoteOpenAfter", () => {
  it("tracks quoted fields across lines", () => {
    assert.isFalse(Input.quoteOpenAfter('a,"b,c",d', false))
    assert.isTrue(Input.quoteOpenAfter('a,"b', false))
    assert.isFalse(Input.quoteOpenAfter('c"",d"', true), "an escaped quote, then the closing one")
    assert.isFalse(Input.quoteOpenAfter('O"Brien,x', false), "a quote inside a field opens nothing")
  })
})

describe("Output", () => {
  it("CSV fields are quoted when needed, one line per record", () => {
    assert.strictEqual(Output.csvField("plain"), "plain")
    assert.strictEqual(Output.csvField('a,"b"'), '"a,""b"""')
    assert.strictEqual(Output.csvField("two\nlines"), "two lines")
    assert.strictEqual(Output.csvField(null), "")
    assert.strictEqual(Output.csvField(false), "false")
  })

  it("Done is a multiset: a duplicate is skipped only as often as it was written", () => {
    const done = new Output.Done()
    done.add("a@b.test")
    assert.isTrue(done.take("a@b.test"))
    assert.isFalse(done.take("a@b.test"))
    assert.isFalse(done.take("c@d.test"))
  })
})

describe("Options.parseDuration and ExitCode.fromVerdicts", () => {
  it("durations: 30s, 2m, 500ms, 1 minute, a bare number of seconds", () => {
    const ms = (t: string) => Option.map(Options.parseDuration(t), Duration.toMillis)
    assert.deepStrictEqual(ms("30s"), Option.some(30_000))
    assert.deepStrictEqual(ms("2m"), Option.some(120_000))
    assert.deepStrictEqual(ms("500ms"), Option.some(500))
    assert.deepStrictEqual(ms("1 minute"), Option.some(60_000))
    assert.deepStrictEqual(ms("1.5 hours"), Option.some(5_400_000))
    assert.deepStrictEqual(ms("10"), Option.some(10_000))
    assert.isTrue(Option.isNone(Options.parseDuration("soon")))
    assert.isTrue(Option.isNone(Options.parseDuration("5 parsecs")))
  })

  it("the worst verdict wins", () => {
    assert.strictEqual(ExitCode.fromVerdicts([]), 0)
    assert.strictEqual(ExitCode.fromVerdicts(["deliverable"]), 0)
    assert.strictEqual(ExitCode.fromVerdicts(["deliverable", "unknown"]), 3)
    assert.strictEqual(ExitCode.fromVerdicts(["unknown", "risky"]), 2)
    assert.strictEqual(ExitCode.fromVerdicts(["risky", "undeliverable", "unknown"]), 1)
  })
})

describe("text lines with several addresses", () => {
  it.effect("commas, semicolons and whitespace: every address an item of its own, nothing dropped", () =>
    Effect.gen(function* () {
      const items = yield* read(
        'bob@x.test, erin@y.test, frank@z.test\nann@a.test;ben@b.test  cy@c.test\n"john doe"@q.test dee@d.test\nsolo@s.test\n'
      )
      assert.deepStrictEqual(summary(items), [
        "1:bob@x.test",
        "1:erin@y.test",
        "1:frank@z.test",
        "2:ann@a.test",
        "2:ben@b.test",
        "2:cy@c.test",
        '3:"john doe"@q.test',
        "3:dee@d.test",
        "4:solo@s.test"
      ])
    })
  )

  it.effect("a part without @ gets its own (syntax) result; one @ on a line: read whole; CSV still CSV", () =>
    Effect.gen(function* () {
      const text = yield* read("alice@x.test\nbob@x.test, carl@x.test, not-an-address\ndora@x.test junk\n")
      assert.deepStrictEqual(summary(text), [
        "1:alice@x.test",
        "2:bob@x.test",
        "2:carl@x.test",
        "2:not-an-address",
        "3:dora@x.test junk"
      ])
      const csv = yield* read("email,name\nbob@x.test,Bob\n")
      assert.deepStrictEqual(summary(csv), ["2:bob@x.test"])
      const headerless = yield* read("bob@x.test,Bob Smith\nerin@y.test,Erin\n")
      assert.deepStrictEqual(summary(headerless), ["1:bob@x.test", "2:erin@y.test"])
    })
  )

  it("splitAddresses", () => {
    assert.deepStrictEqual(Input.splitAddresses(" a@b , c@d;e@f\tg@h "), ["a@b", "c@d", "e@f", "g@h"])
    assert.deepStrictEqual(Input.splitAddresses('"a, b"@c d@e'), ['"a, b"@c', "d@e"])
    assert.deepStrictEqual(Input.splitAddresses('"a\\" b"@c'), ['"a\\" b"@c'])
    assert.deepStrictEqual(Input.splitAddresses(" ,; "), [])
  })
})

describe("output safety", () => {
  const hostile = {
    address: "+cmd@x.test",
    verdict: "undeliverable" as const,
    reason: "mailbox_unknown" as const,
    detail: "550 \u001b]0;pwned\u0007\u001b[2J =cmd \u202eELBAREVILED",
    text: '=HYPERLINK("http://evil.example","x") \u001b[32mDELIVERABLE\u001b[0m'
  }

  it("CSV cells: formulas neutralised, controls escaped; --resume reads the same key back", () => {
    assert.strictEqual(Output.csvField(hostile.address), "'+cmd@x.test")
    assert.strictEqual(Output.csvField("-1@x.test"), "'-1@x.test")
    assert.strictEqual(Output.csvField("@x"), "'@x")
    assert.strictEqual(Output.csvField("\t=1"), "'\t=1")
    assert.strictEqual(
      Output.csvField(hostile.text),
      '"\'=HYPERLINK(""http://evil.example"",""x"") \\e[32mDELIVERABLE\\e[0m"'
    )
    assert.strictEqual(Output.csvField(0.5), "0.5")
    assert.strictEqual(Output.key("csv", hostile.address), "'+cmd@x.test")
    assert.strictEqual(Output.key("jsonl", hostile.address), "+cmd@x.test")
  })
})
