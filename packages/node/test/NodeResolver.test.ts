// NodeResolver against a hand-rolled UDP name server on 127.0.0.1.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { Dns, NetAddress } from "effect/net"
import * as Dgram from "node:dgram"
import type { AddressInfo } from "node:net"
import * as NodeResolver from "../src/NodeResolver.ts"

/**
 * A UDP name server on 127.0.0.1 that answers every query with one A record, 192.0.2.25, or
 * never answers. Counts the queries it got.
 */
const nameServer = (answer: boolean) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly socket: Dgram.Socket; readonly queries: Array<string> }>((resume) => {
      const queries: Array<string> = []
      const socket = Dgram.createSocket("udp4")
      socket.on("message", (query, peer) => {
        // The question: labels from offset 12 up to the root label, then type and class.
        let end = 12
        const labels: Array<string> = []
        while (query[end]! > 0) {
          labels.push(query.subarray(end + 1, end + 1 + query[end]!).toString())
          end += query[end]! + 1
        }
        queries.push(labels.join("."))
        if (!answer) return
        const question = query.subarray(12, end + 5)
        const header = Buffer.from([query[0]!, query[1]!, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0])
        const record = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 25])
        socket.send(Buffer.concat([header, question, record]), peer.port, peer.address)
      })
      socket.bind(0, "127.0.0.1", () => resume(Effect.succeed({ socket, queries })))
    }),
    ({ socket }) =>
      Effect.callback<void>((resume) => {
        socket.close(() => resume(Effect.void))
      })
  ).pipe(
    Effect.map(({ socket, queries }) => ({ address: `127.0.0.1:${(socket.address() as AddressInfo).port}`, queries }))
  )

describe("NodeResolver", () => {
  it.live("resolve asks the configured name server (ip:port)", () =>
    Effect.gen(function* () {
      const server = yield* nameServer(true)
      const records = yield* Effect.flatMap(Dns.Dns, (dns) => dns.resolve("mx1.example.test", "A")).pipe(
        Effect.provide(NodeResolver.layer({ nameServers: [server.address], timeout: "500 millis", tries: 1 }))
      )
      assert.deepStrictEqual(
        records.map((r) => NetAddress.formatIp(r.address)),
        ["192.0.2.25"]
      )
      assert.deepStrictEqual(server.queries, ["mx1.example.test"])
    })
  )

  it.live("timeout and tries bound a silent name server", () =>
    Effect.gen(function* () {
      const server = yield* nameServer(false)
      const error = yield* Effect.flatMap(Dns.Dns, (dns) => dns.resolve("mx1.example.test", "A")).pipe(
        Effect.provide(NodeResolver.layer({ nameServers: [server.address], timeout: "50 millis", tries: 2 })),
        Effect.flip,
        Effect.timeout("1500 millis")
      )
      assert.strictEqual(error.reason, "Timeout")
      assert.strictEqual(server.queries.length, 2)
    })
  )

  it.effect("an invalid name server is a defect when the layer is built", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        Effect.flatMap(Dns.Dns, () => Effect.void).pipe(
          Effect.provide(NodeResolver.layer({ nameServers: ["ns.example"] }))
        )
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.isTrue(Exit.hasDies(exit))
    })
  )
})
