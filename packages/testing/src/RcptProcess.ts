/**
 * The `rcpt` CLI as a child process, for the tests and benches that run the real binary (the CLI's
 * own, the cluster's runners and dispatcher): the flags that point it at a mail world, an
 * environment free of the caller's settings, a scoped process, and the URL a server announces.
 *
 * @since 0.3.0
 */
import type { ChildProcess } from "node:child_process"
import { Duration, Effect } from "effect"
import type { Scope } from "effect"
import type { World } from "@rcpt/demo/MailWorld"

/**
 * Flags that point `rcpt` at a mail world: loopback opened to dialling, the world's DNS server
 * and SMTP port, an EHLO name under `.test`, a 10 s timeout per address, and its `.test` names
 * allowed (RFC 6761 special-use names are refused otherwise).
 *
 * @category flags
 * @since 0.3.0
 */
export const worldFlags = (
  world: Pick<World, "dns" | "smtpPort">,
  options: { readonly helo?: string; readonly timeout?: string } = {}
): ReadonlyArray<string> => [
  "--allow-target",
  "127.0.0.0/8",
  "--dns-server",
  world.dns,
  "--port",
  String(world.smtpPort),
  "--helo",
  options.helo ?? "test.rcpt.test",
  "--timeout",
  options.timeout ?? "10s",
  "--allow-special-use",
  "test"
]

/**
 * This process's environment without its `RCPT_*` and colour settings (so the caller's shell
 * cannot change what a test sees), plus `extra`.
 *
 * @category environment
 * @since 0.3.0
 */
export const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("RCPT_") && k !== "NO_COLOR" && k !== "FORCE_COLOR") env[k] = v
  }
  return { ...env, ...extra }
}

/**
 * A child process started by `start`, SIGKILLed when the scope closes if it is still running.
 *
 * @category constructors
 * @since 0.3.0
 */
export const scoped = (start: () => ChildProcess): Effect.Effect<ChildProcess, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.sync(start), (child) =>
    Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
  )

/**
 * The URL of a server's `listening on http://...` line on stderr. Dies with the stderr so far if
 * the process exits first or `timeout` passes.
 *
 * @category constructors
 * @since 0.3.0
 */
export const listening = (child: ChildProcess, timeout: Duration.Input = "60 seconds"): Effect.Effect<string> =>
  Effect.callback<string>((resume) => {
    let stderr = ""
    const onData = (data: Buffer) => {
      stderr += data.toString("utf8")
      const match = /listening on (http:\/\/\S+)/.exec(stderr)
      if (match !== null) {
        child.stderr!.off("data", onData)
        resume(Effect.succeed(match[1]!))
      }
    }
    child.stderr!.on("data", onData)
    child.once("exit", (code) => resume(Effect.die(new Error(`rcpt exited (${code}) before listening:\n${stderr}`))))
  }).pipe(Effect.timeout(timeout), Effect.orDie)
