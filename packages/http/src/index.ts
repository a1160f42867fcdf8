/**
 * @rcpt/http: the rcpt verifier as an HTTP service (`POST /v1/verify`, `POST /v1/verify/batch`,
 * bulk jobs under `/v1/jobs`, `GET /v1/health`, `/openapi.json`, `/docs`, a web page at `/`), on
 * Node.js.
 *
 * @since 0.1.0
 */
export * as Admission from "./Admission.ts"
export * as Api from "./Api.ts"
export * as ClusterApi from "./ClusterApi.ts"
export * as Defaults from "./Defaults.ts"
export * as Guard from "./Guard.ts"
export * as JobOptions from "./JobOptions.ts"
export * as JobRunner from "./JobRunner.ts"
export * as Jobs from "./Jobs.ts"
export * as JobsApi from "./JobsApi.ts"
export * as JobsServer from "./JobsServer.ts"
export * as Page from "./Page.ts"
export * as Server from "./Server.ts"
export * as Tokens from "./Tokens.ts"
export * as Upload from "./Upload.ts"
export * as Webhooks from "./Webhooks.ts"
