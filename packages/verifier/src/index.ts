/**
 * @rcpt/verifier: Effect services that verify addresses over SMTP. Platform-free: the transport
 * and DNS come from layers (@rcpt/node for Node.js, @rcpt/testing for tests).
 *
 * @since 0.1.0
 */
export * as AddressList from "./AddressList.ts"
export * as Bulk from "./Bulk.ts"
export * as CatchAllMemory from "./CatchAllMemory.ts"
export * as Doctor from "./Doctor.ts"
export * as DomainRules from "./DomainRules.ts"
export * as HostPermits from "./HostPermits.ts"
export * as HostProfile from "./HostProfile.ts"
export * as HostProfiles from "./HostProfiles.ts"
export * as Judgement from "./Judgement.ts"
export * as Lines from "./Lines.ts"
export * as MxCache from "./MxCache.ts"
export * as MxPlan from "./MxPlan.ts"
export * as Policy from "./Policy.ts"
export * as Printable from "./Printable.ts"
export * as ResultFormat from "./ResultFormat.ts"
export * as RiskSignals from "./RiskSignals.ts"
export * as SpecialUse from "./SpecialUse.ts"
export * as TargetPolicy from "./TargetPolicy.ts"
export * as Verification from "./Verification.ts"
export * as Verifier from "./Verifier.ts"
export * as VerifierConfig from "./VerifierConfig.ts"
