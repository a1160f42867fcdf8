/**
 * The bench's ground truth: a seeded list of addresses over generated `.test` domains, the class each address
 * belongs to, and the in-process mail world (MailWorld spec) that makes that truth real on loopback.
 *
 * Classes: `existing` (a mailbox the server has: deliverable), `unknown_mailbox` (550 5.1.1: undeliverable),
 * `catch_all` (the domain accepts every local part, so SMTP cannot tell: unknown), `no_domain` (NXDOMAIN:
 * undeliverable).
 *
 * @since 0.1.0
 */
import { createWriteStream } from "node:fs"
import { once } from "node:events"
import { type MailWorld, SeededRandom } from "@rcpt/testing"

/**
 * The three answers every contender's output is mapped to.
 *
 * @category models
 * @since 0.1.0
 */
export type Verdict = "deliverable" | "undeliverable" | "unknown"

/**
 * @category models
 * @since 0.1.0
 */
export type Kind = "existing" | "unknown_mailbox" | "catch_all" | "no_domain"

/**
 * @category models
 * @since 0.1.0
 */
export const expected: Record<Kind, Verdict> = {
  existing: "deliverable",
  unknown_mailbox: "undeliverable",
  catch_all: "unknown",
  no_domain: "undeliverable"
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Corpus {
  /** In list order (shuffled). */
  readonly addresses: ReadonlyArray<string>
  readonly truth: ReadonlyMap<string, Kind>
  readonly domains: ReadonlyArray<MailWorld.DomainSpec>
  readonly hosts: ReadonlyArray<MailWorld.HostSpec>
}

/**
 * @category models
 * @since 0.1.0
 */
export interface CorpusOptions {
  readonly domains: number
  readonly perDomain: number
  /** MX hosts (127.0.10.1 ...). */
  readonly hosts: number
  readonly seed: number
}

/**
 * A small seeded PRNG (mulberry32): the same seed gives the same list on every machine.
 *
 * @category constructors
 * @since 0.1.0
 */
export const rng: (seed: number) => () => number = SeededRandom.mulberry32

const shuffle = <A>(items: Array<A>, random: () => number): Array<A> => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}

// Persons' first names (none is a role account such as info@ or admin@).
const names = ["anna", "boris", "chloe", "dmitri", "elena", "farid", "greta", "hiro", "ines", "jonas", "kaia", "lucas"]

/**
 * The MX hosts: `mx<i>.bench.test` on 127.0.10.<i>. The 127.0.10.0/24 block keeps clear of the e2e world (127.0.0.x).
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeHosts = (count: number): ReadonlyArray<MailWorld.HostSpec> =>
  Array.from({ length: count }, (_, i) => ({ name: `mx${i + 1}.bench.test`, address: `127.0.10.${i + 1}` }))

const pad = (n: number, width: number) => String(n).padStart(width, "0")

/**
 * The comparison list: `domains` domains of `perDomain` addresses each. 5% of the domains do not exist, 20% are
 * catch-all, the rest have mailboxes: 60% of their addresses exist, 40% do not.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeCorpus = (options: CorpusOptions): Corpus => {
  const random = rng(options.seed)
  const hosts = makeHosts(options.hosts)
  const width = String(options.domains).length
  const domains: Array<MailWorld.DomainSpec> = []
  const truth = new Map<string, Kind>()
  const addresses: Array<string> = []
  for (let d = 0; d < options.domains; d++) {
    const name = `shop${pad(d, width)}.test`
    const host = hosts[d % hosts.length]!
    const roll = d % 20 // deterministic shares: 1 in 20 missing, 4 in 20 catch-all
    const local = (i: number, tag: string) => `${names[Math.floor(random() * names.length)]}.${tag}${i}`
    if (roll === 7) {
      for (let i = 0; i < options.perDomain; i++) {
        const address = `${local(i, "n")}@${name}`
        truth.set(address, "no_domain")
        addresses.push(address)
      }
      continue // not in the world: NXDOMAIN
    }
    if (roll === 3 || roll === 9 || roll === 13 || roll === 17) {
      domains.push({ name, mx: [{ host: host.name, preference: 10 }], catchAll: true })
      for (let i = 0; i < options.perDomain; i++) {
        const address = `${local(i, "c")}@${name}`
        truth.set(address, "catch_all")
        addresses.push(address)
      }
      continue
    }
    const users: Array<string> = []
    for (let i = 0; i < options.perDomain; i++) {
      const exists = random() < 0.6
      const lp = local(i, exists ? "e" : "u")
      if (exists) users.push(lp)
      const address = `${lp}@${name}`
      truth.set(address, exists ? "existing" : "unknown_mailbox")
      addresses.push(address)
    }
    domains.push({ name, mx: [{ host: host.name, preference: 10 }], users })
  }
  return { addresses: shuffle(addresses, random), truth, domains, hosts }
}

/**
 * The world spec that serves a corpus: every domain's MX on its host, all hosts on `smtpPort`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const worldSpec = (corpus: Pick<Corpus, "domains" | "hosts">, smtpPort: number): MailWorld.WorldSpec => ({
  domains: corpus.domains,
  hosts: corpus.hosts,
  smtpPort
})

/**
 * Writes a list, one address a line.
 *
 * @category io
 * @since 0.1.0
 */
export const writeList = async (path: string, addresses: Iterable<string>): Promise<void> => {
  const out = createWriteStream(path)
  for (const address of addresses) {
    if (!out.write(`${address}\n`)) await once(out, "drain")
  }
  out.end()
  await once(out, "finish")
}

/**
 * @category models
 * @since 0.1.0
 */
export interface MillionList {
  readonly domains: ReadonlyArray<MailWorld.DomainSpec>
  readonly hosts: ReadonlyArray<MailWorld.HostSpec>
  readonly size: number
  readonly domainCount: number
}

/**
 * The streamed run's list, written to `path`: `size` distinct addresses in random order over `size / 1000` domains
 * (at least 20), each domain drawn uniformly for each line. 90% of the domains have mailboxes (70% of their addresses
 * exist), 5% are catch-all, 5% do not exist. Only one 4-byte domain index per line is held while writing.
 *
 * @category constructors
 * @since 0.1.0
 */
export const writeMillionList = async (
  path: string,
  options: { readonly size: number; readonly hosts: number; readonly seed: number }
): Promise<MillionList> => {
  const random = rng(options.seed)
  const hosts = makeHosts(options.hosts)
  const domainCount = Math.max(20, Math.floor(options.size / 1000))
  const width = String(domainCount).length
  const order = new Int32Array(options.size)
  const count = new Int32Array(domainCount)
  for (let i = 0; i < options.size; i++) {
    const d = Math.floor(random() * domainCount)
    order[i] = d
    count[d]!++
  }
  const names: Array<string> = []
  const existing = new Int32Array(domainCount)
  const domains: Array<MailWorld.DomainSpec> = []
  for (let d = 0; d < domainCount; d++) {
    const name = `bulk${pad(d, width)}.test`
    names.push(name)
    const host = hosts[d % hosts.length]!
    const roll = d % 20
    if (roll === 7) continue // NXDOMAIN
    if (roll === 3) {
      domains.push({ name, mx: [{ host: host.name, preference: 10 }], catchAll: true })
      continue
    }
    existing[d] = Math.round(count[d]! * 0.7)
    domains.push({
      name,
      mx: [{ host: host.name, preference: 10 }],
      users: Array.from({ length: existing[d]! }, (_, i) => `p${i}`)
    })
  }
  // Each domain's n-th line gets local part p<n> (a mailbox) while n < existing, q<n> (none) after.
  const seen = new Int32Array(domainCount)
  const out = createWriteStream(path)
  for (let i = 0; i < options.size; i++) {
    const d = order[i]!
    const n = seen[d]!++
    if (!out.write(`${n < existing[d]! ? "p" : "q"}${n}@${names[d]}\n`)) await once(out, "drain")
  }
  out.end()
  await once(out, "finish")
  return { domains, hosts, size: options.size, domainCount }
}
