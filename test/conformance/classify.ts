/**
 * Labelled replies (sisimai, zone-mta) through rcpt's classifier: the two classes that matter, and the figures.
 *
 * @since 0.1.0
 */
import { Classify, Reply } from "@rcpt/smtp"

/**
 * What a row's label means for a verifier: the mailbox does not exist, the server refused us, or neither.
 *
 * @since 0.1.0
 */
export type Class = "mailbox" | "refused" | "other"

/**
 * A labelled reply: `reply` is the wire text of one line, or `code` with `text` (the rest of the line).
 *
 * @since 0.1.0
 */
export interface ReplyRow {
  readonly label: string
  readonly reply?: string
  readonly code?: number
  readonly text?: string
  readonly textOnly?: boolean
  readonly source?: string
  readonly miss?: string
}

/**
 * rcpt's reasons that say "the server refused us" (blocklist, policy, reputation, rate, relay, sender, TLS).
 *
 * @since 0.1.0
 */
export const refusedReasons: ReadonlySet<Classify.Reason> = new Set<Classify.Reason>([
  "blocked",
  "rate_limited",
  "greylisted",
  "too_many_recipients",
  "relay_denied",
  "sender_rejected",
  "tls_required",
  "tls_failed",
  // 421: the server closed the channel on us (often for rate or reputation: "421 4.7.0 ... rate limited").
  "service_unavailable"
])

/**
 * The class of one of rcpt's reasons.
 *
 * @since 0.1.0
 */
export const classOf = (reason: Classify.Reason): Class =>
  reason === "mailbox_unknown" ? "mailbox" : refusedReasons.has(reason) ? "refused" : "other"

/**
 * The row as a reply, and rcpt's reading of it at RCPT.
 *
 * @since 0.1.0
 */
export const classify = (row: ReplyRow): { readonly reply: Reply.Reply; readonly outcome: Classify.Outcome } => {
  const [code, text] =
    row.reply === undefined ? [row.code ?? 0, row.text ?? ""] : [Number(row.reply.slice(0, 3)), row.reply.slice(4)]
  const reply = Reply.make(code, [text])
  return { reply, outcome: Classify.classify("AwaitRcpt", reply) }
}

/**
 * The counts one run gives, and the fixture records.
 *
 * @since 0.1.0
 */
export interface Figures {
  /** Rows labelled mailbox or refused, and those rcpt puts in the same class. */
  readonly mapped: number
  readonly agree: number
  /** Rows rcpt calls "mailbox does not exist" (of all labelled rows), and those labelled so. */
  readonly mailbox: { readonly said: number; readonly right: number }
  readonly refused: { readonly said: number; readonly right: number }
}

/**
 * Counts agreement and precision over rows whose label maps to a class; `misses` gets every row where rcpt's class
 * differs from the label's.
 *
 * @since 0.1.0
 */
export const measure = (
  rows: ReadonlyArray<ReplyRow>,
  labels: Readonly<Record<string, Class>>,
  onMiss: (row: ReplyRow, got: Classify.Outcome) => void
): Figures => {
  let mapped = 0
  let agree = 0
  const mailbox = { said: 0, right: 0 }
  const refused = { said: 0, right: 0 }
  for (const row of rows) {
    const label = labels[row.label]
    if (label === undefined) continue
    const { outcome } = classify(row)
    const got = classOf(outcome.reason)
    const tally = got === "mailbox" ? mailbox : got === "refused" ? refused : undefined
    if (tally !== undefined) {
      tally.said++
      if (got === label) tally.right++
    }
    if (label !== "other") {
      mapped++
      if (got === label) agree++
    }
    if (got !== label) onMiss(row, outcome)
  }
  return { mapped, agree, mailbox, refused }
}
