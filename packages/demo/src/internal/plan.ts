/**
 * A checked, normalised {@link WorldSpec}: the DNS zone it implies, the domains each MX host serves, and the pure
 * decisions the hosts make about recipients. No I/O here; the servers in `dns.ts` and `smtp.ts` consult it.
 *
 * @since 0.1.0
 */
import type { DomainSpec, HostSpec, WorldSpec } from "./spec.ts"

/**
 * Lower-case, trimmed, without one trailing dot.
 *
 * @category names
 * @since 0.1.0
 */
export const normalizeName = (name: string): string => name.trim().toLowerCase().replace(/\.$/, "")

/**
 * One MX record as the DNS server sends it; `exchange` is `""` for a null MX.
 *
 * @category models
 * @since 0.1.0
 */
export interface MxRecord {
  readonly exchange: string
  readonly priority: number
}

/**
 * The records of one name. A name is known (answers NOERROR) as soon as it is a domain or a host of the world.
 *
 * @category models
 * @since 0.1.0
 */
export interface ZoneEntry {
  readonly a: ReadonlyArray<string>
  readonly mx: ReadonlyArray<MxRecord>
}

/**
 * A host of the world with the domains it serves.
 *
 * @category models
 * @since 0.1.0
 */
export interface HostPlan {
  readonly spec: HostSpec
  readonly name: string
  readonly address: string
  readonly domains: ReadonlyMap<string, DomainSpec>
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Plan {
  readonly zone: ReadonlyMap<string, ZoneEntry>
  readonly hosts: ReadonlyArray<HostPlan>
  readonly smtpPort: number
}

/**
 * An SMTP reply whose text starts with its enhanced status code, e.g. `{ code: 250, text: "2.1.5 Ok" }`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Answer {
  readonly code: number
  readonly text: string
}

const isLoopback = (address: string): boolean => {
  const octets = address.split(".")
  return (
    octets.length === 4 &&
    octets[0] === "127" &&
    octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255)
  )
}

const isCount = (n: number | undefined, min: number): boolean => n === undefined || (Number.isInteger(n) && n >= min)

const serves = (host: HostSpec, domain: DomainSpec): boolean => {
  const hostName = normalizeName(host.name)
  if (domain.nullMx) return false
  if (domain.mx !== undefined) return domain.mx.some((mx) => normalizeName(mx.host) === hostName)
  return hostName === normalizeName(domain.name) || (domain.a ?? []).includes(host.address)
}

/**
 * Checks a spec and derives the zone and the hosts' domains, or lists what is wrong with it.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (spec: WorldSpec): { readonly plan: Plan } | { readonly problems: ReadonlyArray<string> } => {
  const problems: Array<string> = []
  const smtpPort = spec.smtpPort ?? 0
  if (!Number.isInteger(smtpPort) || smtpPort < 0 || smtpPort > 65535)
    problems.push(`smtpPort ${smtpPort} is not a port`)

  const zone = new Map<string, { a: Array<string>; mx: Array<MxRecord> }>()
  const entry = (name: string) => {
    let found = zone.get(name)
    if (found === undefined) {
      found = { a: [], mx: [] }
      zone.set(name, found)
    }
    return found
  }
  const addA = (name: string, address: string) => {
    const records = entry(name).a
    if (!records.includes(address)) records.push(address)
  }

  const hostNames = new Set<string>()
  const addresses = new Set<string>()
  for (const host of spec.hosts) {
    const name = normalizeName(host.name)
    if (name === "") problems.push("a host has an empty name")
    if (hostNames.has(name)) problems.push(`host ${name} is listed twice`)
    hostNames.add(name)
    if (!isLoopback(host.address)) problems.push(`host ${name}: address ${host.address} is not in 127.0.0.0/8`)
    if (addresses.has(host.address)) problems.push(`host ${name}: address ${host.address} is used by another host`)
    addresses.add(host.address)
    const behaviour = host.behaviour ?? {}
    if (!isCount(behaviour.maxRecipients, 1)) problems.push(`host ${name}: maxRecipients must be an integer >= 1`)
    if (!isCount(behaviour.hardErrorLimit, 1)) problems.push(`host ${name}: hardErrorLimit must be an integer >= 1`)
    if (!isCount(behaviour.softErrorLimit, 1)) problems.push(`host ${name}: softErrorLimit must be an integer >= 1`)
    if (!isCount(behaviour.maxNonmail, 0)) problems.push(`host ${name}: maxNonmail must be an integer >= 0`)
    addA(name, host.address)
  }

  const domainNames = new Set<string>()
  for (const domain of spec.domains) {
    const name = normalizeName(domain.name)
    if (name === "") problems.push("a domain has an empty name")
    if (domainNames.has(name)) problems.push(`domain ${name} is listed twice`)
    domainNames.add(name)
    if (domain.nullMx && domain.mx !== undefined && domain.mx.length > 0) {
      problems.push(`domain ${name}: a null MX must be the only MX`)
    }
    if (!isCount(domain.greylist?.attempts, 0))
      problems.push(`domain ${name}: greylist.attempts must be an integer >= 0`)
    for (const mx of domain.mx ?? []) {
      if (!Number.isInteger(mx.preference) || mx.preference < 0 || mx.preference > 65535) {
        problems.push(`domain ${name}: MX preference ${mx.preference} is not in 0-65535`)
      }
    }
    const records = entry(name)
    for (const address of domain.a ?? []) {
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) problems.push(`domain ${name}: A record ${address} is not IPv4`)
      addA(name, address)
    }
    if (domain.nullMx) records.mx.push({ exchange: "", priority: 0 })
    for (const mx of domain.mx ?? []) records.mx.push({ exchange: normalizeName(mx.host), priority: mx.preference })
    records.mx.sort((x, y) => x.priority - y.priority)
  }
  if (problems.length > 0) return { problems }

  const hosts = spec.hosts.map((host): HostPlan => {
    const domains = new Map<string, DomainSpec>()
    for (const domain of spec.domains) if (serves(host, domain)) domains.set(normalizeName(domain.name), domain)
    return { spec: host, name: normalizeName(host.name), address: host.address, domains }
  })
  return { plan: { zone, hosts, smtpPort } }
}

/**
 * What the DNS server answers for one question: `undefined` is NXDOMAIN, an empty list NODATA.
 *
 * @category dns
 * @since 0.1.0
 */
export const resolve = (
  zone: ReadonlyMap<string, ZoneEntry>,
  name: string,
  type: "A" | "MX" | "other"
): ReadonlyArray<string> | ReadonlyArray<MxRecord> | undefined => {
  const found = zone.get(normalizeName(name))
  if (found === undefined) return undefined
  return type === "A" ? found.a : type === "MX" ? found.mx : []
}

const splitAddress = (address: string): { readonly local: string; readonly domain: string } | undefined => {
  const at = address.lastIndexOf("@")
  if (at <= 0 || at === address.length - 1) return undefined
  return { local: address.slice(0, at).toLowerCase(), domain: normalizeName(address.slice(at + 1)) }
}

const has = (list: ReadonlyArray<string> | undefined, local: string): boolean =>
  (list ?? []).some((entry) => entry.toLowerCase() === local)

const mailbox = (domain: DomainSpec, local: string, address: string): Answer => {
  if (has(domain.full, local))
    return { code: 552, text: `5.2.2 <${address}>: Recipient address rejected: Mailbox full` }
  if (has(domain.disabled, local)) {
    return { code: 550, text: `5.2.1 <${address}>: Recipient address rejected: Mailbox disabled` }
  }
  if (domain.catchAll || has(domain.users, local)) return { code: 250, text: "2.1.5 Ok" }
  return { code: 550, text: `5.1.1 <${address}>: Recipient address rejected: User unknown in virtual mailbox table` }
}

/**
 * The reply to `RCPT TO:<address>`: relay check, then the mailbox rules (full, disabled, user or catch-all, else
 * unknown); a mailbox that would be accepted is greylisted first (counted in `greylist` per client IP and recipient).
 *
 * @category smtp
 * @since 0.1.0
 */
export const rcpt = (host: HostPlan, address: string, clientIp: string, greylist: Map<string, number>): Answer => {
  const parts = splitAddress(address)
  if (parts === undefined) return { code: 501, text: "5.1.3 Bad recipient address syntax" }
  const domain = host.domains.get(parts.domain)
  if (domain === undefined) return { code: 554, text: `5.7.1 <${address}>: Relay access denied` }
  const answer = mailbox(domain, parts.local, address)
  // As Postfix with postgrey: an unknown (or refused) mailbox is refused at once; only one that would
  // be accepted is greylisted first.
  const attempts = domain.greylist?.attempts ?? 0
  if (attempts > 0 && answer.code === 250) {
    const key = `${clientIp}|${parts.local}@${parts.domain}`
    const seen = greylist.get(key) ?? 0
    if (seen < attempts) {
      greylist.set(key, seen + 1)
      return {
        code: 450,
        text: `4.2.0 <${address}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/${parts.domain}.html`
      }
    }
  }
  return answer
}

/**
 * The reply to `VRFY <argument>` on a host that answers VRFY: 250 for any mailbox the domain lists (users, full,
 * disabled) or any local part of a catch-all domain, 550 5.1.1 otherwise, 554 5.7.1 for a domain the host does not
 * serve. A bare local part is looked up in every domain the host serves. No greylisting.
 *
 * @category smtp
 * @since 0.1.0
 */
export const vrfy = (host: HostPlan, argument: string): Answer => {
  const bare = argument.trim().replace(/^<(.*)>$/, "$1")
  if (bare === "") return { code: 501, text: "5.5.4 Syntax: VRFY address" }
  const candidates = bare.includes("@") ? [bare] : Array.from(host.domains.keys(), (domain) => `${bare}@${domain}`)
  let answer: Answer = {
    code: 550,
    text: `5.1.1 <${bare}>: Recipient address rejected: User unknown in local recipient table`
  }
  for (const candidate of candidates) {
    const parts = splitAddress(candidate)
    const domain = parts === undefined ? undefined : host.domains.get(parts.domain)
    if (parts === undefined || domain === undefined) {
      answer = { code: 554, text: `5.7.1 <${candidate}>: Relay access denied` }
    } else if (domain.catchAll || [domain.users, domain.full, domain.disabled].some((list) => has(list, parts.local))) {
      return { code: 250, text: `2.0.0 <${candidate}>` }
    } else {
      answer = {
        code: 550,
        text: `5.1.1 <${candidate}>: Recipient address rejected: User unknown in virtual mailbox table`
      }
    }
  }
  return answer
}
