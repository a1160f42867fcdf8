import { promises as dnsPromises } from "node:dns"
import * as net from "node:net"
import * as tls from "node:tls"
import { assert, describe, it } from "@effect/vitest"
import { TCPClient } from "dns2"
import { Effect, Exit, Scope } from "effect"
import { MailWorld } from "../src/index.ts"

// ---------------------------------------------------------------------------------------------------------------
// A raw SMTP client: write lines, read whole replies (multi-line replies joined with "\n").

interface Client {
  readonly reply: Effect.Effect<string, Error>
  readonly send: (line: string) => Effect.Effect<void>
  readonly command: (line: string) => Effect.Effect<string, Error>
  readonly starttls: (servername: string) => Effect.Effect<tls.TLSSocket, Error>
  readonly closed: Effect.Effect<void>
}

const makeClient = (socket: net.Socket): Client => {
  let stream: net.Socket = socket
  let buffer = ""
  let lines: Array<string> = []
  const replies: Array<string> = []
  const waiters: Array<() => void> = []
  let isClosed = false
  const wake = () => waiters.splice(0).forEach((waiter) => waiter())
  const attach = (target: net.Socket) => {
    target.setEncoding("latin1")
    target.on("data", (chunk: string) => {
      buffer += chunk
      let end: number
      while ((end = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        lines.push(line)
        if (/^\d{3}( |$)/.test(line)) {
          replies.push(lines.join("\n"))
          lines = []
        }
      }
      wake()
    })
    target.on("error", () => undefined)
    target.once("close", () => {
      isClosed = true
      wake()
    })
  }
  attach(socket)
  const reply: Effect.Effect<string, Error> = Effect.callback<string, Error>((resume) => {
    const check = () => {
      const next = replies.shift()
      if (next !== undefined) return resume(Effect.succeed(next))
      if (isClosed) return resume(Effect.fail(new Error("connection closed")))
      waiters.push(check)
    }
    check()
  })
  const send = (line: string) => Effect.sync(() => void stream.write(`${line}\r\n`))
  return {
    reply,
    send,
    command: (line) => Effect.andThen(send(line), reply),
    starttls: (servername) =>
      Effect.callback<tls.TLSSocket, Error>((resume) => {
        socket.removeAllListeners("data")
        const secure = tls.connect({ socket, servername, ca: [MailWorld.certificate] }, () =>
          resume(Effect.succeed(secure))
        )
        secure.once("error", (error) => resume(Effect.fail(error)))
        stream = secure
        attach(secure)
      }),
    closed: Effect.callback<void>((resume) => {
      const check = () => (isClosed ? resume(Effect.void) : waiters.push(check))
      check()
    })
  }
}

const connect = (host: string, port: number): Effect.Effect<Client, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<net.Socket, Error>((resume) => {
      const socket = net.connect({ host, port })
      socket.once("error", (error) => resume(Effect.fail(error)))
      socket.once("connect", () => resume(Effect.succeed(socket)))
    }),
    (socket) => Effect.sync(() => socket.destroy())
  ).pipe(Effect.map(makeClient))

/** Connects, reads the greeting, says EHLO; returns the client and the EHLO reply. */
const session = (host: string, port: number) =>
  Effect.gen(function* () {
    const client = yield* connect(host, port)
    const greeting = yield* client.reply
    assert.match(greeting, /^220 /)
    const ehlo = yield* client.command("EHLO client.test")
    assert.match(ehlo, /^250[- ]/)
    return { client, greeting, ehlo }
  })

const resolver = (world: MailWorld.World) => {
  const resolver = new dnsPromises.Resolver({ timeout: 1000, tries: 1 })
  resolver.setServers([world.dns])
  return resolver
}

const mx = (promise: () => Promise<ReadonlyArray<{ exchange: string; priority: number }>>) =>
  Effect.promise(() => promise().then((records) => records.map(({ exchange, priority }) => ({ exchange, priority }))))

const dnsCode = (promise: () => Promise<unknown>) =>
  Effect.promise(() =>
    promise().then(
      () => "ok",
      (error: NodeJS.ErrnoException) => error.code ?? "?"
    )
  )

const refused = (host: string, port: number) =>
  Effect.callback<string>((resume) => {
    const socket = net.connect({ host, port })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed("connected"))
    })
    socket.once("error", (error: NodeJS.ErrnoException) => resume(Effect.succeed(error.code ?? "?")))
  })

const limits: MailWorld.WorldSpec = {
  domains: [
    { name: "limits.test", mx: [{ host: "mx.limits.test", preference: 10 }], users: ["a", "b", "c"] },
    { name: "errors.test", mx: [{ host: "mx.errors.test", preference: 10 }], users: ["a"] },
    { name: "refuse.test", mx: [{ host: "mx.refuse.test", preference: 10 }], users: ["a"] },
    { name: "busy.test", mx: [{ host: "mx.busy.test", preference: 10 }], users: ["a"] },
    { name: "slow.test", mx: [{ host: "mx.slow.test", preference: 10 }], users: ["a"] },
    { name: "anvil.test", mx: [{ host: "mx.anvil.test", preference: 10 }], users: ["a"] }
  ],
  hosts: [
    { name: "mx.limits.test", address: "127.0.0.20", behaviour: { maxRecipients: 2, pipelining: false } },
    { name: "mx.errors.test", address: "127.0.0.21", behaviour: { hardErrorLimit: 3 } },
    { name: "mx.refuse.test", address: "127.0.0.22", behaviour: { greeting: "554" } },
    { name: "mx.busy.test", address: "127.0.0.23", behaviour: { greeting: "421" } },
    { name: "mx.slow.test", address: "127.0.0.24", behaviour: { greetingDelay: "300 millis" } },
    { name: "mx.anvil.test", address: "127.0.0.25", behaviour: { maxConnectionsPerClient: 2 } }
  ]
}

// ---------------------------------------------------------------------------------------------------------------

describe("MailWorld DNS", () => {
  it.live("answers MX sorted by preference, A, null MX, NXDOMAIN and NODATA", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(MailWorld.demo)
      const dns = resolver(world)
      assert.deepStrictEqual(yield* mx(() => dns.resolveMx("failover.test")), [
        { exchange: "mx1.failover.test", priority: 10 },
        { exchange: "mx1.alpha.test", priority: 20 }
      ])
      assert.deepStrictEqual(yield* mx(() => dns.resolveMx("ALPHA.test")), [
        { exchange: "mx1.alpha.test", priority: 10 }
      ])
      assert.deepStrictEqual(yield* Effect.promise(() => dns.resolve4("mx1.alpha.test")), ["127.0.0.2"])
      assert.deepStrictEqual(yield* Effect.promise(() => dns.resolve4("mx1.failover.test")), ["127.0.0.6"])
      assert.deepStrictEqual(yield* Effect.promise(() => dns.resolve4("implicit.test")), ["127.0.0.5"])
      assert.deepStrictEqual(yield* mx(() => dns.resolveMx("nullmx.test")), [{ exchange: "", priority: 0 }])
      assert.strictEqual(yield* dnsCode(() => dns.resolveMx("nowhere.test")), "ENOTFOUND")
      assert.strictEqual(yield* dnsCode(() => dns.resolve4("nowhere.test")), "ENOTFOUND")
      assert.strictEqual(yield* dnsCode(() => dns.resolveMx("example.com")), "ENOTFOUND")
      assert.strictEqual(yield* dnsCode(() => dns.resolveMx("implicit.test")), "ENODATA")
      assert.strictEqual(yield* dnsCode(() => dns.resolve4("alpha.test")), "ENODATA")
      assert.strictEqual(yield* dnsCode(() => dns.resolve6("mx1.alpha.test")), "ENODATA")
      assert.strictEqual(yield* dnsCode(() => dns.resolveTxt("alpha.test")), "ENODATA")
    })
  )

  it.live("answers over TCP on the same port", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(MailWorld.demo)
      const port = Number(world.dns.split(":")[1])
      const query = TCPClient({ dns: "127.0.0.1", port })
      const response = yield* Effect.promise(() => query("catchall.test", "MX"))
      assert.deepStrictEqual(
        response.answers.map((answer) => [answer.exchange, answer.priority]),
        [["mx.catchall.test", 10]]
      )
    })
  )
})

describe("MailWorld SMTP", () => {
  it.live("greets and answers like Postfix: users, unknown, full, disabled, relay", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(MailWorld.demo)
      const { client, greeting, ehlo } = yield* session("127.0.0.2", world.smtpPort)
      assert.strictEqual(greeting, "220 mx1.alpha.test ESMTP rcpt mail world")
      const keywords = ehlo.split("\n").map((line) => line.slice(4))
      assert.strictEqual(keywords[0], "mx1.alpha.test")
      for (const keyword of ["PIPELINING", "ENHANCEDSTATUSCODES", "STARTTLS", "SIZE 10240000"]) {
        assert.include(keywords, keyword)
      }
      assert.notInclude(keywords.join(" "), "AUTH")
      assert.strictEqual(yield* client.command("MAIL FROM:<probe@client.test>"), "250 2.1.0 Ok")
      assert.strictEqual(yield* client.command("RCPT TO:<alice@alpha.test>"), "250 2.1.5 Ok")
      assert.strictEqual(yield* client.command("RCPT TO:<Bob@Alpha.Test>"), "250 2.1.5 Ok")
      assert.strictEqual(
        yield* client.command("RCPT TO:<zed@alpha.test>"),
        "550 5.1.1 <zed@alpha.test>: Recipient address rejected: User unknown in virtual mailbox table"
      )
      assert.match(yield* client.command("RCPT TO:<carol@alpha.test>"), /^552 5\.2\.2 <carol@alpha\.test>: .*full/)
      assert.match(yield* client.command("RCPT TO:<dave@alpha.test>"), /^550 5\.2\.1 <dave@alpha\.test>: .*disabled/)
      assert.strictEqual(yield* client.command("RCPT TO:<alice@failover.test>"), "250 2.1.5 Ok")
      assert.strictEqual(
        yield* client.command("RCPT TO:<alice@catchall.test>"),
        "554 5.7.1 <alice@catchall.test>: Relay access denied"
      )
      assert.match(yield* client.command("DATA"), /^354 /)
      assert.match(yield* client.command("Subject: hi\r\n\r\nhello\r\n."), /^554 5\.7\.1 /)
      assert.match(yield* client.command("QUIT"), /^221 /)
      yield* client.closed
    })
  )

  it.live("answers pipelined commands in order", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(MailWorld.demo)
      const { client } = yield* session("127.0.0.2", world.smtpPort)
      yield* client.send(
        "MAIL FROM:<probe@client.test>\r\nRCPT TO:<alice@alpha.test>\r\nRCPT TO:<zed@alpha.test>\r\nRSET"
      )
      assert.strictEqual(yield* client.reply, "250 2.1.0 Ok")
      assert.strictEqual(yield* client.reply, "250 2.1.5 Ok")
      assert.match(yield* client.reply, /^550 5\.1\.1 <zed@alpha\.test>/)
      assert.strictEqual(yield* client.reply, "250 2.0.0 Flushed")
    })
  )

  it.live("catch-all accepts any local part; implicit MX host serves its domain", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(MailWorld.demo)
      const { client } = yield* session("127.0.0.3", world.smtpPort)
      yield* client.command("MAIL FROM:<>")
      assert.strictEqual(yield* client.command("RCPT TO:<x8f3kq@catchall.test>"), "250 2.1.5 Ok")
      const implicit = (yield* session("127.0.0.5", world.smtpPort)).client
      yield* implicit.command("MAIL FROM:<>")
      assert.strictEqual(yield* implicit.command("RCPT TO:<alice@implicit.test>"), "250 2.1.5 Ok")
      assert.match(yield* implicit.command("RCPT TO:<bob@implicit.test>"), /^550 5\.1\.1 /)
    })
  )

  it.live("greylists each (client, recipient) once, then answers normally; unknown mailboxes are refused at once", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(MailWorld.demo)
      const { client } = yield* session("127.0.0.4", world.smtpPort)
      yield* client.command("MAIL FROM:<probe@client.test>")
      assert.match(
        yield* client.command("RCPT TO:<alice@greylist.test>"),
        /^450 4\.2\.0 <alice@greylist\.test>: Recipient address rejected: Greylisted/
      )
      // As Postfix with postgrey: the unknown mailbox gets its 550 at once, never a 450.
      assert.match(yield* client.command("RCPT TO:<nobody@greylist.test>"), /^550 5\.1\.1 /)
      const again = (yield* session("127.0.0.4", world.smtpPort)).client
      yield* again.command("MAIL FROM:<probe@client.test>")
      assert.strictEqual(yield* again.command("RCPT TO:<alice@greylist.test>"), "250 2.1.5 Ok")
      assert.match(yield* again.command("RCPT TO:<nobody@greylist.test>"), /^550 5\.1\.1 /)
    })
  )

  it.live("STARTTLS is offered, completes with the world's certificate, and resets the session", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(MailWorld.demo)
      const { client } = yield* session("127.0.0.2", world.smtpPort)
      assert.match(yield* client.command("STARTTLS"), /^220 /)
      const secure = yield* client.starttls("mx1.alpha.test")
      assert.isTrue(secure.authorized)
      const ehlo = yield* client.command("EHLO client.test")
      assert.notInclude(ehlo, "STARTTLS")
      assert.strictEqual(yield* client.command("MAIL FROM:<probe@client.test>"), "250 2.1.0 Ok")
      assert.strictEqual(yield* client.command("RCPT TO:<alice@alpha.test>"), "250 2.1.5 Ok")
      // Hosts without STARTTLS neither offer nor accept it.
      const plain = yield* session("127.0.0.3", world.smtpPort)
      assert.notInclude(plain.ehlo, "STARTTLS")
      assert.strictEqual(yield* plain.client.command("STARTTLS"), "502 5.5.1 Error: command not implemented")
    })
  )

  it.live("requireTls refuses MAIL before STARTTLS", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(MailWorld.demo)
      const { client, ehlo } = yield* session("127.0.0.7", world.smtpPort)
      assert.include(ehlo, "STARTTLS")
      assert.strictEqual(
        yield* client.command("MAIL FROM:<probe@client.test>"),
        "530 5.7.0 Must issue a STARTTLS command first"
      )
      yield* client.command("STARTTLS")
      yield* client.starttls("mx.tlsonly.test")
      yield* client.command("EHLO client.test")
      assert.strictEqual(yield* client.command("MAIL FROM:<probe@client.test>"), "250 2.1.0 Ok")
      assert.strictEqual(yield* client.command("RCPT TO:<alice@tlsonly.test>"), "250 2.1.5 Ok")
    })
  )

  it.live("VRFY answers on vrfy hosts and is disabled elsewhere", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(MailWorld.demo)
      const { client } = yield* session("127.0.0.8", world.smtpPort)
      assert.strictEqual(yield* client.command("VRFY alice@vrfy.test"), "250 2.0.0 <alice@vrfy.test>")
      assert.strictEqual(yield* client.command("VRFY <bob@vrfy.test>"), "250 2.0.0 <bob@vrfy.test>")
      assert.strictEqual(yield* client.command("VRFY alice"), "250 2.0.0 <alice@vrfy.test>")
      assert.match(yield* client.command("VRFY zed@vrfy.test"), /^550 5\.1\.1 <zed@vrfy\.test>: /)
      const other = (yield* session("127.0.0.2", world.smtpPort)).client
      assert.strictEqual(yield* other.command("VRFY alice@alpha.test"), "502 5.5.1 VRFY command is disabled")
    })
  )

  it.live("maxRecipients answers 452 4.5.3; pipelining: false hides PIPELINING", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(limits)
      const { client, ehlo } = yield* session("127.0.0.20", world.smtpPort)
      assert.notInclude(ehlo, "PIPELINING")
      yield* client.command("MAIL FROM:<probe@client.test>")
      assert.strictEqual(yield* client.command("RCPT TO:<a@limits.test>"), "250 2.1.5 Ok")
      assert.strictEqual(yield* client.command("RCPT TO:<b@limits.test>"), "250 2.1.5 Ok")
      assert.strictEqual(yield* client.command("RCPT TO:<c@limits.test>"), "452 4.5.3 Error: too many recipients")
      // A new transaction starts over.
      yield* client.command("RSET")
      yield* client.command("MAIL FROM:<probe@client.test>")
      assert.strictEqual(yield* client.command("RCPT TO:<c@limits.test>"), "250 2.1.5 Ok")
    })
  )

  it.live("hardErrorLimit: after N errors the next command gets 421 4.7.0 and the connection closes", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(limits)
      const { client } = yield* session("127.0.0.21", world.smtpPort)
      yield* client.command("MAIL FROM:<probe@client.test>")
      for (const local of ["x", "y", "z"]) {
        assert.match(yield* client.command(`RCPT TO:<${local}@errors.test>`), /^550 5\.1\.1 /)
      }
      assert.strictEqual(
        yield* client.command("RCPT TO:<a@errors.test>"),
        "421 4.7.0 mx.errors.test Error: too many errors"
      )
      yield* client.closed
    })
  )

  it.live("greeting 554 / 421 refuses and closes; greetingDelay delays the banner", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(limits)
      const refusing = yield* connect("127.0.0.22", world.smtpPort)
      assert.match(yield* refusing.reply, /^554 5\.7\.1 mx\.refuse\.test /)
      yield* refusing.closed
      const busy = yield* connect("127.0.0.23", world.smtpPort)
      assert.match(yield* busy.reply, /^421 4\.3\.2 mx\.busy\.test /)
      yield* busy.closed
      const before = Date.now()
      const slow = yield* connect("127.0.0.24", world.smtpPort)
      assert.strictEqual(yield* slow.reply, "220 mx.slow.test ESMTP rcpt mail world")
      assert.isAtLeast(Date.now() - before, 250)
    })
  )

  it.live(
    "maxConnectionsPerClient: a third connection from one address gets 421; after a close, a new one is let in",
    () =>
      Effect.gen(function* () {
        const world = yield* MailWorld.start(limits)
        const first = yield* connect("127.0.0.25", world.smtpPort)
        assert.match(yield* first.reply, /^220 /)
        const second = yield* connect("127.0.0.25", world.smtpPort)
        assert.match(yield* second.reply, /^220 /)
        const third = yield* connect("127.0.0.25", world.smtpPort)
        assert.match(yield* third.reply, /^421 4\.7\.0 mx\.anvil\.test Error: too many connections from 127\.0\.0\.1/)
        yield* third.closed
        yield* first.command("QUIT")
        yield* first.closed
        yield* Effect.sleep("200 millis") // the server learns of both closes a moment after the client
        const fourth = yield* connect("127.0.0.25", world.smtpPort)
        assert.match(yield* fourth.reply, /^220 /)
      })
  )

  it.live("a down host refuses connections; its name still resolves", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(MailWorld.demo)
      assert.strictEqual(yield* refused("127.0.0.6", world.smtpPort), "ECONNREFUSED")
      assert.strictEqual(yield* refused("127.0.0.2", world.smtpPort), "connected")
    })
  )
})

describe("MailWorld stats and lifecycle", () => {
  it.live("counts connections, peak concurrency, RCPTs and records command lines", () =>
    Effect.gen(function* () {
      const world = yield* MailWorld.start(MailWorld.demo)
      const clients = yield* Effect.all(
        [0, 1, 2].map(() => session("127.0.0.3", world.smtpPort)),
        { concurrency: "unbounded" }
      )
      for (const [index, { client }] of clients.entries()) {
        yield* client.command("MAIL FROM:<probe@client.test>")
        yield* client.command(`RCPT TO:<u${index}@catchall.test>`)
      }
      yield* clients[0]!.client.command("RCPT TO:<again@catchall.test>")
      const stats = yield* world.stats
      assert.strictEqual(stats.connections["127.0.0.3"], 3)
      assert.strictEqual(stats.maxConcurrent["127.0.0.3"], 3)
      assert.strictEqual(stats.rcptCommands["127.0.0.3"], 4)
      assert.strictEqual(stats.connections["127.0.0.2"], 0)
      assert.deepInclude(stats.commands, { host: "127.0.0.3", line: "RCPT TO:<u1@catchall.test>", client: "127.0.0.1" })
      assert.deepStrictEqual(stats.clients["127.0.0.3"], { "127.0.0.1": 3 })
      assert.strictEqual(stats.commands.filter((entry) => entry.line === "EHLO client.test").length, 3)

      yield* world.resetStats
      const reset = yield* world.stats
      assert.strictEqual(reset.connections["127.0.0.3"], 0)
      assert.strictEqual(reset.rcptCommands["127.0.0.3"], 0)
      assert.strictEqual(reset.maxConcurrent["127.0.0.3"], 3) // the peak restarts from the connections still open
      assert.deepStrictEqual(reset.commands, [])
    })
  )

  it.live("closing the scope stops every server promptly, open connections included", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const world = yield* MailWorld.start(MailWorld.demo).pipe(Scope.provide(scope))
      const open = yield* session("127.0.0.2", world.smtpPort)
      yield* open.client.command("STARTTLS")
      yield* open.client.starttls("mx1.alpha.test")
      const plain = yield* session("127.0.0.3", world.smtpPort)
      const before = Date.now()
      yield* Scope.close(scope, Exit.void)
      assert.isBelow(Date.now() - before, 500)
      yield* open.client.closed
      yield* plain.client.closed
      for (const address of ["127.0.0.2", "127.0.0.3", "127.0.0.8"]) {
        assert.strictEqual(yield* refused(address, world.smtpPort), "ECONNREFUSED")
      }
      // The DNS port is free again, for TCP and UDP.
      const port = Number(world.dns.split(":")[1])
      assert.strictEqual(yield* refused("127.0.0.1", port), "ECONNREFUSED")
      const dns = resolver(world)
      assert.strictEqual(yield* dnsCode(() => dns.resolveMx("alpha.test")), "ECONNREFUSED")
    })
  )

  it.live("rejects an inconsistent spec", () =>
    Effect.gen(function* () {
      const error = yield* MailWorld.start({
        domains: [{ name: "x.test", nullMx: true, mx: [{ host: "mx.x.test", preference: 10 }] }],
        hosts: [
          { name: "mx.x.test", address: "10.0.0.1" },
          { name: "mx2.x.test", address: "127.0.0.9" },
          { name: "mx3.x.test", address: "127.0.0.9" }
        ]
      }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "MailWorldError")
      assert.strictEqual(error.reason, "InvalidSpec")
      assert.include(error.message, "10.0.0.1 is not in 127.0.0.0/8")
      assert.include(error.message, "127.0.0.9 is used by another host")
      assert.include(error.message, "null MX must be the only MX")
    })
  )

  it.live("listens on a fixed smtpPort when given one", () =>
    Effect.gen(function* () {
      const first = yield* MailWorld.start(MailWorld.demo)
      const scope = yield* Scope.make()
      const port = yield* Effect.gen(function* () {
        const probe = yield* MailWorld.start({ domains: [], hosts: [{ name: "p.test", address: "127.0.0.30" }] })
        return probe.smtpPort
      }).pipe(Scope.provide(scope))
      yield* Scope.close(scope, Exit.void)
      const fixed = yield* MailWorld.start({ ...limits, smtpPort: port })
      assert.strictEqual(fixed.smtpPort, port)
      assert.notStrictEqual(first.smtpPort, port)
      const { greeting } = yield* session("127.0.0.20", port)
      assert.strictEqual(greeting, "220 mx.limits.test ESMTP rcpt mail world")
      // The port is taken on 127.0.0.20 now: a second world on it fails to listen.
      const clash = yield* MailWorld.start({ ...limits, smtpPort: port }).pipe(Effect.flip)
      assert.strictEqual(clash.reason, "Listen")
    })
  )
})
