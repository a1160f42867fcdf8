// Hostile SMTP servers for the tests: plain node:net / node:tls on a loopback address, each one a
// small function from a behaviour to a running server. Every server counts what it accepted,
// which of its connections are still open, and every byte it wrote, so that a test can check
// that the client hung up (no socket left open) and stopped reading early (memory bounded).
// Servers are started in the test's scope and closed with it (open sockets destroyed).
import { Duration, Effect } from "effect"
import type { Scope } from "effect"
import * as Net from "node:net"
import * as Tls from "node:tls"
import { cert, key } from "../helpers.ts"

/** One accepted connection, as the behaviour sees it. */
export interface Peer {
  /** The socket to talk over: the raw one, then the TLS one after `upgrade`. */
  readonly socket: Net.Socket
  readonly raw: Net.Socket
  /** Writes and counts; a write to a closed socket is dropped. */
  readonly send: (data: string | Uint8Array) => void
  /** Whether the connection is gone: the client closed or reset it, or this side ended it. */
  readonly closed: () => boolean
  /** Runs `f` after `ms`, unless the connection closed meanwhile; the server's close cancels it. */
  readonly later: (ms: number, f: () => void) => void
  /** Server side of a TLS handshake over the raw socket, with the test certificate. */
  readonly upgrade: () => Tls.TLSSocket
}

export interface HostileServer {
  readonly address: string
  readonly port: number
  /** Connections accepted so far. */
  readonly accepted: () => number
  /**
   * The most TCP/TLS handles the process had open when a connection was accepted: both ends live
   * in this process, so at least 2 whenever a client connected (proof that the leak probe sees them).
   */
  readonly handlesSeen: () => number
  /** Bytes written to clients, all connections together. */
  readonly written: () => number
  /** Each write's bytes, in order (for "in one packet" / "one byte at a time" checks). */
  readonly writes: ReadonlyArray<Uint8Array>
  /** Lines received, all connections together (plaintext and TLS). */
  readonly received: ReadonlyArray<string>
  /**
   * Connections still open after waiting up to `within` for the client's close to arrive. A
   * paused socket is resumed first: a server that never reads would never see the FIN.
   */
  readonly openAfter: (within: Duration.Input) => Effect.Effect<number>
}

/** The process's open TCP sockets and TLS wraps, both ends of every loopback connection included. */
export const socketHandles = (): number =>
  process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TLSWrap").length

export type Behaviour = (peer: Peer, server: { readonly received: Array<string> }) => void

/**
 * Listens on `address:port` and hands every connection to `behaviour`.
 */
export const serve = (
  address: string,
  port: number,
  behaviour: Behaviour
): Effect.Effect<HostileServer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const sockets = new Set<Net.Socket>()
    const open = new Set<Net.Socket>()
    const timers = new Set<ReturnType<typeof setTimeout>>()
    const writes: Array<Uint8Array> = []
    const received: Array<string> = []
    let accepted = 0
    let written = 0
    let handlesSeen = 0

    const server = yield* Effect.acquireRelease(
      Effect.callback<Net.Server>((resume) => {
        const server = Net.createServer((raw) => {
          accepted++
          handlesSeen = Math.max(handlesSeen, socketHandles())
          sockets.add(raw)
          open.add(raw)
          raw.setNoDelay(true)
          raw.on("error", () => {})
          raw.once("close", () => open.delete(raw))
          let current: Net.Socket = raw
          const closed = () => !open.has(raw) || current.destroyed || current.writableEnded
          const peer: Peer = {
            get socket() {
              return current
            },
            raw,
            send: (data) => {
              if (closed()) return
              const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data
              writes.push(bytes)
              written += bytes.length
              current.write(bytes)
            },
            closed,
            later: (ms, f) => {
              const timer = setTimeout(() => {
                timers.delete(timer)
                if (!closed()) f()
              }, ms)
              timers.add(timer)
            },
            upgrade: () => {
              const tls = new Tls.TLSSocket(raw, { isServer: true, key, cert })
              tls.on("error", () => {})
              // The TLS socket takes over the handle; its close is the connection's close.
              tls.once("close", () => open.delete(raw))
              current = tls
              return tls
            }
          }
          behaviour(peer, { received })
        })
        server.once("error", (error) => resume(Effect.die(error)))
        server.listen(port, address, () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.callback<void>((resume) => {
          for (const timer of timers) clearTimeout(timer)
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )

    const openAfter = (within: Duration.Input) =>
      Effect.gen(function* () {
        for (const socket of open) socket.resume()
        const until = Date.now() + Duration.toMillis(Duration.fromInputUnsafe(within))
        while (open.size > 0 && Date.now() < until) yield* Effect.sleep("10 millis")
        return open.size
      })

    return {
      address,
      port: (server.address() as Net.AddressInfo).port,
      accepted: () => accepted,
      handlesSeen: () => handlesSeen,
      written: () => written,
      writes,
      received,
      openAfter
    }
  })

// ---------------------------------------------------------------------------------------------
// Behaviours that are not SMTP at all
// ---------------------------------------------------------------------------------------------

/** Accepts and does nothing: never reads (the socket is paused), never writes. */
export const silent: Behaviour = (peer) => {
  peer.raw.pause()
}

/** Reads (and drops) whatever comes, never writes: the greeting never comes. */
export const noGreeting: Behaviour = (peer) => {
  peer.raw.resume()
}

/** Closes at once, before any greeting. */
export const closeAtOnce: Behaviour = (peer) => {
  peer.raw.end()
}

/** Writes `bytes` after `ms`, then nothing more. */
export const sendAfter =
  (ms: number, bytes: string | Uint8Array): Behaviour =>
  (peer) => {
    peer.raw.resume()
    if (ms === 0) peer.send(bytes)
    else peer.later(ms, () => peer.send(bytes))
  }

/** Writes `text` one byte every `ms`, starting at once; `text` repeats forever when `forever`. */
export const trickle =
  (ms: number, text: string, forever = false): Behaviour =>
  (peer) => {
    peer.raw.resume()
    let i = 0
    const tick = () => {
      if (i >= text.length && !forever) return
      peer.send(text[i % text.length]!)
      i++
      peer.later(ms, tick)
    }
    tick()
  }

/**
 * Writes `chunk()` again and again (one write per event-loop turn, waiting for 'drain' when
 * Node's buffer is full) until `limit` bytes or the client closes.
 */
const pump = (peer: Peer, chunk: () => Uint8Array, limit: number) => {
  let sent = 0
  const next = () => {
    if (peer.closed() || sent >= limit) return
    const bytes = chunk()
    sent += bytes.length
    peer.send(bytes)
    if (peer.socket.writableNeedDrain) peer.socket.once("drain", next)
    else setImmediate(next)
  }
  next()
}

/** A greeting line that never ends: `220 ` then `size` bytes of "a", no CRLF, sent in 4 KiB writes. */
export const endlessLine =
  (size: number): Behaviour =>
  (peer) => {
    peer.raw.resume()
    peer.send("220 ")
    const chunk = Buffer.alloc(4096, "a")
    pump(peer, () => chunk, size)
  }

/** A hook: `line` + CRLF again and again, in 4 KiB writes, until the client hangs up (or 64 MiB). */
export const endlessReply =
  (line: string): Hook =>
  (peer) => {
    const chunk = Buffer.from(`${line}\r\n`.repeat(Math.ceil(4096 / (line.length + 2))), "latin1")
    pump(peer, () => chunk, 64 * 1024 * 1024)
  }

// ---------------------------------------------------------------------------------------------
// A small SMTP server with hooks
// ---------------------------------------------------------------------------------------------

export type Verb = "EHLO" | "HELO" | "STARTTLS" | "MAIL" | "RCPT" | "RSET" | "VRFY" | "NOOP" | "QUIT" | "DATA"

/** What to do with one command line: a reply to write, or anything else done with the peer. */
export type Hook = (peer: Peer, line: string) => string | void

export interface Dialogue {
  /** What happens on connect; default `220 <name> ESMTP hostile`. */
  readonly greet?: (peer: Peer) => void
  /** Overrides per verb. A hook returning a string queues it as the reply. */
  readonly on?: Partial<Record<Verb, Hook>>
  /** Offer STARTTLS, and what happens after `220` to it: a real handshake, garbage, or silence. */
  readonly starttls?: "handshake" | "garbage" | "stall"
  /** Advertise PIPELINING (default true). */
  readonly pipelining?: boolean
  /** Local parts that exist (`250 2.1.5 Ok`); others get `550 5.1.1 ... User unknown`. */
  readonly users?: ReadonlyArray<string>
  /**
   * How replies leave: `lines` one write per reply; `batch` every reply to the lines that arrived
   * together in one write; `bytes` one byte per write, `byteDelay` ms apart.
   */
  readonly write?: "lines" | "batch" | "bytes"
  readonly byteDelay?: number
}

const name = "mx.hostile.test"

const defaultReply = (dialogue: Dialogue, secure: boolean, verb: Verb, line: string): string | undefined => {
  switch (verb) {
    case "EHLO":
      return [
        `250-${name}`,
        ...(dialogue.pipelining === false ? [] : ["250-PIPELINING"]),
        ...(dialogue.starttls !== undefined && !secure ? ["250-STARTTLS"] : []),
        "250-ENHANCEDSTATUSCODES",
        "250 8BITMIME"
      ].join("\r\n")
    case "HELO":
      return `250 ${name}`
    case "MAIL":
      return "250 2.1.0 Ok"
    case "RCPT": {
      const address = /<([^>]*)>/.exec(line)?.[1] ?? ""
      const local = address.slice(0, address.lastIndexOf("@")).toLowerCase()
      return (dialogue.users ?? ["alice"]).includes(local)
        ? "250 2.1.5 Ok"
        : `550 5.1.1 <${address}>: Recipient address rejected: User unknown in local recipient table`
    }
    case "RSET":
    case "NOOP":
      return "250 2.0.0 Ok"
    case "VRFY":
      return "502 5.5.1 VRFY command is disabled"
    case "DATA":
      return "554 5.5.1 Error: no valid recipients"
    case "QUIT":
      return "221 2.0.0 Bye"
    case "STARTTLS":
      return undefined
  }
}

const verbOf = (line: string): Verb | undefined => {
  const word = line.split(" ")[0]!.toUpperCase()
  switch (word) {
    case "EHLO":
    case "HELO":
    case "STARTTLS":
    case "MAIL":
    case "RCPT":
    case "RSET":
    case "VRFY":
    case "NOOP":
    case "QUIT":
    case "DATA":
      return word
    default:
      return undefined
  }
}

/**
 * A Postfix-like SMTP server (PIPELINING, ENHANCEDSTATUSCODES, optional STARTTLS) whose replies
 * can be overridden per verb, and whose way of writing replies is chosen by `write`.
 */
export const smtp =
  (dialogue: Dialogue = {}): Behaviour =>
  (peer, server) => {
    let buffer = ""
    let secure = false
    let stopped = false
    const out: Array<string> = []
    const bytes: Array<number> = []
    let dripping = false
    // QUIT came while bytes still drip: the socket ends after them (a pipelined QUIT must not cut the
    // replies to the commands before it).
    let ending = false
    const drip = () => {
      const b = bytes.shift()
      if (b === undefined || peer.closed()) {
        dripping = false
        if (ending) peer.socket.end()
        return
      }
      peer.send(Uint8Array.of(b))
      peer.later(dialogue.byteDelay ?? 1, drip)
    }
    const flush = () => {
      if (out.length === 0) return
      const text = out.map((r) => `${r}\r\n`).join("")
      out.length = 0
      if (dialogue.write === "bytes") {
        bytes.push(...Buffer.from(text, "latin1"))
        if (!dripping) {
          dripping = true
          drip()
        }
      } else peer.send(text)
    }
    const reply = (text: string) => {
      out.push(text)
      if (dialogue.write !== "batch") flush()
    }
    const onData = (data: Buffer) => {
      buffer += data.toString("latin1")
      for (let end = buffer.indexOf("\r\n"); end >= 0 && !stopped; end = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        server.received.push(line)
        command(line)
      }
      flush()
    }
    const command = (line: string) => {
      const verb = verbOf(line)
      if (verb === undefined) return reply("502 5.5.2 Error: command not recognized")
      const hook = dialogue.on?.[verb]
      if (hook !== undefined) {
        const answer = hook(peer, line)
        if (typeof answer === "string") reply(answer)
        return
      }
      if (verb === "STARTTLS") {
        if (dialogue.starttls === undefined || secure) return reply("502 5.5.1 Error: command not implemented")
        reply("220 2.0.0 Ready to start TLS")
        flush()
        stopped = true
        buffer = ""
        peer.raw.off("data", onData)
        return afterStarttls()
      }
      const answer = defaultReply(dialogue, secure, verb, line)
      if (answer !== undefined) reply(answer)
      if (verb === "QUIT") {
        flush()
        if (dripping) ending = true
        else peer.socket.end()
      }
    }
    const afterStarttls = () => {
      switch (dialogue.starttls) {
        case "garbage":
          // Answer the ClientHello with something that is not TLS.
          peer.raw.once("data", () => peer.send("this is not a TLS server hello\r\n\x00\xff\xfe"))
          return
        case "stall":
          peer.raw.resume()
          return
        default: {
          const tls = peer.upgrade()
          tls.once("secure", () => {
            secure = true
            stopped = false
            tls.on("data", onData)
          })
        }
      }
    }
    peer.raw.on("data", onData)
    if (dialogue.greet !== undefined) dialogue.greet(peer)
    else reply(`220 ${name} ESMTP hostile`)
    flush()
  }
