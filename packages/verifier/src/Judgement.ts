/**
 * From evidence to the final verdict and a 0-100 score: a replaceable policy.
 *
 * A {@link Judge} is a plain function from {@link Evidence} (what the mail servers said, the catch-all probe, the risk
 * signals of @rcpt/signals) to a {@link Ruling} (verdict, reason, score). The verifier reads the judge in force from
 * the {@link Judgement} reference for every verification, so a different policy needs no new verifier: provide one
 * with {@link layer} or `Effect.provideService(Judgement.Judgement, judge)`. {@link make} builds a judge from a few
 * named {@link Rules}; anything else is a function that wraps {@link defaultJudge}.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Judgement, Verifier } from "@rcpt/verifier"
 *
 * // "Role accounts are fine for us, and a catch-all domain's 250 is good enough."
 * const lenient = Judgement.make({ catchAll: "deliverable", roleAccount: "ok" })
 *
 * // Or any function: here, free providers are not wanted for sign-ups.
 * const business: Judgement.Judge = (evidence) => {
 *   const judgement = Judgement.defaultJudge(evidence)
 *   return evidence.signals.freeProvider && judgement.verdict === "deliverable"
 *     ? { ...judgement, verdict: "risky", score: Math.max(0, judgement.score - 30) }
 *     : judgement
 * }
 *
 * const program = Effect.gen(function* () {
 *   const verifier = yield* Verifier.Verifier
 *   return yield* verifier.verify("info@example.com")
 * })
 * // For the whole program: Effect.provide(Judgement.layer(lenient)); for one call:
 * program.pipe(Effect.provideService(Judgement.Judgement, business))
 * ```
 *
 * **The default rules (verdict)**
 *
 * The SMTP outcome decides first (see `Classify` in @rcpt/smtp). A `deliverable` outcome (250/251 to RCPT) is then
 * qualified by the rules below; when several apply, the most severe verdict wins (`undeliverable` over `risky` over
 * `deliverable`), and of equals the one listed first. A rule set to `"undeliverable"` applies to any SMTP verdict but
 * `undeliverable`: the address is refused whatever the server said.
 *
 * | rule ({@link Rules} key) | applies when | default | choices |
 * | --- | --- | --- | --- |
 * | `catchAll` | the domain also accepted a made-up mailbox (`catchAll: true`) | `risky` / `catch_all` | `"risky"`, `"deliverable"` |
 * | `acceptsAll` | the MX host belongs to a provider known to accept every RCPT (`signals.acceptsAllProvider`, by MX host suffix; Microsoft 365, Yahoo, Mail.ru) and the probe was not refused (`catchAll` is not `false`) | `risky` / `accepts_all` | `"risky"`, `"deliverable"` |
 * | `providers` | the recognised provider (`provider.id`) is listed; replaces `acceptsAll` for it | none listed | `"risky"` (`accepts_all` or `provider`), `"deliverable"` |
 * | `disposable` | the domain is a disposable-address service | `risky` / `disposable` | `"risky"`, `"ok"`, `"undeliverable"` |
 * | `roleAccount` | the local part names a role (`info`, `admin`, `noreply`...) | `ok`: stays `deliverable` | `"ok"`, `"risky"` (reason `role_account`), `"undeliverable"` |
 *
 * A rule set to `"deliverable"` or `"ok"` leaves the verdict and reason as SMTP gave them (`deliverable` /
 * `accepted`). Free providers and typo suggestions never change the verdict; they are shown in `signals`. Any other
 * SMTP outcome keeps its verdict and reason: `risky` / `mailbox_full`, `undeliverable` / `mailbox_unknown`,
 * `unknown` / `greylisted`...
 *
 * **The default scores**
 *
 * The score estimates how likely mail to the address is delivered. It follows the evidence, not the verdict the rules
 * chose: a catch-all domain's 250 scores 55 whether the policy calls it `risky` or `deliverable`. Change the numbers
 * with `make({ scores })`.
 *
 * | evidence | score ({@link Scores} key) |
 * | --- | --- |
 * | 250, nothing against it | 95 (`deliverable`) |
 * | 250, catch-all domain | 55 (`catchAll`) |
 * | 250 from an accept-all provider, probe not refused | 60 (`acceptsAll`) |
 * | 250 at a disposable domain | 30 (`disposable`) |
 * | `risky` from SMTP (full mailbox, ...) | 50 (`risky`) |
 * | `unknown`, retryable (greylisted, timeout, ...) | 40 (`unknown`) |
 * | `unknown`, not retryable (blocked, TLS required, ...) | 30 (`unknownFinal`) |
 * | `undeliverable` | 2 (`undeliverable`) |
 *
 * Then, except for an `undeliverable` SMTP outcome: a role account takes 10 off (`roleAccountPenalty`), a disposable
 * domain 20 (`disposablePenalty`; not on top of the 250-at-a-disposable-domain score, which already counts it). The
 * result is rounded and kept within 0-100.
 *
 * @since 0.1.0
 */
import { Context, Layer } from "effect"
import type { Outcome, ProviderEvidence, Reason, Signals, Verdict } from "./Verification.ts"

/**
 * Everything a judge may look at.
 *
 * @category models
 * @since 0.1.0
 */
export interface Evidence {
  /** What the mail servers (or DNS, or the syntax check) said. */
  readonly smtp: Outcome
  /** `true`: the domain accepted a made-up mailbox. `false`: it refused one. `null`: not tested. */
  readonly catchAll: boolean | null
  readonly signals: Signals
  /** The mailbox provider or security gateway recognised from the MX hosts; absent or null: none known. */
  readonly provider?: ProviderEvidence | null | undefined
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Ruling {
  readonly verdict: Verdict
  readonly reason: Reason
  /** 0-100, an integer; the verifier rounds and clamps whatever a judge returns (not a finite number: 0). */
  readonly score: number
}

/**
 * @category models
 * @since 0.1.0
 */
export type Judge = (evidence: Evidence) => Ruling

/**
 * The numbers behind the score; see the module documentation for when each applies.
 *
 * @category models
 * @since 0.1.0
 */
export interface Scores {
  /** A 250 with nothing against it. */
  readonly deliverable: number
  /** A 250 on a domain that accepted the made-up probe too. */
  readonly catchAll: number
  /** A 250 from a provider known to accept every RCPT, the probe not refused. */
  readonly acceptsAll: number
  /** A 250 at a disposable domain. */
  readonly disposable: number
  /** A `risky` SMTP outcome (full mailbox...). */
  readonly risky: number
  /** An `unknown` SMTP outcome worth asking again (greylisting, timeouts). */
  readonly unknown: number
  /** An `unknown` SMTP outcome that asking again will not change (blocks, TLS required). */
  readonly unknownFinal: number
  /** An `undeliverable` SMTP outcome. */
  readonly undeliverable: number
  /** Taken off for a role account. */
  readonly roleAccountPenalty: number
  /** Taken off for a disposable domain, unless `disposable` was the score. */
  readonly disposablePenalty: number
}

/**
 * @category constants
 * @since 0.1.0
 */
export const defaultScores: Scores = {
  deliverable: 95,
  catchAll: 55,
  acceptsAll: 60,
  disposable: 30,
  risky: 50,
  unknown: 40,
  unknownFinal: 30,
  undeliverable: 2,
  roleAccountPenalty: 10,
  disposablePenalty: 20
}

/**
 * How to treat each signal; every key is optional and defaults to {@link defaultRules}.
 *
 * @category models
 * @since 0.1.0
 */
export interface Rules {
  /** A 250 on a domain that accepted the made-up probe too. */
  readonly catchAll?: "risky" | "deliverable" | undefined
  /** A 250 from a provider known to accept every RCPT, the probe not refused. */
  readonly acceptsAll?: "risky" | "deliverable" | undefined
  /**
   * A 250 from a recognised provider or gateway, by its id (`microsoft-365`, `proofpoint`, ...; see `Providers` in
   * @rcpt/signals): `"risky"` qualifies it (reason `accepts_all` for a provider that accepts every RCPT, else
   * `provider`), `"deliverable"` takes it at its word, even from an accept-all provider. Unlisted: `acceptsAll` decides.
   */
  readonly providers?: Readonly<Record<string, "risky" | "deliverable">> | undefined
  /** A disposable domain. */
  readonly disposable?: "risky" | "ok" | "undeliverable" | undefined
  /** A role account (`info@`, `admin@`, `noreply@`...). */
  readonly roleAccount?: "ok" | "risky" | "undeliverable" | undefined
  /** Changes to {@link defaultScores}. */
  readonly scores?: Partial<Scores> | undefined
}

/**
 * The rules of {@link defaultJudge}.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultRules = {
  catchAll: "risky",
  acceptsAll: "risky",
  disposable: "risky",
  roleAccount: "ok"
} as const satisfies Required<Omit<Rules, "scores" | "providers">>

const clamp = (n: number) => Math.max(0, Math.min(100, Math.round(n)))

const severity: Record<"deliverable" | "ok" | "risky" | "undeliverable", number> = {
  deliverable: 0,
  ok: 0,
  risky: 1,
  undeliverable: 2
}

const scoreOf = ({ smtp, catchAll, signals }: Evidence, scores: Scores): number => {
  let score: number
  let disposableCounted = false
  switch (smtp.verdict) {
    case "undeliverable":
      return clamp(scores.undeliverable)
    case "deliverable":
      if (catchAll === true) score = scores.catchAll
      else if (signals.acceptsAllProvider !== null && catchAll !== false) score = scores.acceptsAll
      else if (signals.disposable) {
        score = scores.disposable
        disposableCounted = true
      } else score = scores.deliverable
      break
    case "risky":
      score = scores.risky
      break
    case "unknown":
      score = smtp.retryable ? scores.unknown : scores.unknownFinal
      break
  }
  if (signals.roleAccount) score -= scores.roleAccountPenalty
  if (signals.disposable && !disposableCounted) score -= scores.disposablePenalty
  return clamp(score)
}

/**
 * A judge from rules and scores: `make()` is {@link defaultJudge}; `make({ catchAll: "deliverable" })` is the default
 * with catch-all domains' 250s taken at their word. See the module documentation for the rules and the scores.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (rules: Rules = {}): Judge => {
  const catchAllRule = rules.catchAll ?? defaultRules.catchAll
  const acceptsAllRule = rules.acceptsAll ?? defaultRules.acceptsAll
  const providerRules = rules.providers ?? {}
  const disposableRule = rules.disposable ?? defaultRules.disposable
  const roleRule = rules.roleAccount ?? defaultRules.roleAccount
  const scores: Scores = { ...defaultScores, ...rules.scores }
  return (evidence) => {
    const { smtp, catchAll, signals, provider } = evidence
    const score = scoreOf(evidence, scores)
    // Each rule that applies, in the documented order: the first of the highest severity decides.
    // (Applied as they are found, by a module-level function: a list of them cost an array and a
    // pair per address, a closure over the verdict a context and a closure.)
    const ruling: { -readonly [K in keyof Ruling]: Ruling[K] } = { verdict: smtp.verdict, reason: smtp.reason, score }
    let worst = 0
    const byProvider = provider == null ? undefined : providerRules[provider.id]
    if (smtp.verdict === "deliverable") {
      if (catchAll === true) worst = applyRule(ruling, worst, smtp.verdict, catchAllRule, "catch_all")
      else if (byProvider !== undefined) {
        const acceptsAll = provider!.acceptsAll || signals.acceptsAllProvider !== null
        worst = applyRule(ruling, worst, smtp.verdict, byProvider, acceptsAll ? "accepts_all" : "provider")
      } else if (signals.acceptsAllProvider !== null && catchAll !== false) {
        worst = applyRule(ruling, worst, smtp.verdict, acceptsAllRule, "accepts_all")
      }
    }
    if (smtp.verdict !== "undeliverable") {
      if (signals.disposable) worst = applyRule(ruling, worst, smtp.verdict, disposableRule, "disposable")
      if (signals.roleAccount) applyRule(ruling, worst, smtp.verdict, roleRule, "role_account")
    }
    return ruling
  }
}

/** One rule's choice applied to `ruling` when more severe than `worst` so far; the new worst. */
const applyRule = (
  ruling: { verdict: Verdict; reason: Reason },
  worst: number,
  smtp: Verdict,
  choice: keyof typeof severity,
  reason: Reason
): number => {
  // "risky" qualifies a 250 only; "undeliverable" refuses the address whatever SMTP said.
  if (choice === "risky" && smtp !== "deliverable") return worst
  if (severity[choice] <= worst) return worst
  ruling.verdict = choice === "undeliverable" ? "undeliverable" : "risky"
  ruling.reason = reason
  return severity[choice]
}

/**
 * The documented rules and scores (see the module documentation); `make()` with nothing changed.
 *
 * @category judges
 * @since 0.1.0
 */
export const defaultJudge: Judge = make()

/**
 * The judge in force; {@link defaultJudge} unless provided.
 *
 * @category services
 * @since 0.1.0
 */
export const Judgement = Context.Reference<Judge>("@rcpt/verifier/Judgement", { defaultValue: () => defaultJudge })

/**
 * Provides a judge to everything built on top of it, verifiers included: each verification reads the judge from its
 * caller's context.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (judge: Judge): Layer.Layer<never> => Layer.succeed(Judgement, judge)
