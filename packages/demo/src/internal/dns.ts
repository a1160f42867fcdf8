/**
 * The world's authoritative DNS server: dns2's UDP and TCP servers on one port of 127.0.0.1, answering from the
 * plan's zone (A and MX; NODATA for other types of a known name; NXDOMAIN for every unknown name).
 *
 * @since 0.1.0
 */
import type { Socket } from "node:net"
import { Packet, TCPServer, UDPServer } from "dns2"
import { Effect } from "effect"
import * as Plan from "./plan.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface DnsServer {
  readonly port: number
  readonly close: Effect.Effect<void>
}

const ttl = 300

/**
 * The response to one request, built from the zone.
 *
 * @category dns
 * @since 0.1.0
 */
export const answer = (zone: Plan.Plan["zone"], request: Packet): Packet => {
  const response = Packet.createResponseFromRequest(request)
  response.header.aa = 1
  const question = request.questions[0]
  if (question === undefined) {
    response.header.rcode = Packet.RCODE.FORMERR
    return response
  }
  const type = question.type === Packet.TYPE.A ? "A" : question.type === Packet.TYPE.MX ? "MX" : "other"
  const records = Plan.resolve(zone, question.name, type)
  if (records === undefined) {
    response.header.rcode = Packet.RCODE.NXDOMAIN
    return response
  }
  for (const record of records) {
    response.answers.push(
      typeof record === "string"
        ? Packet.createResourceFromQuestion(question, {
            type: Packet.TYPE.A,
            class: Packet.CLASS.IN,
            ttl,
            address: record
          })
        : Packet.createResourceFromQuestion(question, {
            type: Packet.TYPE.MX,
            class: Packet.CLASS.IN,
            ttl,
            exchange: record.exchange,
            priority: record.priority
          })
    )
  }
  return response
}

const listen = (bind: (onError: (error: Error) => void, onListening: () => void) => void): Effect.Effect<void, Error> =>
  Effect.callback<void, Error>((resume) => {
    bind(
      (error) => resume(Effect.fail(error)),
      () => resume(Effect.void)
    )
  })

const closeUdp = (server: UDPServer) =>
  Effect.callback<void>((resume) => {
    try {
      server.close(() => resume(Effect.void))
    } catch {
      resume(Effect.void) // not running
    }
  })

const closeTcp = (server: TCPServer, sockets: Set<Socket>) =>
  Effect.callback<void>((resume) => {
    server.close(() => resume(Effect.void))
    for (const socket of sockets) socket.destroy()
  })

/**
 * Starts UDP and TCP on the same free port of 127.0.0.1 (retrying when TCP finds the UDP port taken).
 *
 * @category constructors
 * @since 0.1.0
 */
export const start = (zone: Plan.Plan["zone"]): Effect.Effect<DnsServer, Error> => {
  const handle = (request: Packet, send: (response: Packet) => Promise<Buffer>) => {
    send(answer(zone, request)).catch(() => undefined) // the client or the socket is gone
  }
  const once = Effect.gen(function* () {
    const udp = new UDPServer({ type: "udp4" })
    udp.on("request", handle)
    udp.on("requestError", () => undefined)
    yield* listen((onError, onListening) => {
      udp.once("error", onError)
      udp.bind(0, "127.0.0.1", () => {
        udp.off("error", onError)
        udp.on("error", () => undefined)
        onListening()
      })
    })
    const port = udp.address().port
    const sockets = new Set<Socket>()
    const tcp = new TCPServer(handle)
    tcp.on("requestError", () => undefined)
    tcp.on("connection", (socket: Socket) => {
      sockets.add(socket)
      socket.on("error", () => undefined)
      socket.once("close", () => sockets.delete(socket))
    })
    yield* listen((onError, onListening) => {
      tcp.once("error", onError)
      tcp.listen(port, "127.0.0.1", () => {
        tcp.off("error", onError)
        tcp.on("error", () => undefined)
        onListening()
      })
    }).pipe(Effect.onError(() => closeUdp(udp)))
    return { port, close: Effect.all([closeUdp(udp), closeTcp(tcp, sockets)], { discard: true }) }
  })
  return once.pipe(
    Effect.retry({ times: 20, while: (error) => (error as NodeJS.ErrnoException).code === "EADDRINUSE" })
  )
}
