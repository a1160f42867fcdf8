/**
 * The rcpt HTTP service on Node.js: the {@link Api.Api} implemented over a `Verifier.Verifier`
 * and served by `NodeHttpServer`, with `/openapi.json` and the Scalar reference at `/docs`.
 *
 * **When to use**
 *
 * `layer({ port })` with a verifier layer (`NodeVerifier.layer(...)`) is a whole service;
 * `Layer.launch` it. `layerRoutes` is the same API without a server, to mount next to other
 * routes of your own `HttpRouter` app.
 *
 * **Gotchas**
 * - The default host is 127.0.0.1: listening on other interfaces is a decision (`host: "0.0.0.0"`),
 *   best taken with a `secret`.
 * - `/v1/health`, `/openapi.json` and `/docs` need no secret: probes and the docs page can reach
 *   them, and the docs page can send the secret with its requests.
 * - A request body over {@link maxBodySize} is refused with 413 (`layerRoutes` included).
 *
 * @since 0.1.0
 */
import { NodeHttpServer } from "@effect/platform-node"
import { ByteSize, Effect, Layer, Redacted, Stream } from "effect"
import { HttpIncomingMessage, HttpRouter, HttpServer } from "effect/http"
import type { HttpServerError } from "effect/http"
import { HttpApiBuilder, HttpApiMiddleware, HttpApiScalar } from "effect/http-api"
import { createHash, timingSafeEqual } from "node:crypto"
import { createServer } from "node:http"
import type { Verification } from "@rcpt/verifier"
import { Verifier } from "@rcpt/verifier"
import type { JobStore } from "@rcpt/store"
import * as Api from "./Api.ts"
import * as ClusterApi from "./ClusterApi.ts"
import * as JobsApi from "./JobsApi.ts"
import type * as JobRunner from "./JobRunner.ts"
import * as JobsServer from "./JobsServer.ts"
import * as Page from "./Page.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** 0 picks a free port; read it from `HttpServer.HttpServer`'s `address`. */
  readonly port: number
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** When set, `/v1/verify*` require it in `x-rcpt-secret`. An empty secret admits nobody. */
  readonly secret?: Redacted.Redacted | string | undefined
}

/**
 * The largest request body read (1 MiB: a full batch of long addresses fits many times over).
 *
 * @category constants
 * @since 0.1.0
 */
export const maxBodySize: ByteSize.ByteSize = ByteSize.mebibytes(1)

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest()

/**
 * The {@link Api.Authorization} middleware: with a secret, a request passes only when its
 * `x-rcpt-secret` equals it (SHA-256 both, then `timingSafeEqual`: neither the content nor the
 * length of the secret shows in the timing); without one, every request passes.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerAuthorization = (secret: Redacted.Redacted | string | undefined): Layer.Layer<Api.Authorization> =>
  Layer.sync(Api.Authorization, () => {
    if (secret === undefined) return Api.Authorization.of({ secret: (effect) => effect })
    const text = typeof secret === "string" ? secret : Redacted.value(secret)
    const expected = digest(text)
    return Api.Authorization.of({
      secret: (effect, { credential }) => {
        const given = Redacted.value(credential)
        // Both sides are hashed and compared whatever the input, so a miss costs what a match does.
        const same = timingSafeEqual(digest(given), expected)
        return same && text.length > 0
          ? effect
          : Effect.fail(
              new Api.Unauthorized({
                detail: given.length === 0 ? `Missing ${Api.secretHeader} header` : `Wrong ${Api.secretHeader} header`
              })
            )
      }
    })
  })

/**
 * Puts `verifyMany`'s results (completion order) back in the order of `addresses`. Each result
 * carries its input as given in `address`, duplicates included.
 */
const inInputOrder = (
  addresses: ReadonlyArray<string>,
  results: Iterable<Verification.Verification>
): Effect.Effect<Array<Verification.Verification>> =>
  Effect.suspend(() => {
    const slots = new Map<string, Array<number>>()
    addresses.forEach((address, i) => {
      const slot = slots.get(address)
      if (slot === undefined) slots.set(address, [i])
      else slot.push(i)
    })
    const out: Array<Verification.Verification | undefined> = Array.from({ length: addresses.length })
    for (const result of results) {
      const i = slots.get(result.address)?.shift()
      if (i !== undefined) out[i] = result
    }
    const missing = out.findIndex((v) => v === undefined)
    return missing === -1
      ? Effect.succeed(out as Array<Verification.Verification>)
      : Effect.die(new Error(`verifyMany returned no result for input #${missing} (${addresses[missing]})`))
  })

/**
 * The `verify` group over the verifier in context.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerHandlers = HttpApiBuilder.group(Api.Api, "verify", (handlers) =>
  Effect.gen(function* () {
    const verifier = yield* Verifier.Verifier
    return handlers
      .handle("verify", ({ payload }) => verifier.verify(payload.address))
      .handle("batch", ({ payload }) =>
        verifier.verifyMany(Stream.fromIterable(payload.addresses)).pipe(
          Stream.runCollect,
          Effect.flatMap((results) => inInputOrder(payload.addresses, results)),
          Effect.map((results) => ({ results }))
        )
      )
      .handle("health", () => Effect.succeed({ status: "ok" as const, version: Api.version }))
  })
)

/**
 * The `cluster` group: the status from `ClusterApi.ClusterInfo` (503 when its database fails).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerClusterHandlers = HttpApiBuilder.group(Api.Api, "cluster", (handlers) =>
  Effect.gen(function* () {
    const info = yield* ClusterApi.ClusterInfo
    return handlers.handle("status", () =>
      info.status.pipe(
        Effect.mapError(
          (e) => new JobsApi.StorageUnavailable({ detail: `the cluster's database is unavailable: ${e.message}` })
        )
      )
    )
  })
)

/** Caps the bodies the API's routes read at {@link maxBodySize} (413 past it). */
const limitBody = HttpRouter.middleware((effect) =>
  Effect.provideService(effect, HttpIncomingMessage.MaxBodySize, maxBodySize)
).layer

/**
 * The API's routes (`/v1/*`, `/openapi.json`, `/docs`) for an `HttpRouter` app, with schema
 * failures as RFC 9457 problems that list each issue and bodies capped at {@link maxBodySize}.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerRoutes = (options: { readonly secret?: Redacted.Redacted | string | undefined } = {}) =>
  Layer.mergeAll(
    HttpApiBuilder.layer(Api.Api, { openapiPath: "/openapi.json" }).pipe(
      Layer.provide(
        Layer.mergeAll(layerHandlers, JobsServer.layerHandlers, layerClusterHandlers).pipe(
          Layer.provide([
            layerAuthorization(options.secret),
            HttpApiMiddleware.layerProblemDetails({ includeDetails: true })
          ])
        )
      ),
      Layer.provide(limitBody)
    ),
    HttpApiScalar.layer(Api.Api, { path: "/docs" }),
    Page.layer
  )

/**
 * The service on Node.js: listens on `host:port`, logs `rcpt http listening on <url>` once the
 * routes are served, and closes the server (letting requests in flight finish) when the layer's
 * scope closes.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options: Options
): Layer.Layer<
  HttpServer.HttpServer,
  HttpServerError.ServeError,
  Verifier.Verifier | JobStore.JobStore | JobRunner.JobRunner
> => {
  const listening = HttpServer.addressFormattedWith((url) =>
    Effect.logInfo(`rcpt http listening on ${url}`).pipe(Effect.annotateLogs({ url }))
  )
  return Layer.effectDiscard(listening).pipe(
    Layer.provideMerge(HttpRouter.serve(layerRoutes(options), { disableListenLog: true })),
    Layer.provide(NodeHttpServer.layerHttpServices),
    Layer.provideMerge(
      NodeHttpServer.layerServer(createServer, { port: options.port, host: options.host ?? "127.0.0.1" })
    )
  )
}
