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
 * **Safe to expose** (each a default, each an option)
 * - Without a secret or tokens it listens only on a loopback address: `layer` fails with
 *   {@link OpenListen} otherwise.
 * - Requests whose `Host` is not one of `allowedHosts` get 421, POSTs without
 *   `application/json` 415 (`Guard`).
 * - At most `maxConnections` connections (256); a request must arrive whole, body included,
 *   within `requestTimeout` (30 s, else 408 and the connection closes); at most
 *   `limits.perCaller` requests in flight per token (8, else 429) and `limits.total` overall
 *   (12, else 503), both with `Retry-After`.
 * - When the layer's scope closes (SIGTERM), the server stops accepting connections and requests
 *   in flight get `gracePeriod` (30 s) to finish; those still running then are cut with 503.
 * - The access log is one line per request (an unknown path is a 404 line, not a stack trace).
 *
 * **Gotchas**
 * - `/v1/health`, `/openapi.json` and `/docs` need no credential: probes and the docs page can
 *   reach them, and the docs page can send the credential with its requests.
 * - A request body over {@link maxBodySize} is refused with 413 (`layerRoutes` included).
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { ByteSize, Data, Duration, Effect, Layer, Option, Redacted, Stream } from "effect"
import {
  HttpEffect,
  HttpIncomingMessage,
  HttpRouter,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse
} from "effect/http"
import type { HttpServerError } from "effect/http"
import { HttpApiBuilder, HttpApiMiddleware, HttpApiScalar } from "effect/http-api"
import { timingSafeEqual } from "node:crypto"
import { createServer } from "node:http"
import type { Verification } from "@rcpt/verifier"
import { Verifier } from "@rcpt/verifier"
import type { JobStore } from "@rcpt/store"
import * as Admission from "./Admission.ts"
import * as Api from "./Api.ts"
import * as Defaults from "./Defaults.ts"
import * as ClusterApi from "./ClusterApi.ts"
import * as JobsApi from "./JobsApi.ts"
import * as Guard from "./Guard.ts"
import type * as JobRunner from "./JobRunner.ts"
import * as JobsServer from "./JobsServer.ts"
import * as Page from "./Page.ts"
import * as Tokens from "./Tokens.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** 0 picks a free port; read it from `HttpServer.HttpServer`'s `address`. */
  readonly port: number
  /** Default `127.0.0.1`. Anything but a loopback address needs a `secret` or `tokens`. */
  readonly host?: string | undefined
  /** When set, `/v1/verify*` accept it in `x-rcpt-secret`. An empty secret admits nobody. */
  readonly secret?: Redacted.Redacted | string | undefined
  /** When set, `/v1/verify*` accept any of them as `Authorization: Bearer <token>`. */
  readonly tokens?: Tokens.Tokens | undefined
  /** Names the `Host` header may carry (IP literals always may). Default `Guard.defaultHosts(host)`. */
  readonly allowedHosts?: ReadonlyArray<string> | undefined
  /** Concurrent requests per caller and overall. Default `Admission.defaultLimits`. */
  readonly limits?: Partial<Admission.Limits> | undefined
  /** Open connections at most; more are closed on arrival. Default 256. */
  readonly maxConnections?: number | undefined
  /** Time for a whole request (headers and body) to arrive. Default 30 seconds. */
  readonly requestTimeout?: Duration.Input | undefined
  /** Time requests in flight get to finish once the server is stopping. Default 30 seconds. */
  readonly gracePeriod?: Duration.Input | undefined
}

/**
 * @category constants
 * @since 0.1.0
 */
export const defaults = Defaults.server

/**
 * The largest request body read (1 MiB: a full batch of long addresses fits many times over).
 *
 * @category constants
 * @since 0.1.0
 */
export const maxBodySize: ByteSize.ByteSize = ByteSize.mebibytes(1)

/**
 * `layer` was asked to listen beyond loopback with no secret and no tokens: anyone who can reach
 * the port could use the verifier.
 *
 * @category errors
 * @since 0.1.0
 */
export class OpenListen extends Data.TaggedError("OpenListen")<{ readonly host: string; readonly message: string }> {}

/**
 * Whether a listen host is a loopback address (or `localhost`).
 *
 * @category predicates
 * @since 0.1.0
 */
export const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || /^(?:::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(host)

/**
 * Who a request is (see `Api.Caller`).
 *
 * @category services
 * @since 0.1.0
 */
export const Caller = Api.Caller

const unauthorized = (given: string, what: string) =>
  Effect.fail(new Api.Unauthorized({ detail: given.length === 0 ? `Missing ${what}` : `Wrong ${what}` }))

/**
 * The {@link Api.Authorization} middleware. With a secret, `x-rcpt-secret` must equal it (SHA-256
 * both, then `timingSafeEqual`: neither the content nor the length of the secret shows in the
 * timing); with tokens, `Authorization: Bearer` must be one of them. Either credential passes when
 * both are configured; with neither, every request passes. Provides the {@link Caller}.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerAuthorization = (
  secret: Redacted.Redacted | string | undefined,
  tokens?: Tokens.Tokens | undefined
): Layer.Layer<Api.Authorization> =>
  Layer.sync(Api.Authorization, () => {
    if (secret === undefined && tokens === undefined) {
      const open = (effect: Parameters<Api.Authorization["Service"]["secret"]>[0]) =>
        Effect.provideService(effect, Caller, { id: "anyone", credential: undefined })
      return Api.Authorization.of({ secret: open, bearer: open })
    }
    const text = secret === undefined ? undefined : typeof secret === "string" ? secret : Redacted.value(secret)
    const expected = text === undefined ? undefined : Tokens.digest(text)
    return Api.Authorization.of({
      secret: (effect, { credential }) => {
        const given = Redacted.value(credential)
        // Both sides are hashed and compared whatever the input, so a miss costs what a match does.
        const same = expected !== undefined && timingSafeEqual(Tokens.digest(given), expected)
        return same && text!.length > 0
          ? Effect.provideService(effect, Caller, { id: "secret", credential })
          : unauthorized(given, `${Api.secretHeader} header`)
      },
      // The last scheme tried: its failure is the one the client sees, so it names what was expected.
      bearer: (effect, { credential }) =>
        Effect.gen(function* () {
          const given = Redacted.value(credential)
          const token = tokens === undefined ? undefined : Tokens.match(yield* tokens.current, given)
          if (token !== undefined)
            return yield* Effect.provideService(effect, Caller, { id: `token:${token.id}`, credential })
          const request = yield* HttpServerRequest.HttpServerRequest
          const secretGiven = request.headers[Api.secretHeader] ?? ""
          if (tokens === undefined) return yield* unauthorized(secretGiven, `${Api.secretHeader} header`)
          if (text === undefined) return yield* unauthorized(given, "bearer token")
          return yield* unauthorized(given + secretGiven, `${Api.secretHeader} header or bearer token`)
        })
    })
  })

/**
 * The {@link Api.Admission} middleware over an `Admission.Admission` service: 429 when the
 * caller, 503 when the service is at its limit, both with `Retry-After`.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerAdmission: Layer.Layer<Api.Admission, never, Admission.Admission> = Layer.effect(
  Api.Admission,
  Effect.gen(function* () {
    const admission = yield* Admission.Admission
    return Api.Admission.of((effect) =>
      Effect.gen(function* () {
        const caller = Option.match(yield* Effect.serviceOption(Caller), {
          onNone: () => "anyone",
          onSome: (c) => c.id
        })
        return yield* admission.run(caller, effect, (refusal) =>
          Effect.gen(function* () {
            yield* HttpEffect.appendPreResponseHandler((_, response) =>
              Effect.succeed(HttpServerResponse.setHeader(response, "retry-after", String(refusal.retryAfterSeconds)))
            )
            const detail = `retry after ${refusal.retryAfterSeconds} s`
            return yield* refusal._tag === "CallerBusy"
              ? new Api.TooManyRequests({ detail: `At most ${refusal.limit} requests per caller at once; ${detail}` })
              : new Api.ServiceUnavailable({ detail: `At most ${refusal.limit} requests at once; ${detail}` })
          })
        )
      })
    )
  })
)

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
 * What `layerRoutes` takes: the credentials and the concurrency limits.
 *
 * @category models
 * @since 0.1.0
 */
export interface RouteOptions {
  readonly secret?: Redacted.Redacted | string | undefined
  readonly tokens?: Tokens.Tokens | undefined
  readonly limits?: Partial<Admission.Limits> | undefined
}

/**
 * The API's routes (`/v1/*`, `/openapi.json`, `/docs`) for an `HttpRouter` app, with schema
 * failures as RFC 9457 problems that list each issue, bodies capped at {@link maxBodySize}, and
 * the credential and concurrency checks. (The `Guard` checks are `layer`'s: add `Guard.layer`
 * to your app for them.)
 *
 * @category layers
 * @since 0.1.0
 */
export const layerRoutes = (options: RouteOptions = {}) =>
  Layer.mergeAll(
    HttpApiBuilder.layer(Api.Api, { openapiPath: "/openapi.json" }).pipe(
      Layer.provide(
        Layer.mergeAll(layerHandlers, JobsServer.layerHandlers, layerClusterHandlers).pipe(
          Layer.provide([
            layerAuthorization(options.secret, options.tokens),
            layerAdmission.pipe(Layer.provide(Admission.layerMemory(options.limits))),
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
 * The service on Node.js: listens on `host:port` with the limits of {@link Options}, logs
 * `rcpt http listening on <url>` once the routes are served, and on closing its scope stops
 * accepting connections and gives requests in flight `gracePeriod` to finish.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options: Options
): Layer.Layer<
  HttpServer.HttpServer,
  HttpServerError.ServeError | OpenListen,
  Verifier.Verifier | JobStore.JobStore | JobRunner.JobRunner
> => {
  const host = options.host ?? "127.0.0.1"
  if (options.secret === undefined && options.tokens === undefined && !isLoopback(host)) {
    return Layer.effect(
      HttpServer.HttpServer,
      Effect.fail(
        new OpenListen({
          host,
          message: `refusing to listen on ${host} without a secret or tokens: anyone who can reach it could use the verifier (listen on 127.0.0.1, or set --secret-env / --token-env / --token-file)`
        })
      )
    )
  }
  const listening = HttpServer.addressFormattedWith((url) =>
    Effect.logInfo(`rcpt http listening on ${url}`).pipe(Effect.annotateLogs({ url }))
  )
  const requestTimeout = Duration.toMillis(Duration.fromInputUnsafe(options.requestTimeout ?? defaults.requestTimeout))
  const server = () => {
    const s = createServer({
      requestTimeout,
      headersTimeout: Math.min(requestTimeout, 20_000),
      // Checked this often: a slow body is cut within a second of its deadline, not 30 s later.
      connectionsCheckingInterval: 1000
    })
    s.maxConnections = options.maxConnections ?? defaults.maxConnections
    return s
  }
  return Layer.effectDiscard(listening).pipe(
    Layer.provideMerge(
      HttpRouter.serve(
        Layer.merge(
          layerRoutes(options),
          Guard.layer({ allowedHosts: options.allowedHosts ?? Guard.defaultHosts(host) })
        ),
        { disableListenLog: true }
      )
    ),
    Layer.provide(NodeHttpServer.layerHttpServices),
    Layer.provideMerge(
      NodeHttpServer.layerServer(server, {
        port: options.port,
        host,
        gracefulShutdownTimeout: options.gracePeriod ?? defaults.gracePeriod
      })
    )
  )
}
