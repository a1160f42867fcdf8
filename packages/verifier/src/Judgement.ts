/**
 * From evidence to the final verdict and a 0-100 score: a replaceable policy.
 *
 * The SMTP outcome is the evidence that matters most; catch-all domains, providers known to
 * accept every RCPT, disposable domains and role accounts temper it. Users with other needs
 * ("role accounts are fine for us", "treat catch-all as deliverable") provide their own
 * `Judge`, usually by wrapping `defaultJudge`.
 *
 * @since 0.1.0
 */
import { Context } from "effect"
import type { Classify } from "@rcpt/smtp"
import type { Reason, Signals, Verdict } from "./Verification.ts"

/**
 * Everything a judge may look at.
 *
 * @category models
 * @since 0.1.0
 */
export interface Evidence {
  /** What the mail servers (or DNS, or the syntax check) said. */
  readonly smtp: Classify.Outcome
  /** Some(true): the domain accepted a made-up mailbox. */
  readonly catchAll: boolean | null
  readonly signals: Signals
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Judgement {
  readonly verdict: Verdict
  readonly reason: Reason
  readonly score: number
}

/**
 * @category models
 * @since 0.1.0
 */
export type Judge = (evidence: Evidence) => Judgement

const clamp = (n: number) => Math.max(0, Math.min(100, Math.round(n)))

const baseScore: Record<Verdict, number> = { deliverable: 95, risky: 50, unknown: 40, undeliverable: 2 }

/**
 * The documented rules:
 * - deliverable on a catch-all domain -> risky / catch_all (score 55);
 * - deliverable at a provider that accepts every RCPT, unless the probe said otherwise ->
 *   risky / accepts_all (score 60);
 * - deliverable but disposable -> risky / disposable (score 30);
 * - role accounts stay deliverable, 10 points lower; free providers change nothing;
 * - everything else keeps the SMTP verdict and reason; unknown scores 40 (30 when not retryable).
 *
 * @category judges
 * @since 0.1.0
 */
export const defaultJudge: Judge = ({ smtp, catchAll, signals }) => {
  let verdict: Verdict = smtp.verdict
  let reason: Reason = smtp.reason
  let score = baseScore[verdict]
  if (verdict === "deliverable") {
    if (catchAll === true) {
      verdict = "risky"
      reason = "catch_all"
      score = 55
    } else if (signals.acceptsAllProvider !== null && catchAll !== false) {
      verdict = "risky"
      reason = "accepts_all"
      score = 60
    } else if (signals.disposable) {
      verdict = "risky"
      reason = "disposable"
      score = 30
    }
  }
  if (verdict === "unknown" && !smtp.retryable) score = 30
  if (signals.roleAccount && verdict !== "undeliverable") score -= 10
  if (signals.disposable && verdict !== "undeliverable" && reason !== "disposable") score -= 20
  return { verdict, reason, score: clamp(score) }
}

/**
 * The judge in force; `defaultJudge` unless provided.
 *
 * @category services
 * @since 0.1.0
 */
export const Judgement = Context.Reference<Judge>("@rcpt/verifier/Judgement", { defaultValue: () => defaultJudge })
