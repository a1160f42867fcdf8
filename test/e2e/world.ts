// What the e2e tests know about the loopback mail world (test/e2e/mail-world/README.md), and the
// check that it is up. Everything here talks to 127.0.0.0/8 only.
import * as Dns from "node:dns/promises"
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs"
import * as Net from "node:net"

/** dnsmasq, serving the `.test` zone. */
export const dnsServer = "127.0.0.1:5354"
export const smtpPort = 25
export const helo = "e2e.rcpt.test"
/** The state directory of up.sh (the self-signed certificate, the guard resolv.conf, the logs). */
export const stateDir = process.env["MAIL_WORLD_DIR"] ?? "/tmp/rcpt-mail-world"

/** Sending (issue 9): Postfix with Cyrus SASL on its own loopback address. */
export const sendHost = "127.0.0.8"
/** Submission: STARTTLS required before anything, AUTH (PLAIN LOGIN CRAM-MD5) only under TLS. */
export const submissionPort = 587
/** Submissions: implicit TLS, then AUTH. */
export const submissionsPort = 465
/** Port 25 of `sendHost`: a relay that offers no AUTH. */
export const relayPort = 25
/** The domain delivered to Maildirs under `${stateDir}/mail/send.test/<user>/`. */
export const sendDomain = "send.test"
export const sendRecipients = { to: "rcpt-to@send.test", cc: "rcpt-cc@send.test", bcc: "rcpt-bcc@send.test" } as const
/** The sasldb user (realm mail.test) and its password (up.sh's MAIL_WORLD_SASL_PASSWORD). */
export const saslUser = "sender@mail.test"
export const saslPassword = process.env["MAIL_WORLD_SASL_PASSWORD"] ?? "s3cret-e2e"
/** The submission listeners' self-signed certificate (names mx.send.test and 127.0.0.8). */
export const sendCertFile = `${stateDir}/tls/send-cert.pem`
/** Where Postfix logs (postlogd). */
export const postfixLog = `${stateDir}/log/postfix.log`
/**
 * Reads the lines Postfix logs from the moment of the call on. The offset is in bytes, so the
 * bytes are sliced before decoding: the log holds UTF-8 addresses, and a character offset drifts
 * past the lines it should keep (which once failed the submission tests after the SMTPUTF8 ones).
 */
export const postfixLogFromNow = (): (() => ReadonlyArray<string>) => {
  const start = existsSync(postfixLog) ? statSync(postfixLog).size : 0
  return () => bytesFrom(postfixLog, start).toString("utf8").split("\n")
}

/**
 * The bytes of `path` from `start` on. Only those are read: a machine that ran the e2e world for
 * long keeps a log of hundreds of megabytes.
 */
const bytesFrom = (path: string, start: number): Buffer => {
  const fd = openSync(path, "r")
  try {
    const length = Math.max(0, fstatSync(fd).size - start)
    const buffer = Buffer.alloc(length)
    let at = 0
    while (at < length) {
      const n = readSync(fd, buffer, at, length - at, start + at)
      if (n === 0) break
      at += n
    }
    return buffer.subarray(0, at)
  } finally {
    closeSync(fd)
  }
}
/** The Maildirs' root: `${mailDir}/<domain>/<user>/new`. */
export const mailDir = `${stateDir}/mail`

/**
 * `n` random lower-case letters. postgrey remembers (client /24, sender, recipient) triplets and
 * turns digits in the sender's local part into `#`: only letters make a sender new to it.
 */
export const letters = (n: number): string =>
  Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join("")

/** The first line an SMTP server sends, or the reason there is none. */
const banner = (host: string, port: number, timeoutMs = 5000): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = Net.connect({ host, port })
    let data = ""
    const done = (error?: Error) => {
      socket.destroy()
      if (error === undefined) resolve(data.split("\r\n")[0]!)
      else reject(error)
    }
    socket.setTimeout(timeoutMs, () => done(new Error(`no banner from ${host}:${port} within ${timeoutMs} ms`)))
    socket.on("error", (e) => done(e))
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1")
      if (data.includes("\r\n")) {
        socket.write("QUIT\r\n")
        done()
      }
    })
  })

/**
 * Fails with a message saying how to start the world when any of its servers does not answer.
 * Call it in `beforeAll`: without a world, every test would fail with a less helpful message.
 */
export const assertWorldUp = async (): Promise<void> => {
  const problems: Array<string> = []
  const resolver = new Dns.Resolver({ timeout: 2000, tries: 1 })
  resolver.setServers([dnsServer])
  try {
    const mx = await resolver.resolveMx("alpha.test")
    if (!mx.some((r) => r.exchange === "mx.alpha.test")) problems.push(`DNS: alpha.test MX is ${JSON.stringify(mx)}`)
  } catch (e) {
    problems.push(`DNS ${dnsServer}: ${(e as Error).message}`)
  }
  for (const ip of ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.13"]) {
    try {
      const line = await banner(ip, smtpPort)
      if (!line.startsWith("220 ")) problems.push(`${ip}:${smtpPort} greets with ${JSON.stringify(line)}`)
    } catch (e) {
      problems.push(`${ip}:${smtpPort}: ${(e as Error).message}`)
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `the mail world is not up (${problems.join("; ")}). Run the whole stage with \`npm run test:e2e\` ` +
        "(as root), or start the world with `bash test/e2e/mail-world/up.sh` (as root) first."
    )
  }
}

/** SOCKS5 (issue 16): Dante on this address and port, user/password (RFC 1929). */
export const socksHost = "127.0.0.10"
export const socksPort = 1080
/** The address Dante connects onward from: what the servers behind it see. */
export const socksExternal = "127.0.0.11"
export const socksUser = "rcptproxy"
/** up.sh's MAIL_WORLD_SOCKS_PASSWORD. */
export const socksPassword = process.env["MAIL_WORLD_SOCKS_PASSWORD"] ?? "proxy-e2e-pw"
