/**
 * The verifier: "can this address receive mail?" answered by the address's own mail servers,
 * with the evidence. One address with `verify`, a stream of them with `verifyMany`.
 *
 * Nothing here fails or hangs on anything a server or a list does: every input comes back as a
 * `Verification`, with verdict `unknown` and a precise reason when no answer could be had.
 *
 * @since 0.1.0
 */
import { Cache, Clock, Context, Duration, Effect, Layer, Option, Random, Schedule, Stream } from "effect"
import { Dns } from "effect/net"
import { SmtpTransport } from "@rcpt/client"
import { Address } from "@rcpt/smtp"
import { Signals } from "@rcpt/signals"
import * as Judgement from "./Judgement.ts"
import * as MxPlan from "./MxPlan.ts"
import * as Policy from "./Policy.ts"
import type { Verification } from "./Verification.ts"
import * as VerifierConfig from "./VerifierConfig.ts"
import { build, planOutcome } from "./internal/build.ts"
import * as Bulk from "./internal/bulk.ts"
import { check, type CheckContext, domainKey, type Evidence } from "./internal/check.ts"
import * as Permits from "./internal/permits.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface VerifyManyOptions {
  /** Addresses held while grouping by MX hosts; bounds memory whatever the input's order. */
  readonly window?: number | undefined
  /** Groups (domains sharing MX hosts) checked at once. */
  readonly groups?: number | undefined
}

/**
 * @category services
 * @since 0.1.0
 */
export class Verifier extends Context.Service<
  Verifier,
  {
    readonly verify: (address: string) => Effect.Effect<Verification>
    /** Results in completion order, one per input (duplicates included, verified once). */
    readonly verifyMany: <E, R>(
      addresses: Stream.Stream<string, E, R>,
      options?: VerifyManyOptions
    ) => Stream.Stream<Verification, E, R>
  }
>()("@rcpt/verifier/Verifier") {}

/**
 * The risk signal lists in force; the packaged lists unless provided.
 *
 * @category services
 * @since 0.1.0
 */
export const RiskSignals = Context.Reference<Signals.Signals>("@rcpt/verifier/RiskSignals", {
  defaultValue: () => Signals.defaultSignals()
})

const probeAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

/** A made-up local part nobody has: 20 random characters from `Random` (seedable in tests). */
const probeFor = (domain: Address.Domain) =>
  Effect.gen(function* () {
    let local = ""
    for (let i = 0; i < 20; i++)
      local += probeAlphabet[yield* Random.nextIntBetween(0, probeAlphabet.length, { halfOpen: true })]
    return Address.parse(`${local}@${Address.domainText(domain)}`)
  })

/** A group's answers now, and the greylisted ones' later (see `verifyGroupStaged`). */
interface Staged {
  readonly now: ReadonlyArray<Verification>
  readonly pending: ReadonlyArray<number>
  readonly later: Effect.Effect<ReadonlyArray<readonly [number, Verification]>, never, SmtpTransport.SmtpTransport>
}

type Item = { readonly input: string; readonly mailbox: Address.Mailbox }

/**
 * Domains with the same MX hosts share a key, hence bulk groups and sessions. Ties are shuffled
 * per lookup, so the hosts are sorted; a plan without hosts keeps its domain to itself.
 */
const keyOfPlan = (domain: Address.Domain, plan: MxPlan.MxPlan) =>
  plan._tag === "Hosts"
    ? `mx:${plan.implicit ? "implicit:" : ""}${plan.hosts
        .map((h) => `${h.preference} ${h.host.toLowerCase()}`)
        .sort()
        .join(",")}`
    : `domain:${domainKey(domain)}`

/**
 * Builds the service from its dependencies.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = Effect.gen(function* () {
  const config = yield* VerifierConfig.Service
  const dns = yield* Dns.Dns
  const permits = yield* Permits.make(config)
  const mxCache = yield* Cache.make({
    capacity: 10_000,
    timeToLive: "10 minutes",
    lookup: (domain: Address.Domain) => MxPlan.resolve(domain).pipe(Effect.provideService(Dns.Dns, dns))
  })
  // Catch-all status learnt per domain, for the life of the verifier.
  const catchAll = new Map<string, boolean>()
  const remember = (key: string, value: Option.Option<boolean>) => {
    if (Option.isNone(value)) return
    if (catchAll.size >= 100_000) catchAll.delete(catchAll.keys().next().value!)
    catchAll.set(key, value.value)
  }

  /** The first pass over a group's mailboxes: every one asked once (with failover and reconnects). */
  const firstPass = (plan: Extract<MxPlan.MxPlan, { _tag: "Hosts" }>, mailboxes: ReadonlyArray<Address.Mailbox>) =>
    Effect.gen(function* () {
      const policy = yield* Policy.Policy
      // One probe per domain of the group whose catch-all status is not known yet.
      const probes = new Map<string, Address.Mailbox>()
      for (const mailbox of mailboxes) {
        const key = domainKey(mailbox.domain)
        if (!config.catchAllProbe || catchAll.has(key) || probes.has(key)) continue
        const made = yield* probeFor(mailbox.domain)
        if (made._tag === "Success") probes.set(key, made.success)
      }
      const ctx: CheckContext = {
        config,
        policy,
        probes,
        deadline: undefined,
        timeout: Duration.toMillis(Duration.fromInputUnsafe(config.timeout)),
        permit: permits.permit
      }
      const first = yield* check(plan.hosts, mailboxes, ctx)
      for (const [key, value] of first.catchAll) remember(key, Option.some(value))
      const now = yield* Clock.currentTimeMillis
      return { ctx: { ...ctx, deadline: first.deadline ?? now + ctx.timeout }, evidence: first.evidence }
    })

  /** Asks the greylisted ones again on the policy's schedule; never begins a wait that ends past the deadline. */
  const retryGreylisted = (
    plan: Extract<MxPlan.MxPlan, { _tag: "Hosts" }>,
    mailboxes: ReadonlyArray<Address.Mailbox>,
    firstEvidence: ReadonlyArray<Evidence>,
    ctx: CheckContext
  ) =>
    Effect.gen(function* () {
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

  /**
   * Verifies parsed mailboxes of one or more domains that share `plan` (see `keyOfPlan`). `now`
   * has a verification for every mailbox; those listed in `pending` were greylisted, and `later`
   * asks them again on the policy's schedule. The bulk engine runs `later` outside its group
   * slots, so waiting blocks nothing else.
   */
  const verifyGroupStaged = (
    plan: MxPlan.MxPlan,
    items: ReadonlyArray<Item>
  ): Effect.Effect<Staged, never, SmtpTransport.SmtpTransport> =>
    Effect.gen(function* () {
      const startedAt = yield* Clock.currentTimeMillis
      const signals = yield* RiskSignals
      const judge = yield* Judgement.Judgement
      if (plan._tag !== "Hosts") {
        const { outcome, detail } = planOutcome(plan)
        const now = yield* Clock.currentTimeMillis
        return {
          now: items.map((item) =>
            build({
              address: item.input,
              mailbox: item.mailbox,
              startedAt,
              now,
              outcome,
              detail,
              implicit: false,
              port: config.port,
              catchAll: null,
              signals,
              judge
            })
          ),
          pending: [],
          later: Effect.succeed([])
        }
      }
      const mailboxes = items.map((i) => i.mailbox)
      const finish = (evidence: ReadonlyArray<Evidence>, indices: ReadonlyArray<number>) =>
        Effect.map(Clock.currentTimeMillis, (now) =>
          indices.map((i) => {
            const item = items[i]!
            return build({
              address: item.input,
              mailbox: item.mailbox,
              startedAt,
              now,
              outcome: evidence[i]!.outcome,
              evidence: evidence[i],
              implicit: plan.implicit,
              port: config.port,
              catchAll: catchAll.get(domainKey(item.mailbox.domain)) ?? null,
              signals,
              judge
            })
          })
        )
      const { ctx, evidence } = yield* firstPass(plan, mailboxes)
      const pending = evidence.flatMap((e, i) => (ctx.policy.isGreylisting(e.outcome) ? [i] : []))
      return {
        now: yield* finish(
          evidence,
          items.map((_, i) => i)
        ),
        pending,
        later:
          pending.length === 0
            ? Effect.succeed([])
            : retryGreylisted(plan, mailboxes, evidence, ctx).pipe(
                Effect.flatMap((final) => finish(final, pending)),
                Effect.map((vs) => vs.map((v, k) => [pending[k]!, v] as const))
              )
      }
    })

  /** The plan of the first item's domain: the bulk engine groups items by `planKey`, so it is the group's. */
  const verifyGroup = (items: ReadonlyArray<Item>) =>
    Effect.flatMap(Cache.get(mxCache, items[0]!.mailbox.domain), (plan) => verifyGroupStaged(plan, items))

  /** Bulk groups are keyed by MX plan, so that domains with the same hosts share sessions. */
  const planKey = (domain: Address.Domain) => Effect.map(Cache.get(mxCache, domain), (plan) => keyOfPlan(domain, plan))

  /** All of a domain's verifications, greylisting retries included; in the items' order. */
  const verifyDomain = (
    items: ReadonlyArray<Item>
  ): Effect.Effect<ReadonlyArray<Verification>, never, SmtpTransport.SmtpTransport> =>
    Effect.gen(function* () {
      const staged = yield* verifyGroup(items)
      const out = [...staged.now]
      for (const [i, v] of yield* staged.later) out[i] = v
      return out
    })

  const syntaxError = (input: string, error: Address.AddressError) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      return build({
        address: input,
        mailbox: undefined,
        startedAt: now,
        now,
        outcome: { verdict: "undeliverable", reason: "syntax", retryable: false },
        detail: error.message,
        implicit: false,
        port: config.port,
        catchAll: null,
        signals: yield* RiskSignals,
        judge: yield* Judgement.Judgement
      })
    })

  const verify = (input: string): Effect.Effect<Verification, never, SmtpTransport.SmtpTransport> =>
    Effect.gen(function* () {
      const parsed = Address.parse(input)
      if (parsed._tag === "Failure") return yield* syntaxError(input, parsed.failure)
      const [v] = yield* verifyDomain([{ input, mailbox: parsed.success }])
      return v!
    }).pipe(Effect.withSpan("Verifier.verify", { attributes: { address: input } }))

  return { verify, verifyGroup, planKey, syntaxError, config }
})

/**
 * The verifier, given a config, DNS and a transport.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<Verifier, never, VerifierConfig.Service | Dns.Dns | SmtpTransport.SmtpTransport> =
  Layer.effect(
    Verifier,
    Effect.gen(function* () {
      const core = yield* make
      // Only the transport is fixed here: policies, judge and signals are read from the caller's context.
      const transport = yield* SmtpTransport.SmtpTransport
      const provide = <A, E>(effect: Effect.Effect<A, E, SmtpTransport.SmtpTransport>) =>
        Effect.provideService(effect, SmtpTransport.SmtpTransport, transport)
      return Verifier.of({
        verify: (address) => provide(core.verify(address)),
        verifyMany: (addresses, options) =>
          Bulk.verifyMany(addresses, {
            window: options?.window ?? 10_000,
            groups: options?.groups ?? Math.max(4, core.config.concurrency),
            batch: core.config.recipientsPerSession,
            planKey: core.planKey,
            verifyGroup: (items) =>
              provide(core.verifyGroup(items)).pipe(
                Effect.map((staged) => ({ ...staged, later: provide(staged.later) }))
              ),
            syntaxError: (input, error) => provide(core.syntaxError(input, error))
          })
      })
    })
  )
