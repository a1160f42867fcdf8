/**
 * Asks a domain's MX hosts about a batch of its mailboxes: one session for many recipients,
 * a new session when the server hangs up after progress (error limits, 452), the next MX address
 * when a host cannot answer at all, TLS off when an opportunistic handshake breaks.
 *
 * Every recipient ends with evidence, answered or not; nothing here fails.
 *
 * @internal
 */
import { Clock, Effect, Option } from "effect"
import { SmtpClient, type SmtpTransport } from "@rcpt/client"
import { type Address, Classify, Reply, Session } from "@rcpt/smtp"
import type { MxHost } from "../MxPlan.ts"
import * as Policy from "../Policy.ts"
import type { Attempt } from "../Verification.ts"
import type { VerifierConfig } from "../VerifierConfig.ts"

/** What is known about one recipient. */
export interface Evidence {
  readonly outcome: Classify.Outcome
  /** The session that gave the outcome, and the recipient's index in it. */
  readonly session: Option.Option<{ readonly result: Session.SessionResult; readonly index: number }>
  readonly mx: Option.Option<{ readonly host: MxHost; readonly address: string }>
  readonly attempts: ReadonlyArray<Attempt>
}

export interface Checked {
  readonly evidence: ReadonlyArray<Evidence>
  /** The deadline in force (set by the first connection when the context had none). */
  readonly deadline: number | undefined
  /** Some(true): the probe was accepted. Some(false): the server rejects unknown mailboxes. */
  readonly catchAll: Option.Option<boolean>
}

export interface CheckContext {
  readonly config: VerifierConfig
  readonly policy: Policy.Policies
  readonly probe: Option.Option<Address.Mailbox>
  /**
   * Epoch millis after which nothing new starts; undefined: `timeout` from the first connection,
   * so that waiting for a connection slot in a bulk run does not eat an address's time.
   */
  readonly deadline: number | undefined
  readonly timeout: number
  /** Wraps one connection: concurrency limits and rate per host. */
  readonly permit: (address: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

const unanswered = (outcome: Classify.Outcome, attempts: ReadonlyArray<Attempt> = []): Evidence => ({
  outcome,
  session: Option.none(),
  mx: Option.none(),
  attempts
})

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

const catchAllFrom = (result: Session.SessionResult): Option.Option<boolean> => {
  if (result.probe._tag === "Answered") {
    const o = Classify.classify("AwaitProbe", result.probe.reply)
    if (o.verdict === "deliverable") return Option.some(true)
    if (o.verdict === "undeliverable") return Option.some(false)
    return Option.none()
  }
  // A server that rejected a real recipient as unknown is not catch-all.
  const rejects = result.recipients.some((r) =>
    Option.exists(r.rcpt, (reply) => Classify.classify("AwaitRcpt", reply).reason === "mailbox_unknown")
  )
  return rejects ? Option.some(false) : Option.none()
}

/**
 * Runs sessions until every recipient is answered, the hosts are exhausted, or a host gives a
 * definitive refusal.
 */
export const check = (
  hosts: ReadonlyArray<MxHost>,
  mailboxes: ReadonlyArray<Address.Mailbox>,
  ctx: CheckContext
): Effect.Effect<Checked, never, SmtpTransport.SmtpTransport> =>
  Effect.gen(function* () {
    const { config, policy } = ctx
    const evidence: Array<Evidence> = mailboxes.map(() =>
      unanswered({ verdict: "unknown", reason: "connection_failed", retryable: true })
    )
    const attempts: Array<Array<Attempt>> = mailboxes.map(() => [])
    let pending = mailboxes.map((_, i) => i)
    let probe = ctx.probe
    let catchAll = Option.none<boolean>()
    let deadline = ctx.deadline

    search: for (const host of hosts) {
      for (const address of host.addresses) {
        let tls = config.tls
        for (;;) {
          if (pending.length === 0) break search
          const now = yield* Clock.currentTimeMillis
          if (deadline !== undefined && now >= deadline) {
            for (const i of pending) {
              if (Option.isNone(evidence[i]!.session)) {
                evidence[i] = unanswered({ verdict: "unknown", reason: "timeout", retryable: true }, attempts[i])
              }
            }
            break search
          }
          const batch = pending.slice(0, config.recipientsPerSession)
          const session = Session.make({
            clientName: config.helo,
            mailFrom: config.mailFrom,
            recipients: batch.map((i) => mailboxes[i]!),
            probe,
            tls,
            servername: host.host,
            vrfy: config.vrfy ? "fallback" : "off",
            pipelining: config.pipelining,
            maxPipeline: config.maxPipeline,
            maxVrfy: Session.defaults.maxVrfy,
            maxErrors: config.maxErrorsPerSession
          })
          const run = yield* Effect.gen(function* () {
            // The clock starts when a connection slot is ours, not while waiting for one.
            const start = yield* Clock.currentTimeMillis
            deadline ??= start + ctx.timeout
            return yield* SmtpClient.run(SmtpClient.sessionMachine, session, {
              host: address,
              port: config.port,
              connectTimeout: policy.phaseTimeouts.connect,
              phaseTimeout: Policy.timeoutFor(policy.phaseTimeouts),
              deadline: Math.max(0, deadline - start),
              tls: { rejectUnauthorized: false, ca: config.ca }
            })
          }).pipe(ctx.permit(address), Effect.result)

          if (run._tag === "Failure") {
            for (const i of batch) {
              attempts[i]!.push({ host: host.host, address, outcome: "connection_failed", detail: run.failure.message })
            }
            for (const i of pending) {
              if (Option.isNone(evidence[i]!.session)) {
                evidence[i] = unanswered(
                  { verdict: "unknown", reason: "connection_failed", retryable: true },
                  attempts[i]
                )
              }
            }
            break // next address
          }
          const result = run.success
          const hostAttempt: Policy.HostAttempt = { _tag: "Session", result }
          const detail = sessionDetail(result)
          if (Option.isNone(catchAll)) catchAll = catchAllFrom(result)
          if (Option.isSome(catchAll) || result.probe._tag === "Answered") probe = Option.none()

          let progress = false
          batch.forEach((i, k) => {
            const outcome = Classify.recipient(result, k)
            attempts[i]!.push({ host: host.host, address, outcome: outcome.reason, detail })
            evidence[i] = {
              outcome,
              session: Option.some({ result, index: k }),
              mx: Option.some({ host: { ...host, host: host.host }, address }),
              attempts: attempts[i]!
            }
            if (isAnswered(result.recipients[k]!)) progress = true
          })
          pending = pending.filter((_, n) => n >= batch.length || !isAnswered(result.recipients[n]!))
          if (policy.retryWithoutTls(hostAttempt, tls)) {
            tls = "off"
            continue
          }
          // The server answered some and then hung up (error limits) or limited the batch: go on.
          if (progress) continue
          if (!policy.shouldFailover(hostAttempt)) break search
          break // next address
        }
      }
    }
    return { evidence, catchAll, deadline }
  })
