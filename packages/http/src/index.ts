/**
 * @rcpt/http: the rcpt verifier as an HTTP service (`POST /v1/verify`, `POST /v1/verify/batch`,
 * `GET /v1/health`, `/openapi.json`, `/docs`), on Node.js.
 *
 * @since 0.1.0
 */
export * as Api from "./Api.ts"
export * as Server from "./Server.ts"
export * as Admission from "./Admission.ts"
export * as Guard from "./Guard.ts"
export * as Tokens from "./Tokens.ts"
