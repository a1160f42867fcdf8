/**
 * The verifier: "can this address receive mail?" answered by the address's own mail servers,
 * with the evidence. One address with `verify`, a stream of them with `verifyMany`.
 *
 * Nothing here fails or hangs on anything a server or a list does: every input comes back as a
 * `Verification`, with verdict `unknown` and a precise reason when no answer could be had.
 *
 * The service is a thin front over `Bulk` (which holds the logic) with the transport and the
 * shared state fixed when the layer is built; policies, the judge and the risk signals are read
 * from the caller's context on every call.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Stream } from "effect"
import type { Dns } from "effect/net"
import { Router, SmtpTransport } from "@rcpt/client"
import * as Bulk from "./Bulk.ts"
import * as CatchAllMemory from "./CatchAllMemory.ts"
import type * as HostProfile from "./HostProfile.ts"
import * as HostProfiles from "./HostProfiles.ts"
import * as HostPermits from "./HostPermits.ts"
import * as MxCache from "./MxCache.ts"
import * as Risk from "./RiskSignals.ts"
import type { Verification } from "./Verification.ts"
import * as VerifierConfig from "./VerifierConfig.ts"

/**
 * @category models
 * @since 0.1.0
 */
export type VerifyManyOptions = Bulk.StreamOptions

/**
 * @category services
 * @since 0.1.0
 */
export class Verifier extends Context.Service<
  Verifier,
  {
    readonly verify: (address: string) => Effect.Effect<Verification>
    /** Results in completion order, one per input (duplicates included, verified once). */
    readonly verifyMany: <E, R>(
      addresses: Stream.Stream<string, E, R>,
      options?: VerifyManyOptions
    ) => Stream.Stream<Verification, E, R>
    /** What this verifier has learnt about each MX address it talked to (see `HostProfile`). */
    readonly hostProfiles: Effect.Effect<ReadonlyArray<readonly [string, HostProfile.HostProfile]>>
  }
>()("@rcpt/verifier/Verifier") {}

/**
 * The risk signal lists in force; the packaged lists unless provided. (Also `RiskSignals.RiskSignals`.)
 *
 * @category services
 * @since 0.1.0
 */
export const RiskSignals = Risk.RiskSignals

/**
 * Builds the service over the transport, config and state services in context.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make: Effect.Effect<Verifier["Service"], never, Bulk.Requirements> = Effect.gen(function* () {
  // Only these are fixed here: policies, judge and signals are read from the caller's context.
  // The router (direct unless a layer gave one) holds source pools: state, so it is fixed too.
  const context = Context.pick(
    SmtpTransport.SmtpTransport,
    VerifierConfig.Service,
    MxCache.MxCache,
    CatchAllMemory.CatchAllMemory,
    HostPermits.HostPermits,
    HostProfiles.HostProfiles
  )(yield* Effect.context<Bulk.Requirements>()).pipe(Context.add(Router.Router, yield* Router.Router))
  return Verifier.of({
    verify: (address) => Bulk.verifyOne(address).pipe(Effect.provideContext(context)),
    verifyMany: (addresses, options) => Bulk.stream(addresses, options).pipe(Stream.provideContext(context)),
    hostProfiles: Context.get(context, HostProfiles.HostProfiles).all
  })
})

/**
 * The verifier over state services from context: provide shared `MxCache`, `CatchAllMemory`,
 * `HostPermits` and `HostProfiles` (a job store's, a cluster's) with it.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerWithState: Layer.Layer<Verifier, never, Bulk.Requirements> = Layer.effect(Verifier, make)

/**
 * The in-memory state of one process: MX plans, catch-all status, connection permits, host profiles.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerMemoryState: Layer.Layer<
  MxCache.MxCache | CatchAllMemory.CatchAllMemory | HostPermits.HostPermits | HostProfiles.HostProfiles,
  never,
  VerifierConfig.Service | Dns.Dns
> = Layer.mergeAll(MxCache.layerMemory, CatchAllMemory.layerMemory, HostPermits.layerMemory, HostProfiles.layerMemory)

/**
 * The verifier with in-memory state, given a config, DNS and a transport.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<Verifier, never, VerifierConfig.Service | Dns.Dns | SmtpTransport.SmtpTransport> =
  layerWithState.pipe(Layer.provide(layerMemoryState))
