/**
 * The caller's per-domain and per-address rules (`DomainRules` from the config and the policy),
 * applied before any lookup (allow, deny, syntax-only depth) or after the MX lookup (DNS-only
 * depth). A ruled address never reaches SMTP.
 *
 * @internal
 */
import { Clock, Context, Effect, Option } from "effect"
import { Address } from "@rcpt/smtp"
import * as DomainRules from "../DomainRules.ts"
import * as Judgement from "../Judgement.ts"
import type * as MxPlan from "../MxPlan.ts"
import * as Policy from "../Policy.ts"
import { RiskSignals } from "../RiskSignals.ts"
import type { Outcome, Verification } from "../Verification.ts"
import * as VerifierConfig from "../VerifierConfig.ts"
import { build, planOutcome } from "./build.ts"

/** The config's rules and the policy's, together (both apply; the most specific pattern wins). */
const merge = (config: VerifierConfig.VerifierConfig, policy: Policy.Policies): DomainRules.DomainRules => ({
  allow: [...config.allow, ...policy.domainRules.allow],
  deny: [...config.deny, ...policy.domainRules.deny],
  depth: { ...policy.domainRules.depth, ...config.depth },
  defaultDepth: config.defaultDepth === "smtp" ? policy.domainRules.defaultDepth : config.defaultDepth
})

// Asked twice per address (before and after the lookup): the merged rules are made once per config and policy
// value, not per address, and no span is opened for what is a table lookup.
const merged = new WeakMap<VerifierConfig.VerifierConfig, WeakMap<Policy.Policies, DomainRules.DomainRules>>()
const rulesOf = (config: VerifierConfig.VerifierConfig, policy: Policy.Policies): DomainRules.DomainRules => {
  let byPolicy = merged.get(config)
  if (byPolicy === undefined) {
    byPolicy = new WeakMap()
    merged.set(config, byPolicy)
  }
  let rules = byPolicy.get(policy)
  if (rules === undefined) {
    rules = merge(config, policy)
    byPolicy.set(policy, rules)
  }
  return rules
}

/**
 * What the rules decide for `mailbox`, without an Effect: the bulk engine asks it once per address
 * and goes through {@link beforeLookup} / {@link afterLookup} only when {@link settlesBefore} or a
 * DNS depth says a rule answers the address.
 */
export const decide = (
  config: VerifierConfig.VerifierConfig,
  policy: Policy.Policies,
  mailbox: Address.Mailbox
): DomainRules.Decision =>
  DomainRules.decide(rulesOf(config, policy), mailbox.address, Address.domainText(mailbox.domain))

/** What the rules in `context` say about `mailbox`. */
const decision = (context: Context.Context<VerifierConfig.Service>, mailbox: Address.Mailbox): DomainRules.Decision =>
  decide(Context.get(context, VerifierConfig.Service), Context.get(context, Policy.Policy), mailbox)

const unruled = Effect.succeed(Option.none<Verification>())

const fixed = (
  input: string,
  mailbox: Address.Mailbox,
  judgement: Ruling,
  detail: string,
  mxHosts?: ReadonlyArray<string>
) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    return build({
      address: input,
      mailbox,
      startedAt: now,
      now,
      // A rule settles the address for good: nothing to retry.
      outcome: { verdict: judgement.verdict, reason: judgement.reason, retryable: false },
      detail,
      implicit: false,
      catchAll: null,
      signals: yield* RiskSignals,
      // The caller's rule is the verdict: no judge second-guesses an allow or deny list.
      judge: () => judgement,
      mxHosts
    })
  })

type Ruling = Judgement.Ruling & { readonly reason: Outcome["reason"] }

/** What a rule that settles an address before any lookup makes of it: allowed, denied, syntax only. */
const before = (d: DomainRules.Decision): { readonly ruling: Ruling; readonly detail: string } | undefined => {
  if (d.action === "allow") {
    return {
      ruling: { verdict: "deliverable", reason: "allowed", score: 100 },
      detail: `allowed by the rule "${d.pattern}": not asked`
    }
  }
  if (d.action === "deny") {
    return {
      ruling: { verdict: "undeliverable", reason: "denied", score: 0 },
      detail: `denied by the rule "${d.pattern}": not asked`
    }
  }
  if (d.depth === "syntax") {
    return {
      ruling: { verdict: "unknown", reason: "not_checked", score: 50 },
      detail: "the syntax is valid; checks stop there for this domain (depth syntax)"
    }
  }
  return undefined
}

/** Whether {@link beforeLookup} answers an address with decision `d` (allowed, denied, syntax depth). */
export const settlesBefore = (d: DomainRules.Decision): boolean => before(d) !== undefined

// Both lookups run for every address of a bulk run: plain effects, not `Effect.fn`, which
// captures a stack trace and opens a span at every call (about 3 % of the CPU of a bulk run
// through the in-process world, for what is mostly a table lookup with nothing to say).

/**
 * The result for an address the rules settle before any lookup: allowed, denied, or checked to
 * its syntax only. None: look it up.
 */
export const beforeLookup = (
  input: string,
  mailbox: Address.Mailbox
): Effect.Effect<Option.Option<Verification>, never, VerifierConfig.Service> =>
  Effect.contextWith((context: Context.Context<VerifierConfig.Service>) => {
    const settled = before(decision(context, mailbox))
    if (settled === undefined) return unruled
    return Effect.map(fixed(input, mailbox, settled.ruling, settled.detail), Option.some)
  })

/**
 * The result for an address whose domain is checked to DNS only: the plan's finding when it has
 * no hosts, else unknown / not_checked with the hosts named. None: go on to SMTP.
 */
export const afterLookup = (
  input: string,
  mailbox: Address.Mailbox,
  plan: MxPlan.MxPlan
): Effect.Effect<Option.Option<Verification>, never, VerifierConfig.Service> =>
  Effect.contextWith((context: Context.Context<VerifierConfig.Service>) =>
    decision(context, mailbox).depth === "dns" ? dnsOnly(input, mailbox, plan) : unruled
  )

/** The result for an address whose domain is checked to DNS only. */
const dnsOnly = Effect.fn("Rules.dnsOnly")(function* (input: string, mailbox: Address.Mailbox, plan: MxPlan.MxPlan) {
  if (plan._tag !== "Hosts") {
    const { outcome, detail } = planOutcome(plan)
    const now = yield* Clock.currentTimeMillis
    return Option.some(
      build({
        address: input,
        mailbox,
        startedAt: now,
        now,
        outcome,
        detail,
        implicit: false,
        catchAll: null,
        signals: yield* RiskSignals,
        judge: yield* Judgement.Judgement
      })
    )
  }
  const hosts = plan.hosts.map((h) => `${h.preference} ${h.host}`).join(", ")
  return Option.some(
    yield* fixed(
      input,
      mailbox,
      { verdict: "unknown", reason: "not_checked", score: 60 },
      `the domain has mail hosts (${plan.implicit ? "implicit MX: " : "MX "}${hosts}); checks stop there for this domain (depth dns)`,
      plan.hosts.map((h) => h.host)
    )
  )
})
