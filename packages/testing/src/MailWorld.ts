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
import type { Duration, Scope } from "effect"
import * as Dns from "./internal/dns.ts"
import * as Plan from "./internal/plan.ts"
import * as Recorder from "./internal/recorder.ts"
import * as Smtp from "./internal/smtp.ts"
import * as Certificate from "./internal/certificate.ts"

/**
 * A mail domain: its DNS records and the mailbox rules of the hosts that serve it.
 *
 * @category models
 * @since 0.1.0
 */
export interface DomainSpec {
  /** e.g. `"alpha.test"`. */
  readonly name: string
  /** MX records by host name. Omitted: no MX (an implicit MX on the domain's own A record). */
  readonly mx?: ReadonlyArray<{ readonly host: string; readonly preference: number }>
  /** Publish the null MX `MX 0 .` (RFC 7505); nothing serves the domain. */
  readonly nullMx?: boolean
  /** A records of the domain itself (for an implicit MX). A host named like the domain adds its address too. */
  readonly a?: ReadonlyArray<string>
  /** Local parts that exist (`250 2.1.5 Ok`); others get `550 5.1.1`. Compared case-insensitively. */
  readonly users?: ReadonlyArray<string>
  /** Accept every local part. */
  readonly catchAll?: boolean
  /** Each (client IP, recipient) gets `450 4.2.0 ... Greylisted` the first `attempts` times, then normal handling. */
  readonly greylist?: { readonly attempts: number }
  /** These local parts get `552 5.2.2 ... Mailbox full`. */
  readonly full?: ReadonlyArray<string>
  /** These local parts get `550 5.2.1 ... Mailbox disabled`. */
  readonly disabled?: ReadonlyArray<string>
}

/**
 * An MX host: a name (with an A record) and the loopback address it listens on.
 *
 * A host serves the domains whose MX names it, and those without MX whose A records (or name) are its own; any other
 * recipient domain gets `554 5.7.1 Relay access denied`.
 *
 * @category models
 * @since 0.1.0
 */
export interface HostSpec {
  /** e.g. `"mx1.alpha.test"`. */
  readonly name: string
  /** e.g. `"127.0.0.2"`; must be in 127.0.0.0/8 and unique in the world. */
  readonly address: string
  readonly behaviour?: {
    /** Offer STARTTLS with the world's self-signed {@link certificate}. Off: `502 5.5.1` to STARTTLS. */
    readonly starttls?: boolean
    /** MAIL before STARTTLS gets `530 5.7.0 Must issue a STARTTLS command first`. Implies `starttls`. */
    readonly requireTls?: boolean
    /** Answer VRFY (`250 2.0.0 <user@d>` for a listed mailbox, `550 5.1.1` otherwise). Off: `502 5.5.1 VRFY command is disabled`. */
    readonly vrfy?: boolean
    /** Advertise PIPELINING (default true). Pipelined commands are answered either way. */
    readonly pipelining?: boolean
    /** Accepted recipients per transaction; further RCPTs get `452 4.5.3 Error: too many recipients`. */
    readonly maxRecipients?: number
    /** After this many error replies in a session, the next command gets `421 4.7.0 <host> Error: too many errors` and the connection closes. */
    readonly hardErrorLimit?: number
    /**
     * Postfix's error sleep: after this many error replies in a session, every command waits
     * `errorSleep` (default 1 s) before it is handled (`smtpd_soft_error_limit`).
     */
    readonly softErrorLimit?: number
    readonly errorSleep?: Duration.Input
    /** Wait this long before the greeting (or the refusal). */
    readonly greetingDelay?: Duration.Input
    /** `"554"`: `554 5.7.1 ... Service unavailable` at connect; `"421"`: `421 4.3.2 ...`; either then closes. */
    readonly greeting?: "ok" | "554" | "421"
    /** Nothing listens: connecting to the address is refused. The host still has its A record. */
    readonly down?: boolean
  }
}

/**
 * @category models
 * @since 0.1.0
 */
export interface WorldSpec {
  readonly domains: ReadonlyArray<DomainSpec>
  readonly hosts: ReadonlyArray<HostSpec>
  /** The SMTP port of every host; 0 or omitted picks one that is free on every host's address. */
  readonly smtpPort?: number
}

/**
 * What the hosts saw, keyed by host address: connections accepted, peak simultaneous connections, RCPT commands, and
 * every command line received (all hosts, oldest first, the last 10,000), for injection tests.
 *
 * @category models
 * @since 0.1.0
 */
export interface Stats {
  readonly connections: Record<string, number>
  readonly maxConcurrent: Record<string, number>
  readonly rcptCommands: Record<string, number>
  readonly commands: ReadonlyArray<{ readonly host: string; readonly line: string }>
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
