// Loopback servers for the transport tests: plain node:net / node:tls peers, started in the
// test's scope on 127.0.0.1 port 0 and closed with it (open sockets destroyed, server closed).
import { Effect } from "effect"
import type { Scope } from "effect"
import { readFileSync } from "node:fs"
import * as Net from "node:net"
import * as Tls from "node:tls"
import { Worker } from "node:worker_threads"
import type { MailWorld } from "@rcpt/testing"
import * as ScriptedTransport from "@rcpt/testing/ScriptedTransport"
import * as NodeVerifier from "../src/NodeVerifier.ts"

export const key = readFileSync(new URL("./fixtures/key.pem", import.meta.url), "utf8")
export const cert = readFileSync(new URL("./fixtures/cert.pem", import.meta.url), "utf8")

export interface Server {
  readonly port: number
  /** Sockets the server accepted, open or not. */
  readonly sockets: ReadonlyArray<Net.Socket>
}

/** A loopback server calling `onConnection` for every client. */
export const listen = (onConnection: (socket: Net.Socket) => void): Effect.Effect<Server, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ readonly server: Net.Server; readonly sockets: Array<Net.Socket> }>((resume) => {
      const sockets: Array<Net.Socket> = []
      const server = Net.createServer((socket) => {
        sockets.push(socket)
        socket.on("error", () => {})
        onConnection(socket)
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, sockets })))
    }),
    ({ server, sockets }) =>
      Effect.callback<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ server, sockets }) => ({ port: (server.address() as Net.AddressInfo).port, sockets })))

/** A port nothing listens on: opened, then closed. */
export const closedPort: Effect.Effect<number> = Effect.callback<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as Net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** Completes when the socket has closed. */
export const closed = (socket: Net.Socket): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (socket.closed) return resume(Effect.void)
    socket.once("close", () => resume(Effect.void))
  })

/** Upgrades a server-side socket to TLS with the fixture certificate. */
export const serverTls = (socket: Net.Socket): Tls.TLSSocket => {
  const tls = new Tls.TLSSocket(socket, { isServer: true, key, cert })
  tls.on("error", () => {})
  return tls
}

/**
 * A listener whose accept queue is full: it lives in a worker thread that blocks right after
 * `listen` (backlog 1) and never accepts, and four clients fill the queue. On Linux, further SYNs
 * are dropped, so a connect hangs until its timeout.
 */
export const fullBacklog: Effect.Effect<number, never, Scope.Scope> = Effect.gen(function* () {
  const shared = new Int32Array(new SharedArrayBuffer(4))
  const worker = yield* Effect.acquireRelease(
    Effect.sync(
      () =>
        new Worker(
          `const { workerData, parentPort } = require("node:worker_threads")
           const server = require("node:net").createServer()
           server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
             parentPort.postMessage(server.address().port)
             Atomics.wait(workerData, 0, 0)
             process.exit(0)
           })`,
          { eval: true, workerData: shared }
        )
    ),
    (worker) =>
      Effect.callback<void>((resume) => {
        Atomics.store(shared, 0, 1)
        Atomics.notify(shared, 0)
        worker.once("exit", () => resume(Effect.void))
      })
  )
  const port = yield* Effect.callback<number>((resume) => {
    worker.once("message", (port: number) => resume(Effect.succeed(port)))
  })
  yield* Effect.acquireRelease(
    Effect.sync(() => [0, 1, 2, 3].map(() => Net.connect({ host: "127.0.0.1", port }).on("error", () => {}))),
    (fillers) => Effect.sync(() => fillers.forEach((s) => s.destroy()))
  )
  yield* Effect.sleep("50 millis")
  return port
})

/**
 * A loopback server playing a `ScriptedTransport` script from the server's side: writes `S:`
 * lines (consecutive ones in one write), checks `C:` lines, upgrades with `tls.TLSSocket` on
 * `* tls`, closes on `* close` and at the end, goes quiet on `* stall`. A wrong client line is
 * recorded in `mismatches` and the connection destroyed.
 */
export const scriptServer = (
  script: string
): Effect.Effect<Server & { readonly mismatches: ReadonlyArray<string> }, never, Scope.Scope> => {
  const steps = ScriptedTransport.parse(script)
  const mismatches: Array<string> = []
  return Effect.map(
    listen((raw) => {
      let socket: Net.Socket = raw
      let buffer = ""
      let cursor = 0
      let done = false
      const onData = (data: Buffer) => {
        buffer += data.toString("utf8")
        play()
      }
      const play = () => {
        while (!done) {
          const step = steps[cursor]
          if (step === undefined) {
            done = true
            socket.end()
            return
          }
          switch (step._tag) {
            case "Send": {
              let out = ""
              while (steps[cursor]?._tag === "Send") out += `${(steps[cursor++] as { line: string }).line}\r\n`
              socket.write(out)
              break
            }
            case "Expect": {
              const end = buffer.indexOf("\r\n")
              if (end < 0) return
              const line = buffer.slice(0, end)
              buffer = buffer.slice(end + 2)
              if (line !== step.line) {
                mismatches.push(`got ${JSON.stringify(line)}, expected ${JSON.stringify(step.text)}`)
                done = true
                socket.destroy()
                return
              }
              cursor++
              break
            }
            case "Tls": {
              cursor++
              socket.off("data", onData)
              buffer = ""
              socket = serverTls(raw)
              socket.on("data", onData)
              break
            }
            case "Close":
              done = true
              socket.end()
              return
            default:
              // Stall, TlsFail, Refuse: say nothing more.
              done = true
              return
          }
        }
      }
      raw.on("data", onData)
      play()
    }),
    (server) => ({ ...server, mismatches })
  )
}

/**
 * The node verifier aimed at a MailWorld: its DNS and SMTP port, loopback and `.test` allowed
 * (the target policy and RFC 6761 refuse both unless opened); `options` on top.
 */
export const worldVerifier = (world: MailWorld.World, options: NodeVerifier.Options = {}) =>
  NodeVerifier.layer({
    helo: "verifier.rcpt.test",
    port: world.smtpPort,
    dnsServers: [world.dns],
    allowTargets: ["127.0.0.0/8"],
    allowSpecialUse: ["test"],
    ...options
  })
