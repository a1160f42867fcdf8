// nodemailer's smtp-server in-process on 127.0.0.1 port 0 for the integration tests: STARTTLS (or
// implicit TLS) with the test kit's self-signed certificate, AUTH PLAIN/LOGIN/CRAM-MD5 for one
// user, and a record of every connection, AUTH and message it received.
import { Effect } from "effect"
import type { Scope } from "effect"
import type { AddressInfo } from "node:net"
import { SMTPServer } from "smtp-server"
import type { SMTPServerOptions } from "smtp-server"
// The test kit keeps the private key of its (test-only) certificate internal; tests may read it.
import { certificate, privateKey } from "../../demo/src/internal/certificate.ts"

export { certificate }

export const user = "alice"
export const password = "s3cret-Pa55"

export interface Received {
  readonly mailFrom: string
  readonly rcptTo: ReadonlyArray<string>
  readonly raw: Uint8Array
}

export interface Server {
  readonly port: number
  readonly connections: () => number
  readonly received: ReadonlyArray<Received>
  /** `METHOD user ok|fail` per AUTH attempt. */
  readonly auths: ReadonlyArray<string>
  readonly mailFroms: ReadonlyArray<string>
}

const reject = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code })

export const start = (
  options: Partial<SMTPServerOptions> & {
    /** Answer MAIL FROM with this error the first `times` times. */
    readonly failMail?: { readonly times: number; readonly code: number; readonly message: string }
  } = {}
): Effect.Effect<Server, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ readonly server: SMTPServer; readonly state: Server }>((resume) => {
      const received: Array<Received> = []
      const auths: Array<string> = []
      const mailFroms: Array<string> = []
      let connections = 0
      let port = 0
      const { failMail, ...serverOptions } = options
      const server = new SMTPServer({
        key: privateKey,
        cert: certificate,
        logger: false,
        name: "smtp.test",
        authMethods: ["PLAIN", "LOGIN", "CRAM-MD5"],
        onConnect: (_session, callback) => {
          connections++
          callback()
        },
        onAuth: (auth, _session, callback) => {
          const ok =
            auth.username === user &&
            (auth.method === "CRAM-MD5" ? auth.validatePassword(password) : auth.password === password)
          auths.push(`${auth.method} ${auth.username} ${ok ? "ok" : "fail"}`)
          if (ok) callback(null, { user: auth.username })
          else callback(reject(535, "Error: authentication failed"))
        },
        onMailFrom: (address, _session, callback) => {
          mailFroms.push(address.address)
          if (failMail !== undefined && mailFroms.length <= failMail.times) {
            return callback(reject(failMail.code, failMail.message))
          }
          callback()
        },
        onRcptTo: (address, _session, callback) => {
          if (address.address.startsWith("nobody@")) return callback(reject(550, "5.1.1 User unknown"))
          callback()
        },
        onData: (stream, session, callback) => {
          const chunks: Array<Buffer> = []
          stream.on("data", (chunk: Buffer) => chunks.push(chunk))
          stream.on("end", () => {
            const from = session.envelope.mailFrom
            received.push({
              mailFrom: from === false ? "" : from.address,
              rcptTo: session.envelope.rcptTo.map((r) => r.address),
              raw: new Uint8Array(Buffer.concat(chunks))
            })
            callback(null, `Ok: queued as QID${received.length}`)
          })
        },
        ...serverOptions
      })
      server.on("error", () => {})
      server.listen(0, "127.0.0.1", () => {
        port = (server.server.address() as AddressInfo).port
        resume(
          Effect.succeed({
            server,
            state: {
              get port() {
                return port
              },
              connections: () => connections,
              received,
              auths,
              mailFroms
            }
          })
        )
      })
    }),
    ({ server }) => Effect.callback<void>((resume) => server.close(() => resume(Effect.void)))
  ).pipe(Effect.map(({ state }) => state))
