/**
 * Checks on every request before any route runs, against a web page driving the service from a
 * browser:
 *
 * - **Host**: a request whose `Host` is not one of the service's names is refused with 421. DNS
 *   rebinding points an attacker's name at 127.0.0.1, so the page's requests reach the service as
 *   same-origin ones, but they still carry the attacker's name in `Host`. An IP-literal `Host` is
 *   always accepted: a page can only be same-origin with it when it was itself loaded from that IP.
 * - **Content-Type**: a POST, PUT or PATCH must say `application/json` (415 otherwise). A form or
 *   `text/plain` POST is a "simple" request a page may send cross-origin without a CORS
 *   preflight; the HTTP API would read a body without a type as JSON. The upload path
 *   (`POST /v1/jobs`) also takes lists as text, CSV or multipart, but then only with a header no
 *   cross-origin simple request can carry (`authorization`, `x-rcpt-secret` or
 *   `x-requested-with`, as the web page sends).
 * - An unknown route is a plain 404 problem, not a failure: the access log shows a 404 line, not a
 *   stack trace.
 *
 * @since 0.1.0
 */
import { Cause, Effect, Option } from "effect"
import { HttpRouter, HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"
import { isIP } from "node:net"

/**
 * The host part of a `Host` header, lower-cased, without port, brackets or a trailing dot.
 *
 * @category parsing
 * @since 0.1.0
 */
export const hostName = (header: string): string => {
  const text = header.trim().toLowerCase()
  const name = text.startsWith("[") ? text.slice(1, text.indexOf("]")) : text.replace(/:\d*$/, "")
  return name.endsWith(".") ? name.slice(0, -1) : name
}

/**
 * Whether a `Host` header names the service: an IP literal, or one of `allowed` (`"*"` admits any).
 * A missing or empty `Host` is refused (HTTP/1.1 requires it).
 *
 * @category predicates
 * @since 0.1.0
 */
export const hostAllowed = (allowed: ReadonlyArray<string>, header: string | undefined): boolean => {
  if (header === undefined || header.trim() === "") return false
  const name = hostName(header)
  return isIP(name) !== 0 || allowed.includes("*") || allowed.some((a) => hostName(a) === name)
}

/**
 * The names accepted by default for a listen address: `localhost`, and the listen host itself
 * when it is a name rather than an address (IP literals are accepted anyway).
 *
 * @category constructors
 * @since 0.1.0
 */
export const defaultHosts = (listenHost: string): ReadonlyArray<string> =>
  isIP(listenHost) === 0 && listenHost !== "localhost" ? ["localhost", listenHost] : ["localhost"]

/**
 * Whether a `Content-Type` header is `application/json` (parameters such as `charset` allowed).
 *
 * @category predicates
 * @since 0.1.0
 */
export const isJson = (header: string | undefined): boolean =>
  header !== undefined && header.split(";")[0]!.trim().toLowerCase() === "application/json"

const bodyMethods = new Set(["POST", "PUT", "PATCH"])

/** Paths whose bodies may be other than JSON (uploads), given a header that forces a preflight. */
const uploadPaths = new Set(["/v1/jobs"])

const preflighted = (headers: Record<string, string | undefined>) =>
  ["authorization", "x-rcpt-secret", "x-requested-with"].some((h) => (headers[h] ?? "") !== "")

/**
 * An RFC 9457 problem response.
 *
 * @category responses
 * @since 0.1.0
 */
export const problem = (
  status: number,
  title: string,
  detail: string,
  headers: Record<string, string> = {}
): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.jsonUnsafe(
    { type: "about:blank", title, status, detail },
    { status, contentType: "application/problem+json", headers }
  )

const isRouteNotFound = (cause: Cause.Cause<unknown>) =>
  Option.match(Cause.findErrorOption(cause), {
    onNone: () => false,
    onSome: (e) => HttpServerError.isHttpServerError(e) && e.reason._tag === "RouteNotFound"
  })

/**
 * The checks as global router middleware: every request, routes and unknown paths alike.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: { readonly allowedHosts: ReadonlyArray<string> }) =>
  HttpRouter.middleware(
    (effect) =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        if (!hostAllowed(options.allowedHosts, request.headers["host"])) {
          return problem(
            421,
            "Misdirected Request",
            "The Host header does not name this service; add the name with --allowed-host (RCPT_ALLOWED_HOSTS)"
          )
        }
        const upload = uploadPaths.has(request.url.split("?")[0]!) && preflighted(request.headers)
        if (bodyMethods.has(request.method) && !isJson(request.headers["content-type"]) && !upload) {
          return problem(
            415,
            "Unsupported Media Type",
            "The request body must be JSON, sent as Content-Type: application/json"
          )
        }
        return yield* effect.pipe(
          Effect.catchCause((cause) =>
            isRouteNotFound(cause)
              ? Effect.succeed(problem(404, "Not Found", `No route for ${request.method} ${request.url}`))
              : Effect.failCause(cause)
          )
        )
      }),
    { global: true }
  )
