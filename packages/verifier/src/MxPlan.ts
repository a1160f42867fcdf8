/**
 * Where to deliver mail for a domain, per RFC 5321 §5.1 and RFC 7505, over effect/net's `Dns`.
 *
 * - MX records sorted by preference, equal preferences shuffled (Effect's `Random`, so tests are
 *   deterministic with a seed).
 * - No MX at all: the domain's own A/AAAA records are an implicit MX of preference 0.
 * - `MX 0 .` (null MX): the domain accepts no mail; no fallback to A/AAAA, nothing to connect to.
 * - A name that does not exist: no such domain. A resolver that fails or times out: unknown.
 *
 * MX hosts are resolved with `resolve(host, "A" | "AAAA")`, not `lookup`, so a configured name
 * server answers for them too (Node's `lookup` asks the system resolver).
 *
 * Effect's `Dns` reports both NXDOMAIN and "no record of that type" as `NotFound`, so a domain
 * without MX records is told from a missing domain by whether it has an address.
 *
 * Strictness (issue 18): a special-use name (RFC 6761: `localhost`, `test`, `invalid`, ...) is
 * refused before any query unless allowed; an implicit MX counts only with a globally routable
 * address (a domain whose A record is 10.1.2.3 receives no mail from the Internet), except under
 * an allowed special-use name (test worlds); no MX plus the SPF record `v=spf1 -all` (RFC 7208:
 * this domain sends no mail) is read as a domain that takes none either.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Random } from "effect"
import { Dns } from "effect/net"
import type { Address } from "@rcpt/smtp"
import * as SpecialUse from "./SpecialUse.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface MxHost {
  /** Without the trailing dot. */
  readonly host: string
  readonly preference: number
  readonly addresses: ReadonlyArray<string>
}

/**
 * @category models
 * @since 0.1.0
 */
export type MxPlan =
  | { readonly _tag: "Hosts"; readonly hosts: ReadonlyArray<MxHost>; readonly implicit: boolean }
  | { readonly _tag: "NullMx" }
  | { readonly _tag: "NoSuchDomain" }
  /** MX records that point at names with no address. */
  | { readonly _tag: "NoMailHosts"; readonly hosts: ReadonlyArray<string> }
  | { readonly _tag: "DnsFailure"; readonly message: string }
  /** A special-use name (RFC 6761) that was not allowed: nothing is asked. */
  | { readonly _tag: "SpecialUse"; readonly name: string }
  /** No MX, and the domain's own addresses are not globally routable. */
  | { readonly _tag: "Unroutable"; readonly addresses: ReadonlyArray<string> }
  /** No MX, and SPF `v=spf1 -all`: the domain sends no mail and takes none. */
  | { readonly _tag: "NoMail" }

/**
 * @category models
 * @since 0.1.0
 */
export interface ResolveOptions {
  readonly timeout?: Duration.Input | undefined
  /** Special-use names to resolve anyway (and whose implicit MX may be non-routable), e.g. `["test"]`. */
  readonly allowSpecialUse?: ReadonlyArray<string> | undefined
}

const resolveTimes = new WeakMap<MxPlan, number>()

/**
 * How long the lookups that made this plan took, in milliseconds (a cached plan keeps its own).
 *
 * @category getters
 * @since 0.1.0
 */
export const resolveTime = (plan: MxPlan): number | undefined => resolveTimes.get(plan)

/** `v=spf1 -all` and nothing else: the domain authorises no sender (RFC 7208 §5.1). */
const isNoMailSpf = (text: string): boolean => text.trim().toLowerCase().split(/\s+/).join(" ") === "v=spf1 -all"

const bare = (name: string) => (name.endsWith(".") ? name.slice(0, -1) : name)

const isNotFound = (e: Dns.DnsError) => e.reason === "NotFound"

/**
 * A and AAAA records of a name, IPv4 first. `NotFound` for both gives an empty list; any other
 * failure of both is a failure.
 *
 * @category resolving
 * @since 0.1.0
 */
export const addresses = Effect.fn("MxPlan.addresses")(function* (
  name: string
): Effect.fn.Return<ReadonlyArray<string>, Dns.DnsError, Dns.Dns> {
  const dns = yield* Dns.Dns
  const [v4, v6] = yield* Effect.all(
    [
      dns.resolve(name, "A").pipe(
        Effect.map((rs) => rs.map((r) => String(r.address))),
        Effect.result
      ),
      dns.resolve(name, "AAAA").pipe(
        Effect.map((rs) => rs.map((r) => String(r.address))),
        Effect.result
      )
    ],
    { concurrency: 2 }
  )
  if (v4._tag === "Failure" && v6._tag === "Failure") {
    if (isNotFound(v4.failure) && isNotFound(v6.failure)) return []
    return yield* Effect.fail(isNotFound(v4.failure) ? v6.failure : v4.failure)
  }
  return [...(v4._tag === "Success" ? v4.success : []), ...(v6._tag === "Success" ? v6.success : [])]
})

const shuffleTies = (records: ReadonlyArray<{ readonly host: string; readonly preference: number }>) =>
  Effect.gen(function* () {
    const byPreference = new Map<number, Array<{ readonly host: string; readonly preference: number }>>()
    for (const r of records) byPreference.set(r.preference, [...(byPreference.get(r.preference) ?? []), r])
    const out: Array<{ readonly host: string; readonly preference: number }> = []
    for (const preference of [...byPreference.keys()].sort((a, b) => a - b)) {
      // RFC 5321 §5.1: hosts of equal preference MUST be tried in random order.
      out.push(...(yield* Random.shuffle(byPreference.get(preference)!)))
    }
    return out
  })

const failure = (e: Dns.DnsError): MxPlan => ({ _tag: "DnsFailure", message: e.message })

/**
 * The delivery plan for a mailbox's domain. Never fails: a DNS failure is a plan too.
 *
 * @category resolving
 * @since 0.1.0
 */
export const resolve = Effect.fn("MxPlan.resolve")(function* (
  domain: Address.Domain,
  options: ResolveOptions = {}
): Effect.fn.Return<MxPlan, never, Dns.Dns> {
  const started = yield* Clock.currentTimeMillis
  const plan = yield* resolveUntimed(domain, options)
  resolveTimes.set(plan, (yield* Clock.currentTimeMillis) - started)
  return plan
})

const resolveUntimed = (domain: Address.Domain, options: ResolveOptions): Effect.Effect<MxPlan, never, Dns.Dns> => {
  if (domain._tag === "AddressLiteral") {
    return Effect.succeed({
      _tag: "Hosts",
      hosts: [{ host: domain.text, preference: 0, addresses: [domain.ip] }],
      implicit: true
    })
  }
  const name = domain.ascii
  const special = SpecialUse.specialUseName(name)
  const allowed = (options.allowSpecialUse ?? []).some((suffix) => SpecialUse.isUnder(name, suffix))
  if (special !== undefined && !allowed) return Effect.succeed({ _tag: "SpecialUse", name: special })
  const plan = Effect.gen(function* () {
    const dns = yield* Dns.Dns
    const mx = yield* Effect.result(dns.resolve(name, "MX"))
    if (mx._tag === "Failure") {
      if (!isNotFound(mx.failure)) return failure(mx.failure)
      // No MX: the domain itself is the implicit MX, if it has an address, unless its SPF says
      // it has nothing to do with mail.
      const [own, spf] = yield* Effect.all(
        [
          Effect.result(addresses(name)),
          dns.resolve(name, "TXT").pipe(
            Effect.map((rs) => rs.some((r) => isNoMailSpf(r.chunks.join("")))),
            Effect.orElseSucceed(() => false)
          )
        ],
        { concurrency: 2 }
      )
      if (own._tag === "Failure") return failure(own.failure)
      if (own.success.length === 0) return { _tag: "NoSuchDomain" } as const
      if (spf) return { _tag: "NoMail" } as const
      const routable = allowed ? own.success : own.success.filter(SpecialUse.isGloballyRoutable)
      if (routable.length === 0) return { _tag: "Unroutable", addresses: own.success } as const
      return { _tag: "Hosts", hosts: [{ host: name, preference: 0, addresses: routable }], implicit: true } as const
    }
    const records = mx.success.map((r) => ({ host: bare(String(r.exchange)), preference: r.priority }))
    // RFC 7505: "MX 0 ." alone means no mail; beside real MX records it is a mistake we skip.
    const real = records.filter((r) => r.host !== "" && r.host !== ".")
    if (real.length === 0) return { _tag: "NullMx" } as const
    const ordered = yield* shuffleTies(real)
    const resolved = yield* Effect.forEach(
      ordered,
      (r) =>
        addresses(r.host).pipe(
          Effect.map((addrs): MxHost => ({ ...r, addresses: addrs })),
          Effect.result
        ),
      { concurrency: 4 }
    )
    const hosts = resolved.flatMap((r) => (r._tag === "Success" && r.success.addresses.length > 0 ? [r.success] : []))
    if (hosts.length > 0) return { _tag: "Hosts", hosts, implicit: false } as const
    const firstFailure = resolved.find((r) => r._tag === "Failure")
    if (firstFailure !== undefined && firstFailure._tag === "Failure") return failure(firstFailure.failure)
    return { _tag: "NoMailHosts", hosts: ordered.map((r) => r.host) } as const
  })
  return plan.pipe(
    Effect.timeoutOrElse({
      duration: options.timeout ?? "20 seconds",
      orElse: () => Effect.succeed<MxPlan>({ _tag: "DnsFailure", message: `DNS lookups for ${name} timed out` })
    })
  )
}
