/**
 * "Verify this group": mailboxes of one or more domains that share an MX plan, asked in shared
 * sessions, with one catch-all probe per domain whose status is not known yet, and greylisted
 * ones asked again on the policy's schedule.
 *
 * @internal
 */
import { Clock, Duration, Effect, Option, Random, Schedule } from "effect"
import { Address } from "@rcpt/smtp"
import { CatchAllMemory } from "../CatchAllMemory.ts"
import * as Judgement from "../Judgement.ts"
import * as MxPlan from "../MxPlan.ts"
import * as Policy from "../Policy.ts"
import { RiskSignals } from "../RiskSignals.ts"
import type { Outcome, Verification } from "../Verification.ts"
import * as VerifierConfig from "../VerifierConfig.ts"
import { build, type BuildInput, memo, planOutcome } from "./build.ts"
import { check, type CheckContext, type Findings } from "./check.ts"
import { domainKey } from "./keys.ts"

type Hosts = Extract<MxPlan.MxPlan, { _tag: "Hosts" }>

/** An address as given, and its parsed mailbox. */
export interface Entry {
  readonly input: string
  readonly mailbox: Address.Mailbox
}

const probeAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

/** Results built between two yields to the other fibers (see `finish`). */
const yieldEvery = 256

/** A made-up local part nobody has: 20 random characters from `Random` (seedable in tests). */
const probeFor = Effect.fn("Bulk.probeFor")(function* (domain: Address.Domain) {
  let local = ""
  for (let i = 0; i < 20; i++)
    local += probeAlphabet[yield* Random.nextIntBetween(0, probeAlphabet.length, { halfOpen: true })]
  return Address.parse(`${local}@${Address.domainText(domain)}`)
})

/** The first pass over a group's mailboxes: every one asked once (with failover and reconnects). */
const firstPass = Effect.fn("Bulk.firstPass")(function* (plan: Hosts, mailboxes: ReadonlyArray<Address.Mailbox>) {
  const config = yield* VerifierConfig.Service
  const policy = yield* Policy.Policy
  const memory = yield* CatchAllMemory
  // One probe per domain of the group whose catch-all status is not known yet; the memory is
  // asked once per domain (a group is mostly one domain: not an effect per address).
  const probes = new Map<string, Address.Mailbox>()
  const asked = new Set<string>()
  for (let i = 0; i < mailboxes.length; i++) {
    if (!config.catchAllProbe) break
    const mailbox = mailboxes[i]!
    const key = domainKey(mailbox.domain)
    if (asked.has(key)) continue
    asked.add(key)
    if (Option.isSome(yield* memory.get(key))) continue
    const made = yield* probeFor(mailbox.domain)
    if (made._tag === "Success") probes.set(key, made.success)
  }
  const ctx: CheckContext = {
    config,
    policy,
    probes,
    deadline: undefined,
    timeout: Duration.toMillis(Duration.fromInputUnsafe(config.timeout)),
    // Told each domain's status as soon as a session settles it (see CheckContext.memory).
    memory
  }
  const first = yield* check(plan.hosts, mailboxes, ctx)
  const now = yield* Clock.currentTimeMillis
  return {
    // A later pass (greylisting) starts with the sender that worked.
    ctx: { ...ctx, deadline: first.deadline ?? now + ctx.timeout, sender: first.sender },
    evidence: first.evidence,
    inconclusive: first.inconclusive
  }
})

/** Asks the greylisted ones again on the policy's schedule; never begins a wait that ends past the deadline. */
const retryGreylisted = Effect.fn("Bulk.retryGreylisted")(function* (
  plan: Hosts,
  mailboxes: ReadonlyArray<Address.Mailbox>,
  firstEvidence: ReadonlyArray<Findings>,
  ctx: CheckContext
) {
  const evidence = [...firstEvidence]
  // toStep gives the delay without sleeping, so the deadline is checked before the wait.
  const step = yield* Schedule.toStep(ctx.policy.greylistRetry)
  for (;;) {
    const again = evidence.flatMap((e, i) => (ctx.policy.isGreylisting(e.outcome) ? [i] : []))
    if (again.length === 0) break
    const now = yield* Clock.currentTimeMillis
    const next = yield* Effect.result(step(now, undefined))
    if (next._tag === "Failure") break
    const delay = Duration.toMillis(next.success[1])
    if (now + delay + 1000 > (ctx.deadline ?? 0)) break
    yield* Effect.sleep(Duration.millis(delay))
    const retried = yield* check(
      plan.hosts,
      again.map((i) => mailboxes[i]!),
      { ...ctx, probes: new Map() }
    )
    again.forEach((i, k) => {
      const e = retried.evidence[k]!
      evidence[i] = { ...e, attempts: [...evidence[i]!.attempts, ...e.attempts] }
    })
  }
  return evidence
})

// The per-address fields of `finish`'s input before the first address sets them.
const unset: Outcome = { verdict: "unknown", reason: "connection_failed", retryable: true }

/** The verifications of the entries at `indices`, from their evidence. */
const finish = Effect.fn("Bulk.finish")(function* (
  plan: Hosts,
  entries: ReadonlyArray<Entry>,
  startedAt: number,
  evidence: ReadonlyArray<Findings>,
  indices: ReadonlyArray<number>,
  inconclusive: ReadonlySet<string>
) {
  const config = yield* VerifierConfig.Service
  const policy = yield* Policy.Policy
  const memory = yield* CatchAllMemory
  const signals = yield* RiskSignals
  const judge = yield* Judgement.Judgement
  const now = yield* Clock.currentTimeMillis
  // The same for every address of the group: worked out once.
  const shared = memo()
  const dnsMs = config.timing ? (MxPlan.resolveTime(plan) ?? 0) : undefined
  const mxHosts = plan.hosts.map((h) => h.host)
  const out: Array<Verification> = []
  // What the memory knows of each domain, asked once per domain of the group (not per address).
  const known = new Map<string, Option.Option<boolean>>()
  // One input for the group, its per-address fields set for each: `build` keeps nothing of it
  // (an input of twenty fields per address was a sixtieth of what a run allocated).
  const input: { -readonly [K in keyof BuildInput]: BuildInput[K] } = {
    address: "",
    mailbox: undefined,
    startedAt,
    now,
    outcome: unset,
    evidence: undefined,
    implicit: plan.implicit,
    port: config.port,
    catchAll: null,
    catchAllProbe: "not_checked",
    signals,
    judge,
    retryAfter: policy.retryAfter,
    dnsMs,
    mxHosts,
    transcript: config.transcript
  }
  for (let k = 0; k < indices.length; k++) {
    // Thousands of results are plain work: now and then the other fibers (sessions with replies
    // in, one waiting for the connection this group's last session gave back) go first.
    if (k % yieldEvery === 0) yield* Effect.yieldNow
    const i = indices[k]!
    const entry = entries[i]!
    const key = domainKey(entry.mailbox.domain)
    let catchAll = known.get(key)
    if (catchAll === undefined) {
      catchAll = yield* memory.get(key)
      known.set(key, catchAll)
    }
    input.address = entry.input
    input.mailbox = entry.mailbox
    input.outcome = evidence[i]!.outcome
    input.evidence = evidence[i]
    input.catchAll = Option.getOrNull(catchAll)
    input.catchAllProbe = Option.isSome(catchAll)
      ? catchAll.value
        ? "accepted"
        : "refused"
      : inconclusive.has(key)
        ? "inconclusive"
        : "not_checked"
    out.push(build(input, shared))
  }
  return out
})

/** Every entry answered from the plan alone (null MX, no such domain, DNS failure). */
const withoutHosts = Effect.fn("Bulk.withoutHosts")(function* (
  plan: Exclude<MxPlan.MxPlan, Hosts>,
  entries: ReadonlyArray<Entry>
) {
  const startedAt = yield* Clock.currentTimeMillis
  const signals = yield* RiskSignals
  const judge = yield* Judgement.Judgement
  const config = yield* VerifierConfig.Service
  const policy = yield* Policy.Policy
  const { outcome, detail } = planOutcome(plan)
  const now = yield* Clock.currentTimeMillis
  const shared = memo()
  return entries.map((entry) =>
    build(
      {
        address: entry.input,
        mailbox: entry.mailbox,
        startedAt,
        now,
        outcome,
        detail,
        implicit: false,
        catchAll: null,
        signals,
        judge,
        retryAfter: policy.retryAfter,
        dnsMs: config.timing ? (MxPlan.resolveTime(plan) ?? 0) : undefined,
        mxHosts: plan._tag === "NoMailHosts" ? plan.hosts : undefined
      },
      shared
    )
  )
})

/**
 * A group's verifications now (one per entry); `pending` lists the greylisted ones, whose final
 * answers `later` gives after asking again on the policy's schedule.
 */
export const verifyGroup = Effect.fn("Bulk.verifyGroup")(function* (
  plan: MxPlan.MxPlan,
  entries: ReadonlyArray<Entry>
) {
  if (plan._tag !== "Hosts") {
    return { now: yield* withoutHosts(plan, entries), pending: [] as ReadonlyArray<number>, later: Effect.succeed([]) }
  }
  const startedAt = yield* Clock.currentTimeMillis
  const mailboxes = entries.map((e) => e.mailbox)
  const { ctx, evidence, inconclusive } = yield* firstPass(plan, mailboxes)
  const pending = evidence.flatMap((e, i) => (ctx.policy.isGreylisting(e.outcome) ? [i] : []))
  const now = yield* finish(
    plan,
    entries,
    startedAt,
    evidence,
    entries.map((_, i) => i),
    inconclusive
  )
  const later =
    pending.length === 0
      ? Effect.succeed([])
      : retryGreylisted(plan, mailboxes, evidence, ctx).pipe(
          Effect.flatMap((final) => finish(plan, entries, startedAt, final, pending, inconclusive)),
          Effect.map((vs) => vs.map((v, k) => [pending[k]!, v] as const))
        )
  return { now, pending, later }
})
