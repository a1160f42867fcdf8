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
import { check, type Checked, type Evidence } from "./internal/check.ts"
import * as Permits from "./internal/permits.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface VerifyManyOptions {
  /** Addresses held while grouping by domain; bounds memory whatever the input's order. */
  readonly window?: number | undefined
  /** Domain groups checked at once. */
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
    const text = domain._tag === "DomainName" ? domain.ascii : domain.text
    return Address.parse(`${local}@${text}`)
  })

const domainKey = (domain: Address.Domain) => (domain._tag === "DomainName" ? domain.ascii : domain.text)

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

  /** Checks mailboxes of one domain, asking greylisted ones again on the policy's schedule. */
  const checkDomain = (
    plan: Extract<MxPlan.MxPlan, { _tag: "Hosts" }>,
    domain: Address.Domain,
    mailboxes: ReadonlyArray<Address.Mailbox>,
    deadline: number
  ): Effect.Effect<Checked, never, SmtpTransport.SmtpTransport> =>
    Effect.gen(function* () {
      const policy = yield* Policy.Policy
      const key = domainKey(domain)
      const probeNeeded = config.catchAllProbe && !catchAll.has(key)
      const made = probeNeeded ? yield* probeFor(domain) : undefined
      const ctx = {
        config,
        policy,
        probe:
          made !== undefined && made._tag === "Success" ? Option.some(made.success) : Option.none<Address.Mailbox>(),
        deadline,
        permit: permits.permit
      }
      const first = yield* check(plan.hosts, mailboxes, ctx)
      remember(key, first.catchAll)
      const evidence: Array<Evidence> = [...first.evidence]
      // toStep gives the delay without sleeping, so a wait past the deadline is never begun.
      const step = yield* Schedule.toStep(policy.greylistRetry)
      for (;;) {
        const again = evidence.flatMap((e, i) => (policy.isGreylisting(e.outcome) ? [i] : []))
        if (again.length === 0) break
        const now = yield* Clock.currentTimeMillis
        const next = yield* Effect.result(step(now, undefined))
        if (next._tag === "Failure") break
        const delay = Duration.toMillis(next.success[1])
        // No time left for another ask after the wait: keep the answer we have.
        if (now + delay + 1000 > deadline) break
        yield* Effect.sleep(Duration.millis(delay))
        const retried = yield* check(
          plan.hosts,
          again.map((i) => mailboxes[i]!),
          { ...ctx, probe: Option.none() }
        )
        again.forEach((i, k) => {
          const e = retried.evidence[k]!
          evidence[i] = { ...e, attempts: [...evidence[i]!.attempts, ...e.attempts] }
        })
      }
      return { evidence, catchAll: Option.fromNullishOr(catchAll.get(key)) }
    })

  /** Verifies parsed mailboxes of one domain, all at once; results in the mailboxes' order. */
  const verifyDomain = (
    domain: Address.Domain,
    items: ReadonlyArray<{ readonly input: string; readonly mailbox: Address.Mailbox }>
  ): Effect.Effect<ReadonlyArray<Verification>, never, SmtpTransport.SmtpTransport> =>
    Effect.gen(function* () {
      const startedAt = yield* Clock.currentTimeMillis
      const deadline = startedAt + Duration.toMillis(Duration.fromInputUnsafe(config.timeout))
      const signals = yield* RiskSignals
      const judge = yield* Judgement.Judgement
      const plan = yield* Cache.get(mxCache, domain)
      if (plan._tag !== "Hosts") {
        const { outcome, detail } = planOutcome(plan)
        const now = yield* Clock.currentTimeMillis
        return items.map((item) =>
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
        )
      }
      const checked = yield* checkDomain(
        plan,
        domain,
        items.map((i) => i.mailbox),
        deadline
      )
      const now = yield* Clock.currentTimeMillis
      return items.map((item, i) => {
        const evidence = checked.evidence[i]!
        return build({
          address: item.input,
          mailbox: item.mailbox,
          startedAt,
          now,
          outcome: evidence.outcome,
          evidence,
          implicit: plan.implicit,
          port: config.port,
          catchAll: Option.getOrNull(checked.catchAll),
          signals,
          judge
        })
      })
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
      const [v] = yield* verifyDomain(parsed.success.domain, [{ input, mailbox: parsed.success }])
      return v!
    }).pipe(Effect.withSpan("Verifier.verify", { attributes: { address: input } }))

  return { verify, verifyDomain, syntaxError, config }
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
            verifyDomain: (domain, items) => provide(core.verifyDomain(domain, items)),
            syntaxError: (input, error) => provide(core.syntaxError(input, error))
          })
      })
    })
  )
