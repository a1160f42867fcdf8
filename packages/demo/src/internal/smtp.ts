/**
 * The world's MX hosts: one nodemailer `smtp-server` per host, all on the same port, each on its own loopback
 * address. `smtp-server` does most of the SMTP; a small subclass of its connection adds what it cannot be configured
 * to do: Postfix-style replies (enhanced codes chosen per reply, `250 2.1.5 Ok`), a real VRFY, `502` for STARTTLS
 * and VRFY when off, a hard error limit, command recording, and no 100 ms pre-greeting pause.
 *
 * @since 0.1.0
 */
import { createServer } from "node:net"
import type { Socket } from "node:net"
import type { TLSSocket } from "node:tls"
import { Duration, Effect } from "effect"
import { SMTPServer } from "smtp-server"
import type { SMTPServerOptions } from "smtp-server"
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js"
import type { SMTPConnectionOptions } from "smtp-server/lib/smtp-connection.js"
import { certificate, privateKey } from "./certificate.ts"
import * as Plan from "./plan.ts"
import type { Recorder } from "./recorder.ts"

/**
 * The listening hosts of a world.
 *
 * @category models
 * @since 0.1.0
 */
export interface SmtpHosts {
  readonly port: number
  readonly close: Effect.Effect<void>
}

/** State shared by every host of one world. */
interface WorldState {
  readonly recorder: Recorder
  readonly greylist: Map<string, number>
  readonly timers: Set<ReturnType<typeof setTimeout>>
}

const enhanced = /^[245]\.\d{1,3}\.\d{1,3} /

class WorldServer extends SMTPServer {
  readonly plan: Plan.HostPlan
  readonly state: WorldState
  readonly sockets = new Set<Socket | TLSSocket>()
  /** Open connections by client address, for `maxConnectionsPerClient`. */
  readonly perClient = new Map<string, number>()

  constructor(plan: Plan.HostPlan, state: WorldState, options: SMTPServerOptions) {
    super(options)
    this.plan = plan
    this.state = state
  }

  // Same as SMTPServer.connect, with our connection class.
  override connect(socket: Socket | TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    this.sockets.add(socket)
    const client = socket.remoteAddress ?? ""
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1)
    this.state.recorder.opened(this.plan.address, socket.remoteAddress ?? "")
    const connection = new WorldConnection(this, socket, socketOptions)
    this.connections.add(connection)
    connection.on("error", (error: Error) => this._onError(error))
    connection.on("connect", (data) => this._onClientConnect(data))
    connection.init()
  }
}

const nonmailVerb = /^(rset|noop|vrfy|help)(\s|$)/i

class WorldConnection extends SMTPConnection {
  readonly world: WorldServer
  readonly rawSocket: Socket | TLSSocket
  errors = 0
  open = true
  /** Non-mail commands counted (Exim's `smtp_accept_max_nonmail`), and whether the free RSET was used. */
  nonmail = 0
  freeReset = true

  constructor(server: WorldServer, socket: Socket | TLSSocket, options?: SMTPConnectionOptions | null) {
    super(server, socket, options)
    this.world = server
    this.rawSocket = socket
  }

  // SMTPConnection.init waits 100 ms before greeting, to catch early talkers; the world greets at once
  // (behaviour.greetingDelay adds a delay) and still answers early talkers with 421.
  override init(): void {
    this._setListeners(() => this.connectionReady())
  }

  override _onClose(): void {
    if (this.open) {
      this.open = false
      this.world.sockets.delete(this.rawSocket)
      const client = this.rawSocket.remoteAddress ?? ""
      const open = (this.world.perClient.get(client) ?? 1) - 1
      if (open <= 0) this.world.perClient.delete(client)
      else this.world.perClient.set(client, open)
      this.world.state.recorder.closed(this.world.plan.address)
    }
    super._onClose()
  }

  override send(code: number, data?: string | Array<string> | null, context?: string | false): void {
    if (code >= 400 && code !== 421 && this._ready) this.errors++
    if (typeof data === "string" && enhanced.test(data)) return super.send(code, data, false)
    if (code === 250 && (context === "RCPT_TO_OK" || context === "MAIL_FROM_OK")) return super.send(code, "Ok", context)
    super.send(code, data, context)
  }

  override _onCommand(command: Buffer, callback?: () => void): void {
    const line = command.toString("utf8")
    this.world.state.recorder.command(this.world.plan.address, line, this.rawSocket.remoteAddress ?? "")
    const nonmail = this.world.plan.spec.behaviour?.maxNonmail
    if (nonmail !== undefined && this._ready && !this._upgrading && nonmailVerb.test(line)) {
      // Exim lets one RSET a connection go uncounted; every other one counts.
      if (this.freeReset && /^rset/i.test(line)) this.freeReset = false
      else if (++this.nonmail > nonmail) {
        this.send(554, "5.7.0 Too many nonmail commands")
        return this.close()
      }
    }
    const limit = this.world.plan.spec.behaviour?.hardErrorLimit
    if (limit !== undefined && this.errors >= limit && this._ready && !this._upgrading) {
      return this.send(421, `4.7.0 ${this.name} Error: too many errors`) // closes the connection
    }
    const soft = this.world.plan.spec.behaviour?.softErrorLimit
    if (soft !== undefined && this.errors >= soft && this._ready && !this._upgrading) {
      // Like Postfix past smtpd_soft_error_limit: every reply from now on comes late.
      const sleep = Duration.toMillis(
        Duration.fromInputUnsafe(this.world.plan.spec.behaviour?.errorSleep ?? "1 second")
      )
      setTimeout(() => {
        if (this.open) super._onCommand(command, callback)
      }, sleep)
      return
    }
    super._onCommand(command, callback)
  }

  override handler_VRFY(command: Buffer, callback: () => void): void {
    if (this.world.plan.spec.behaviour?.vrfy) {
      const answer = Plan.vrfy(this.world.plan, command.toString("utf8").replace(/^\S+\s*/, ""))
      this.send(answer.code, answer.text)
    } else {
      this.send(502, "5.5.1 VRFY command is disabled")
    }
    callback()
  }

  override handler_STARTTLS(command: Buffer, callback: () => void): void {
    if (!offersTls(this.world.plan)) {
      this.send(502, "5.5.1 Error: command not implemented")
      return callback()
    }
    super.handler_STARTTLS(command, callback)
  }
}

const offersTls = (plan: Plan.HostPlan): boolean =>
  plan.spec.behaviour?.starttls === true || plan.spec.behaviour?.requireTls === true

const refusal = (code: number, message: string): Error & { responseCode: number } =>
  Object.assign(new Error(message), { responseCode: code })

const makeServer = (plan: Plan.HostPlan, state: WorldState): WorldServer => {
  const behaviour = plan.spec.behaviour ?? {}
  const delay = behaviour.greetingDelay === undefined ? 0 : Duration.toMillis(behaviour.greetingDelay)
  const server: WorldServer = new WorldServer(plan, state, {
    name: plan.name,
    banner: "rcpt mail world",
    heloResponse: "%s",
    key: privateKey,
    cert: certificate,
    logger: false,
    authOptional: true,
    disabledCommands: ["AUTH"],
    hideSTARTTLS: !offersTls(plan),
    hidePIPELINING: behaviour.pipelining === false,
    hideENHANCEDSTATUSCODES: false,
    disableReverseLookup: true,
    size: 10_240_000,
    closeTimeout: 100,
    ...(behaviour.idleTimeout === undefined ? {} : { socketTimeout: Duration.toMillis(behaviour.idleTimeout) }),
    ...(behaviour.maxRecipients === undefined ? {} : { maxRecipients: behaviour.maxRecipients }),
    onConnect: (session, callback) => {
      const greet = () => {
        if (behaviour.greeting === "554") {
          return callback(
            refusal(554, `5.7.1 ${plan.name} Service unavailable; client [${session.remoteAddress}] blocked`)
          )
        }
        const max = behaviour.maxConnectionsPerClient
        if (max !== undefined && (server.perClient.get(session.remoteAddress) ?? 0) > max) {
          // Postfix's anvil limit (smtpd_client_connection_count_limit), in its words.
          return callback(refusal(421, `4.7.0 ${plan.name} Error: too many connections from ${session.remoteAddress}`))
        }
        if (behaviour.greeting === "421") {
          return callback(refusal(421, `4.3.2 ${plan.name} Service currently unavailable`))
        }
        callback()
      }
      if (delay <= 0) return greet()
      const timer = setTimeout(() => {
        state.timers.delete(timer)
        greet()
      }, delay)
      state.timers.add(timer)
    },
    onMailFrom: (_address, session, callback) => {
      if (behaviour.requireTls && !session.secure) {
        return callback(refusal(530, "5.7.0 Must issue a STARTTLS command first"))
      }
      callback()
    },
    onRcptTo: (address, session, callback) => {
      const answer = Plan.rcpt(plan, address.address, session.remoteAddress, state.greylist)
      if (answer.code === 250) return callback()
      callback(refusal(answer.code, answer.text))
    },
    onData: (stream, _session, callback) => {
      stream.on("end", () => callback(refusal(554, "5.7.1 Error: this mail world delivers no mail")))
      stream.resume()
    }
  })
  server.on("error", () => undefined) // client resets and the like; listen errors are handled in listen()
  return server
}

const listen = (server: WorldServer, port: number, address: string): Effect.Effect<number, Error> =>
  Effect.callback<number, Error>((resume) => {
    const onError = (error: Error) => resume(Effect.fail(error))
    server.server.once("error", onError)
    server.server.listen(port, address, () => {
      server.server.off("error", onError)
      const bound = server.server.address()
      resume(Effect.succeed(typeof bound === "object" && bound !== null ? bound.port : port))
    })
  })

// The addresses of `down` hosts must be free on the chosen port too, so that connecting is refused.
const probe = (port: number, address: string): Effect.Effect<void, Error> =>
  Effect.callback<void, Error>((resume) => {
    const server = createServer()
    server.once("error", (error) => resume(Effect.fail(error)))
    server.listen(port, address, () => server.close(() => resume(Effect.void)))
  })

const closeServer = (server: WorldServer): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (!server.server.listening) return resume(Effect.void)
    server.close(() => resume(Effect.void))
    for (const socket of server.sockets) socket.destroy()
  })

const closeAll = (servers: ReadonlyArray<WorldServer>, state: WorldState): Effect.Effect<void> =>
  Effect.suspend(() => {
    for (const timer of state.timers) clearTimeout(timer)
    state.timers.clear()
    return Effect.forEach(servers, closeServer, { concurrency: "unbounded", discard: true })
  })

/**
 * Starts every host that is not `down` on `plan.smtpPort`, or on one free port when that is 0 (retrying when a later
 * address finds the first one's port taken).
 *
 * @category constructors
 * @since 0.1.0
 */
export const start = (plan: Plan.Plan, recorder: Recorder): Effect.Effect<SmtpHosts, Error> => {
  const state: WorldState = { recorder, greylist: new Map(), timers: new Set() }
  const up = plan.hosts.filter((host) => host.spec.behaviour?.down !== true)
  const down = plan.hosts.filter((host) => host.spec.behaviour?.down === true)
  const once = Effect.suspend(() => {
    const servers = up.map((host) => makeServer(host, state))
    return Effect.gen(function* () {
      let port = plan.smtpPort
      for (const [index, server] of servers.entries()) {
        const bound = yield* listen(server, port, up[index]!.address)
        if (port === 0) port = bound
      }
      if (port === 0) {
        // No host listens: still pick a port, and keep it free on the down hosts' addresses.
        port = yield* Effect.callback<number, Error>((resume) => {
          const server = createServer()
          server.once("error", (error) => resume(Effect.fail(error)))
          server.listen(0, "127.0.0.1", () => {
            const address = server.address()
            server.close(() => resume(Effect.succeed(typeof address === "object" && address ? address.port : 0)))
          })
        })
      }
      for (const host of down) yield* probe(port, host.address)
      return { port, close: closeAll(servers, state) }
    }).pipe(Effect.onError(() => closeAll(servers, state)))
  })
  return once.pipe(
    Effect.retry({
      times: 20,
      while: (error) => plan.smtpPort === 0 && (error as NodeJS.ErrnoException).code === "EADDRINUSE"
    })
  )
}
