/**
 * What a bulk run learns about one MX host's limits, and how it learns it: start from safe values,
 * widen while the host shows no sign of a limit, narrow at the first sign and stop widening that
 * value. The signs, from real MTAs (see the project's notes on Postfix, Exim, OpenSMTPD):
 *
 * - a 421 or a disconnect after N rejections: a hard error limit (Postfix: 421 after 20);
 * - replies slowed by about a second after N rejections: an error sleep or tarpit (Postfix: every
 *   reply after 10 errors);
 * - 452 4.5.3 / 451 "too many recipients" after N accepted in one transaction: a per-message limit
 *   (the session goes on with RSET and a new transaction);
 * - 421 (or another 4xx) at the greeting: too many connections;
 * - no PIPELINING in EHLO: one command at a time;
 * - a 554 or a disconnect at an RSET: too many non-mail commands on one connection (Exim counts
 *   each RSET past the first, `smtp_accept_max_nonmail` 10).
 *
 * Pure: {@link learn} and {@link widen} are functions of values, tested as tables. The defaults are
 * named values; a `Shaping` replaces them all (see `Policy.hostShaping`).
 *
 * @since 0.2.0
 */

/**
 * The values a host's sessions run with.
 *
 * @category models
 * @since 0.2.0
 */
export interface HostProfile {
  /** Recipients one session is given (the rest go to the next session). */
  readonly recipientsPerSession: number
  /** Rejected RCPTs after which a session stops and the rest go to a new one (error limits). */
  readonly rejectionsPerSession: number
  /** RCPTs per pipelined write. */
  readonly pipeline: number
  /** Whether this host pipelines (it offered PIPELINING). */
  readonly pipelining: boolean
  /** Sessions at once to this host, at most (never above `--per-host`). */
  readonly connections: number
  /**
   * RSETs one connection carries, at most: a session taking a connection over writes one, and a
   * transaction after a full one another (see {@link startingResets}).
   */
  readonly resetsPerConnection: number
  /** Recipients the host took in one transaction before "too many recipients"; undefined: no limit seen. */
  readonly recipientsPerTransaction: number | undefined
  /** The last session refused every recipient it asked about (a list of unknown mailboxes). */
  readonly refusing: boolean
  /** Values at which a limit was seen: these are not widened again. */
  readonly found: {
    readonly rejections: boolean
    readonly recipients: boolean
    readonly pipeline: boolean
    readonly connections: boolean
    readonly resets: boolean
  }
}

/**
 * What one session to the host showed.
 *
 * @category models
 * @since 0.2.0
 */
export interface Observation {
  /** RCPTs refused (5xx other than "too many recipients"). */
  readonly rejections: number
  /** RCPTs accepted. */
  readonly accepted: number
  /** Recipients left unasked because the session reached its rejection cap. */
  readonly postponed: number
  /** Recipients the session was given and had answered (or postponed), i.e. it ran its course. */
  readonly completed: boolean
  /** Rejections answered before the replies slowed down by about a second; undefined: no slowdown. */
  readonly slowAfter: number | undefined
  /** Rejections answered before a 421 or a disconnect in the middle of the RCPTs; undefined: none. */
  readonly cutAfter: number | undefined
  /** Accepted RCPTs in the transaction when "too many recipients" came; undefined: never. */
  readonly tooManyRecipientsAfter: number | undefined
  /** 421 or another 4xx at the greeting: the host has enough of our connections. */
  readonly refusedConnection: boolean
  /** EHLO was answered and offered no PIPELINING. */
  readonly noPipelining: boolean
  /**
   * The most RCPTs the session had unanswered at once (its widest pipeline: a write's RCPTs and
   * those still in flight); undefined: not counted (the tried pipeline is taken as used).
   */
  readonly widestWrite?: number | undefined
  /** RSETs written on the connection by the end of the session (those before it included). */
  readonly resets?: number | undefined
  /** The connection was refused or cut at the RSET that made this many on it; undefined: not so. */
  readonly cutAtReset?: number | undefined
}

/**
 * How profiles start, how far they widen, and how an observation changes them.
 *
 * @category models
 * @since 0.2.0
 */
export interface Shaping {
  readonly initial: (start: Start) => HostProfile
  /** The values to try next while nothing was seen; `profile` itself when nothing is left to widen. */
  readonly widen: (profile: HostProfile) => HostProfile
  /** The profile after a session run with `tried` showed `observation`; `safe` is the profile before it. */
  readonly learn: (safe: HostProfile, tried: HostProfile, observation: Observation) => HostProfile
  /** How a session trying wider values goes past the safe rejection cap; {@link careful} when absent. */
  readonly careful?: ((safe: HostProfile) => Careful) | undefined
}

/**
 * How a trying session goes past the safe rejection cap (`Session.Config.careful`): from
 * `afterErrors` rejections on, `pipeline` RCPTs unanswered at once, or `growth` times the
 * rejections taken quietly past that point, whichever is more; `steepGrowth` times once
 * `steepFrom` were taken quietly past it.
 *
 * @category models
 * @since 0.2.0
 */
export interface Careful {
  readonly afterErrors: number
  readonly pipeline: number
  readonly growth: number
  readonly steepFrom?: number | undefined
  readonly steepGrowth?: number | undefined
}

/**
 * Where a host's profile starts: the configured values (`VerifierConfig`: 50 recipients and 9
 * rejections per session, below Postfix's soft error limit of 10; pipelines of 10).
 *
 * @category models
 * @since 0.2.0
 */
export interface Start {
  readonly recipientsPerSession: number
  readonly maxErrorsPerSession: number
  readonly maxPipeline: number
  readonly pipelining: boolean
  readonly perHost: number
}

/**
 * How far widening goes: a Postfix transaction takes 1000 recipients, and a pipeline of twice as
 * many keeps a connection busy through a round trip of 100 ms at 20,000 RCPTs a second (the server
 * reads them as fast as it answers; RFC 2920 sets no bound), with a full transaction's next one
 * going out behind its last RCPTs (the session machine's `closeEarly`): at 1000, the next
 * transaction had only the half of the window its first replies freed, and a catch-all domain's
 * sessions through a 150 ms round trip ran about a tenth slower. Sessions carry several transactions.
 *
 * @category constants
 * @since 0.2.0
 */
export const widestValues = {
  recipientsPerSession: 5000,
  rejectionsPerSession: 100_000,
  pipeline: 2000,
  /** Below Postfix's `smtpd_junk_command_limit` (100: past it each RSET counts as an error). */
  resetsPerConnection: 90
} as const

/**
 * RSETs per connection until a host shows it takes more: Exim counts every RSET past a
 * connection's first as a non-mail command and, past `smtp_accept_max_nonmail` (10), answers 554
 * and hangs up; 9 stays clear of it. A connection at its RSETs is closed and a new one dialled.
 *
 * @category constants
 * @since 0.4.0
 */
export const startingResets = 9

/**
 * Recipients per transaction until a host says otherwise: Postfix's and OpenSMTPD's limit (RFC
 * 5321 §4.5.3.1.8 asks servers for at least 100). Past it a new transaction, same session.
 *
 * @category constants
 * @since 0.2.0
 */
export const recipientsPerTransaction = 1000

/**
 * Recipients a transaction to the host on `profile` takes: what it showed, else
 * {@link recipientsPerTransaction}.
 *
 * @category getters
 * @since 0.4.0
 */
export const transactionSize = (profile: HostProfile): number =>
  profile.recipientsPerTransaction ?? recipientsPerTransaction

/**
 * A trying session's RCPTs unanswered at once past the safe cap grow by this share of the
 * rejections it took quietly past it: 1 lets as many be out as came back quietly before, so the
 * RCPTs past the cap double every round trip (0.5 took about 20 round trips from 9 to 5,000
 * rejections, most of a fresh host's first second through a 50 ms round trip). Error limits met in
 * practice (Postfix: a sleep after 10) are still found a RCPT at a time ({@link carefulPipeline}).
 * Past them, {@link steepGrowth}.
 *
 * @category constants
 * @since 0.2.0
 */
export const rampGrowth = 1

/**
 * The growth of a trying session's RCPTs out at once once its rejections are past the error sleep
 * met in practice ({@link steepAfter}): 3 lets three times what came back quietly be out, up to
 * four times as many every round trip (about 2.5 in practice: the session machine decides a write at
 * each reply of a packet, so a write goes with the window its first replies made), so a session
 * ramps from 9 to 5,000 rejections in about 7 round trips instead of 13 (through a 50 ms round trip
 * the ramp was a fifth of a 20,000-address run). A server that starts slowing down on errors only
 * past such a point would have a whole write of RCPTs in flight: the careful session leaves at the
 * first slowed reply (`internal/observe.ts`, `Session.abandon`), so it costs one slowed reply, in
 * one session, once in the run.
 *
 * @category constants
 * @since 0.5.0
 */
export const steepGrowth = 3

/**
 * Recipients a session on `profile` is given: its recipients per session, and on a host that
 * refused everything (`refusing`) no more than its rejection cap, where such a session ends
 * (the rest would only be marked postponed).
 *
 * @category getters
 * @since 0.4.0
 */
export const sessionRecipients = (profile: HostProfile, refusing: boolean = profile.refusing): number =>
  refusing ? Math.min(profile.recipientsPerSession, profile.rejectionsPerSession) : profile.recipientsPerSession

/**
 * Round trips of RCPTs a session is given at most, at its pipeline depth, while the host's
 * values are still being learnt: a session started with shallow values (a pipeline of 10 before
 * anything was learnt) would otherwise carry a large share at that depth for seconds while the
 * run has learnt wider values; so it gets at most this many pipelines' worth, and the next
 * session starts with what was learnt. With connections kept open between sessions (`Policy.keepOpen`)
 * the next session costs one round trip, so sessions are kept short: 8 round trips at a learnt
 * depth of 250 or more is more than a session carries anyway. Settled values are not paced.
 *
 * @category constants
 * @since 0.4.0
 */
export const roundTripsPerSession = 8

/**
 * @category constructors
 * @since 0.2.0
 */
export const initial = (start: Start): HostProfile => ({
  recipientsPerSession: Math.max(1, start.recipientsPerSession),
  rejectionsPerSession: Math.max(1, start.maxErrorsPerSession),
  pipeline: start.pipelining ? Math.max(1, start.maxPipeline) : 1,
  pipelining: start.pipelining,
  connections: Math.max(1, start.perHost),
  resetsPerConnection: startingResets,
  recipientsPerTransaction: undefined,
  refusing: false,
  found: { rejections: false, recipients: false, pipeline: false, connections: false, resets: false }
})

const grow = (value: number, widest: number, fixed: boolean) => (fixed ? value : Math.max(value, widest))

/**
 * The next values to try: every value not yet limited at its widest ({@link widestValues}). Safe
 * because the trying session is careful past the safe rejection cap ({@link careful}): it ramps
 * up within the session and stops at the first sign, so one session finds what several
 * widening steps found before.
 *
 * @category learning
 * @since 0.2.0
 */
export const widen = (profile: HostProfile): HostProfile => ({
  ...profile,
  recipientsPerSession: grow(profile.recipientsPerSession, widestValues.recipientsPerSession, profile.found.recipients),
  rejectionsPerSession: grow(profile.rejectionsPerSession, widestValues.rejectionsPerSession, profile.found.rejections),
  pipeline: profile.pipelining
    ? grow(profile.pipeline, widestValues.pipeline, profile.found.pipeline)
    : profile.pipeline,
  resetsPerConnection: grow(profile.resetsPerConnection, widestValues.resetsPerConnection, profile.found.resets)
})

/** Whether widening would change anything. */
export const isSettled = (profile: HostProfile, shaping: Pick<Shaping, "widen"> = { widen }): boolean => {
  const next = shaping.widen(profile)
  return (
    next.recipientsPerSession === profile.recipientsPerSession &&
    next.rejectionsPerSession === profile.rejectionsPerSession &&
    next.pipeline === profile.pipeline &&
    next.resetsPerConnection === profile.resetsPerConnection
  )
}

/**
 * The profile after one session: a sign narrows the value it concerns (and marks it found); a
 * session that ran its course with `tried` and showed nothing makes `tried`'s wider values safe.
 *
 * @category learning
 * @since 0.2.0
 */
export const learn = (safe: HostProfile, tried: HostProfile, o: Observation): HostProfile => {
  let next = safe
  const sign = o.slowAfter !== undefined || o.cutAfter !== undefined || o.refusedConnection
  if (!sign && o.completed) {
    // Nothing seen: what was tried is safe, but only as far as the session really went (the
    // rejections it took, its largest write).
    next = {
      ...safe,
      pipeline: Math.max(safe.pipeline, Math.min(tried.pipeline, o.widestWrite ?? tried.pipeline)),
      recipientsPerSession: Math.max(safe.recipientsPerSession, tried.recipientsPerSession),
      rejectionsPerSession: Math.max(safe.rejectionsPerSession, Math.min(tried.rejectionsPerSession, o.rejections)),
      resetsPerConnection: Math.max(safe.resetsPerConnection, Math.min(tried.resetsPerConnection, o.resets ?? 0))
    }
  }
  if (o.cutAtReset !== undefined && o.cutAtReset > 0) {
    // One RSET fewer than the one the server would not take on that connection.
    const cap = Math.max(1, o.cutAtReset - 1)
    next = {
      ...next,
      resetsPerConnection: next.found.resets ? Math.min(next.resetsPerConnection, cap) : cap,
      found: { ...next.found, resets: true }
    }
  }
  const limits = [o.slowAfter, o.cutAfter].filter((n): n is number => n !== undefined && n > 0)
  if (limits.length > 0) {
    // Stay one below the rejection count that brought the sleep or the hang-up.
    const cap = Math.max(1, Math.min(...limits) - 1)
    next = {
      ...next,
      rejectionsPerSession: next.found.rejections ? Math.min(next.rejectionsPerSession, cap) : cap,
      found: { ...next.found, rejections: true }
    }
  } else if (
    o.cutAfter === 0 &&
    (tried.pipeline > safe.pipeline || tried.recipientsPerSession > safe.recipientsPerSession)
  ) {
    // A wider session cut before any rejection: the batch or the pipeline is what it did not like.
    next = {
      ...next,
      pipeline: safe.pipeline,
      recipientsPerSession: safe.recipientsPerSession,
      found: { ...next.found, pipeline: true, recipients: true }
    }
  }
  if (o.tooManyRecipientsAfter !== undefined && o.tooManyRecipientsAfter > 0) {
    next = { ...next, recipientsPerTransaction: o.tooManyRecipientsAfter }
  }
  if (o.refusedConnection) {
    next = {
      ...next,
      connections: Math.max(1, Math.min(next.connections, tried.connections) - 1),
      found: { ...next.found, connections: true }
    }
  }
  if (o.noPipelining && next.pipelining) next = { ...next, pipelining: false, pipeline: 1 }
  // A session that had no answer says nothing about what the host refuses.
  if (o.rejections + o.accepted === 0) return next
  const refusing = o.rejections > 0 && o.accepted === 0
  return next.refusing === refusing ? next : { ...next, refusing }
}

/**
 * The default shaping: {@link initial}, {@link widen}, {@link learn}.
 *
 * @category constants
 * @since 0.2.0
 */
export const shaping: Shaping = { initial, widen, learn, careful: (safe) => careful(safe) }

/**
 * A shaping that never learns: every session runs with the configured values
 * (`--recipients-per-session`, `--max-errors-per-session`, `--max-pipeline`).
 *
 * @category constructors
 * @since 0.2.0
 */
export const fixed: Shaping = {
  initial,
  widen: (p) => p,
  learn: (safe) => safe
}

/**
 * Below this safe rejection cap a careful session has one RCPT at a time out past it: the error
 * limits met in practice sit here (Postfix: a sleep after 10, a hang-up after 20).
 *
 * @category constants
 * @since 0.2.0
 */
export const carefulBelow = 20

/**
 * Rejections taken quietly from which a trying session's ramp is steep ({@link steepGrowth}): the
 * 11th rejected RCPT is the first Postfix's stock soft limit (10) slows down by a second, and the
 * ramp sends it alone. Its hard limit (a hang-up at the 21st) and any limit of a server set up
 * otherwise are met, if at all, with a write in flight, and cost that one session: the careful
 * session leaves at the first slowed reply or hang-up, and the safe values move only past
 * {@link carefulBelow}. (It was {@link carefulBelow} + 1: a doubling ramp from 11 to 21 took four
 * round trips more of a fresh host's first trial.)
 *
 * @category constants
 * @since 0.6.0
 */
export const steepAfter = 11

/**
 * The RCPTs a careful session (one trying a wider cap) has unanswered at once past the safe cap:
 * one while the cap is below {@link carefulBelow} (so a server's first slowed reply is seen
 * exactly), a quarter of the safe cap past it, so that a trial costs about a dozen round trips
 * and a high limit is found in a few sessions.
 *
 * @category learning
 * @since 0.2.0
 */
export const carefulPipeline = (safe: HostProfile): number =>
  safe.rejectionsPerSession < carefulBelow ? 1 : Math.max(1, Math.floor(safe.rejectionsPerSession / 4))

/**
 * The default way past the safe cap: {@link carefulPipeline} RCPTs unanswered at once, growing by
 * {@link rampGrowth}, and by {@link steepGrowth} from {@link steepAfter} rejections on.
 *
 * @category learning
 * @since 0.2.0
 */
export const careful = (safe: HostProfile): Careful => ({
  afterErrors: safe.rejectionsPerSession,
  pipeline: carefulPipeline(safe),
  growth: rampGrowth,
  steepFrom: Math.max(0, steepAfter - safe.rejectionsPerSession),
  steepGrowth
})

/**
 * One line for people: `rcpt/session 5000, rejections/session 9 (limit found), pipeline 500, ...`.
 *
 * @category formatting
 * @since 0.2.0
 */
export const describe = (p: HostProfile): string =>
  [
    `recipients/session ${p.recipientsPerSession}${p.found.recipients ? " (limit found)" : ""}`,
    `rejections/session ${p.rejectionsPerSession}${p.found.rejections ? " (limit found)" : ""}`,
    p.pipelining ? `pipeline ${p.pipeline}${p.found.pipeline ? " (limit found)" : ""}` : "no pipelining",
    `connections ${p.connections}${p.found.connections ? " (limit found)" : ""}`,
    `RSETs/connection ${p.resetsPerConnection}${p.found.resets ? " (limit found)" : ""}`,
    ...(p.recipientsPerTransaction === undefined ? [] : [`recipients/transaction ${p.recipientsPerTransaction}`])
  ].join(", ")
