/**
 * A throwaway PostgreSQL server for tests: `initdb` into a temporary directory, started on
 * 127.0.0.1 at a free port with `fsync=off`, stopped and deleted when the scope closes.
 *
 * Uses the distribution's server binaries (Debian: `apt-get install -y postgresql`, found under
 * /usr/lib/postgresql/<version>/bin, or on PATH). PostgreSQL refuses to run as root, so as root the
 * cluster belongs to the `postgres` user and its commands run through `runuser`.
 *
 * **When to use**
 *
 * `Postgres.start` inside a suite's scope (`layer(...)` of @effect/vitest, or `it.scoped`); when
 * it fails with {@link PostgresUnavailable}, skip the suite with its `reason`.
 *
 * @since 0.1.0
 */
import { Data, Effect } from "effect"
import type { Scope } from "effect"
import { execFileSync, spawnSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

/**
 * Why no server could be started (no binaries, initdb or start failed), said in `reason`.
 *
 * @category errors
 * @since 0.1.0
 */
export class PostgresUnavailable extends Data.TaggedError("PostgresUnavailable")<{ readonly reason: string }> {}

/**
 * A running server: connect with `url` (user `postgres`, no password, database `postgres`).
 *
 * @category models
 * @since 0.1.0
 */
export interface Server {
  readonly url: string
  readonly port: number
  readonly dataDir: string
}

/** The directory with initdb/pg_ctl: the newest /usr/lib/postgresql/N/bin, else PATH. */
const binDir = (): string | undefined => {
  const root = "/usr/lib/postgresql"
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a))
    if (versions.length > 0) return join(root, versions[0]!, "bin")
  }
  const which = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" })
  const found = which.stdout.trim()
  return which.status === 0 && found !== "" ? found.slice(0, found.lastIndexOf("/")) : undefined
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))
      )
    })
  })

const isRoot = () => process.getuid?.() === 0

/** Runs a server binary, as `postgres` when we are root. */
const run = (bin: string, args: ReadonlyArray<string>) => {
  const [file, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, [...args]]
  execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 })
}

const describe = (e: unknown) => {
  if (e instanceof Error) {
    const stderr = (e as { stderr?: Buffer | string }).stderr
    return `${e.message}${stderr === undefined ? "" : `: ${String(stderr).trim().slice(0, 500)}`}`
  }
  return String(e)
}

/**
 * Starts a server for the scope. Fails with {@link PostgresUnavailable} when there are no binaries
 * (install Debian's `postgresql`) or they cannot run.
 *
 * @category constructors
 * @since 0.1.0
 */
export const start: Effect.Effect<Server, PostgresUnavailable, Scope.Scope> = Effect.acquireRelease(
  Effect.gen(function* () {
    const bin = binDir()
    if (bin === undefined) {
      return yield* new PostgresUnavailable({ reason: "no PostgreSQL server binaries (apt-get install -y postgresql)" })
    }
    const port = yield* Effect.promise(freePort)
    return yield* Effect.try({
      try: () => {
        const root = mkdtempSync(join(tmpdir(), "rcpt-pg-"))
        const dataDir = join(root, "data")
        if (isRoot()) chownSync(root, Number(execFileSync("id", ["-u", "postgres"]).toString()), 0)
        try {
          run(join(bin, "initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"])
          run(join(bin, "pg_ctl"), [
            "-D",
            dataDir,
            "-w",
            "-t",
            "30",
            "-l",
            join(root, "log"),
            "-o",
            `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
            "start"
          ])
        } catch (e) {
          rmSync(root, { recursive: true, force: true })
          throw e
        }
        return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dataDir, root, bin }
      },
      catch: (e) => new PostgresUnavailable({ reason: describe(e) })
    })
  }),
  (server) =>
    Effect.sync(() => {
      try {
        run(join(server.bin, "pg_ctl"), ["-D", server.dataDir, "-m", "immediate", "-w", "stop"])
      } catch {
        // Already gone: nothing to stop.
      }
      rmSync(server.root, { recursive: true, force: true })
    })
).pipe(Effect.map(({ url, port, dataDir }) => ({ url, port, dataDir })))
