/**
 * The shape of a mail world, as the test or demo writes it (re-exported by `MailWorld`). Apart
 * so that the pure planning in `plan.ts` reads it without importing the servers.
 *
 * @internal
 */
import type { Duration } from "effect"

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
     * Exim's `smtp_accept_max_nonmail`: RSET (all but a connection's first), NOOP, VRFY and HELP
     * past this many on one connection get `554 5.7.0 Too many nonmail commands` and the
     * connection closes.
     */
    readonly maxNonmail?: number
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
    /** More simultaneous connections from one client address get `421 4.7.0 ... too many connections` (Postfix's anvil). */
    readonly maxConnectionsPerClient?: number
    /** Close a connection that sent nothing for this long, with `421 Timeout - closing connection` (Postfix: `smtpd_timeout`). */
    readonly idleTimeout?: Duration.Input
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
