// Reply classification against labelled replies nobody here wrote: sisimai's provider tables, their sample replies
// and its reason phrase index, and zone-mta's bounce rules with their sample replies (test/fixtures/). Each label is
// mapped onto "the mailbox does not exist" vs "the server refused us"; every row where rcpt's class differs names
// its reason (`miss`, explained in the fixture's `misses`), and the figures may not fall below those recorded.
import { assert, describe, it } from "@effect/vitest"
import { percent, fixture } from "./agreement.ts"
import { type Class, classify, classOf, type Figures, measure, type ReplyRow } from "./classify.ts"

interface Suite {
  readonly suite: string
  readonly labels: Readonly<Record<string, Class>>
  readonly recorded: Figures
  readonly misses: Readonly<Record<string, { readonly rule: string; readonly why: string }>>
  readonly cases: ReadonlyArray<ReplyRow>
}

const suites: ReadonlyArray<Suite> = [fixture<Suite>("sisimai/replies.json"), fixture<Suite>("zone-mta/bounces.json")]

const show = (suite: string, part: string, f: Figures): void => {
  console.log(
    `[conformance] ${suite}${part}: ${f.agree}/${f.mapped} mapped rows agree (${percent(f.agree, f.mapped)}); ` +
      `precision "mailbox does not exist" ${f.mailbox.right}/${f.mailbox.said} (${percent(f.mailbox.right, f.mailbox.said)}), ` +
      `"server refused us" ${f.refused.right}/${f.refused.said} (${percent(f.refused.right, f.refused.said)})`
  )
}

for (const suite of suites) {
  describe(`reply classification: ${suite.suite}`, () => {
    it("every miss is explained, and the figures hold", () => {
      const unexplained: Array<string> = []
      const missed = new Set<ReplyRow>()
      const figures = measure(suite.cases, suite.labels, (row, got) => {
        missed.add(row)
        if (row.miss === undefined || suite.misses[row.miss] === undefined) {
          unexplained.push(`${row.label} -> ${got.reason}: ${row.reply ?? `${row.code} ${row.text}`}`)
        }
      })
      for (const row of suite.cases) {
        if (row.miss !== undefined) assert.isTrue(missed.has(row), `noted as a miss but agrees: ${JSON.stringify(row)}`)
      }
      assert.deepStrictEqual(unexplained, [], "misses without a reason in the fixture")
      show(suite.suite, "", figures)
      // Real replies apart from phrases given a synthetic code, where the suite has both.
      if (suite.cases.some((row) => row.textOnly === true)) {
        show(
          suite.suite,
          " (replies with their codes)",
          measure(
            suite.cases.filter((r) => r.textOnly !== true),
            suite.labels,
            () => {}
          )
        )
        show(
          suite.suite,
          " (phrases at a synthetic 550)",
          measure(
            suite.cases.filter((r) => r.textOnly === true),
            suite.labels,
            () => {}
          )
        )
      }
      const r = suite.recorded
      assert.isAtLeast(figures.agree / figures.mapped, r.agree / r.mapped, "agreement fell below the recorded figure")
      assert.isAtLeast(
        figures.mailbox.right / figures.mailbox.said,
        r.mailbox.right / r.mailbox.said,
        "mailbox precision fell"
      )
      assert.isAtLeast(
        figures.refused.right / figures.refused.said,
        r.refused.right / r.refused.said,
        "refused precision fell"
      )
    })

    it("every label the suite uses is mapped or left out on purpose, and each miss names an RFC or says why not", () => {
      for (const [key, m] of Object.entries(suite.misses)) {
        assert.isAbove(m.why.length, 40, key)
        assert.isAbove(m.rule.length, 5, key)
      }
      for (const row of suite.cases) assert.isDefined(classOf(classify(row).outcome.reason))
    })
  })
}
