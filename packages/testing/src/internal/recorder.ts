/**
 * What the world's SMTP hosts saw: connections (total and peak simultaneous), RCPT commands, and the last command
 * lines, per host address. Mutated synchronously from socket callbacks; read through {@link Recorder.snapshot}.
 *
 * @since 0.1.0
 */

/**
 * How many command lines are kept (the oldest are dropped first).
 *
 * @category constants
 * @since 0.1.0
 */
export const commandLimit = 10_000

/**
 * @category models
 * @since 0.1.0
 */
export interface Snapshot {
  readonly connections: Record<string, number>
  readonly maxConcurrent: Record<string, number>
  readonly rcptCommands: Record<string, number>
  readonly commands: ReadonlyArray<{ readonly host: string; readonly line: string; readonly client: string }>
  /** Connections per host address, by the client address they came from. */
  readonly clients: Record<string, Record<string, number>>
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Recorder {
  readonly opened: (host: string, client: string) => void
  readonly closed: (host: string) => void
  readonly command: (host: string, line: string, client: string) => void
  readonly snapshot: () => Snapshot
  readonly reset: () => void
}

const bump = (map: Map<string, number>, host: string, by: number): number => {
  const value = (map.get(host) ?? 0) + by
  map.set(host, value)
  return value
}

const record = (map: Map<string, number>): Record<string, number> => Object.fromEntries(map)

/**
 * A recorder with every host address at zero.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (hosts: ReadonlyArray<string>): Recorder => {
  const connections = new Map<string, number>()
  const active = new Map<string, number>()
  const peak = new Map<string, number>()
  const rcpt = new Map<string, number>()
  // A ring buffer: `start` is the oldest entry once it is full.
  let commands: Array<{ readonly host: string; readonly line: string; readonly client: string }> = []
  let clients = new Map<string, Map<string, number>>()
  let start = 0
  const zero = () => {
    for (const host of hosts) {
      connections.set(host, 0)
      peak.set(host, active.get(host) ?? 0)
      rcpt.set(host, 0)
    }
    commands = []
    clients = new Map()
    start = 0
  }
  for (const host of hosts) active.set(host, 0)
  zero()
  return {
    opened: (host, client) => {
      bump(connections, host, 1)
      const byClient = clients.get(host) ?? new Map<string, number>()
      clients.set(host, byClient)
      bump(byClient, client, 1)
      const now = bump(active, host, 1)
      if (now > (peak.get(host) ?? 0)) peak.set(host, now)
    },
    closed: (host) => {
      bump(active, host, -1)
    },
    command: (host, line, client) => {
      if (/^rcpt(\s|$)/i.test(line)) bump(rcpt, host, 1)
      const entry = { host, line, client }
      if (commands.length < commandLimit) {
        commands.push(entry)
      } else {
        commands[start] = entry
        start = (start + 1) % commandLimit
      }
    },
    snapshot: () => ({
      connections: record(connections),
      maxConcurrent: record(peak),
      rcptCommands: record(rcpt),
      commands: [...commands.slice(start), ...commands.slice(0, start)],
      clients: Object.fromEntries(Array.from(clients, ([host, byClient]) => [host, record(byClient)]))
    }),
    reset: zero
  }
}
