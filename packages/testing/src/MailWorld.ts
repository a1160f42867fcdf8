/**
 * An in-process mail world for integration tests and the offline `rcpt demo`: an authoritative DNS server (npm
 * `dns2`, UDP and TCP on one port of 127.0.0.1) and one real SMTP server per MX host (nodemailer's `smtp-server`),
 * every host on its own loopback address (127.0.0.2, 127.0.0.3, ...) and all on the same port, since a verifier
 * dials each MX's A record on one configured port.
 *
 * Point the verifier at {@link World.dns} as its DNS server and at {@link World.smtpPort} as its SMTP port. Replies
 * follow Postfix (`250 2.1.5 Ok`, `550 5.1.1 <x@d>: Recipient address rejected: User unknown ...`,
 * `554 5.7.1 <x@d>: Relay access denied`, postgrey's `450 4.2.0 ... Greylisted`).
 *
 * **Gotchas**
 * - Linux routes all of 127.0.0.0/8 to the loopback interface; other systems may need aliases for 127.0.0.2 and up.
 * - Greylisting comes before the mailbox check: an unknown user on a greylisted domain first gets 450, then 550.
 * - Greylist counters belong to the world and survive {@link World.resetStats}.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import type { Scope } from "effect"
import * as Dns from "./internal/dns.ts"
import type { WorldSpec } from "./internal/spec.ts"
import * as Plan from "./internal/plan.ts"
import * as Recorder from "./internal/recorder.ts"
import * as Smtp from "./internal/smtp.ts"
import * as Certificate from "./internal/certificate.ts"

export type { DomainSpec, HostSpec, WorldSpec } from "./internal/spec.ts"

/**
 * What the hosts saw, keyed by host address: connections accepted (and from which client address), peak simultaneous
 * connections, RCPT commands, and every command line received (with the client's address) (all hosts, oldest first, the last 10,000), for injection tests.
 *
 * @category models
 * @since 0.1.0
 */
export interface Stats {
  readonly connections: Record<string, number>
  readonly maxConcurrent: Record<string, number>
  readonly rcptCommands: Record<string, number>
  readonly commands: ReadonlyArray<{ readonly host: string; readonly line: string; readonly client: string }>
  /** Connections per host address, by the client address they came from (source addresses, proxies). */
  readonly clients: Record<string, Record<string, number>>
}

/**
 * A running world.
 *
 * @category models
 * @since 0.1.0
 */
export interface World {
  /** `"127.0.0.1:<port>"`, for the verifier's DNS server setting. */
  readonly dns: string
  readonly smtpPort: number
  readonly stats: Effect.Effect<Stats>
  /** Zeroes the counters (the peak restarts from the connections open now) and forgets the commands. */
  readonly resetStats: Effect.Effect<void>
}

/**
 * The spec is inconsistent (`InvalidSpec`) or a server could not listen (`Listen`).
 *
 * @category errors
 * @since 0.1.0
 */
export class MailWorldError extends Schema.TaggedError<MailWorldError>()("MailWorldError", {
  reason: Schema.Literals(["InvalidSpec", "Listen"]),
  message: Schema.String
}) {}

/**
 * The PEM certificate every STARTTLS host presents: self-signed, test use only. Its names cover the {@link demo}
 * hosts and 127.0.0.1-127.0.0.8, so a client can pin it as its only CA.
 *
 * @category tls
 * @since 0.1.0
 */
export const certificate: string = Certificate.certificate

const listenError = (error: Error) => new MailWorldError({ reason: "Listen", message: error.message })

/**
 * Starts the world's DNS server and SMTP hosts; closing the scope stops them all, dropping open connections.
 *
 * @category constructors
 * @since 0.1.0
 */
export const start = (spec: WorldSpec): Effect.Effect<World, MailWorldError, Scope.Scope> =>
  Effect.gen(function* () {
    const checked = Plan.make(spec)
    if ("problems" in checked) {
      return yield* new MailWorldError({ reason: "InvalidSpec", message: checked.problems.join("; ") })
    }
    const { plan } = checked
    const recorder = Recorder.make(plan.hosts.map((host) => host.address))
    const { dns, hosts } = yield* Effect.acquireRelease(
      Effect.gen(function* () {
        const dns = yield* Dns.start(plan.zone)
        const hosts = yield* Smtp.start(plan, recorder).pipe(Effect.onError(() => dns.close))
        return { dns, hosts }
      }),
      ({ dns, hosts }) => Effect.andThen(hosts.close, dns.close)
    ).pipe(Effect.mapError(listenError))
    return {
      dns: `127.0.0.1:${dns.port}`,
      smtpPort: hosts.port,
      stats: Effect.sync(() => recorder.snapshot()),
      resetStats: Effect.sync(() => recorder.reset())
    }
  })

/**
 * A ready world, on loopback addresses 127.0.0.2 to 127.0.0.8:
 *
 * | domain | MX | mailboxes |
 * | --- | --- | --- |
 * | alpha.test | 10 mx1.alpha.test (127.0.0.2, STARTTLS) | alice, bob; carol full (552), dave disabled (550 5.2.1) |
 * | catchall.test | 10 mx.catchall.test (127.0.0.3) | every local part |
 * | greylist.test | 10 mx.greylist.test (127.0.0.4) | alice, after one 450 per (client, recipient) |
 * | nullmx.test | null MX | none |
 * | implicit.test | none: A 127.0.0.5, a host named implicit.test | alice |
 * | failover.test | 10 mx1.failover.test (127.0.0.6, down), 20 mx1.alpha.test | alice |
 * | tlsonly.test | 10 mx.tlsonly.test (127.0.0.7, requires STARTTLS) | alice |
 * | vrfy.test | 10 mx.vrfy.test (127.0.0.8, answers VRFY) | alice, bob |
 *
 * Any other name gets NXDOMAIN. The SMTP port is picked at start; spread the spec to fix it
 * (`{ ...MailWorld.demo, smtpPort: 2525 }`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const demo: WorldSpec = {
  domains: [
    {
      name: "alpha.test",
      mx: [{ host: "mx1.alpha.test", preference: 10 }],
      users: ["alice", "bob"],
      full: ["carol"],
      disabled: ["dave"]
    },
    { name: "catchall.test", mx: [{ host: "mx.catchall.test", preference: 10 }], catchAll: true },
    {
      name: "greylist.test",
      mx: [{ host: "mx.greylist.test", preference: 10 }],
      users: ["alice"],
      greylist: { attempts: 1 }
    },
    { name: "nullmx.test", nullMx: true },
    { name: "implicit.test", a: ["127.0.0.5"], users: ["alice"] },
    {
      name: "failover.test",
      mx: [
        { host: "mx1.failover.test", preference: 10 },
        { host: "mx1.alpha.test", preference: 20 }
      ],
      users: ["alice"]
    },
    { name: "tlsonly.test", mx: [{ host: "mx.tlsonly.test", preference: 10 }], users: ["alice"] },
    { name: "vrfy.test", mx: [{ host: "mx.vrfy.test", preference: 10 }], users: ["alice", "bob"] }
  ],
  hosts: [
    { name: "mx1.alpha.test", address: "127.0.0.2", behaviour: { starttls: true } },
    { name: "mx.catchall.test", address: "127.0.0.3" },
    { name: "mx.greylist.test", address: "127.0.0.4" },
    { name: "implicit.test", address: "127.0.0.5" },
    { name: "mx1.failover.test", address: "127.0.0.6", behaviour: { down: true } },
    { name: "mx.tlsonly.test", address: "127.0.0.7", behaviour: { starttls: true, requireTls: true } },
    { name: "mx.vrfy.test", address: "127.0.0.8", behaviour: { vrfy: true } }
  ]
}
