/**
 * A TCP proxy that holds every chunk `delayMs` in each direction: with 25 ms, a 50 ms round trip between a client and
 * a server on loopback. It listens on each given `host:port` and forwards to `host:targetPort` on the same address,
 * so the MX addresses in DNS stay the same and the servers move to another port.
 *
 * Order is kept (Node runs timers of equal duration first in, first out); half-closes and resets are passed on after
 * the same delay. The TCP handshake itself is not delayed (a real one costs one more round trip per connection, which
 * would cost the one-connection-per-address contenders most).
 *
 * Run as a program (`node delay-proxy.ts '<json>'`, json: {@link ProxyOptions}) it prints `ready` once listening and
 * stops on SIGTERM, so it gets a core of its own instead of sharing the servers' event loop.
 *
 * @since 0.1.0
 */
import { createServer, connect } from "node:net"
import type { Server, Socket } from "node:net"

/**
 * @category models
 * @since 0.1.0
 */
export interface ProxyOptions {
  readonly hosts: ReadonlyArray<string>
  readonly port: number
  readonly targetPort: number
  readonly delayMs: number
}

/**
 * @category models
 * @since 0.1.0
 */
export interface DelayProxy {
  readonly connections: () => number
  readonly close: () => Promise<void>
}

const relay = (from: Socket, to: Socket, delayMs: number) => {
  from.on("data", (chunk: Buffer) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk)
    }, delayMs)
  })
  from.on("end", () => setTimeout(() => to.end(), delayMs))
  from.on("close", () => setTimeout(() => to.destroy(), delayMs))
  from.on("error", () => undefined)
}

/**
 * Listens on every `host:port` and relays to `host:targetPort`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const start = async (options: ProxyOptions): Promise<DelayProxy> => {
  let connections = 0
  const sockets = new Set<Socket>()
  const servers: Array<Server> = []
  for (const host of options.hosts) {
    const server = createServer((client) => {
      connections++
      const upstream = connect(options.targetPort, host)
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.once("close", () => sockets.delete(s))
        s.setNoDelay(true)
      }
      relay(client, upstream, options.delayMs)
      relay(upstream, client, options.delayMs)
    })
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.listen(options.port, host, () => {
        server.off("error", reject)
        resolve()
      })
    })
    servers.push(server)
  }
  return {
    connections: () => connections,
    close: async () => {
      for (const s of sockets) s.destroy()
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    }
  }
}

if (import.meta.main) {
  const options = JSON.parse(process.argv[2] ?? "{}") as ProxyOptions
  const proxy = await start(options)
  process.stdout.write("ready\n")
  process.on("SIGTERM", () => {
    void proxy.close().then(() => process.exit(0))
  })
}
