/**
 * The keys the bulk engine files things under: a domain's key (catch-all status, probes) and a
 * group's key (domains that share MX hosts share sessions).
 *
 * @internal
 */
import { Address } from "@rcpt/smtp"
import type { MxPlan } from "../MxPlan.ts"

/** The key a domain's probe and catch-all status are filed under; case-folded as the session matches probes. */
export const domainKey = (domain: Address.Domain): string => {
  const text = Address.domainText(domain)
  // Read several times per address; a parsed name is lower case already: no new string then.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if ((c >= 65 && c <= 90) || c > 127) return text.toLowerCase()
  }
  return text
}

/**
 * Domains with the same MX hosts share a key, hence bulk groups and sessions. Ties are shuffled
 * per lookup, so the hosts are sorted; a plan without hosts keeps its domain to itself.
 */
export const groupKey = (domain: Address.Domain, plan: MxPlan): string =>
  plan._tag === "Hosts"
    ? `mx:${plan.implicit ? "implicit:" : ""}${plan.hosts
        .map((h) => `${h.preference} ${h.host.toLowerCase()}`)
        .sort()
        .join(",")}`
    : `domain:${domainKey(domain)}`
