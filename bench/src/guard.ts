/**
 * Preloaded (`node --import bench/src/guard.ts`) into every contender's process, before the contender's own code:
 *
 * - points Node's default resolver at the bench's DNS server (`BENCH_DNS`, `ip:port`) before anything resolves;
 * - makes `dns.lookup` (getaddrinfo, which `net.connect(25, "mx.host")` uses and which would read the machine's
 *   `/etc/resolv.conf`) answer from that server too, so a contender that dials an MX by name asks the bench's DNS;
 * - records a violation, and throws, when anything sets another name server, queries a resolver that has one, or
 *   opens a TCP connection to an address outside 127.0.0.0/8 (the parent then fails the run);
 * - at exit writes `BENCH_REPORT` (JSON): peak RSS, CPU time, time from the first DNS query or connection to exit, TCP
 *   connections opened, violations.
 *
 * It changes the contender's environment the way pointing the system resolver at a local server would; it changes
 * none of the contender's code paths.
 *
 * @since 0.1.0
 */
import type * as Dns from "node:dns"
import { readFileSync, writeFileSync } from "node:fs"
import { createRequire, syncBuiltinESMExports } from "node:module"
import type * as Net from "node:net"

// The CommonJS module objects (an ESM namespace is read-only); `syncBuiltinESMExports` updates named imports.
const require = createRequire(import.meta.url)
const dns = require("node:dns") as typeof Dns
const net = require("node:net") as typeof Net

/**
 * What a child writes at exit.
 *
 * @category models
 * @since 0.1.0
 */
export interface GuardReport {
  /** From the first DNS query or TCP connect to process exit; `null` if there was neither. */
  readonly activeMs: number | null
  /** User plus system CPU time the whole process used (`process.cpuUsage()` at exit), in milliseconds. */
  readonly cpuMs: number
  /** The part of `cpuMs` from the first DNS query or connection on (start-up left out); `null` if there was neither. */
  readonly activeCpuMs: number | null
  /**
   * The share of the whole machine's CPU time (every core, every process: the contender, and the
   * servers and proxies it talks to on the same machine) that was busy from the first DNS query or
   * connection to exit, from /proc/stat; `null` without /proc or activity. Near 1: the machine, not
   * the round trips, set the pace.
   */
  readonly activeMachineBusy?: number | null
  /** This process's peak RSS in kilobytes (see {@link peakRssKb}). */
  readonly maxRssKb: number
  /** TCP connections the process opened. */
  readonly connects: number
  /**
   * TCP connections the process had open at once, at most: each from its connect until it is
   * destroyed or closed, whichever comes first (the client's own count: a server may log a
   * disconnect after the next connect, and a proxy may see the next connect before the last close).
   */
  readonly mostConnections: number
  /** DNS queries the process sent (resolver calls and lookups of names). */
  readonly dnsQueries: number
  readonly violations: ReadonlyArray<string>
  /** RSS samples, every 500 ms: [epoch ms, MB]. */
  readonly rss: ReadonlyArray<readonly [number, number]>
}

const server = process.env["BENCH_DNS"]
const reportPath = process.env["BENCH_REPORT"]
if (server === undefined || server === "") throw new Error("bench guard: BENCH_DNS is not set")

const violations: Array<string> = []
let firstActivity: number | undefined
let cpuAtFirst: NodeJS.CpuUsage | undefined
let machineAtFirst: MachineTimes | undefined

/** All cores' CPU time in clock ticks, and the idle part (idle and iowait), from /proc/stat; undefined without it. */
interface MachineTimes {
  readonly total: number
  readonly idle: number
}
const machineTimes = (): MachineTimes | undefined => {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number)
    return { total: fields.reduce((a, b) => a + b, 0), idle: fields[3]! + fields[4]! }
  } catch {
    return undefined
  }
}
let connects = 0
let dnsQueries = 0
const mark = () => {
  if (firstActivity !== undefined) return
  firstActivity = performance.now()
  cpuAtFirst = process.cpuUsage()
  machineAtFirst = machineTimes()
}

const isLoopback = (ip: string): boolean =>
  net.isIPv4(ip) ? ip.startsWith("127.") : ip === "::1" || ip.toLowerCase().startsWith("::ffff:127.")

const violation = (what: string): never => {
  violations.push(what)
  throw new Error(`bench guard: ${what}`)
}

const checkServers = (servers: ReadonlyArray<string>, where: string) => {
  for (const s of servers) if (s !== server) violation(`${where}: name server ${s} is not the bench's ${server}`)
}

// 1. The default resolver asks the bench's server, before any contender code runs.
dns.setServers([server])
dns.promises.setServers([server])

// 2. Nothing may set another server later.
const guardSetServers = <T extends { setServers: (servers: ReadonlyArray<string>) => void }>(
  target: T,
  where: string
) => {
  const original = target.setServers
  target.setServers = function (this: unknown, servers: ReadonlyArray<string>) {
    checkServers(servers, where)
    return original.call(this, servers)
  }
}
guardSetServers(dns, "dns.setServers")
guardSetServers(dns.promises, "dns.promises.setServers")
guardSetServers(dns.Resolver.prototype, "Resolver.setServers")
guardSetServers(dns.promises.Resolver.prototype, "promises.Resolver.setServers")

// 3. Every query goes through a resolver whose servers are the bench's (a `new Resolver()` starts with the system's).
const queries = [
  "resolve",
  "resolve4",
  "resolve6",
  "resolveAny",
  "resolveCaa",
  "resolveCname",
  "resolveMx",
  "resolveNaptr",
  "resolveNs",
  "resolvePtr",
  "resolveSoa",
  "resolveSrv",
  "resolveTxt",
  "reverse"
] as const
type Fn = (...args: Array<unknown>) => unknown
const guardQueries = (
  target: Record<string, unknown>,
  servers: (self: unknown) => ReadonlyArray<string>,
  where: string
) => {
  for (const name of queries) {
    const original = target[name]
    if (typeof original !== "function") continue
    target[name] = function (this: unknown, ...args: Array<unknown>) {
      checkServers(servers(this), `${where}.${name}`)
      mark()
      dnsQueries++
      return (original as Fn).apply(this, args)
    }
  }
}
const ownServers = (self: unknown) => (self as { getServers: () => ReadonlyArray<string> }).getServers()
guardQueries(dns.Resolver.prototype as unknown as Record<string, unknown>, ownServers, "Resolver")
guardQueries(dns.promises.Resolver.prototype as unknown as Record<string, unknown>, ownServers, "promises.Resolver")
guardQueries(dns as unknown as Record<string, unknown>, () => dns.getServers(), "dns")
guardQueries(dns.promises as unknown as Record<string, unknown>, () => dns.promises.getServers(), "dns.promises")

// 4. dns.lookup answers names from the bench's server (A, then AAAA); literals and "localhost" stay local.
const originalLookup = dns.lookup
const originalResolve4 = dns.resolve4
const originalResolve6 = dns.resolve6
type LookupCallback = (error: NodeJS.ErrnoException | null, address?: unknown, family?: number) => void
const lookupByDns = (hostname: string, all: boolean, family: number, callback: LookupCallback) => {
  mark()
  const done = (addresses: ReadonlyArray<string>, fam: 4 | 6) => {
    for (const a of addresses) if (!isLoopback(a)) violations.push(`lookup ${hostname} -> ${a}: not loopback`)
    const ok = addresses.filter(isLoopback)
    if (ok.length === 0) {
      const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`)
      error.code = "ENOTFOUND"
      return callback(error)
    }
    if (all)
      return callback(
        null,
        ok.map((address) => ({ address, family: fam }))
      )
    callback(null, ok[0], fam)
  }
  const v6 = () =>
    originalResolve6(hostname, (error, addresses) => {
      if (error) {
        const e: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`)
        e.code = "ENOTFOUND"
        return callback(e)
      }
      done(addresses, 6)
    })
  if (family === 6) return v6()
  originalResolve4(hostname, (error, addresses) => {
    if (error || addresses.length === 0) return family === 4 ? done([], 4) : v6()
    done(addresses, 4)
  })
}
const lookup = function (hostname: string, options: unknown, callback?: unknown) {
  const cb = (typeof options === "function" ? options : callback) as LookupCallback
  const opts = typeof options === "object" && options !== null ? (options as { all?: boolean; family?: unknown }) : {}
  const family = typeof options === "number" ? options : opts.family === 6 || opts.family === "IPv6" ? 6 : 0
  if (net.isIP(hostname) !== 0 || hostname === "localhost" || hostname === "") {
    return (originalLookup as Fn)(hostname, options, callback)
  }
  lookupByDns(hostname, opts.all === true, family === 4 || family === 6 ? family : 0, cb)
}
;(dns as unknown as Record<string, unknown>)["lookup"] = lookup
;(dns.promises as unknown as Record<string, unknown>)["lookup"] = (hostname: string, options?: unknown) =>
  new Promise((resolve, reject) =>
    lookup(hostname, options ?? {}, (error: NodeJS.ErrnoException | null, address?: unknown, family?: number) =>
      error ? reject(error) : resolve(Array.isArray(address) ? address : { address, family })
    )
  )
syncBuiltinESMExports()

// 5. TCP connections: loopback only, counted, and the most open at once.
let openConnections = 0
let mostConnections = 0
const originalConnect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (this: Net.Socket, ...args: Array<unknown>) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0]
  const host = typeof first === "object" && first !== null ? (first as { host?: unknown; path?: unknown }) : undefined
  const isPath = host !== undefined && typeof host.path === "string"
  if (!isPath) {
    const target = host !== undefined ? host.host : typeof args[1] === "string" ? args[1] : undefined
    if (typeof target === "string" && net.isIP(target) !== 0 && !isLoopback(target)) {
      violation(`TCP connect to ${target}: not loopback`)
    }
    mark()
    connects++
    mostConnections = Math.max(mostConnections, ++openConnections)
    let open = true
    const closed = () => {
      if (open) openConnections--
      open = false
    }
    this.once("close", closed)
    const destroy = this.destroy
    this.destroy = function (this: Net.Socket, ...rest: Array<unknown>) {
      closed()
      return (destroy as unknown as Fn).apply(this, rest) as Net.Socket
    } as typeof this.destroy
  }
  return (originalConnect as unknown as Fn).apply(this, args) as Net.Socket
} as typeof net.Socket.prototype.connect

// RSS over time (the bench lines it up with the results written, to see whether a process grows).
const rss: Array<readonly [number, number]> = []
setInterval(() => {
  if (rss.length < 20_000) rss.push([Date.now(), Math.round(process.memoryUsage.rss() / 1048576)])
}, 500).unref()

/**
 * This process's peak RSS, in kilobytes: `VmHWM` of /proc/self/status, the high-water mark of this
 * program's own memory. `process.resourceUsage().maxRSS` is no measure of a child: Linux carries
 * the forking parent's high-water mark into it across exec, so a bench process of 450 MB made every
 * row's child report 450 MB. Elsewhere (no /proc), maxRSS it is.
 */
const peakRssKb = (): number => {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))
    if (hwm !== null) return Number(hwm[1])
  } catch {
    // No /proc: below.
  }
  return process.resourceUsage().maxRSS
}

const machineBusy = (): number | null => {
  const now = machineTimes()
  if (machineAtFirst === undefined || now === undefined || now.total <= machineAtFirst.total) return null
  return 1 - (now.idle - machineAtFirst.idle) / (now.total - machineAtFirst.total)
}

process.on("exit", () => {
  if (reportPath === undefined || reportPath === "") return
  const cpu = process.cpuUsage()
  const report: GuardReport = {
    cpuMs: (cpu.user + cpu.system) / 1000,
    activeCpuMs: cpuAtFirst === undefined ? null : (cpu.user + cpu.system - cpuAtFirst.user - cpuAtFirst.system) / 1000,
    activeMs: firstActivity === undefined ? null : performance.now() - firstActivity,
    activeMachineBusy: machineBusy(),
    maxRssKb: peakRssKb(),
    connects,
    mostConnections,
    dnsQueries,
    violations,
    rss
  }
  writeFileSync(reportPath, JSON.stringify(report))
})
