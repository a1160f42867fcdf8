// The jobs service for tests: a MailWorld (DNS + SMTP on loopback), the server with an in-memory
// job store on 127.0.0.1 port 0, and `fetch` against it.
import { Effect, Layer, Logger, Schedule, Schema } from "effect"
import { HttpServer } from "effect/http"
import { NodeVerifier } from "@rcpt/node"
import { MailWorld } from "@rcpt/testing"
import * as JobOptions from "../src/JobOptions.ts"
import * as Jobs from "../src/Jobs.ts"
import * as JobsApi from "../src/JobsApi.ts"
import * as Server from "../src/Server.ts"

export interface Reply {
  readonly status: number
  readonly contentType: string | null
  readonly retryAfter: string | null
  readonly text: string
}

export interface Service {
  readonly base: string
  readonly request: (path: string, init?: RequestInit) => Effect.Effect<Reply>
  readonly upload: (body: NonNullable<RequestInit["body"]>, contentType: string, query?: string) => Effect.Effect<Reply>
}

export const withService = <A, E>(
  f: (service: Service) => Effect.Effect<A, E>,
  jobs: typeof Jobs.layerMemory = Jobs.layerMemory,
  options: Server.RouteOptions = {}
) =>
  Effect.gen(function* () {
    const world = yield* MailWorld.start(MailWorld.demo)
    // The process's verifier and the per-job ones over the same shared state, as `rcpt serve` has them.
    const verifier = JobOptions.layerWithVerifier(
      NodeVerifier.layerRequirements({
        helo: "jobs.rcpt.test",
        allowSpecialUse: ["test"],
        // The world is on loopback, which the target policy refuses unless opened.
        allowTargets: ["127.0.0.0/8"],
        port: world.smtpPort,
        dnsServers: [world.dns],
        timeout: "10 seconds"
      })
    )
    const server = Server.layer({ ...options, port: 0 }).pipe(
      Layer.provide(jobs.pipe(Layer.provideMerge(verifier), Layer.orDie)),
      Layer.provide(Logger.layer([]))
    )
    return yield* HttpServer.addressFormattedWith((base) => {
      const request = (path: string, init?: RequestInit) =>
        Effect.promise(() =>
          fetch(`${base}${path}`, init).then((r) =>
            r.text().then((text) => ({
              status: r.status,
              contentType: r.headers.get("content-type"),
              retryAfter: r.headers.get("retry-after"),
              text
            }))
          )
        )
      const upload = (body: NonNullable<RequestInit["body"]>, contentType: string, query = "") =>
        request(`/v1/jobs${query}`, {
          method: "POST",
          body,
          // x-requested-with: uploads that are not JSON need a header a cross-origin page cannot send (Guard).
          headers: { "x-requested-with": "test", ...(contentType === "" ? {} : { "content-type": contentType }) }
        })
      return f({ base, request, upload })
    }).pipe(Effect.provide(server))
  }).pipe(Effect.scoped)

/** Polls the job until it is over. */
export const finished = (service: Service, id: string) =>
  service.request(`/v1/jobs/${id}`).pipe(
    Effect.map((reply) => Schema.decodeUnknownSync(JobsApi.Job)(JSON.parse(reply.text))),
    Effect.repeat({
      schedule: Schedule.spaced("100 millis"),
      until: (j) => j.state !== "queued" && j.state !== "running"
    }),
    Effect.timeout("60 seconds")
  )
