/**
 * Turns what was learnt about one address into a `Verification`.
 *
 * @internal
 */
import { Duration, Option } from "effect"
import { Address, Reply, type Session } from "@rcpt/smtp"
import type { Signals as SignalSet } from "@rcpt/signals"
import type { Judge } from "../Judgement.ts"
import type { MxPlan } from "../MxPlan.ts"
import type {
  Verification,
  Attempt,
  CatchAllProbe,
  MxEvidence,
  Outcome,
  ProviderEvidence,
  ReplyEvidence,
  Signals,
  Timing,
  TlsEvidence
} from "../Verification.ts"
import type { Findings } from "./check.ts"
import { trusted } from "./trusted.ts"

const replyEvidence = (reply: Reply.Reply): ReplyEvidence => ({
  code: reply.code,
  enhanced: Reply.enhancedCode(reply) ?? null,
  text: Reply.text(reply)
})

/**
 * The RCPT reply's evidence, or the last result's when it says the same (results are never
 * changed: shared; the duplicate cache keeps thousands of results).
 */
const rcptEvidenceOf = (reply: Reply.Reply, last: { readonly evidence: ReplyEvidence } | undefined): ReplyEvidence => {
  const enhanced = Reply.enhancedCode(reply) ?? null
  const text = Reply.text(reply)
  return last !== undefined &&
    last.evidence.code === reply.code &&
    last.evidence.enhanced === enhanced &&
    last.evidence.text === text
    ? last.evidence
    : { code: reply.code, enhanced, text }
}

const noTls: TlsEvidence = { status: "none", protocol: null, cipher: null, authorized: null, error: null }

const tlsEvidence = (tls: Session.TlsStatus | undefined): TlsEvidence => {
  if (tls === undefined || tls._tag === "Plaintext") return noTls
  if (tls._tag === "Failed")
    return { status: "failed", protocol: null, cipher: null, authorized: null, error: tls.message }
  return {
    status: "established",
    protocol: tls.info.protocol,
    cipher: tls.info.cipher,
    authorized: tls.info.authorized,
    error: Option.getOrNull(tls.info.authorizationError)
  }
}

// Outcomes saying the domain has no mail hosts in DNS: it takes no mail, so a looser typo suggestion is worth showing.
const noMailHosts: ReadonlySet<string> = new Set(["no_such_domain", "no_mail_hosts", "null_mx"])

/**
 * Who receives the domain's mail: the answering host's provider, else the first MX host's that is
 * known (a backup MX at a gateway still names the gateway).
 */
export const providerOf = (
  set: SignalSet.Signals,
  answered: string | undefined,
  mxHosts: ReadonlyArray<string>
): ProviderEvidence | null => Option.getOrNull(set.provider(answered === undefined ? mxHosts : [answered, ...mxHosts]))

const noSender: Findings["sender"] = { nullRefused: false, used: "" }

// Shared by every result without a transcript (results are never changed).
const noTranscript: Verification["transcript"] = []

const noSignals: Signals = {
  disposable: false,
  roleAccount: false,
  freeProvider: false,
  suggestion: null,
  acceptsAllProvider: null
}

export const signalsOf = (
  set: SignalSet.Signals,
  mailbox: Address.Mailbox | undefined,
  mxHost: string | undefined,
  resolves = true
): Signals => {
  if (mailbox === undefined || mailbox.domain._tag !== "DomainName") return noSignals
  const domain = mailbox.domain.ascii
  const suggestion = set.suggestDomain(domain, { resolves })
  return {
    disposable: set.isDisposable(domain),
    roleAccount: set.isRoleAccount(mailbox.localPart),
    freeProvider: set.isFreeProvider(domain),
    // A near-miss of a major provider always; one more slip away only when the domain has no mail hosts.
    suggestion: Option.getOrNull(suggestion) ?? null,
    acceptsAllProvider:
      mxHost === undefined ? null : Option.getOrNull(Option.map(set.acceptAllProvider(mxHost), (p) => p.name))
  }
}

export const planOutcome = (plan: Exclude<MxPlan, { _tag: "Hosts" }>): { outcome: Outcome; detail: string } => {
  switch (plan._tag) {
    case "NullMx":
      return {
        outcome: { verdict: "undeliverable", reason: "null_mx", retryable: false },
        detail: "the domain publishes a null MX (RFC 7505): it accepts no mail"
      }
    case "NoSuchDomain":
      return {
        outcome: { verdict: "undeliverable", reason: "no_such_domain", retryable: false },
        detail: "the domain does not exist or has no MX and no address"
      }
    case "NoMailHosts":
      return {
        outcome: { verdict: "undeliverable", reason: "no_mail_hosts", retryable: false },
        detail: `the domain's MX hosts have no address: ${plan.hosts.join(", ")}`
      }
    case "SpecialUse":
      return {
        outcome: { verdict: "undeliverable", reason: "special_use", retryable: false },
        detail: `a special-use name (RFC 6761: .${plan.name}), not a mail domain on the Internet; not asked`
      }
    case "Unroutable":
      return {
        outcome: { verdict: "undeliverable", reason: "no_mail_hosts", retryable: false },
        detail: `no MX, and the domain's own address (${plan.addresses.join(", ")}) is not globally routable: no implicit MX (RFC 5321 §5.1)`
      }
    case "NoMail":
      return {
        outcome: { verdict: "undeliverable", reason: "no_mail", retryable: false },
        detail: "no MX, and SPF v=spf1 -all: the domain sends and receives no mail"
      }
    case "DnsFailure":
      return {
        outcome: { verdict: "unknown", reason: "dns_failure", retryable: true },
        detail: `DNS failed: ${plan.message}`
      }
  }
}

const describe = (
  outcome: Outcome,
  evidence: Findings | undefined,
  mx: AnsweringMx | undefined,
  rcpt: ReplyEvidence | null,
  memo: Memo | undefined
): string => {
  const where = mx === undefined ? "no MX host" : once(memo?.where, mx, undefined, whereOf)
  if (rcpt !== null) {
    const last = memo?.last
    if (last !== undefined && last.evidence === rcpt && last.where === where) return last.detail
    // The text before the reply's, shared while the host and code stay the same (one string joined per result).
    const head =
      last !== undefined && last.where === where && last.evidence.code === rcpt.code
        ? last.head
        : `${where} answered RCPT with ${rcpt.code} `
    // `rcpt.text` is trimmed (`Reply.text`): only an empty one, or a host name starting with a blank, needs a trim.
    const detail = rcpt.text === "" || where.trimStart() !== where ? (head + rcpt.text).trim() : head + rcpt.text
    if (memo !== undefined) memo.last = { where, evidence: rcpt, head, detail }
    return detail
  }
  const last = evidence?.attempts.at(-1)
  return last === undefined ? `${outcome.reason} (${where})` : `${outcome.reason}: ${last.detail} (${where})`
}

/** The detail, with why a provider-based rule qualified the 250: the verdict's reason in words. */
const qualified = (
  detail: string,
  reason: Verification["reason"],
  signals: Signals,
  provider: ProviderEvidence | null
): string => {
  if (reason === "accepts_all") {
    const name = signals.acceptsAllProvider ?? provider?.name ?? "the provider"
    return `${detail}; ${name} answers 250 to every RCPT, so the acceptance proves little about the mailbox`
  }
  if (reason === "provider" && provider !== null) {
    return `${detail}; the judge's provider rule counts a 250 from ${provider.name} (${provider.id}) as unproven`
  }
  return detail
}

/**
 * Each recipient's lines of a session transcript: the lines about no recipient (greeting, EHLO,
 * MAIL, QUIT...) and its own, in order. Worked out once per session (a session of thousands of
 * recipients would otherwise be scanned once per recipient) and kept while the session is.
 */
const transcripts = new WeakMap<Session.SessionResult, ReadonlyArray<ReadonlyArray<Session.TranscriptEntry>>>()

const transcriptOf = (result: Session.SessionResult, index: number): ReadonlyArray<Session.TranscriptEntry> => {
  let all = transcripts.get(result)
  if (all === undefined) {
    const common: Array<readonly [number, Session.TranscriptEntry]> = []
    const own = result.recipients.map((): Array<readonly [number, Session.TranscriptEntry]> => [])
    result.transcript.forEach((e, at) => {
      if (e.recipient === undefined) common.push([at, e])
      else own[e.recipient]?.push([at, e])
    })
    all = own.map((mine) => {
      const out: Array<Session.TranscriptEntry> = []
      let c = 0
      for (const [at, e] of mine) {
        while (c < common.length && common[c]![0] < at) out.push(common[c++]![1])
        out.push(e)
      }
      while (c < common.length) out.push(common[c++]![1])
      return out
    })
    transcripts.set(result, all)
  }
  return all[index] ?? []
}

// A judge is user code: its score is rounded into 0-100 (the schema's integer range) so that no judge can break a result.
const validScore = (score: number): number =>
  Number.isFinite(score) ? Math.max(0, Math.min(100, Math.round(score))) : 0

export interface BuildInput {
  readonly address: string
  readonly mailbox: Address.Mailbox | undefined
  readonly startedAt: number
  readonly now: number
  readonly outcome: Outcome
  readonly detail?: string | undefined
  readonly evidence?: Findings | undefined
  readonly implicit: boolean
  /** The SMTP port, for the MX evidence; unused when no MX host was asked. */
  readonly port?: number | undefined
  readonly catchAll: boolean | null
  /** The probe's finding; derived from `catchAll` when absent. */
  readonly catchAllProbe?: CatchAllProbe | undefined
  readonly signals: SignalSet.Signals
  readonly judge: Judge
  /** The policy's `retryAfter`; none: no `retryAfter` on the result. */
  readonly retryAfter?: ((outcome: Outcome) => Duration.Input | null) | undefined
  /** The DNS time, when a timing block is wanted (`VerifierConfig.timing`); none: `timing` is null. */
  readonly dnsMs?: number | undefined
  /** The MX plan's host names in preference order, for the provider; none: only the answering host. */
  readonly mxHosts?: ReadonlyArray<string> | undefined
  /** Keep the session's dialogue in the result; false: `transcript` is empty (bulk output without it). */
  readonly transcript?: boolean | undefined
}

const probeOf = (catchAll: boolean | null): CatchAllProbe =>
  catchAll === true ? "accepted" : catchAll === false ? "refused" : "not_checked"

const timingOf = (dnsMs: number, evidence: Findings | undefined): Timing => ({
  dnsMs: Math.max(0, Math.round(dnsMs)),
  connectMs: Math.round(evidence?.timing.connectMs ?? 0),
  tlsMs: Math.round(evidence?.timing.tlsMs ?? 0),
  smtpMs: Object.fromEntries(Object.entries(evidence?.timing.phases ?? {}).map(([p, ms]) => [p, Math.round(ms)])),
  connections: evidence?.timing.connections ?? 0
})

type AnsweringMx = Option.Option.Value<Findings["mx"]>

/**
 * What the results of one batch share (a group's, whose inputs have the same `signals`, `port`,
 * `implicit` and `mxHosts`), worked out once instead of per address: the signals of a domain
 * (all but the role account depend on the domain and the answering host only), each answering
 * host's provider, each session's MX and TLS evidence, the times (a group's results share their
 * start). The values are shared between the results, which never change them.
 */
export interface Memo {
  /** By domain, then answering host, then role account and whether the domain resolves (0-3). */
  readonly signals: Map<string, Map<string, Array<Signals | undefined>>>
  readonly where: Map<AnsweringMx, string>
  readonly providers: Map<string, ProviderEvidence | null>
  readonly mx: Map<AnsweringMx, MxEvidence>
  readonly tls: Map<Session.SessionResult, TlsEvidence>
  readonly times: Map<number, string>
  /**
   * The last RCPT reply's evidence and detail: the next result with the same reply from the same
   * host shares them (a catch-all list's 20,000 "250 2.1.5 Ok" make one of each, not 20,000).
   */
  last:
    | { readonly where: string; readonly evidence: ReplyEvidence; readonly head: string; readonly detail: string }
    | undefined
}

export const memo = (): Memo => ({
  signals: new Map(),
  where: new Map(),
  providers: new Map(),
  mx: new Map(),
  tls: new Map(),
  times: new Map(),
  last: undefined
})

/**
 * `make(key, arg)`, kept in `map` by `key`. `make` is a module-level function given what it needs:
 * a closure per call would be one per result (and a context holding the build's variables).
 */
const once = <K, A, V>(map: Map<K, V> | undefined, key: K, arg: A, make: (key: K, arg: A) => V): V => {
  if (map === undefined) return make(key, arg)
  let value = map.get(key)
  if (value === undefined && !map.has(key)) {
    value = make(key, arg)
    map.set(key, value)
  }
  return value as V
}

const whereOf = (mx: AnsweringMx): string => `${mx.host.host} [${mx.address}]`

const mxEvidenceOf = (mx: AnsweringMx, input: BuildInput): MxEvidence => ({
  host: mx.host.host,
  preference: mx.host.preference,
  address: mx.address,
  port: input.port ?? 25,
  implicit: input.implicit
})

const tlsOf = (result: Session.SessionResult): TlsEvidence => tlsEvidence(result.tls)

// Keyed by the answering host's name, "" for none (a host name is never empty).
const providerFor = (answered: string, input: BuildInput): ProviderEvidence | null =>
  providerOf(input.signals, answered === "" ? undefined : answered, input.mxHosts ?? [])

const isoTime = (ms: number): string => new Date(ms).toISOString()

/** When to ask again about an address whose verdict is unknown, if the policy says. */
const retryAt = (input: BuildInput, memo: Memo | undefined): string | null => {
  if (input.retryAfter === undefined) return null
  const wait = input.retryAfter(input.outcome)
  if (wait === null) return null
  const at = input.now + Duration.toMillis(Duration.fromInputUnsafe(wait))
  return once(memo?.times, at, undefined, isoTime)
}

/**
 * A result's signals, shared by the results of a batch that have the same domain, answering host,
 * role account or not, and resolving domain or not: all they depend on (no key string per address).
 */
const sharedSignals = (
  memo: Memo,
  set: SignalSet.Signals,
  mailbox: Address.Mailbox,
  answered: string | undefined,
  resolves: boolean
): Signals => {
  const domain = Address.domainText(mailbox.domain)
  let byHost = memo.signals.get(domain)
  if (byHost === undefined) memo.signals.set(domain, (byHost = new Map()))
  let byKind = byHost.get(answered ?? "")
  if (byKind === undefined) byHost.set(answered ?? "", (byKind = []))
  const kind = (set.isRoleAccount(mailbox.localPart) ? 2 : 0) + (resolves ? 1 : 0)
  return (byKind[kind] ??= signalsOf(set, mailbox, answered, resolves))
}

export const build = (input: BuildInput, memo?: Memo): Verification => {
  const { evidence, mailbox } = input
  const mx = evidence === undefined ? undefined : Option.getOrUndefined(evidence.mx)
  const session = evidence === undefined ? undefined : Option.getOrUndefined(evidence.session)
  const recipient = session?.result.recipients[session.index]
  const answered = mx?.host.host
  const provider = mailbox === undefined ? null : once(memo?.providers, answered ?? "", input, providerFor)
  const resolves = !noMailHosts.has(input.outcome.reason)
  const signals =
    mailbox === undefined || memo === undefined
      ? signalsOf(input.signals, mailbox, answered, resolves)
      : sharedSignals(memo, input.signals, mailbox, answered, resolves)
  const judgement = input.judge({ smtp: input.outcome, catchAll: input.catchAll, signals, provider })
  const transcript =
    session === undefined || input.transcript === false
      ? noTranscript
      : transcriptOf(session.result, session.index).map((e) => ({ direction: e.direction, text: e.text }))
  const attempts: ReadonlyArray<Attempt> = evidence?.attempts ?? []
  const rcpt = recipient === undefined ? undefined : Option.getOrUndefined(recipient.rcpt)
  const rcptEvidence = rcpt === undefined ? null : rcptEvidenceOf(rcpt, memo?.last)
  return trusted({
    address: input.address,
    normalized: mailbox?.address ?? null,
    domain: mailbox === undefined ? null : Address.domainText(mailbox.domain),
    verdict: judgement.verdict,
    reason: judgement.reason,
    retryable: input.outcome.retryable,
    score: validScore(judgement.score),
    detail: qualified(
      input.detail ?? describe(input.outcome, evidence, mx, rcptEvidence, memo),
      judgement.reason,
      signals,
      provider
    ),
    mx: mx === undefined ? null : once(memo?.mx, mx, input, mxEvidenceOf),
    rcpt: rcptEvidence,
    vrfy: recipient === undefined || recipient.vrfy._tag === "None" ? null : replyEvidence(recipient.vrfy.value),
    tls: session === undefined ? noTls : once(memo?.tls, session.result, undefined, tlsOf),
    catchAll: input.catchAll,
    catchAllProbe: input.catchAllProbe ?? probeOf(input.catchAll),
    signals,
    provider,
    sender: evidence?.sender ?? noSender,
    retryAfter: judgement.verdict !== "unknown" ? null : retryAt(input, memo),
    timing: input.dnsMs === undefined ? null : timingOf(input.dnsMs, evidence),
    // The check's own list: nothing adds to it once the check is over (a later pass makes new ones).
    attempts,
    startedAt: once(memo?.times, input.startedAt, undefined, isoTime),
    durationMs: Math.max(0, Math.round(input.now - input.startedAt)),
    transcript
  })
}
