// Address syntax against three outside suites (isemail, python-email-validator, @hapi/address),
// carried as data in test/fixtures/. Each row's `expect` is the suite's own verdict; a row where
// rcpt differs on purpose names the difference (`differs`), and the fixture says which RFC rule
// decides. A disagreement with no such note, or a note on a row that agrees, fails the suite.
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { parse } from "@rcpt/smtp/Address"
import { fixture, type Recorded, report } from "./agreement.ts"

interface Row {
  readonly input: string
  readonly expect: "accept" | "refuse"
  readonly differs?: string
  readonly id?: string
  readonly test?: string
}

interface Difference {
  readonly rcpt: "accept" | "refuse"
  readonly rule: string
  readonly why: string
}

interface Suite {
  readonly suite: string
  readonly recorded: Recorded
  readonly differences: Readonly<Record<string, Difference>>
  readonly cases: ReadonlyArray<Row>
}

const suites: ReadonlyArray<Suite> = [
  fixture<Suite>("isemail/tests.json"),
  fixture<Suite>("python-email-validator/test_syntax.json"),
  fixture<Suite>("hapi-address/email.json")
]

const verdict = (input: string): "accept" | "refuse" => (Result.isSuccess(parse(input)) ? "accept" : "refuse")

for (const suite of suites) {
  describe(`address syntax: ${suite.suite}`, () => {
    it("every disagreement is one rcpt means, with the rule that decides", () => {
      const unexplained: Array<string> = []
      let agree = 0
      for (const row of suite.cases) {
        const got = verdict(row.input)
        if (got === row.expect) {
          agree++
          assert.isUndefined(row.differs, `${JSON.stringify(row.input)} agrees but is noted as "${row.differs}"`)
        } else {
          const difference = row.differs === undefined ? undefined : suite.differences[row.differs]
          if (difference === undefined || difference.rcpt !== got) {
            unexplained.push(`${JSON.stringify(row.input)}: suite ${row.expect}, rcpt ${got}`)
          }
        }
      }
      assert.deepStrictEqual(unexplained, [], "disagreements without a reason in the fixture")
      report(suite.suite, agree, suite.cases.length, suite.recorded)
    })

    it("every noted difference names an RFC rule", () => {
      for (const [key, d] of Object.entries(suite.differences)) {
        assert.match(d.rule, /RFC \d+/, key)
        assert.isAbove(d.why.length, 20, key)
      }
    })
  })
}
