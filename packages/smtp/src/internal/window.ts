/**
 * How many RCPTs a verification session has unanswered at once, and when QUIT may go with them:
 * the window (pipeline depth, `careful`, the rejections `maxErrors` still allows at the
 * connection's rate of refusals), the next group within a transaction's share, the quitEarly guess.
 *
 * @internal
 */
import { Option } from "effect"
import * as Capabilities from "../Capabilities.ts"
import * as Log from "./log.ts"
import type { Session } from "./session.ts"

/** @internal */
export const capabilities = (session: Session) => Option.getOrElse(session.capabilities, () => Capabilities.none)

/** @internal */
export const pipelining = (session: Session) => session.config.pipelining && capabilities(session).pipelining

/** Real recipients refused so far on this connection. @internal */
export const rejections = (session: Session) => session.rejected

/** @internal */
export const mailboxOf = (session: Session, index: number) => session.config.recipients[index]!

/**
 * How many RCPTs may be unanswered at once: the pipeline depth (smaller once `careful` applies,
 * growing again with the rejections taken quietly past its point), bounded by the rejections the
 * cap still allows, so that the RCPTs in flight do not overshoot `maxErrors`.
 */
export const window = (session: Session): number => {
  const errors = rejections(session)
  const { maxErrors, careful } = session.config
  let depth = pipelining(session) ? session.config.maxPipeline : 1
  // Rejections still allowed before `limit`, scaled by how often this connection's RCPTs were refused
  // so far: a session that refuses everything never has more than that in flight; one that
  // accepts everything grows its window quickly up to the pipeline depth.
  const answered = session.rejected + session.accepted
  const allowed = (limit: number) => Math.max(1, Math.floor(((limit - errors) * (answered + 1)) / (errors + 1)))
  if (careful !== undefined) {
    // Up to the careful point at full depth, but no window crosses it (at this session's rate of
    // rejections: a catch-all is not held to a few RCPTs a write); past it, the careful depth.
    const quiet = errors - careful.afterErrors
    const steep = careful.steepFrom !== undefined && careful.steepGrowth !== undefined && quiet >= careful.steepFrom
    const past = Math.floor(quiet * ((steep ? careful.steepGrowth : careful.growth) ?? 0))
    depth =
      errors >= careful.afterErrors
        ? Math.min(depth, Math.max(1, careful.pipeline, past))
        : Math.min(depth, allowed(careful.afterErrors))
  }
  if (maxErrors !== undefined) depth = Math.min(depth, allowed(maxErrors))
  return depth
}

/**
 * RCPTs for the next write: the window less the RCPTs in flight, within the transaction's share.
 * The group, and the queue without it.
 */
export const nextGroup = (
  session: Session,
  queue: Log.Queue<number>
): readonly [ReadonlyArray<number>, Log.Queue<number>] => {
  let size = window(session) - session.inFlight
  const perTransaction = session.config.maxRecipientsPerTransaction
  if (perTransaction !== undefined)
    size = Math.min(size, Math.max(0, perTransaction - (session.sentInTransaction ?? 0)))
  return Log.take(queue, size)
}

/**
 * Whether QUIT may go in the same write as `group` (see `Config.quitEarly`): if every RCPT of it
 * (and of those still in flight) is refused, nothing follows.
 */
export const quitsWith = (session: Session, group: ReadonlyArray<number>, rest: Log.Queue<number>): boolean => {
  const { maxErrors } = session.config
  if (session.config.quitEarly !== true || session.config.keepOpen === true) return false
  if (!pipelining(session) || session.config.vrfy !== "off") return false
  if (session.deferred.length > 0 || session.probes.some((p) => p._tag === "Pending")) return false
  if (session.accepted > 0) return false
  return (
    Log.size(rest) === 0 ||
    (maxErrors !== undefined && rejections(session) + session.inFlight + group.length >= maxErrors)
  )
}
