/**
 * Asks MX hosts about a batch of mailboxes (of one domain, or of several sharing these hosts):
 * one session for many recipients,
 * a new session when the server hangs up after progress (error limits, 452), the next MX address
 * when a host cannot answer at all, TLS off when an opportunistic handshake breaks.
 *
 * Every recipient ends with evidence, answered or not; nothing here fails.
 *
 * This is the one place before a connection is opened, so the target policy is applied here:
 * at most `maxMxHosts` hosts and `maxAddressesPerHost` addresses each, and an address in a
 * special-purpose range (resolved MX/A/AAAA answers and address literals alike) is never dialled:
 * its attempt is `target_refused` with the range in its detail.
 *
 * @internal
 */
import { Clock, Effect, Option, Result } from "effect"
import { Router, SmtpClient, type SmtpTransport } from "@rcpt/client"
import { type Address, Classify, Reply, Session } from "@rcpt/smtp"
import { HostPermits } from "../HostPermits.ts"
import type { MxHost } from "../MxPlan.ts"
import * as Policy from "../Policy.ts"
import * as TargetPolicy from "../TargetPolicy.ts"
import type { Attempt, findingReasons, Outcome } from "../Verification.ts"
import type { VerifierConfig } from "../VerifierConfig.ts"
import { domainKey } from "./keys.ts"

/** What is known about one recipient. */
export interface Findings {
  readonly outcome: Outcome
  /** The session that gave the outcome, and the recipient's index in it. */
  readonly session: Option.Option<{ readonly result: Session.SessionResult; readonly index: number }>
  readonly mx: Option.Option<{ readonly host: MxHost; readonly address: string }>
  readonly attempts: ReadonlyArray<Attempt>
  /** Summed over the connections this recipient was in (shared ones count fully). */
  readonly timing: ConnectionTiming
  /** The reverse path of the answering transaction, and whether `<>` was refused on the way. */
  readonly sender: { readonly nullRefused: boolean; readonly used: string }
}

/** Time per connection step, summed over connections, and how many. */
export interface ConnectionTiming extends SmtpClient.Timing {
  connections: number
}

const noTiming = (): ConnectionTiming => ({ ...SmtpClient.makeTiming(), connections: 0 })

/** Adds one connection's timings into a recipient's. */
const addTiming = (into: ConnectionTiming, from: SmtpClient.Timing) => {
  into.connections++
  into.connectMs += from.connectMs
  into.tlsMs += from.tlsMs
  for (const [phase, ms] of Object.entries(from.phases)) into.phases[phase] = (into.phases[phase] ?? 0) + ms
}

export interface Checked {
  readonly evidence: ReadonlyArray<Findings>
  /** The deadline in force (set by the first connection when the context had none). */
  readonly deadline: number | undefined
  /**
   * What was learnt per domain key (`domainKey`): true, its probe was accepted; false, the server
   * rejects unknown mailboxes of that domain. Domains with no answer are absent.
   */
  readonly catchAll: ReadonlyMap<string, boolean>
  /** Domain keys whose probe got an answer that settles nothing (4xx, a block). */
  readonly inconclusive: ReadonlySet<string>
  /** The reverse path in use at the end: a later pass (greylisting) starts from it. */
  readonly sender: string
}

export interface CheckContext {
  readonly config: VerifierConfig
  readonly policy: Policy.Policies
  /** The catch-all probe of each domain still to probe, by `domainKey`. */
  readonly probes: ReadonlyMap<string, Address.Mailbox>
  /**
   * Epoch millis after which nothing new starts; undefined: `timeout` from the first connection,
   * so that waiting for a connection slot in a bulk run does not eat an address's time.
   */
  readonly deadline: number | undefined
  readonly timeout: number
  /** The reverse path to start with; the config's `mailFrom` when absent. */
  readonly sender?: string | undefined
}

const unanswered = (
  outcome: Outcome,
  attempts: ReadonlyArray<Attempt> = [],
  timing: ConnectionTiming = noTiming(),
  sender: Findings["sender"] = { nullRefused: false, used: "" }
): Findings => ({
  outcome,
  session: Option.none(),
  mx: Option.none(),
  attempts,
  timing,
  sender
})

/** The first refusal of the reverse path in a session (at MAIL, or a recipient's RCPT), if any. */
const senderRefusal = (result: Session.SessionResult, batch: number): string | undefined => {
  // Any permanent refusal of MAIL FROM:<> is a refusal of the null sender, whatever its wording.
  if (result.end._tag === "Rejected" && result.end.phase === "AwaitMail" && result.end.reply.code >= 500) {
    return Reply.format(result.end.reply).split("\n")[0]!
  }
  for (let k = 0; k < batch; k++) {
    if (Classify.recipient(result, k).reason !== "sender_rejected") continue
    const rcpt = Option.getOrUndefined(result.recipients[k]!.rcpt)
    if (rcpt !== undefined) return Reply.format(rcpt).split("\n")[0]!
    return sessionDetail(result)
  }
  return undefined
}

/** The server said something about this recipient itself. */
const isAnswered = (r: Session.RecipientResult): boolean =>
  Option.isSome(r.rcpt) ||
  Option.isSome(r.vrfy) ||
  Option.contains(r.skipped, "SmtpUtf8Unsupported") ||
  Option.contains(r.skipped, "MailRejected")

const sessionDetail = (result: Session.SessionResult): string => {
  const end = result.end
  switch (end._tag) {
    case "Rejected":
    case "ServiceClosing":
      return `${end._tag} in ${end.phase}: ${Reply.format(end.reply).split("\n")[0]}`
    case "Closed":
    case "TimedOut":
      return `${end._tag} in ${end.phase}`
    case "ProtocolError":
      return `protocol error in ${end.phase}: ${end.error.message}`
    case "TlsFailed":
      return `TLS failed: ${end.message}`
    case "TlsUnavailable":
      return "TLS required but not available"
    case "Completed":
      return "completed"
  }
}

/** Catch-all of one domain, from its own probe or its own recipients' replies (domains sharing a host may differ). */
const catchAllFrom = (result: Session.SessionResult, key: string): Option.Option<boolean | "inconclusive"> => {
  const probe = result.probes.find((p) => domainKey(p.mailbox.domain) === key)
  if (probe !== undefined && probe.result._tag === "Answered") {
    const o = Classify.classify("AwaitProbe", probe.result.reply)
    if (o.verdict === "deliverable") return Option.some(true)
    if (o.verdict === "undeliverable") return Option.some(false)
    return Option.some("inconclusive")
  }
  // A server that rejected a real recipient of this domain as unknown is not catch-all for it.
  const rejects = result.recipients.some(
    (r) =>
      domainKey(r.mailbox.domain) === key &&
      Option.exists(r.rcpt, (reply) => Classify.classify("AwaitRcpt", reply).reason === "mailbox_unknown")
  )
  return rejects ? Option.some(false) : Option.none()
}

/**
 * The reason for a connection that did not open: the proxy's failure when it was the proxy's
 * (never `undeliverable`: nothing was learnt about the mailbox), else `connection_failed`.
 */
export const connectFailure = (reason: SmtpTransport.TransportErrorReason): (typeof findingReasons)[number] => {
  switch (reason) {
    case "ProxyAuthFailed":
      return "proxy_auth_failed"
    case "ProxyRefused":
      return "proxy_refused"
    case "ProxyTargetUnreachable":
      return "proxy_unreachable"
    case "ProxyUnavailable":
    case "ProxyProtocol":
    case "ProxyTimeout":
      return "proxy_failed"
    default:
      return "connection_failed"
  }
}

/**
 * Runs sessions until every recipient is answered, the hosts are exhausted, or a host gives a
 * definitive refusal.
 */
export const check = (
  hosts: ReadonlyArray<MxHost>,
  mailboxes: ReadonlyArray<Address.Mailbox>,
  ctx: CheckContext
): Effect.Effect<Checked, never, SmtpTransport.SmtpTransport | HostPermits> =>
  Effect.gen(function* () {
    const { config, policy } = ctx
    const permits = yield* HostPermits
    const router = yield* Router.Router
    const evidence: Array<Findings> = mailboxes.map(() =>
      unanswered({ verdict: "unknown", reason: "connection_failed", retryable: true })
    )
    const attempts: Array<Array<Attempt>> = mailboxes.map(() => [])
    const timings: Array<ConnectionTiming> = mailboxes.map(noTiming)
    let pending = mailboxes.map((_, i) => i)
    const probes = new Map(ctx.probes)
    const catchAll = new Map<string, boolean>()
    const inconclusive = new Set<string>()
    let deadline = ctx.deadline
    // The null sender, until a server refuses it; then the configured real one, for good.
    let sender = ctx.sender ?? config.mailFrom
    let nullRefused = ctx.sender !== undefined && ctx.sender !== config.mailFrom
    // The reverse path of the last connection: what the evidence reports.
    let lastFrom = sender
    const senderNow = () => ({ nullRefused, used: lastFrom })
    // Validated by VerifierConfig.make; a config built by hand with a bad block opens nothing.
    const targets = Result.getOrElse(TargetPolicy.make(config.allowTargets), () => TargetPolicy.strict)

    search: for (const host of hosts.slice(0, config.maxMxHosts)) {
      for (const address of host.addresses.slice(0, config.maxAddressesPerHost)) {
        const decision = TargetPolicy.judge(targets, address)
        if (decision._tag === "Refused") {
          for (const i of pending) {
            attempts[i]!.push({ host: host.host, address, outcome: "target_refused", detail: decision.detail })
            if (Option.isNone(evidence[i]!.session)) {
              evidence[i] = unanswered({ verdict: "unknown", reason: "target_refused", retryable: false }, attempts[i])
            }
          }
          continue // next address
        }
        let tls = config.tls
        // Sessions opened again to this address after one that answered some and hung up.
        let reconnects = 0
        for (;;) {
          if (pending.length === 0) break search
          const now = yield* Clock.currentTimeMillis
          if (deadline !== undefined && now >= deadline) {
            for (const i of pending) {
              if (Option.isNone(evidence[i]!.session)) {
                evidence[i] = unanswered(
                  { verdict: "unknown", reason: "timeout", retryable: true },
                  attempts[i],
                  timings[i],
                  senderNow()
                )
              }
            }
            break search
          }
          const batch = pending.slice(0, config.recipientsPerSession)
          const domains = new Set(batch.map((i) => domainKey(mailboxes[i]!.domain)))
          const timing = SmtpClient.makeTiming()
          // The reverse path this connection uses (a routing rule may name one; a refused <> does not come back).
          let from = sender
          const run = yield* Effect.gen(function* () {
            // The route (proxy, source address and its EHLO name) is chosen per connection, and a
            // pooled source address is held until the connection closes.
            const route = yield* router.route(host.host)
            from = nullRefused ? sender : Option.getOrElse(route.mailFrom, () => sender)
            const session = Session.make({
              clientName: Option.getOrElse(route.helo, () => config.helo),
              mailFrom: from,
              recipients: batch.map((i) => mailboxes[i]!),
              probes: Array.from(probes).flatMap(([key, probe]) => (domains.has(key) ? [probe] : [])),
              tls,
              // An address literal has no name: SNI is left out and the certificate is checked against the IP.
              servername: host.host.startsWith("[") ? address : host.host,
              vrfy: config.vrfy ? "fallback" : "off",
              pipelining: config.pipelining,
              maxPipeline: config.maxPipeline,
              maxVrfy: Session.defaults.maxVrfy,
              maxErrors: config.maxErrorsPerSession
            })
            // The clock starts when a connection slot is ours, not while waiting for one.
            const start = yield* Clock.currentTimeMillis
            deadline ??= start + ctx.timeout
            return yield* SmtpClient.run(SmtpClient.sessionMachine, session, {
              host: address,
              port: config.port,
              connectTimeout: policy.phaseTimeouts.connect,
              phaseTimeout: Policy.timeoutFor(policy.phaseTimeouts),
              deadline: Math.max(0, deadline - start),
              tls: { rejectUnauthorized: false, ca: config.ca },
              via: {
                proxy: Option.getOrUndefined(route.proxy),
                localAddress: Option.getOrUndefined(route.localAddress)
              },
              timing
            })
          }).pipe(Effect.scoped, permits.withPermit(address), Effect.result)
          lastFrom = from

          if (run._tag === "Failure") {
            const failed: Policy.HostAttempt = { _tag: "ConnectFailed", message: run.failure.message }
            const reason = connectFailure(run.failure.reason)
            for (const i of batch) {
              attempts[i]!.push({ host: host.host, address, outcome: reason, detail: run.failure.message })
              addTiming(timings[i]!, timing)
            }
            for (const i of pending) {
              if (Option.isNone(evidence[i]!.session)) {
                evidence[i] = unanswered(
                  { verdict: "unknown", reason, retryable: true },
                  attempts[i],
                  timings[i],
                  senderNow()
                )
              }
            }
            if (!policy.shouldFailover(failed)) break search
            break // next address
          }
          const result = run.success
          const hostAttempt: Policy.HostAttempt = { _tag: "Session", result }
          const detail = sessionDetail(result)
          for (const i of batch) addTiming(timings[i]!, timing)
          // The server refused the null sender (at MAIL, or at RCPT as Postfix does): ask the
          // same host again with a real one. Never a mailbox verdict from that refusal.
          const refusal = from === "" ? senderRefusal(result, batch.length) : undefined
          if (refusal !== undefined) {
            for (const i of batch) {
              attempts[i]!.push({ host: host.host, address, outcome: "sender_rejected", detail: refusal })
            }
            sender = config.fallbackSender
            nullRefused = true
            continue
          }
          for (const key of domains) {
            if (catchAll.has(key)) continue
            const learnt = catchAllFrom(result, key)
            if (Option.isSome(learnt)) {
              if (learnt.value === "inconclusive") inconclusive.add(key)
              else {
                catchAll.set(key, learnt.value)
                inconclusive.delete(key)
              }
            }
            const answered = result.probes.some(
              (p) => p.result._tag === "Answered" && domainKey(p.mailbox.domain) === key
            )
            if (Option.isSome(learnt) || answered) probes.delete(key)
          }

          let progress = false
          batch.forEach((i, k) => {
            const outcome = Classify.recipient(result, k)
            attempts[i]!.push({ host: host.host, address, outcome: outcome.reason, detail })
            evidence[i] = {
              outcome,
              session: Option.some({ result, index: k }),
              mx: Option.some({ host: { ...host, host: host.host }, address }),
              attempts: attempts[i]!,
              timing: timings[i]!,
              sender: senderNow()
            }
            if (isAnswered(result.recipients[k]!)) progress = true
          })
          pending = pending.filter((_, n) => n >= batch.length || !isAnswered(result.recipients[n]!))
          if (policy.retryWithoutTls(hostAttempt, tls)) {
            tls = "off"
            continue
          }
          // The server answered some and then hung up (error limits) or limited the batch: go on,
          // up to the policy's number of reconnects; then this address is done with.
          if (progress) {
            if (pending.length === 0 || reconnects < policy.maxReconnects) {
              reconnects++
              continue
            }
            break // next address
          }
          if (!policy.shouldFailover(hostAttempt)) break search
          break // next address
        }
      }
    }
    return { evidence, catchAll, inconclusive, deadline, sender }
  })
