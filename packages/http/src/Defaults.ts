/**
 * The service's default limits, in a module of their own so that a front end can show them (in
 * `rcpt serve --help`) without loading the HTTP server, the job store or their drivers.
 *
 * @since 0.2.0
 */
import { Duration } from "effect"

/**
 * Connections, request timeout and the shutdown grace period `Server.layer` uses when not given.
 *
 * @category constants
 * @since 0.2.0
 */
export const server = {
  maxConnections: 256,
  requestTimeout: Duration.seconds(30),
  gracePeriod: Duration.seconds(30)
} as const
