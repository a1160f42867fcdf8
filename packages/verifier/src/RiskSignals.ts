/**
 * The risk signal lists in force (disposable, role, free providers, typos, providers that accept
 * every RCPT): the packaged lists of @rcpt/signals unless provided.
 *
 * @since 0.2.0
 */
import { Context } from "effect"
import { Signals } from "@rcpt/signals"

/**
 * @category services
 * @since 0.2.0
 */
export const RiskSignals = Context.Reference<Signals.Signals>("@rcpt/verifier/RiskSignals", {
  defaultValue: () => Signals.defaultSignals()
})
