// One phase-to-timeout mapping for both machines: every phase of the verification Session and of
// the Submission, and the fallback to quit's timeout for a phase the record does not cover.
import { assert, describe, it } from "@effect/vitest"
import { PhaseTimeouts } from "../src/index.ts"

const submission: PhaseTimeouts.Submission = {
  connect: "1 second",
  greeting: "2 seconds",
  ehlo: "3 seconds",
  starttls: "4 seconds",
  tlsHandshake: "5 seconds",
  mail: "6 seconds",
  rcpt: "7 seconds",
  rset: "8 seconds",
  quit: "9 seconds",
  auth: "10 seconds",
  data: "11 seconds",
  dataEnd: "12 seconds"
}

describe("PhaseTimeouts.timeoutFor", () => {
  it("maps every phase of both machines to its field", () => {
    const t = PhaseTimeouts.timeoutFor({ ...submission, vrfy: "13 seconds" })
    const table: ReadonlyArray<readonly [string, string]> = [
      ["AwaitGreeting", "2 seconds"],
      ["AwaitEhlo", "3 seconds"],
      ["AwaitHelo", "3 seconds"],
      ["AwaitStartTls", "4 seconds"],
      ["AwaitTlsHandshake", "5 seconds"],
      ["AwaitMail", "6 seconds"],
      ["AwaitRcpt", "7 seconds"],
      ["AwaitProbe", "7 seconds"],
      ["AwaitRset", "8 seconds"],
      ["AwaitQuit", "9 seconds"],
      ["Done", "9 seconds"],
      ["AwaitAuth", "10 seconds"],
      ["AwaitData", "11 seconds"],
      ["AwaitDataEnd", "12 seconds"],
      ["AwaitVrfy", "13 seconds"]
    ]
    for (const [phase, expected] of table) assert.strictEqual(String(t(phase)), expected, phase)
  })

  it("a phase the record does not cover, or an unknown one, gets quit's timeout", () => {
    const t = PhaseTimeouts.timeoutFor(submission)
    assert.strictEqual(String(t("AwaitVrfy")), "9 seconds")
    assert.strictEqual(String(t("NoSuchPhase")), "9 seconds")
  })
})
