/**
 * A SOCKS5 proxy to reach SMTP servers through (RFC 1928, with RFC 1929 user/password), and its
 * URL form: `socks5://[user:pass@]host:port`.
 *
 * Where the host's name is resolved follows the curl convention: `socks5://` resolves locally and
 * hands the proxy an address, `socks5h://` hands the proxy the name. A URL may also say
 * `?resolve=proxy` or `?resolve=local`. The verifier dials addresses it resolved itself, so the
 * choice matters only where a name is dialled (a mailer's smarthost).
 *
 * @since 0.1.0
 */
import { Result, Schema } from "effect"

/**
 * @category models
 * @since 0.1.0
 */
export interface Socks5Proxy {
  readonly host: string
  readonly port: number
  readonly username?: string | undefined
  readonly password?: string | undefined
  /** Where a host name is turned into an address: here, or at the proxy. */
  readonly resolve: "local" | "proxy"
}

/**
 * A proxy URL that cannot be used, and why.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidProxy extends Schema.TaggedError<InvalidProxy>()("InvalidProxy", {
  url: Schema.String,
  message: Schema.String
}) {}

/** RFC 1929: user name and password are 1 to 255 bytes each. */
const fitsRfc1929 = (s: string) => {
  const n = new TextEncoder().encode(s).length
  return n >= 1 && n <= 255
}

/**
 * Parses `socks5://[user:pass@]host:port` (or `socks5h://`). The password is never part of an
 * error message.
 *
 * @category constructors
 * @since 0.1.0
 */
export const parse = (url: string): Result.Result<Socks5Proxy, InvalidProxy> => {
  const redacted = url.replace(/\/\/[^@/]*@/, "//***@")
  const fail = (message: string) => Result.fail(new InvalidProxy({ url: redacted, message }))
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return fail("not a URL (want socks5://[user:pass@]host:port)")
  }
  const scheme = parsed.protocol.replace(/:$/, "").toLowerCase()
  if (scheme !== "socks5" && scheme !== "socks5h") {
    return fail(`unsupported scheme "${scheme}" (want socks5 or socks5h)`)
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1")
  if (host === "") return fail("no host")
  if (parsed.port === "") return fail("no port")
  const port = Number(parsed.port)
  const username = parsed.username === "" ? undefined : decodeURIComponent(parsed.username)
  const password = parsed.password === "" ? undefined : decodeURIComponent(parsed.password)
  if ((username === undefined) !== (password === undefined)) return fail("give both user and password, or neither")
  if (username !== undefined && (!fitsRfc1929(username) || !fitsRfc1929(password!))) {
    return fail("user and password must be 1 to 255 bytes (RFC 1929)")
  }
  const resolveParam = parsed.searchParams.get("resolve")
  if (resolveParam !== null && resolveParam !== "local" && resolveParam !== "proxy") {
    return fail(`resolve must be "local" or "proxy", not "${resolveParam}"`)
  }
  const resolve = resolveParam ?? (scheme === "socks5h" ? "proxy" : "local")
  return Result.succeed({ host, port, username, password, resolve })
}

/**
 * The proxy as a URL without its password, for logs and evidence.
 *
 * @category formatting
 * @since 0.1.0
 */
export const format = (proxy: Socks5Proxy): string => {
  const host = proxy.host.includes(":") ? `[${proxy.host}]` : proxy.host
  const user = proxy.username === undefined ? "" : `${encodeURIComponent(proxy.username)}:***@`
  return `${proxy.resolve === "proxy" ? "socks5h" : "socks5"}://${user}${host}:${proxy.port}`
}
