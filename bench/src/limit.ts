/**
 * The protocol's limit: the least SMTP work that can answer a list. One session per domain: wait for the greeting,
 * EHLO, then MAIL FROM:<>, every RCPT of the domain and QUIT in a single write (RFC 2920), read the replies, close.
 * No catch-all probe, no TLS, no retries, no failover (lowest-preference MX only), no per-host limit: nothing a real
 * verifier needs beyond the minimum. RCPT 2xx is deliverable, 5xx undeliverable, anything else unknown.
 *
 * Run as a program: `node --import guard.ts limit.ts <list> <out.jsonl> <concurrency> <port> <timeoutMs>
 * [perTransaction]`; DNS is the default resolver, which the guard points at the bench's server. `perTransaction` (0:
 * all in one) splits a domain's RCPTs into transactions of that many, RSET between, still one write: a real MTA's
 * per-message recipient limit (Postfix: 1000) answers the rest 452.
 *
 * @since 0.1.0
 */
import * as dns from "node:dns"
import { connect } from "node:net"
import type { Verdict } from "./truth.ts"
import { pool, readList, writeResults } from "./io.ts"
import type { Result } from "./io.ts"

interface Reply {
  readonly code: number
  readonly text: string
}

/** Reads whole replies (multi-line ones joined) off a socket, in order. */
const replies = (socket: ReturnType<typeof connect>) => {
  let buffer = ""
  let lines: Array<string> = []
  const ready: Array<Reply> = []
  const waiting: Array<(reply: Reply | undefined) => void> = []
  let closed = false
  const push = (reply: Reply | undefined) => {
    const next = waiting.shift()
    if (next) next(reply)
    else if (reply) ready.push(reply)
  }
  socket.setEncoding("latin1")
  socket.on("data", (chunk: string) => {
    buffer += chunk
    let at: number
    while ((at = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, at).replace(/\r$/, "")
      buffer = buffer.slice(at + 1)
      lines.push(line)
      if (line.charAt(3) !== "-") {
        push({ code: Number(line.slice(0, 3)), text: lines.join("\n") })
        lines = []
      }
    }
  })
  const end = () => {
    closed = true
    while (waiting.length > 0) push(undefined)
  }
  socket.on("close", end)
  socket.on("error", end)
  return (): Promise<Reply | undefined> =>
    ready.length > 0
      ? Promise.resolve(ready.shift())
      : closed
        ? Promise.resolve(undefined)
        : new Promise((resolve) => waiting.push(resolve))
}

const target = async (domain: string): Promise<string | "nxdomain" | undefined> => {
  try {
    const mx = await dns.promises.resolveMx(domain)
    const best = mx.sort((a, b) => a.priority - b.priority)[0]
    if (best === undefined || best.exchange === "") return "nxdomain"
    return (await dns.promises.resolve4(best.exchange))[0]
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === "ENOTFOUND") return "nxdomain"
    if (code === "ENODATA") return (await dns.promises.resolve4(domain).catch(() => []))[0]
    return undefined
  }
}

const session = async (
  ip: string,
  port: number,
  rcpts: ReadonlyArray<string>,
  timeoutMs: number,
  perTransaction: number
) => {
  const verdicts: Array<Verdict> = rcpts.map(() => "unknown")
  const socket = connect(port, ip)
  socket.setNoDelay(true)
  const timer = setTimeout(() => socket.destroy(), timeoutMs)
  const next = replies(socket)
  try {
    const greeting = await next()
    if (greeting?.code !== 220) return verdicts
    socket.write("EHLO bench-limit.rcpt.test\r\n")
    const ehlo = await next()
    if (ehlo?.code !== 250) return verdicts
    // One write: MAIL + its RCPTs per transaction (RSET between transactions), then QUIT.
    const size = perTransaction > 0 ? perTransaction : rcpts.length
    const chunks: Array<ReadonlyArray<string>> = []
    for (let at = 0; at < rcpts.length; at += size) chunks.push(rcpts.slice(at, at + size))
    socket.write(
      chunks.map((chunk) => `MAIL FROM:<>\r\n${chunk.map((r) => `RCPT TO:<${r}>\r\n`).join("")}`).join("RSET\r\n") +
        "QUIT\r\n"
    )
    let i = 0
    for (const [n, chunk] of chunks.entries()) {
      const mail = await next()
      if (mail === undefined) return verdicts
      for (let k = 0; k < chunk.length; k++, i++) {
        const reply = await next()
        if (reply === undefined) return verdicts
        verdicts[i] =
          mail.code !== 250
            ? "unknown"
            : reply.code < 300
              ? "deliverable"
              : reply.code >= 500
                ? "undeliverable"
                : "unknown"
      }
      if (n < chunks.length - 1) await next() // RSET
    }
    await next() // 221
    return verdicts
  } finally {
    clearTimeout(timer)
    socket.destroy()
  }
}

const verifyDomain = async (
  domain: string,
  addresses: ReadonlyArray<string>,
  port: number,
  timeoutMs: number,
  perTransaction: number
) => {
  const ip = await target(domain)
  if (ip === "nxdomain") return addresses.map((a): Result => ({ a, v: "undeliverable", r: "no such domain" }))
  if (ip === undefined) return addresses.map((a): Result => ({ a, v: "unknown", r: "dns" }))
  const verdicts = await session(ip, port, addresses, timeoutMs, perTransaction)
  return addresses.map((a, i): Result => ({ a, v: verdicts[i]!, r: "" }))
}

if (import.meta.main) {
  const [list, out, concurrency, port, timeoutMs, perTransaction] = process.argv.slice(2)
  const addresses = await readList(list!)
  const byDomain = new Map<string, Array<string>>()
  for (const a of addresses) {
    const domain = a.slice(a.lastIndexOf("@") + 1).toLowerCase()
    const group = byDomain.get(domain)
    if (group) group.push(a)
    else byDomain.set(domain, [a])
  }
  const results: Array<Result> = []
  await pool([...byDomain], Number(concurrency), async ([domain, group]) => {
    // A loop, not a spread: a domain of 200,000 addresses overflowed the call stack as arguments.
    for (const r of await verifyDomain(domain, group, Number(port), Number(timeoutMs), Number(perTransaction ?? 0)))
      results.push(r)
  })
  await writeResults(out!, results)
  process.exit(0)
}
