/**
 * `rcpt doctor`: audits the verifying host before a run, because a host the Internet's mail
 * servers distrust gets `unknown` for everything. Each check is a pass, a fail with the fix, or a
 * skip with the reason:
 *
 * - `port25`: an outbound SMTP connection to a given MX gets a 220 greeting (cloud and home
 *   providers often block port 25; some servers refuse listed hosts at the greeting).
 * - `ehlo_address`: the EHLO name resolves to this host's address (the source address of that
 *   connection, or the one given: behind NAT, give the public one).
 * - `ptr`: the address's reverse DNS (PTR) names the EHLO name (forward-confirmed reverse DNS).
 * - `dnsbl:<zone>`: the address is not on that DNS blocklist.
 *
 * Talks only to the given MX and the configured DNS servers; the MX address is judged by the
 * target policy as the verifier's dials are (`allowTargets`, `--allow-target`).
 *
 * @since 0.1.0
 */
import { Duration, Effect, Option, Result } from "effect"
import { Dns, NetAddress } from "effect/net"
import { SmtpTransport } from "@rcpt/client"
import { Reply, ReplyParser } from "@rcpt/smtp"
import * as MxPlan from "./MxPlan.ts"
import * as SpecialUse from "./SpecialUse.ts"
import * as TargetPolicy from "./TargetPolicy.ts"

/**
 * @category models
 * @since 0.1.0
 */
export type Status = "pass" | "fail" | "skip"

/**
 * @category models
 * @since 0.1.0
 */
export interface Check {
  /** `port25`, `ehlo_address`, `ptr` or `dnsbl:<zone>`. */
  readonly name: string
  readonly status: Status
  /** What was found, for people. May quote a remote server: escape it before printing. */
  readonly summary: string
  /** What to do about a failure; null when it passed. */
  readonly fix: string | null
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Report {
  /** The address the checks are about (given, or the source address of the port 25 connection). */
  readonly address: string | null
  readonly helo: string
  readonly checks: ReadonlyArray<Check>
  /** No check failed. */
  readonly ok: boolean
}

/**
 * Common DNS blocklists that mail servers consult.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultBlocklists: ReadonlyArray<string> = [
  "zen.spamhaus.org",
  "bl.spamcop.net",
  "b.barracudacentral.org",
  "psbl.surriel.com"
]

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** An MX host name, an IP address, or a mail domain (its first MX host is dialled). */
  readonly mx: string
  /** The EHLO name the verifier will use. */
  readonly helo: string
  /** This host's public address; default: the source address of the port 25 connection. */
  readonly address?: string | undefined
  readonly port?: number | undefined
  /** Per step (connect, greeting, each DNS query). */
  readonly timeout?: Duration.Input | undefined
  readonly blocklists?: ReadonlyArray<string> | undefined
  /** CIDR blocks opened besides global unicast, as `VerifierConfig.allowTargets` (checked there). */
  readonly allowTargets?: ReadonlyArray<string> | undefined
}

const pass = (name: string, summary: string): Check => ({ name, status: "pass", summary, fix: null })
const fail = (name: string, summary: string, fix: string): Check => ({ name, status: "fail", summary, fix })
const skip = (name: string, summary: string): Check => ({ name, status: "skip", summary, fix: null })

const bare = (name: string) => name.toLowerCase().replace(/\.$/, "")

/** The addresses to dial for `mx`: itself if an IP, its A/AAAA, else its MX hosts' addresses. */
const dialable = (mx: string): Effect.Effect<ReadonlyArray<string>, Dns.DnsError, Dns.Dns> =>
  Result.isSuccess(NetAddress.ipFromString(mx))
    ? Effect.succeed([mx])
    : MxPlan.addresses(mx).pipe(
        Effect.flatMap((own) =>
          own.length > 0
            ? Effect.succeed(own)
            : Effect.gen(function* () {
                const dns = yield* Dns.Dns
                const records = yield* dns.resolve(mx, "MX")
                const first = [...records].sort((a, b) => a.priority - b.priority)[0]
                return first === undefined ? [] : yield* MxPlan.addresses(bare(String(first.exchange)))
              })
        )
      )

/** The greeting of an SMTP server, then QUIT; the connection's source address with it. */
const greet = (address: string, port: number, timeout: Duration.Input) =>
  Effect.scoped(
    Effect.gen(function* () {
      const transport = yield* SmtpTransport.SmtpTransport
      const connection = yield* transport.connect({ host: address, port, timeout })
      let parser = ReplyParser.make()
      const reply = yield* Effect.gen(function* () {
        for (;;) {
          const parsed = ReplyParser.next(parser)
          if (parsed._tag === "Reply") return Option.some(parsed.reply)
          if (parsed._tag === "Error") return Option.none()
          const chunk = yield* connection.read
          if (Option.isNone(chunk)) return Option.none()
          parser = ReplyParser.feed(parsed.parser, chunk.value)
        }
      }).pipe(Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.succeed(Option.none<Reply.Reply>()) }))
      yield* connection.write(new TextEncoder().encode("QUIT\r\n")).pipe(Effect.ignore)
      return { reply, local: connection.local?.address }
    })
  )

const portCheck = (options: Options, port: number, timeout: Duration.Input) =>
  Effect.gen(function* () {
    const name = "port25"
    const addresses = yield* dialable(options.mx).pipe(
      Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.succeed([]) }),
      Effect.orElseSucceed(() => [])
    )
    const target = addresses[0]
    if (target === undefined) {
      return {
        check: skip(
          name,
          `${options.mx} has no address (DNS): give an MX host that exists, e.g. --mx gmail-smtp-in.l.google.com`
        ),
        local: undefined
      }
    }
    const policy = Result.getOrElse(TargetPolicy.make(options.allowTargets ?? []), () => TargetPolicy.strict)
    const decision = TargetPolicy.judge(policy, target)
    if (decision._tag === "Refused") return { check: skip(name, decision.detail), local: undefined }
    const greeted = yield* Effect.result(greet(target, port, timeout))
    if (Result.isFailure(greeted)) {
      const e = greeted.failure
      const why =
        e.reason === "ConnectTimeout"
          ? "timed out: outbound port 25 is probably filtered"
          : e.reason === "ConnectionRefused"
            ? "refused (nothing listens there, or a firewall rejects it)"
            : e.message
      return {
        check: fail(
          name,
          `cannot connect to ${options.mx} [${target}]:${port}: ${why}`,
          "Many cloud and home providers block outbound port 25: ask yours to open it (AWS, GCP and Azure have a request form), run rcpt on a host that may send mail, or route it through a SOCKS5 proxy on such a host."
        ),
        local: undefined
      }
    }
    const { local, reply } = greeted.success
    if (Option.isNone(reply)) {
      return {
        check: fail(
          name,
          `${options.mx} [${target}]:${port} accepted the connection but sent no greeting`,
          "Something between this host and the server intercepts port 25 (a transparent proxy or antivirus); ask the network's owner, or run from another host."
        ),
        local
      }
    }
    const line = Reply.format(reply.value).split("\n")[0]!
    if (reply.value.code === 220)
      return { check: pass(name, `${options.mx} [${target}]:${port} greets: ${line}`), local }
    return {
      check: fail(
        name,
        `${options.mx} [${target}]:${port} refuses this host at the greeting: ${line}`,
        "The server distrusts this host's address (see the dnsbl and ptr checks): fix its reputation, or verify from another address."
      ),
      local
    }
  })

const forwardCheck = (helo: string, address: string) =>
  Effect.gen(function* () {
    const name = "ehlo_address"
    const resolved = yield* Effect.result(MxPlan.addresses(helo))
    if (Result.isFailure(resolved)) return skip(name, `DNS lookup of ${helo} failed: ${resolved.failure.message}`)
    if (resolved.success.includes(address)) return pass(name, `${helo} resolves to ${address}`)
    return fail(
      name,
      resolved.success.length === 0
        ? `${helo} has no A or AAAA record`
        : `${helo} resolves to ${resolved.success.join(", ")}, not to this host's ${address}`,
      `Publish an A (or AAAA) record ${helo} -> ${address}, or pass --helo a name that already has one.`
    )
  })

const reverseCheck = (helo: string, address: string) =>
  Effect.gen(function* () {
    const name = "ptr"
    const dns = yield* Dns.Dns
    const names = yield* Effect.result(dns.reverse(address))
    const fix = `Ask whoever owns ${address} (your hosting provider) to set its reverse DNS (PTR) to ${helo}.`
    if (Result.isFailure(names)) {
      return names.failure.reason === "NotFound"
        ? fail(name, `${address} has no PTR record`, fix)
        : skip(name, `reverse lookup of ${address} failed: ${names.failure.message}`)
    }
    const found = names.success.map((n) => bare(String(n)))
    if (found.includes(bare(helo))) return pass(name, `the PTR of ${address} is ${helo}`)
    return fail(name, `the PTR of ${address} is ${found.join(", ")}, not ${helo}`, fix)
  })

/** `1.0.0.127` for 127.0.0.1; nibbles for IPv6 (the DNSBL query prefix). */
const reversed = (address: string): string | undefined => {
  const ip = NetAddress.ipFromString(address)
  if (Result.isFailure(ip)) return undefined
  return String(Dns.reverseName(ip.success)).replace(/\.(in-addr|ip6)\.arpa\.?$/, "")
}

const blocklistCheck = (zone: string, address: string) =>
  Effect.gen(function* () {
    const name = `dnsbl:${zone}`
    const prefix = reversed(address)
    if (prefix === undefined) return skip(name, `${address} is not an IP address`)
    const dns = yield* Dns.Dns
    const query = `${prefix}.${zone}`
    const listed = yield* Effect.result(dns.resolve(query, "A"))
    if (Result.isFailure(listed)) {
      return listed.failure.reason === "NotFound"
        ? pass(name, `${address} is not listed on ${zone}`)
        : skip(name, `the query ${query} failed: ${listed.failure.message}`)
    }
    const codes = listed.success.map((r) => String(r.address))
    // Spamhaus answers 127.255.255.x when it refuses the query (public resolvers, over quota).
    if (codes.every((c) => c.startsWith("127.255.255."))) {
      return skip(name, `${zone} refused the query (${codes.join(", ")}): ask it through your own resolver`)
    }
    const txt = yield* dns.resolve(query, "TXT").pipe(
      Effect.map((rs) => rs.map((r) => r.chunks.join("")).join(" ")),
      Effect.orElseSucceed(() => "")
    )
    return fail(
      name,
      `${address} is listed on ${zone} (${codes.join(", ")})${txt === "" ? "" : `: ${txt}`}`,
      `Find out why and request removal at ${zone}'s website${txt === "" ? "" : " (the reason above links to it)"}; until then, verify from another address.`
    )
  })

/**
 * Runs every check. Never fails: a check that cannot run is a skip with the reason.
 *
 * @category running
 * @since 0.1.0
 */
export const run = Effect.fn("Doctor.run")(function* (options: Options) {
  const port = options.port ?? 25
  const timeout = options.timeout ?? "10 seconds"
  const within = <A>(effect: Effect.Effect<A, never, Dns.Dns>, name: string) =>
    effect.pipe(
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () =>
          Effect.succeed(skip(name, `no answer within ${Duration.format(Duration.fromInputUnsafe(timeout))}`) as A)
      })
    )
  const first = yield* portCheck(options, port, timeout)
  const address = options.address ?? first.local
  const checks: Array<Check> = [first.check]
  if (address === undefined) {
    const why = "this host's address is unknown (no connection was made): give it with --address"
    checks.push(skip("ehlo_address", why), skip("ptr", why))
  } else {
    const nat =
      options.address === undefined && !SpecialUse.isGloballyRoutable(address)
        ? ` (${address} is not a public address: behind NAT, give the public one with --address)`
        : ""
    const forward = yield* within(forwardCheck(options.helo, address), "ehlo_address")
    const reverse = yield* within(reverseCheck(options.helo, address), "ptr")
    checks.push(
      forward.status === "fail" ? { ...forward, summary: forward.summary + nat } : forward,
      reverse.status === "fail" ? { ...reverse, summary: reverse.summary + nat } : reverse
    )
    for (const zone of options.blocklists ?? defaultBlocklists) {
      checks.push(yield* within(blocklistCheck(zone, address), `dnsbl:${zone}`))
    }
  }
  return { address: address ?? null, helo: options.helo, checks, ok: checks.every((c) => c.status !== "fail") }
})
