import { assert, describe, it } from "@effect/vitest"
import * as Judgement from "../src/Judgement.ts"
import type { Signals } from "../src/Verification.ts"

const none: Signals = {
  disposable: false,
  roleAccount: false,
  freeProvider: false,
  suggestion: null,
  acceptsAllProvider: null
}
const ok = { verdict: "deliverable", reason: "accepted", retryable: false } as const

describe("Judgement.defaultJudge", () => {
  const table: ReadonlyArray<readonly [string, Judgement.Evidence, Judgement.Judgement]> = [
    [
      "accepted",
      { smtp: ok, catchAll: false, signals: none },
      { verdict: "deliverable", reason: "accepted", score: 95 }
    ],
    [
      "accepted, catch-all untested",
      { smtp: ok, catchAll: null, signals: none },
      { verdict: "deliverable", reason: "accepted", score: 95 }
    ],
    ["catch-all", { smtp: ok, catchAll: true, signals: none }, { verdict: "risky", reason: "catch_all", score: 55 }],
    [
      "accepts-all provider",
      { smtp: ok, catchAll: null, signals: { ...none, acceptsAllProvider: "Microsoft 365" } },
      { verdict: "risky", reason: "accepts_all", score: 60 }
    ],
    [
      "accepts-all provider but the probe was refused",
      { smtp: ok, catchAll: false, signals: { ...none, acceptsAllProvider: "Microsoft 365" } },
      { verdict: "deliverable", reason: "accepted", score: 95 }
    ],
    [
      "disposable",
      { smtp: ok, catchAll: false, signals: { ...none, disposable: true } },
      { verdict: "risky", reason: "disposable", score: 30 }
    ],
    [
      "role account",
      { smtp: ok, catchAll: false, signals: { ...none, roleAccount: true } },
      { verdict: "deliverable", reason: "accepted", score: 85 }
    ],
    [
      "free provider",
      { smtp: ok, catchAll: false, signals: { ...none, freeProvider: true } },
      { verdict: "deliverable", reason: "accepted", score: 95 }
    ],
    [
      "unknown mailbox",
      {
        smtp: { verdict: "undeliverable", reason: "mailbox_unknown", retryable: false },
        catchAll: false,
        signals: { ...none, roleAccount: true }
      },
      { verdict: "undeliverable", reason: "mailbox_unknown", score: 2 }
    ],
    [
      "greylisted",
      { smtp: { verdict: "unknown", reason: "greylisted", retryable: true }, catchAll: null, signals: none },
      { verdict: "unknown", reason: "greylisted", score: 40 }
    ],
    [
      "blocked",
      { smtp: { verdict: "unknown", reason: "blocked", retryable: false }, catchAll: null, signals: none },
      { verdict: "unknown", reason: "blocked", score: 30 }
    ],
    [
      "full mailbox at a disposable domain",
      {
        smtp: { verdict: "risky", reason: "mailbox_full", retryable: false },
        catchAll: null,
        signals: { ...none, disposable: true }
      },
      { verdict: "risky", reason: "mailbox_full", score: 30 }
    ]
  ]
  for (const [name, evidence, expected] of table) {
    it(name, () => assert.deepStrictEqual(Judgement.defaultJudge(evidence), expected))
  }
})
