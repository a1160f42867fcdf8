/**
 * @rcpt/cluster: bulk jobs on effect/cluster runners. An MX host entity per group key (so per-host
 * politeness holds across the cluster), persisted batches, a dispatcher for `rcpt serve
 * --cluster`, the runner process for `rcpt runner`, and the cluster's status.
 *
 * @since 0.1.0
 */
export * as ClusterStatus from "./ClusterStatus.ts"
export * as Dispatcher from "./Dispatcher.ts"
export * as MxHost from "./MxHost.ts"
export * as Runner from "./Runner.ts"
export * as Worker from "./Worker.ts"
