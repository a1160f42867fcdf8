/**
 * Where a recipient's connection time went (the timing block on request, `VerifierConfig.timing`):
 * each connection's steps summed over the connections the recipient was in.
 *
 * @internal
 */
import { SmtpClient } from "@rcpt/client"

/** Time per connection step, summed over connections, and how many. */
export interface ConnectionTiming extends SmtpClient.Timing {
  connections: number
}

export const noTiming = (): ConnectionTiming => ({ ...SmtpClient.makeTiming(), connections: 0 })

/** Adds one connection's timings into a recipient's. */
export const addTiming = (into: ConnectionTiming, from: SmtpClient.Timing) => {
  into.connections++
  into.connectMs += from.connectMs
  into.tlsMs += from.tlsMs
  // Once per recipient and connection: a plain loop over the few phases, not an array of entries.
  const phases = from.phases
  for (const phase in phases) into.phases[phase] = (into.phases[phase] ?? 0) + phases[phase]!
}
