// Bad input files for `rcpt bulk`, through the real binary: each case pins the exit code, what
// stderr says and what the output holds. Where the file can be read at all, the good lines are
// all answered and the bad one becomes a result of its own; where it cannot, exit 66 and no output.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { parse as parseCsv } from "csv-parse/sync"
import { MailWorld } from "@rcpt/testing"
import type { Verification } from "@rcpt/verifier"
import { Output } from "@rcpt/cli"
import { countDiff, type Ran, rcpt, tempDir, worldFlags } from "./helpers.ts"

const good = ["alice@alpha.test", "bob@alpha.test", "nobody@alpha.test", "p1@catchall.test"]

/** What a finished run left: its exit, and the output file's text (null when there is none). */
interface Outcome {
  readonly ran: Ran
  readonly output: string | null
}

interface Case {
  readonly name: string
  /** Writes the input under `dir`; returns its path. */
  readonly input: (dir: string) => string
  readonly format?: Output.Format
  readonly code: number
  readonly stderr: RegExp
  readonly check: (outcome: Outcome) => void
}

const json = (outcome: Outcome): Array<Verification.Encoded> =>
  (outcome.output ?? "")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Verification.Encoded)

/** The good addresses answered once each, right; returns the results for the other lines. */
const goodAnswered = (results: ReadonlyArray<Verification.Encoded>): Array<Verification.Encoded> => {
  const by = new Map(results.map((v) => [v["address"] as string, v]))
  const verdict = (a: string) => `${by.get(a)?.["verdict"]}/${by.get(a)?.["reason"]}`
  assert.strictEqual(verdict("alice@alpha.test"), "deliverable/accepted")
  assert.strictEqual(verdict("bob@alpha.test"), "deliverable/accepted")
  assert.strictEqual(verdict("nobody@alpha.test"), "undeliverable/mailbox_unknown")
  assert.strictEqual(verdict("p1@catchall.test"), "risky/catch_all")
  const rest = results.filter((v) => !good.includes(v["address"] as string))
  assert.deepStrictEqual(
    countDiff(
      results.filter((v) => good.includes(v["address"] as string)).map((v) => v["address"] as string),
      good
    ),
    [],
    "each good line answered exactly once"
  )
  return rest
}

/** A refused input: nothing verified, no output file created, stdout empty, one stderr line. */
const refused = ({ ran, output }: Outcome) => {
  assert.isNull(output, "no output file")
  assert.strictEqual(ran.stdout, "")
  assert.strictEqual(ran.stderr.trim().split("\n").length, 1, ran.stderr)
}

const latin1 = (text: string) => Buffer.from(text, "latin1")

const cases: ReadonlyArray<Case> = [
  {
    name: "an empty file: exit 0, an empty output, a summary of 0",
    input: (dir) => write(dir, "empty.txt", ""),
    code: 0,
    stderr: /^0 verified in .*0 deliverable, 0 undeliverable, 0 risky, 0 unknown\n$/,
    check: ({ output, ran }) => {
      assert.strictEqual(output, "")
      assert.strictEqual(ran.stdout, "")
    }
  },
  {
    name: "an empty file, CSV out: no header without a result (so the run can simply be redone)",
    input: (dir) => write(dir, "empty2.txt", ""),
    format: "csv",
    code: 0,
    stderr: /^0 verified in /,
    check: ({ output }) => assert.strictEqual(output, "")
  },
  {
    name: "only blank lines and comments: like empty",
    input: (dir) => write(dir, "blank.txt", "\n\r\n   \n# nothing here\n"),
    code: 0,
    stderr: /^0 verified in /,
    check: ({ output }) => assert.strictEqual(output, "")
  },
  {
    name: "a binary file (NUL bytes): 66, said once, no output",
    input: (dir) => write(dir, "list.bin", Buffer.from([...Buffer.from("alice@alpha.test\n"), 0, 0xff, 0x10, 0x0a])),
    code: 66,
    stderr: /list\.bin: binary data \(a NUL byte in the first 8 KiB\): not an address list/,
    check: refused
  },
  {
    name: "a NUL byte after the first 8 KiB: read as text, that line is a syntax result",
    input: (dir) =>
      write(
        dir,
        "late-nul.txt",
        Buffer.concat([
          Buffer.from(`${good.join("\n")}\n${"#".repeat(9000)}\n`),
          Buffer.from([0x61, 0x00, 0x40, 0x62, 0x0a])
        ])
      ),
    code: 0,
    stderr: /^5 verified in /,
    check: (outcome) => {
      const [bad, ...more] = goodAnswered(json(outcome))
      assert.strictEqual(more.length, 0)
      assert.strictEqual(bad!["address"], "a\u0000@b")
      assert.strictEqual(`${bad!["verdict"]}/${bad!["reason"]}`, "undeliverable/syntax")
    }
  },
  {
    name: "a 10 MB line among good ones: one syntax result naming its line and length, the rest answered",
    input: (dir) => {
      const path = Path.join(dir, "huge.txt")
      const fd = Fs.openSync(path, "w")
      Fs.writeSync(fd, `${good[0]}\n${good[1]}\n`)
      const mb = Buffer.alloc(1024 * 1024, "x")
      for (let i = 0; i < 10; i++) Fs.writeSync(fd, mb)
      Fs.writeSync(fd, `@alpha.test\n${good[2]}\n${good[3]}\n`)
      Fs.closeSync(fd)
      return path
    },
    code: 0,
    stderr:
      /^5 verified in .*2 deliverable, 2 undeliverable, 1 risky, 0 unknown\n(sessions per MX address, as learnt:\n(  .*\n)+)?$/,
    check: (outcome) => {
      const [long, ...more] = goodAnswered(json(outcome))
      assert.strictEqual(more.length, 0)
      assert.strictEqual(`${long!["verdict"]}/${long!["reason"]}`, "undeliverable/syntax")
      assert.include(long!["detail"], `line 3 is ${10 * 1024 * 1024 + 11} bytes long, over the 65536-byte limit`)
      assert.match(long!["address"] as string, /^x{48}… \(line 3, 10485771 bytes\)$/)
    }
  },
  {
    name: "Latin-1 with a non-ASCII local part: no crash, that line undeliverable/syntax, the rest answered",
    input: (dir) =>
      write(
        dir,
        "latin1.txt",
        latin1(`${good.slice(0, 2).join("\n")}\njörg@alpha.test\n${good.slice(2).join("\n")}\n`)
      ),
    code: 0,
    stderr: /^5 verified in /,
    check: (outcome) => {
      const [jorg, ...more] = goodAnswered(json(outcome))
      assert.strictEqual(more.length, 0)
      // The byte 0xF6 is not UTF-8 (it reads as U+FFFD): no server is asked about an address
      // nobody wrote (it used to go out as RCPT TO:<j\uFFFDrg@alpha.test> and come back
      // mailbox_unknown).
      assert.strictEqual(jorg!["address"], "j\uFFFDrg@alpha.test")
      assert.strictEqual(`${jorg!["verdict"]}/${jorg!["reason"]}`, "undeliverable/syntax")
      assert.strictEqual(
        jorg!["detail"],
        "line 3 is not valid UTF-8 (Latin-1 or another encoding?): not verified; convert the file to UTF-8"
      )
      assert.deepStrictEqual(jorg!["transcript"], [])
    }
  },
  {
    name: "Latin-1 CSV: a non-ASCII name is fine, a non-ASCII address is a syntax result",
    input: (dir) =>
      write(
        dir,
        "latin1.csv",
        latin1(`name,email\nJörg,${good[0]}\nJörg,jörg@alpha.test\nBøb,${good[1]}\nN,${good[2]}\nC,${good[3]}\n`)
      ),
    format: "csv",
    code: 0,
    stderr: /^5 verified in /,
    check: ({ output }) => {
      const rows = parseCsv(output!, { columns: true }) as Array<Record<string, string>>
      assert.strictEqual(rows.length, 5)
      const bad = rows.filter((r) => r["reason"] === "syntax")
      assert.deepStrictEqual(
        bad.map((r) => [r["address"], r["detail"]]),
        [
          [
            "j\uFFFDrg@alpha.test",
            "CSV line 3: the email value is not valid UTF-8 (Latin-1 or another encoding?): not verified; convert the file to UTF-8"
          ]
        ]
      )
      assert.deepStrictEqual(
        countDiff(
          rows.filter((r) => r["reason"] !== "syntax").map((r) => r["address"]!),
          good
        ),
        []
      )
      assert.strictEqual(rows.find((r) => r["address"] === good[1])!["verdict"], "deliverable")
    }
  },
  // UTF-16 with a byte-order mark is named as such: 66, one message, nothing verified, no garbage results.
  {
    name: "UTF-16LE with a BOM: refused as UTF-16 (66), no output",
    input: (dir) => write(dir, "utf16.txt", Buffer.from(`\uFEFF${good.join("\r\n")}\r\n`, "utf16le")),
    code: 66,
    stderr: /utf16\.txt: UTF-16 text \(it starts with a UTF-16 byte-order mark\): convert the list to UTF-8/,
    check: refused
  },
  {
    name: "UTF-16BE with a BOM: refused the same way",
    input: (dir) => write(dir, "utf16be.txt", Buffer.from(`\uFEFF${good.join("\n")}\n`, "utf16le").swap16()),
    code: 66,
    stderr: /utf16be\.txt: UTF-16 text \(it starts with a UTF-16 byte-order mark\): convert the list to UTF-8/,
    check: refused
  },
  {
    name: "CSV with an unclosed quote in one record: that record a syntax result, every other answered once",
    input: (dir) =>
      write(
        dir,
        "contacts.csv",
        "name,email,note\n" +
          `Alice,${good[0]},x\n` +
          `Broken,"${good[1]},oops\n` +
          `Nobody,${good[2]},y\n` +
          // Enough lines with no quote that the open field reaches its 100-line limit.
          Array.from({ length: 120 }, (_, i) => `P${i},p${i + 100}@catchall.test,z\n`).join("") +
          `Cat,${good[3]},w\n` +
          `Bob,${good[1]},again\n` +
          `Last,"${good[0]}\n`
      ),
    format: "csv",
    code: 0,
    stderr: /^126 verified in /,
    check: ({ output }) => {
      assert.isTrue(output!.startsWith(Output.csvHeader))
      const rows = parseCsv(output!, { columns: true }) as Array<Record<string, string>>
      const broken = rows.filter((r) => r["verdict"] === "undeliverable" && r["reason"] === "syntax")
      assert.deepStrictEqual(
        broken.map((r) => [r["address"], r["detail"]]),
        [
          [`Broken,"${good[1]},oops`, "CSV line 3: broken quoting (a quoted field does not end on this line)"],
          [`Last,"${good[0]}`, "CSV line 127: broken quoting (a quoted field does not end on this line)"]
        ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1))
      )
      const answered = rows.filter((r) => r["reason"] !== "syntax").map((r) => r["address"]!)
      const expected = [...good, ...Array.from({ length: 120 }, (_, i) => `p${i + 100}@catchall.test`)]
      assert.deepStrictEqual(countDiff(answered, expected), [])
    }
  },
  {
    name: "a directory: 66, no output",
    input: (dir) => {
      const path = Path.join(dir, "adir")
      Fs.mkdirSync(path)
      return path
    },
    code: 66,
    stderr: /adir: is a directory, not an address list/,
    check: refused
  },
  {
    name: "a missing file: 66, no output",
    input: (dir) => Path.join(dir, "missing.txt"),
    code: 66,
    stderr: /missing\.txt: no such file/,
    check: refused
  }
]

const write = (dir: string, name: string, data: string | Buffer) => {
  const path = Path.join(dir, name)
  Fs.writeFileSync(path, data)
  return path
}

describe("rcpt bulk: bad input files", { timeout: 60_000 }, () => {
  for (const c of cases) {
    it.live(c.name, () =>
      Effect.scoped(
        Effect.gen(function* () {
          const world = yield* MailWorld.start(MailWorld.demo)
          const dir = yield* tempDir
          const input = c.input(dir)
          const format = c.format ?? "jsonl"
          const output = Path.join(dir, `out.${format}`)
          const ran = yield* rcpt(["bulk", input, "-o", output, "--format", format, ...worldFlags(world)])
          assert.strictEqual(ran.code, c.code, `exit code; stderr: ${ran.stderr}`)
          assert.match(ran.stderr, c.stderr)
          c.check({ ran, output: Fs.existsSync(output) ? Fs.readFileSync(output, "utf8") : null })
        })
      )
    )
  }
})
