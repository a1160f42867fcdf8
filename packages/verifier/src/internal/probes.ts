/**
 * The catch-all probes of one check (see `check.ts`): which session carries each domain's probe,
 * and what the sessions learnt about each domain.
 *
 * - One session at a time holds a domain's probe. Sessions side by side would otherwise all send
 *   it, and the probe was dropped only after a session ended.
 * - The session core sends a probe only after a real recipient of its domain was accepted in the
 *   same session. So a probe whose session accepted one but ended before the answer (a hang-up,
 *   a 421 at the server's error limit, a timeout) is handed back. It is also handed back when
 *   another session, not holding it, had the accepted recipient. The next session takes it again
 *   with one accepted recipient as its anchor: asked once more, and its evidence not rewritten.
 *   After `retries` such sessions the probe's answer is unknown for good (`inconclusive`).
 *
 * - Groups of a fresh domain may be in flight together, each with its own book. A domain settled
 *   in one is told to the run's memory at once (`settle` gives what it settled), and another
 *   check's session asks the memory before it claims (`free`, `known`): a probe answered
 *   meanwhile is not sent again. Sessions of two groups that start together still both carry it.
 *
 * A check returns only when no probe is due, so no result of a domain is written before its
 * probe's answer is known or known to be missing.
 *
 * @internal
 */
import { Option } from "effect"
import { type Address, Classify, Reply, type Session } from "@rcpt/smtp"
import { domainKey } from "./keys.ts"

/** Catch-all of one domain, from its own probe or its own recipients' replies (domains sharing a host may differ). */
export const catchAllFrom = (result: Session.SessionResult, key: string): Option.Option<boolean | "inconclusive"> => {
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
      r.rcpt._tag === "Some" &&
      domainKey(r.mailbox.domain) === key &&
      Classify.classify("AwaitRcpt", r.rcpt.value).reason === "mailbox_unknown"
  )
  return rejects ? Option.some(false) : Option.none()
}

interface Open {
  readonly mailbox: Address.Mailbox
  held: boolean
  /** A recipient (index in the check's list) accepted in some session: the probe is due. */
  anchor: number | undefined
  /** Sessions that should have answered it and did not. */
  cuts: number
}

/** What one session carries: its probes, by domain key, and the anchors to ask for them. */
export interface Claim {
  readonly keys: ReadonlyArray<string>
  readonly probes: ReadonlyArray<Address.Mailbox>
  readonly anchors: ReadonlyArray<number>
}

/** @internal */
export interface Book {
  /** Takes the probes no other session holds: those of `domains`, and every due one (with its anchor). */
  readonly claim: (domains: ReadonlySet<string>) => Claim
  /**
   * A session's end. `batch` are the indices of the recipients in order (anchors last); `result`
   * is undefined when no session was held (the connection failed, the sender was refused). Gives
   * the domain keys it settled, with their status.
   */
  readonly settle: (
    claim: Claim,
    batch: ReadonlyArray<number>,
    result: Session.SessionResult | undefined
  ) => ReadonlyArray<readonly [string, boolean]>
  /** Domain keys whose probe is still open and held by no session: those a claim may take. */
  readonly free: () => ReadonlyArray<string>
  /** `key`'s status was learnt elsewhere (another check's probe, told through the run's memory): not asked here. */
  readonly known: (key: string, catchAll: boolean) => void
  /** A probe no session holds needs asking: a recipient of its domain was accepted. */
  readonly due: () => boolean
  /** Nothing more will be asked: the due probes' answers are unknown for good. */
  readonly giveUp: () => void
  /** By domain key: true, catch-all; false, unknown mailboxes are refused. */
  readonly catchAll: ReadonlyMap<string, boolean>
  /** Domain keys whose probe got no answer that settles anything (4xx, a block, cut too often). */
  readonly inconclusive: ReadonlySet<string>
}

const accepted = (r: Session.RecipientResult): boolean => r.rcpt._tag === "Some" && Reply.isPositive(r.rcpt.value)

/** The book of `probes` (by domain key) for a check of `mailboxes`; `retries` bounds the askings after a cut. */
export const make = (
  probes: ReadonlyMap<string, Address.Mailbox>,
  mailboxes: ReadonlyArray<Address.Mailbox>,
  retries: number
): Book => {
  const open = new Map<string, Open>(
    Array.from(probes, ([key, mailbox]) => [key, { mailbox, held: false, anchor: undefined, cuts: 0 }])
  )
  const catchAll = new Map<string, boolean>()
  const inconclusive = new Set<string>()
  const abandon = (key: string) => {
    open.delete(key)
    inconclusive.add(key)
  }
  return {
    catchAll,
    inconclusive,
    claim: (domains) => {
      const keys: Array<string> = []
      const anchors: Array<number> = []
      for (const [key, p] of open) {
        if (p.held || (!domains.has(key) && p.anchor === undefined)) continue
        p.held = true
        keys.push(key)
        if (p.anchor !== undefined) anchors.push(p.anchor)
      }
      return { keys, probes: keys.map((k) => open.get(k)!.mailbox), anchors }
    },
    free: () => {
      const keys: Array<string> = []
      for (const [key, p] of open) if (!p.held) keys.push(key)
      return keys
    },
    known: (key, value) => {
      const p = open.get(key)
      if (p === undefined || p.held) return
      open.delete(key)
      catchAll.set(key, value)
      inconclusive.delete(key)
    },
    settle: (claim, batch, result) => {
      const settled: Array<readonly [string, boolean]> = []
      // Domains this session should have probed: an accepted recipient, or an anchor sent.
      const tried = new Set(claim.anchors.map((i) => domainKey(mailboxes[i]!.domain)))
      if (result !== undefined) {
        result.recipients.forEach((r, k) => {
          if (!accepted(r)) return
          const key = domainKey(r.mailbox.domain)
          tried.add(key)
          const p = open.get(key)
          if (p !== undefined && p.anchor === undefined) p.anchor = batch[k]
        })
        for (const key of new Set(batch.map((i) => domainKey(mailboxes[i]!.domain)))) {
          if (catchAll.has(key)) continue
          const found = catchAllFrom(result, key)
          if (Option.isNone(found)) continue
          open.delete(key)
          if (found.value === "inconclusive") inconclusive.add(key)
          else {
            catchAll.set(key, found.value)
            inconclusive.delete(key)
            settled.push([key, found.value])
          }
        }
      }
      // A probe the session left for another (at its rejection cap) was not cut: its anchor asks it
      // again. That session takes the anchor on a connection with half its cap or more left (or a
      // new one), so the probe goes there.
      const postponed = new Set<string>()
      for (const p of result?.probes ?? []) {
        if (p.result._tag === "Postponed") postponed.add(domainKey(p.mailbox.domain))
      }
      for (const key of claim.keys) {
        const p = open.get(key)
        if (p === undefined) continue
        p.held = false
        if (tried.has(key) && !postponed.has(key) && ++p.cuts > retries) abandon(key)
      }
      return settled
    },
    due: () => {
      for (const p of open.values()) if (!p.held && p.anchor !== undefined) return true
      return false
    },
    giveUp: () => {
      for (const [key, p] of open) if (p.anchor !== undefined) abandon(key)
    }
  }
}
