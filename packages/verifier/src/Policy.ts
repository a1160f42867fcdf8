/**
 * The verifier's policies as named values: timeouts per phase, when to try the next MX host,
 * when and how often to ask again (greylisting), when to retry without TLS, how sessions to an MX
 * host are shaped by what the run learns about it (`hostShaping`).
 *
 * Each is a plain value or `Schedule`; replace one by providing a `Policy` with it changed:
 * `Effect.provideService(Policy.Policy, { ...Policy.defaults, greylistRetry: mySchedule })`.
 *
 * @since 0.1.0
 */
import { Context, type Duration, Option, Schedule } from "effect"
import { PhaseTimeouts as ClientPhaseTimeouts } from "@rcpt/client"
import type { Session } from "@rcpt/smtp"
import * as HostProfile from "./HostProfile.ts"
import type * as Verification from "./Verification.ts"
import * as DomainRules from "./DomainRules.ts"

/**
 * Read timeouts per phase (the record and its phase mapping live in @rcpt/client's
 * `PhaseTimeouts`). RFC 5321 §4.5.3.2 asks for minutes; a verifier that waits that long for one
 * address is useless, so these are shorter but still allow slow banners (20-30 s).
 *
 * @category models
 * @since 0.1.0
 */
export type PhaseTimeouts = ClientPhaseTimeouts.Verification

/**
 * @category constants
 * @since 0.1.0
 */
export const phaseTimeouts: PhaseTimeouts = {
  connect: "10 seconds",
  greeting: "30 seconds",
  ehlo: "15 seconds",
  starttls: "10 seconds",
  tlsHandshake: "10 seconds",
  mail: "20 seconds",
  rcpt: "30 seconds",
  rset: "10 seconds",
  vrfy: "15 seconds",
  quit: "5 seconds"
}

/**
 * The read timeout for a session phase.
 *
 * @category timeouts
 * @since 0.1.0
 */
export const timeoutFor: (timeouts: PhaseTimeouts) => (phase: string) => Duration.Input = ClientPhaseTimeouts.timeoutFor

/**
 * Whether an outcome is worth asking again later: 4xx at RCPT (greylisting, "try again",
 * rate limits). Timeouts and connection failures are the failover's business, not this.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isGreylisting = (outcome: Verification.Outcome): boolean =>
  outcome.retryable &&
  (outcome.reason === "greylisted" || outcome.reason === "temporary_failure" || outcome.reason === "rate_limited")

/**
 * How long to wait between asks while a recipient is greylisted: exponential from 30 s, with
 * jitter, at most 4 more asks. The overall deadline cuts it short.
 *
 * @category schedules
 * @since 0.1.0
 */
export const greylistRetry: Schedule.Schedule<unknown, unknown> = Schedule.max([
  Schedule.exponential("30 seconds", 2),
  Schedule.recurs(4)
]).pipe(Schedule.jittered)

/**
 * How long to wait before asking again about an `unknown` result that may change: by reason,
 * from what servers usually need (postgrey's default delay is 5 minutes; rate limits and
 * temporary failures clear in minutes; a host that cannot be reached, in longer). `null`: do not
 * suggest a time (the result is final, or not `unknown`).
 *
 * @category policies
 * @since 0.1.0
 */
export const retryAfter = (outcome: Verification.Outcome): Duration.Input | null => {
  if (outcome.verdict !== "unknown" || !outcome.retryable) return null
  switch (outcome.reason) {
    case "greylisted":
      return "5 minutes"
    case "too_many_recipients":
      return "1 minute"
    case "rate_limited":
      return "15 minutes"
    case "dns_failure":
      return "5 minutes"
    case "temporary_failure":
    case "service_unavailable":
    case "sender_rejected":
      return "10 minutes"
    case "blocked":
      return "1 hour"
    default:
      // timeouts, refused or dropped connections, protocol trouble
      return "30 minutes"
  }
}

/**
 * What one connection to one MX address gave.
 *
 * @category models
 * @since 0.1.0
 */
export type HostAttempt =
  | { readonly _tag: "ConnectFailed"; readonly message: string }
  | { readonly _tag: "Session"; readonly result: Session.SessionResult }

const transientBeforeRcpt = (end: Session.SessionEnd) => {
  switch (end._tag) {
    case "ServiceClosing":
    case "Closed":
    case "TimedOut":
    case "ProtocolError":
    case "TlsFailed":
      return true
    case "Rejected":
      // 4xx at greeting, EHLO/HELO or MAIL: this host cannot take mail now; another may.
      return end.reply.code >= 400 && end.reply.code < 500
    default:
      return false
  }
}

/**
 * Whether to go on to the next MX address: the connection failed, or the host gave up (421,
 * timeout, closed, 4xx) before answering any RCPT. A definitive answer stops the search.
 *
 * @category predicates
 * @since 0.1.0
 */
export const shouldFailover = (attempt: HostAttempt): boolean => {
  if (attempt._tag === "ConnectFailed") return true
  const answered = attempt.result.recipients.some((r) => Option.isSome(r.rcpt))
  return !answered && transientBeforeRcpt(attempt.result.end)
}

/**
 * Whether to ask the same host again without TLS: the handshake failed in opportunistic mode.
 * Servers with broken TLS stacks still answer in plaintext.
 *
 * @category predicates
 * @since 0.1.0
 */
export const retryWithoutTls = (attempt: HostAttempt, mode: Session.TlsMode): boolean =>
  mode === "opportunistic" && attempt._tag === "Session" && attempt.result.end._tag === "TlsFailed"

/**
 * How sessions to each MX host are shaped: start from the configured values (50 recipients and 9
 * rejections per session, pipelines of 10), widen while the host shows no sign of a limit, narrow
 * at the first sign (see `HostProfile`). `HostProfile.fixed` keeps the configured values.
 *
 * @category constants
 * @since 0.2.0
 */
export const hostShaping: HostProfile.Shaping = HostProfile.shaping

/**
 * How long a bulk run keeps a connection no session is using, for the next session to the same
 * MX address (it starts with RSET: no connect, greeting, EHLO or QUIT). Short: a large list's next
 * sessions are usually waiting already, and an idle connection holds one of the run's connection
 * permits. `0` never keeps one: every session dials and ends with QUIT.
 *
 * @category constants
 * @since 0.4.0
 */
export const keepOpen: Duration.Input = "250 millis"

/**
 * How long a bulk run's input may pause before the addresses gathering into groups go as they
 * are. Groups gather until they have a session's worth (thousands once a host is learnt) or the
 * input ends: on a list piped in slowly (`tail -f`, a queue), an address would otherwise wait
 * for the next ones, or for the end, to be checked. A file never pauses this long between reads,
 * so its grouping is unchanged. Infinite: gather until the input ends.
 *
 * @category constants
 * @since 0.5.0
 */
export const inputIdle: Duration.Input = "1 second"

/**
 * Every policy in one record.
 *
 * @category models
 * @since 0.1.0
 */
export interface Policies {
  readonly phaseTimeouts: PhaseTimeouts
  readonly greylistRetry: Schedule.Schedule<unknown, unknown>
  readonly isGreylisting: (outcome: Verification.Outcome) => boolean
  readonly shouldFailover: (attempt: HostAttempt) => boolean
  readonly retryWithoutTls: (attempt: HostAttempt, mode: Session.TlsMode) => boolean
  /** Sessions to one address for one batch when the server hangs up mid-way (error limits). */
  readonly maxReconnects: number
  /**
   * Sessions a group asks again of an address that refused a connection at the greeting (a 4xx:
   * too many connections) while another session of it answers or runs; past them, failover.
   * Absent: {@link connectionRetries}.
   */
  readonly connectionRetries?: number
  /**
   * Times a domain's catch-all probe is asked again after the session carrying it was cut short
   * (a hang-up, a 421, a timeout) once a real recipient of the domain was accepted; past them the
   * domain's `catchAllProbe` is `inconclusive`.
   */
  readonly probeRetries: number
  /** When to ask again about an `unknown` result (`retryAfter` on the result); null for none. */
  readonly retryAfter: (outcome: Verification.Outcome) => Duration.Input | null
  /**
   * Allow/deny lists and check depth per domain or address, on top of the config's (`allow`,
   * `deny`, `depth`): both apply, the most specific pattern wins.
   */
  readonly domainRules: DomainRules.DomainRules
  /** How sessions to each MX host are shaped, learnt per host during a run. */
  readonly hostShaping: HostProfile.Shaping
  /** How long a bulk run keeps an unused connection for its next session to that address ({@link keepOpen}). */
  readonly keepOpen: Duration.Input
  /** How long a bulk run's input may pause before the groups gathering go ({@link inputIdle}). */
  readonly inputIdle: Duration.Input
}

/**
 * Sessions asked again of an address that refused one more connection (see
 * `Policies.connectionRetries`): the host profile took one connection fewer and a bulk run's lanes
 * follow it, so the next session waits for the connection that works; a host that refuses every
 * connection fails over after these.
 *
 * @category constants
 * @since 0.6.0
 */
export const connectionRetries = 2

/**
 * @category constants
 * @since 0.1.0
 */
export const defaults: Policies = {
  phaseTimeouts,
  greylistRetry,
  isGreylisting,
  shouldFailover,
  retryWithoutTls,
  maxReconnects: 20,
  connectionRetries,
  probeRetries: 2,
  retryAfter,
  domainRules: DomainRules.empty,
  hostShaping,
  keepOpen,
  inputIdle
}

/**
 * The policies in force; `defaults` unless provided.
 *
 * @category services
 * @since 0.1.0
 */
export const Policy = Context.Reference<Policies>("@rcpt/verifier/Policy", { defaultValue: () => defaults })

/**
 * A reason, re-exported so policies can be written against it.
 *
 * @category models
 * @since 0.1.0
 */
export type Outcome = Verification.Outcome
