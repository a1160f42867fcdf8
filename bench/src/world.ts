/**
 * One network condition's servers: the in-process mail world (DNS + one SMTP server per MX host) and, for the
 * delayed condition, the delay proxy in a process of its own.
 *
 * - `loopback`: the SMTP servers listen on `port` (25 as root) of their MX addresses.
 * - `delay`: the servers move to `serverPort` (2525 as root) and the proxy takes the MX addresses' `port`, so DNS is
 *   unchanged and every contender goes through the proxy without being told.
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import { once } from "node:events"
import { fileURLToPath } from "node:url"
import { Effect, Exit, Scope } from "effect"
import { MailWorld } from "@rcpt/testing"
import type { ProxyOptions } from "./delay-proxy.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface Condition {
  readonly name: "loopback" | "delay"
  readonly delayMs: number
}

/**
 * @category models
 * @since 0.1.0
 */
export interface RunningWorld {
  readonly dns: string
  /** The port contenders dial (the proxy's when delayed). */
  readonly port: number
  /** SMTP connections the servers accepted since the last reset. */
  readonly connections: () => Promise<number>
  readonly reset: () => Promise<void>
  readonly stop: () => Promise<void>
}

const proxyPath = fileURLToPath(new URL("./delay-proxy.ts", import.meta.url))

const startProxy = async (options: ProxyOptions): Promise<ChildProcess> => {
  const child = spawn(process.execPath, [proxyPath, JSON.stringify(options)], { stdio: ["ignore", "pipe", "inherit"] })
  child.stdout!.setEncoding("utf8")
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (text: string) => {
      if (text.includes("ready")) resolve()
    })
    child.once("exit", (code) => reject(new Error(`delay proxy exited (${code}) before it was ready`)))
  })
  await ready
  return child
}

/**
 * Starts the world (and proxy) for a condition. `port` is what contenders dial; with a delay the servers listen on
 * `serverPort` behind the proxy.
 *
 * @category constructors
 * @since 0.1.0
 */
export const start = async (
  spec: Omit<MailWorld.WorldSpec, "smtpPort">,
  condition: Condition,
  ports: { readonly port: number; readonly serverPort: number }
): Promise<RunningWorld> => {
  const scope = Effect.runSync(Scope.make())
  const delayed = condition.delayMs > 0
  const world = await Effect.runPromise(
    MailWorld.start({ ...spec, smtpPort: delayed ? ports.serverPort : ports.port }).pipe(Scope.provide(scope))
  )
  let proxy: ChildProcess | undefined
  if (delayed) {
    proxy = await startProxy({
      hosts: spec.hosts.map((h) => h.address),
      port: ports.port,
      targetPort: world.smtpPort,
      delayMs: condition.delayMs
    }).catch(async (error: unknown) => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      throw error
    })
  }
  return {
    dns: world.dns,
    port: ports.port,
    connections: async () => {
      const stats = await Effect.runPromise(world.stats)
      return Object.values(stats.connections).reduce((a, b) => a + b, 0)
    },
    reset: () => Effect.runPromise(world.resetStats),
    stop: async () => {
      if (proxy !== undefined && proxy.exitCode === null) {
        const exited = once(proxy, "exit")
        proxy.kill("SIGTERM")
        await exited
      }
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }
}
