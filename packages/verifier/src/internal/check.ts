/**
 * Asks MX hosts about a batch of mailboxes (of one domain, or of several sharing these hosts):
 * sessions of many recipients each, shaped by what the run has learnt about the MX address (see
 * `HostProfile`: recipients and rejections per session, pipeline depth, sessions at once), up to
 * that many side by side, each taking the next recipients not yet answered; a new session when
 * one stops at its rejection cap or the server hangs up after progress, the next MX address when
 * a host cannot answer at all, TLS off when an opportunistic handshake breaks.
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
import { Clock, Context, Effect, Exit, Option, References, Result, Scope } from "effect"
import { Router, SmtpClient, SmtpTransport } from "@rcpt/client"
import { type Address, Classify, Reply, Session } from "@rcpt/smtp"
import type { CatchAllMemory } from "../CatchAllMemory.ts"
import * as HostProfile from "../HostProfile.ts"
import { HostProfiles } from "../HostProfiles.ts"
import { HostPermits } from "../HostPermits.ts"
import type { MxHost } from "../MxPlan.ts"
import * as Policy from "../Policy.ts"
import * as TargetPolicy from "../TargetPolicy.ts"
import type { Attempt, findingReasons, Outcome } from "../Verification.ts"
import type { VerifierConfig } from "../VerifierConfig.ts"
import { domainKey } from "./keys.ts"
import * as Probes from "./probes.ts"
import { addTiming, type ConnectionTiming, noTiming } from "./timing.ts"
import * as Lanes from "./lanes.ts"
import { watch } from "./observe.ts"

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

export interface Checked {
  readonly evidence: ReadonlyArray<Findings>
  /** The deadline in force (set by the first connection when the context had none). */
  readonly deadline: number | undefined
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
  /**
   * The run's catch-all memory. A domain's status is told to it as soon as a session settles it,
   * and a probe whose domain it knows by the time a session would take it is not asked: groups of
   * a fresh domain run side by side, and each booked its probe before any answer came.
   */
  readonly memory?: CatchAllMemory["Service"] | undefined
}

const noAttempts: ReadonlyArray<Attempt> = []

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

/**
 * The first refusal of the reverse path in a session (at MAIL, or a recipient's RCPT), if any;
 * `outcomes` are the session's recipients' (classified once, for this and for their evidence).
 */
const senderRefusal = (result: Session.SessionResult, outcomes: ReadonlyArray<Outcome>): string | undefined => {
  // Any permanent refusal of MAIL FROM:<> is a refusal of the null sender, whatever its wording.
  if (result.end._tag === "Rejected" && result.end.phase === "AwaitMail" && result.end.reply.code >= 500) {
    return Reply.format(result.end.reply).split("\n")[0]!
  }
  for (let k = 0; k < outcomes.length; k++) {
    if (outcomes[k]!.reason !== "sender_rejected") continue
    const rcpt = Option.getOrUndefined(result.recipients[k]!.rcpt)
    if (rcpt !== undefined) return Reply.format(rcpt).split("\n")[0]!
    return sessionDetail(result)
  }
  return undefined
}

/** The server said something about this recipient itself. Per recipient: plain tests, no `Option` calls. */
const isAnswered = (r: Session.RecipientResult): boolean =>
  r.rcpt._tag === "Some" ||
  r.vrfy._tag === "Some" ||
  (r.skipped._tag === "Some" && (r.skipped.value === "SmtpUtf8Unsupported" || r.skipped.value === "MailRejected"))

/** A session on a connection taken over that ended before any answer: the connection was not sound. */
const stale = (result: Session.SessionResult): boolean =>
  result.end._tag !== "Completed" && !result.recipients.some(isAnswered)

/**
 * Whether a connection that has taken `carried` refusals and `resets` RSETs has room for a session
 * of `recipients` (servers count errors and non-mail commands per connection, and so does a resumed
 * session): on a host that refuses everything room for every one of them (as a rejection each),
 * elsewhere at least half the rejection cap left (how many will be refused is not known), and room
 * for its RSET and one per further transaction it may need. (On a refusing host the half rule too
 * had a connection redialled every two or three sessions once the cap was a few sessions' worth.)
 */
const roomFor = (profile: HostProfile.HostProfile, carried: number, recipients: number, resets: number): boolean =>
  (profile.refusing
    ? carried + recipients <= profile.rejectionsPerSession
    : carried * 2 <= profile.rejectionsPerSession) &&
  resets + 1 + resetsWithin(profile, recipients) <= profile.resetsPerConnection

/**
 * Recipients for a session that would take `wanted`, given what the connection its lane kept has
 * taken (`parked`; undefined: none to take over): no more than it has room left for (see
 * {@link roomFor}) when that is at least half of `wanted`, so the session goes on it where a full
 * one would cost a new connection: the old one's QUIT and the new one's connect, greeting and EHLO
 * round trips, four for a session's one. On a host that refuses everything the room is its refusals
 * left under the cap; elsewhere its RSETs left, a transaction each. While those are still being
 * raised (by the trying lane, as far as its own connection went), the lane with the safe values met
 * them about every other session: on a catch-all host, once the RSETs' nine (the bench's catch-all
 * list redialled near its end, 300 ms of a 1.6 s run).
 *
 * @internal
 */
export const fitted = (
  profile: HostProfile.HostProfile,
  parked: { readonly rejected: number; readonly resets: number } | undefined,
  wanted: number
): number => {
  if (parked === undefined) return wanted
  const room = profile.refusing
    ? profile.rejectionsPerSession - parked.rejected
    : (profile.resetsPerConnection - parked.resets) * HostProfile.transactionSize(profile)
  return room < wanted && room * 2 >= wanted ? room : wanted
}

/**
 * The values a session judges by whether to keep its connection for the lane's next session: its
 * own, with the rejection cap and the RSETs per connection the shaping widens to while the host has
 * shown no such limit (`safe.found`). Those are still being raised (a trying session raises them as
 * it goes, see `internal/observe.ts`), so the next session may find room under them; judged by the
 * values at the session's start, the lane on the safe values redialled after nearly every session
 * of a fresh host that refuses everything (5 of its 7 connections in the bench's first second), and
 * once a run on a catch-all domain at its ninth RSET. A next session that finds no room under the
 * values then in force closes it (QUIT, a round trip that a QUIT pipelined with the last RCPTs hides).
 *
 * @internal
 */
export const outlook = (
  safe: HostProfile.HostProfile,
  profile: HostProfile.HostProfile,
  shaping: Pick<HostProfile.Shaping, "widen">
): HostProfile.HostProfile => {
  if (safe.found.rejections && safe.found.resets) return profile
  const widest = shaping.widen(profile)
  const rejectionsPerSession = safe.found.rejections ? profile.rejectionsPerSession : widest.rejectionsPerSession
  const resetsPerConnection = safe.found.resets ? profile.resetsPerConnection : widest.resetsPerConnection
  return rejectionsPerSession === profile.rejectionsPerSession && resetsPerConnection === profile.resetsPerConnection
    ? profile
    : { ...profile, rejectionsPerSession, resetsPerConnection }
}

/** RSETs a session of `recipients` may write for transactions after a full one (refusals fill none). */
const resetsWithin = (profile: HostProfile.HostProfile, recipients: number): number =>
  profile.refusing ? 0 : Math.floor(Math.max(0, recipients - 1) / HostProfile.transactionSize(profile))

/** What a session that only met a refused RSET showed: that, and nothing else. */
const atReset = (cutAtReset: number): HostProfile.Observation => ({
  rejections: 0,
  accepted: 0,
  postponed: 0,
  completed: false,
  slowAfter: undefined,
  cutAfter: undefined,
  tooManyRecipientsAfter: undefined,
  refusedConnection: false,
  noPipelining: false,
  cutAtReset
})

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

/** Where a host's profile starts: the configured values. */
export const startOf = (config: VerifierConfig): HostProfile.Start => ({
  recipientsPerSession: config.recipientsPerSession,
  maxErrorsPerSession: config.maxErrorsPerSession,
  maxPipeline: config.maxPipeline,
  pipelining: config.pipelining,
  perHost: config.perHost
})

/**
 * What `make` opens, in `scope` (a connection's, not the run's). A lane may keep that scope open
 * for the rest of the run, and each finalizer in it holds the services it was added under, stack
 * frames included: each frame an Error whose call sites (never formatted) hold their functions.
 * From a closure made in `check`, that would be the whole group (its evidence, mailboxes and
 * timings: about a megabyte per kept connection). So `make` is called from here, and runs without
 * the frames in progress, in a copy of the context (`omit` copies; `provideContext` would merge,
 * and effect 4.1's Context keeps the values it shadows in its overlays).
 */
const inScope = <A, E>(make: () => Effect.Effect<A, E, Scope.Scope>, scope: Scope.Scope): Effect.Effect<A, E> =>
  Scope.provide(Effect.suspend(make), scope).pipe(
    Effect.updateContext((context: Context.Context<never>) => Context.omit(References.CurrentStackFrame)(context))
  )

/** The route of a new connection, held in its scope (a pooled source address). See {@link inScope}. */
const routeIn = (router: Router.Service, host: string, scope: Scope.Scope) => inScope(() => router.route(host), scope)

/** The transport a session's driver dials through: the connection it was given, else a new one in `scope`. */
const dialIn = (
  transport: SmtpTransport.SmtpTransport["Service"],
  scope: Scope.Scope,
  given: SmtpTransport.Connection | undefined
) => {
  let connection = given
  return {
    transport: SmtpTransport.SmtpTransport.of({
      connect: (options) =>
        connection !== undefined
          ? Effect.succeed(connection)
          : Effect.map(
              inScope(() => transport.connect(options), scope),
              (c) => (connection = c)
            )
    }),
    connection: () => connection
  }
}

/**
 * Runs sessions until every recipient is answered, the hosts are exhausted, or a host gives a
 * definitive refusal.
 */
export const check = Effect.fn("Verifier.check")(function* (
  hosts: ReadonlyArray<MxHost>,
  mailboxes: ReadonlyArray<Address.Mailbox>,
  ctx: CheckContext
): Effect.fn.Return<Checked, never, SmtpTransport.SmtpTransport | HostPermits | HostProfiles> {
  const { config, policy } = ctx
  const shaping = policy.hostShaping
  const start = startOf(config)
  const permits = yield* HostPermits
  const profiles = yield* HostProfiles
  const clock = yield* Clock.Clock
  const router = yield* Router.Router
  const transport = yield* SmtpTransport.SmtpTransport
  const lanes = yield* Lanes.Current
  // Until a session answers or gives up on it, each recipient has the same evidence (never changed: replaced).
  const none = unanswered({ verdict: "unknown", reason: "connection_failed", retryable: true })
  const evidence: Array<Findings> = mailboxes.map(() => none)
  // Each recipient's attempts so far: a list replaced by one a size larger at each attempt (pushed
  // to, a list grows to 17 slots: about 150 bytes a recipient held as long as the group is).
  const attempts: Array<ReadonlyArray<Attempt>> = mailboxes.map(() => noAttempts)
  // Summed per recipient only for a timing block (`VerifierConfig.timing`); else one that stays at zero, shared.
  const untimed = config.timing ? undefined : noTiming()
  const timings: Array<ConnectionTiming> = mailboxes.map(() => untimed ?? noTiming())
  // Not answered yet, in order; a session takes from the front and puts back what it could not ask.
  const queue = mailboxes.map((_, i) => i)
  const probes = Probes.make(ctx.probes, mailboxes, policy.probeRetries)
  let deadline = ctx.deadline
  // The null sender, until a server refuses it; then the configured real one, for good.
  let sender = ctx.sender ?? config.mailFrom
  let nullRefused = ctx.sender !== undefined && ctx.sender !== config.mailFrom
  // The reverse path of the last connection: what the evidence reports.
  let lastFrom = sender
  const senderNow = () => ({ nullRefused, used: lastFrom })
  // A definitive refusal: no other host or address is asked.
  let stop = false
  // Validated by VerifierConfig.make; a config built by hand with a bad block opens nothing.
  const targets = Result.getOrElse(TargetPolicy.make(config.allowTargets), () => TargetPolicy.strict)

  /** The evidence of the recipients still queued that no session answered yet: `outcome`. */
  const notAnswered = (outcome: Outcome) => {
    for (const i of queue) {
      if (Option.isNone(evidence[i]!.session)) evidence[i] = unanswered(outcome, attempts[i], timings[i], senderNow())
    }
  }

  /** Adds an attempt to recipient `i`'s; its evidence, when it holds the list so far, gets the new one. */
  const attempted = (i: number, attempt: Attempt) => {
    const before = attempts[i]!
    const after = before.concat(attempt)
    attempts[i] = after
    const current = evidence[i]!
    if (current.attempts === before) evidence[i] = { ...current, attempts: after }
  }

  /** Recipients still to ask, or a probe due again. */
  const pending = () => queue.length > 0 || probes.due()

  /** Connections to `address` side by side: `--per-host`, or fewer once the host refused one (learnt). */
  const connectionsTo = (address: string) =>
    Effect.map(profiles.current(address, shaping, start), (p) => Math.max(1, Math.min(config.perHost, p.connections)))

  /** One address's sessions; `at` is shared by those running side by side. */
  const session = (
    host: MxHost,
    address: string,
    at: {
      tls: Session.TlsMode
      cuts: number
      done: boolean
      readonly share: number
      /** A session of this address answered some of the group. */
      answered: boolean
      /** Sessions of this address running for the group, or waiting for a lane. */
      active: number
      /** Sessions of the group refused at the greeting while the address answered elsewhere. */
      refusals: number
    }
  ) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      if (ctx.deadline !== undefined && now >= ctx.deadline) {
        notAnswered({ verdict: "unknown", reason: "timeout", retryable: true })
        queue.length = 0
        probes.giveUp()
        return
      }
      // The values are taken once a connection slot is ours: what was learnt while this session
      // waited for it applies. `open`: the connection the lane's last session left (bulk runs).
      const job = (open: Lanes.Open | undefined) =>
        Effect.gen(function* () {
          const lease = yield* profiles.lease(address, shaping, start)
          const profile = lease.profile
          // While the run is still learning this host, a shallow pipeline carries a few dozen round
          // trips of recipients, not a large share (settled values, e.g. HostProfile.fixed, are kept).
          const learning = profile.pipelining && !HostProfile.isSettled(lease.safe, shaping)
          const paced = learning ? profile.pipeline * HostProfile.roundTripsPerSession : Infinity
          // The values tried, capped as the safe values say (a refusing host: its rejection cap).
          const recipients = HostProfile.sessionRecipients(profile, lease.safe.refusing)
          // No more transactions than a new connection has RSETs for (a host taking few recipients a transaction).
          const byResets = lease.safe.refusing
            ? Infinity
            : (profile.resetsPerConnection + 1) * HostProfile.transactionSize(profile)
          // A connection is taken over only as it was opened (TLS mode), and with room (below): the
          // batch is fitted to the refusals or RSETs it has left.
          const takeable = open !== undefined && open.tls === at.tls ? open : undefined
          const batch = queue.splice(
            0,
            fitted(profile, takeable?.parked, Math.max(1, Math.min(recipients, at.share, paced, byResets)))
          )
          // Probes another group of the run has settled meanwhile go unasked.
          if (ctx.memory !== undefined) {
            for (const key of probes.free()) {
              const known = yield* ctx.memory.get(key)
              if (Option.isSome(known)) probes.known(key, known.value)
            }
          }
          // The probes no other session holds; a due one comes with an accepted recipient to ask again.
          const claim = probes.claim(new Set(batch.map((i) => domainKey(mailboxes[i]!.domain))))
          if (batch.length === 0 && claim.keys.length === 0) {
            yield* profiles.report(address, lease, shaping, undefined)
            return [undefined, open] as const
          }
          // Taken over when it has the rejections and RSETs this batch may need to spare.
          const resumed =
            takeable !== undefined && roomFor(profile, takeable.parked.rejected, batch.length, takeable.parked.resets)
              ? takeable
              : undefined
          if (open !== undefined && resumed === undefined) yield* Lanes.close(open)
          const watched = watch(clock, {
            careful: lease.trying,
            rejectedBefore: resumed?.parked.rejected ?? 0,
            // A trying session's quiet progress widens the safe values as it goes (see `Lease.advance`).
            advance: lease.advance,
            advanceFrom: 2 * lease.safe.rejectionsPerSession
          })
          // The route (proxy, source address and its EHLO name) is chosen per connection and held
          // while it lives (a pooled source address, in the connection's scope).
          const scope = resumed?.scope ?? (yield* Scope.make())
          const route = resumed?.route ?? (yield* routeIn(router, host.host, scope))
          // The reverse path this session uses (a routing rule may name one; a refused <> does not come back).
          const from = nullRefused ? sender : Option.getOrElse(route.mailFrom, () => sender)
          const timing = SmtpClient.makeTiming()
          const sessionConfig: Session.Config = {
            clientName: Option.getOrElse(route.helo, () => config.helo),
            mailFrom: from,
            recipients: [...batch, ...claim.anchors].map((i) => mailboxes[i]!),
            probes: claim.probes,
            tls: at.tls,
            // An address literal has no name: SNI is left out and the certificate is checked against the IP.
            servername: host.host.startsWith("[") ? address : host.host,
            vrfy: config.vrfy ? "fallback" : "off",
            pipelining: config.pipelining && profile.pipelining,
            maxPipeline: profile.pipeline,
            maxVrfy: Session.defaults.maxVrfy,
            maxErrors: profile.rejectionsPerSession,
            // A session trying a wider cap goes past the safe one a few RCPTs at a time.
            careful: lease.trying ? (shaping.careful ?? HostProfile.careful)(lease.safe) : undefined,
            // QUIT with the last group a session can send is a guess that pays on a host that
            // refuses everything (a list of unknown mailboxes); elsewhere it would cut sessions short.
            quitEarly: lease.safe.refusing,
            maxRecipientsPerTransaction: HostProfile.transactionSize(profile),
            // Results without a transcript (bulk without --transcript) need no dialogue lines made.
            transcript: config.transcript,
            // In a bulk run the connection may serve the lane's next session, if one could take it over
            // after this one (refused all, on a host that refuses everything: half as many, see
            // `fitted`): else QUIT goes early there.
            keepOpen:
              lanes !== undefined &&
              roomFor(
                outlook(lease.safe, profile, shaping),
                profile.refusing ? (resumed?.parked.rejected ?? 0) + batch.length : 0,
                profile.refusing ? Math.ceil(batch.length / 2) : batch.length,
                (resumed === undefined ? 0 : resumed.parked.resets + 1) + resetsWithin(profile, batch.length)
              )
          }
          const initial =
            resumed === undefined ? Session.make(sessionConfig) : Session.resume(sessionConfig, resumed.parked)
          // The clock starts when a connection slot is ours, not while waiting for one; each session
          // has the whole timeout for its recipients (a large group's later sessions are not cut
          // short by its first), unless the caller set a deadline (greylisting retries).
          const started = yield* Clock.currentTimeMillis
          const until = ctx.deadline ?? started + ctx.timeout
          deadline = Math.max(deadline ?? 0, until)
          const dial = dialIn(transport, scope, resumed?.connection)
          const run = yield* SmtpClient.run(watched.machine, initial, {
            host: address,
            port: config.port,
            connectTimeout: policy.phaseTimeouts.connect,
            phaseTimeout: Policy.timeoutFor(policy.phaseTimeouts),
            deadline: Math.max(0, until - started),
            tls: { rejectUnauthorized: false, ca: config.ca },
            via: {
              proxy: Option.getOrUndefined(route.proxy),
              localAddress: Option.getOrUndefined(route.localAddress)
            },
            timing
          }).pipe(Effect.provideService(SmtpTransport.SmtpTransport, dial.transport), Effect.result)
          lastFrom = from
          if (untimed === undefined) for (const i of batch) addTiming(timings[i]!, timing)
          const parked = run._tag === "Success" ? Option.getOrUndefined(run.success.parked) : undefined
          const connection = dial.connection()
          const keep: Lanes.Open | undefined =
            parked !== undefined && connection !== undefined
              ? { connection, scope, route, tls: at.tls, parked }
              : undefined
          if (keep === undefined) yield* Scope.close(scope, Exit.void)
          return [{ lease, batch, claim, watched, run, from, resumed: resumed !== undefined }, keep] as const
        })
      at.active++
      const slot = yield* (
        lanes === undefined
          ? Effect.map(job(undefined), ([value]) => value).pipe(permits.withPermit(address))
          : // The lanes follow the connections the host takes, as learnt (a 421 at the greeting lowers them).
            Effect.flatMap(connectionsTo(address), (most) => lanes.run(address, job, most))
      ).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            at.active--
          })
        )
      )
      if (slot === undefined) return
      const { lease, batch, claim, watched, run, from, resumed } = slot

      if (run._tag === "Failure") {
        probes.settle(claim, batch, undefined)
        yield* profiles.report(address, lease, shaping, undefined)
        const failed: Policy.HostAttempt = { _tag: "ConnectFailed", message: run.failure.message }
        const reason = connectFailure(run.failure.reason)
        for (const i of batch) {
          attempted(i, { host: host.host, address, outcome: reason, detail: run.failure.message })
        }
        queue.unshift(...batch)
        notAnswered({ verdict: "unknown", reason, retryable: true })
        if (!policy.shouldFailover(failed)) stop = true
        at.done = true // next address
        return
      }
      const result = run.success
      if (resumed && stale(result)) {
        // The connection a session left open was gone (the server's idle timeout, a restart), or it
        // took no more RSETs (a sign, learnt): its recipients go again on a new connection.
        const { cutAtReset } = watched.observe(result)
        probes.settle(claim, batch, undefined)
        yield* profiles.report(address, lease, shaping, cutAtReset === undefined ? undefined : atReset(cutAtReset))
        queue.unshift(...batch)
        return
      }
      const observed = watched.observe(result)
      const learnt = yield* profiles.report(address, lease, shaping, observed)
      if (learnt.changed) {
        yield* Effect.logDebug(`host profile ${host.host} [${address}]: ${HostProfile.describe(learnt.profile)}`)
      }
      const hostAttempt: Policy.HostAttempt = { _tag: "Session", result }
      const detail = sessionDetail(result)
      // The server refused the null sender (at MAIL, or at RCPT as Postfix does): ask the same
      // host again with a real one. Never a mailbox verdict from that refusal.
      const outcomes = batch.map((_, k) => Classify.recipient(result, k))
      const refusal = from === "" ? senderRefusal(result, outcomes) : undefined
      if (refusal !== undefined) {
        probes.settle(claim, batch, undefined)
        for (const i of batch) {
          attempted(i, { host: host.host, address, outcome: "sender_rejected", detail: refusal })
        }
        sender = config.fallbackSender
        nullRefused = true
        queue.unshift(...batch)
        return
      }
      const settled = probes.settle(claim, [...batch, ...claim.anchors], result)
      if (ctx.memory !== undefined) for (const [key, value] of settled) yield* ctx.memory.remember(key, value)
      // A session of anchors alone asked for probes only: what it gives is in the book.
      if (batch.length === 0) return

      let progress = false
      const again: Array<number> = []
      // The same for every recipient of the session: made once, shared (evidence is never mutated).
      const mx = Option.some({ host: { ...host, host: host.host }, address })
      const used = senderNow()
      // Recipients with the same outcome share one attempt (attempts are never changed).
      let attempt: Attempt | undefined
      batch.forEach((i, k) => {
        const outcome = outcomes[k]!
        if (attempt?.outcome !== outcome.reason) attempt = { host: host.host, address, outcome: outcome.reason, detail }
        attempted(i, attempt)
        evidence[i] = {
          outcome,
          session: Option.some({ result, index: k }),
          mx,
          attempts: attempts[i]!,
          timing: timings[i]!,
          sender: used
        }
        if (isAnswered(result.recipients[k]!)) progress = true
        else again.push(i)
      })
      // Not asked (the cap, a hang-up, a guess at QUIT that failed): next, before the rest.
      queue.unshift(...again)
      if (progress) at.answered = true
      if (policy.retryWithoutTls(hostAttempt, at.tls)) {
        at.tls = "off"
        return
      }
      if (progress) {
        // The server hung up after answering some (error limits): go on, up to the policy's
        // number of reconnects; then this address is done with. A session that stopped at its
        // own cap is no reconnect.
        if (result.end._tag !== "Completed" && ++at.cuts > policy.maxReconnects) at.done = true
        return
      }
      // One connection too many (a 4xx at the greeting) while the address answers on another, or
      // has: the profile took one connection fewer, and the lanes follow it, so the next session
      // waits for the connection that works (`Policy.connectionRetries` times). Before, the
      // group's other recipients went to the next MX, or ended unknown.
      const busy = at.active > 0 || (lanes !== undefined && lanes.busy(address) > 0)
      const retries = policy.connectionRetries ?? Policy.connectionRetries
      if (observed.refusedConnection && (at.answered || busy) && ++at.refusals <= retries) return
      if (!policy.shouldFailover(hostAttempt)) stop = true
      at.done = true // next address
    })

  search: for (const host of hosts.slice(0, config.maxMxHosts)) {
    for (const address of host.addresses.slice(0, config.maxAddressesPerHost)) {
      if (!pending() || stop) break search
      const decision = TargetPolicy.judge(targets, address)
      if (decision._tag === "Refused") {
        for (const i of queue) {
          attempted(i, { host: host.host, address, outcome: "target_refused", detail: decision.detail })
        }
        notAnswered({ verdict: "unknown", reason: "target_refused", retryable: false })
        continue // next address
      }
      // Sessions side by side, as many as the host takes (within --per-host, which the permits hold).
      const width = yield* connectionsTo(address)
      // A session takes at most a fair share of the recipients, so that every session side by side
      // has some (a trying session given the whole group would leave the others idle); a group
      // of no more than the configured recipients per session goes in one. Shared only among the
      // host's free lanes: where other groups' sessions hold them, the group goes whole to the first
      // one free (each session ends with a round trip in which its connection carries nothing).
      const free = lanes === undefined ? width : Math.max(1, width - lanes.busy(address))
      const share = Math.max(config.recipientsPerSession, Math.ceil(queue.length / free))
      const at = { tls: config.tls, cuts: 0, done: false, share, answered: false, active: 0, refusals: 0 }
      const worker = Effect.whileLoop({
        while: () => pending() && !at.done && !stop,
        body: () => session(host, address, at),
        step: () => undefined
      })
      yield* Effect.all(
        Array.from({ length: width }, () => worker),
        { concurrency: "unbounded", discard: true }
      )
      if (!pending() || stop) break search
    }
  }
  // Hosts exhausted or a definitive refusal: a due probe will not be answered in this check.
  probes.giveUp()
  return { evidence, inconclusive: probes.inconclusive, deadline, sender }
})
