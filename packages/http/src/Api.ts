/**
 * The contract of the rcpt HTTP service, schema first: what `Server` serves, what `/openapi.json`
 * describes, and what a generated `HttpApiClient` calls.
 *
 * - `POST /v1/verify` `{ address }` -> `Verification`
 * - `POST /v1/verify/batch` `{ addresses }` (at most {@link maxBatch}) -> `{ results }`, in input order
 * - `GET /v1/health` -> `{ status: "ok", version }`
 *
 * Nothing a mail server does is an HTTP error: a timeout, a block or a 4xx is a `Verification`
 * with verdict `unknown`, returned with 200. HTTP errors are about the request only: a body that
 * fails the schema is a 400 RFC 9457 problem listing every issue, a missing or wrong credential
 * (`x-rcpt-secret` or `Authorization: Bearer`, when the server has any) a 401 problem, a caller
 * over its concurrent-request limit a 429 (with `Retry-After`), the whole service over its limit
 * a 503 (with `Retry-After`). Requests without `Content-Type: application/json` get 415, requests
 * whose `Host` is not one of the service's names 421 (see `Guard`).
 *
 * @since 0.1.0
 */
import { Context, Schema } from "effect"
import type { Redacted } from "effect"
import {
  HttpApi,
  HttpApiEndpoint,
  HttpApiError,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSecurity,
  OpenApi
} from "effect/http-api"
import { Verification } from "@rcpt/verifier"
import { ClusterGroup } from "./ClusterApi.ts"
import { JobsGroup } from "./JobsApi.ts"

/**
 * The version `/v1/health` reports and `/openapi.json` carries.
 *
 * @category constants
 * @since 0.1.0
 */
export const version = "0.1.0"

/**
 * Most addresses in one batch request; more is a 400.
 *
 * @category constants
 * @since 0.1.0
 */
export const maxBatch = 1000

/**
 * The request header carrying the shared secret.
 *
 * @category constants
 * @since 0.1.0
 */
export const secretHeader = "x-rcpt-secret"

/**
 * @category schemas
 * @since 0.1.0
 */
export const VerifyRequest = Schema.Struct({
  /** As the user typed it; an invalid one is an `undeliverable`/`syntax` verification, not a 400. */
  address: Schema.String
}).annotate({ identifier: "VerifyRequest" })

/**
 * @category schemas
 * @since 0.1.0
 */
export const BatchRequest = Schema.Struct({
  addresses: Schema.Array(Schema.String).pipe(Schema.check(Schema.isMaxLength(maxBatch)))
}).annotate({ identifier: "BatchRequest" })

/**
 * The result of one address: `Verification` from @rcpt/verifier, named for the OpenAPI document.
 *
 * @category schemas
 * @since 0.1.0
 */
export const VerificationResult = Verification.Verification.annotate({
  identifier: "Verification",
  description: "The verdict on one address, with its reason, score and the SMTP evidence"
})

/**
 * One verification per input address, in the input's order (duplicates included).
 *
 * @category schemas
 * @since 0.1.0
 */
export const BatchResponse = Schema.Struct({
  results: Schema.Array(VerificationResult)
}).annotate({ identifier: "BatchResponse" })

/**
 * @category schemas
 * @since 0.1.0
 */
export const Health = Schema.Struct({
  status: Schema.Literal("ok"),
  version: Schema.String
}).annotate({ identifier: "Health" })

/**
 * 401: the server has a secret and the request did not carry it in `x-rcpt-secret`.
 *
 * @category errors
 * @since 0.1.0
 */
export class Unauthorized extends HttpApiError.Problem<Unauthorized>()("Unauthorized", {
  type: "about:blank",
  status: 401,
  title: "Unauthorized"
}) {}

/**
 * 429: the caller (its token, the shared secret, or everyone on an open service) already has as
 * many requests in flight as it may. Sent with `Retry-After`.
 *
 * @category errors
 * @since 0.1.0
 */
export class TooManyRequests extends HttpApiError.Problem<TooManyRequests>()("TooManyRequests", {
  type: "about:blank",
  status: 429,
  title: "Too Many Requests"
}) {}

/**
 * 503: the service already has as many requests in flight as it takes, all callers together (or
 * it is shutting down). Sent with `Retry-After`.
 *
 * @category errors
 * @since 0.1.0
 */
export class ServiceUnavailable extends HttpApiError.Problem<ServiceUnavailable>()("ServiceUnavailable", {
  type: "about:blank",
  status: 503,
  title: "Service Unavailable"
}) {}

/**
 * Who a request is, as the {@link Authorization} middleware established it: `id` is `secret`,
 * `token:<fingerprint>` (a bearer token's, see `Tokens`) or `anyone` (a service without
 * credentials); `credential` is what the caller presented (none for `anyone`). The per-caller
 * limits count by `id`, and a job belongs to it.
 *
 * @category services
 * @since 0.1.0
 */
export class Caller extends Context.Service<
  Caller,
  { readonly id: string; readonly credential: Redacted.Redacted | undefined }
>()("@rcpt/http/Caller") {}

/**
 * The credential check on the verification and job endpoints (see `Server.layerAuthorization`):
 * the shared secret in `x-rcpt-secret`, or one of the bearer tokens. With neither configured every request
 * passes (the server allows that only on a loopback address).
 *
 * @category middleware
 * @since 0.1.0
 */
export class Authorization extends HttpApiMiddleware.Service<Authorization, { provides: Caller }>()(
  "@rcpt/http/Authorization",
  {
    error: Unauthorized,
    security: {
      secret: HttpApiSecurity.apiKey({ key: secretHeader, in: "header" }).pipe(
        HttpApiSecurity.annotate(
          OpenApi.Description,
          "The server's shared secret, when it was started with one (compared in constant time)."
        )
      ),
      bearer: HttpApiSecurity.bearer.pipe(
        HttpApiSecurity.annotate(
          OpenApi.Description,
          "One of the server's bearer tokens (--token-env / --token-file; the file is re-read when it changes)."
        )
      )
    }
  }
) {}

/**
 * The concurrency limits on the verification and job endpoints (see `Server.layerAdmission`):
 * runs inside {@link Authorization}, so it counts by the caller the credential names, and before
 * the body is read.
 *
 * @category middleware
 * @since 0.1.0
 */
export class Admission extends HttpApiMiddleware.Service<Admission>()("@rcpt/http/Admission", {
  error: [TooManyRequests, ServiceUnavailable]
}) {}

const verify = HttpApiEndpoint.post("verify", "/v1/verify", {
  payload: VerifyRequest,
  success: VerificationResult
})
  .annotate(OpenApi.Summary, "Verify one address")
  .annotate(
    OpenApi.Description,
    "Asks the address's own mail servers over SMTP. Whatever they do, the answer is a Verification (verdict unknown when none could be had)."
  )

const batch = HttpApiEndpoint.post("batch", "/v1/verify/batch", {
  payload: BatchRequest,
  success: BatchResponse
})
  .annotate(OpenApi.Summary, `Verify up to ${maxBatch} addresses`)
  .annotate(
    OpenApi.Description,
    "Groups the addresses by domain, and by MX host when domains share one, and asks their servers in as few SMTP sessions as the policy allows. Results come back in the input's order."
  )

const health = HttpApiEndpoint.get("health", "/v1/health", { success: Health }).annotate(
  OpenApi.Summary,
  "Liveness; needs no secret"
)

/**
 * The endpoints. `verify` and `batch` carry {@link Authorization} (outside) and {@link Admission}
 * (inside: the first middleware added is the innermost); `health` carries neither, so probes need
 * no secret.
 *
 * @category api
 * @since 0.1.0
 */
export class VerifyGroup extends HttpApiGroup.make("verify")
  .add(verify, batch)
  .middleware(Admission)
  .middleware(Authorization)
  .add(health) {}

/**
 * The API: the `verify` group, the `jobs` group (under the same {@link Authorization} and
 * {@link Admission}: a job belongs to its {@link Caller}) and the `cluster` group, with request
 * validation failures rendered as RFC 9457 problems.
 *
 * @category api
 * @since 0.1.0
 */
export class Api extends HttpApi.make("rcpt")
  .add(VerifyGroup)
  .add(JobsGroup.middleware(Admission).middleware(Authorization))
  .add(ClusterGroup.middleware(Authorization))
  .middleware(HttpApiMiddleware.ProblemDetails)
  .annotateMerge(
    OpenApi.annotations({
      title: "rcpt",
      version,
      description: "Verifies email addresses by asking their own mail servers over SMTP."
    })
  ) {}
