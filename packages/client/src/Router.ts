/**
 * The router: for each connection to an MX host, the route to take (proxy, source address, EHLO
 * name, MAIL FROM), from `Routing` data and a `SourcePool` per route. The verifier and the mailer
 * ask it before every session; without a router layer every host is dialled directly.
 *
 * EHLO names, strongest first: the matching rule's `helo`, the source address's own name (given
 * or its PTR), the routing default's `helo`, then the caller's configured name.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option } from "effect"
import type { Scope } from "effect"
import { Dns } from "effect/net"
import type { Socks5Proxy } from "./Proxy.ts"
import * as Routing from "./Routing.ts"
import * as SourcePool from "./SourcePool.ts"

/**
 * How one connection goes.
 *
 * @category models
 * @since 0.1.0
 */
export interface Route {
  /** The routing rule that chose it, or `default`. */
  readonly rule: string
  readonly proxy: Option.Option<Socks5Proxy>
  readonly localAddress: Option.Option<string>
  readonly helo: Option.Option<string>
  readonly mailFrom: Option.Option<string>
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Service {
  /** The route for one connection to `mxHost`; a pooled source address is held until the scope closes. */
  readonly route: (mxHost: string) => Effect.Effect<Route, never, Scope.Scope>
}

const straight: Route = {
  rule: "default",
  proxy: Option.none(),
  localAddress: Option.none(),
  helo: Option.none(),
  mailFrom: Option.none()
}

/**
 * The router in use: by default, every host directly.
 *
 * @category services
 * @since 0.1.0
 */
export const Router = Context.Reference<Service>("@rcpt/client/Router", {
  defaultValue: () => ({ route: () => Effect.succeed(straight) })
})

/**
 * A router over `routing`. Source pools are built here, one per route with sources (their PTR
 * names looked up once through `reverse`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  routing: Routing.Routing,
  options: { readonly reverse?: ((address: string) => Effect.Effect<Option.Option<string>>) | undefined } = {}
): Effect.Effect<Service, Routing.InvalidRouting> =>
  Effect.gen(function* () {
    yield* Effect.fromResult(Routing.check(routing))
    // One pool per route, built now: PTR lookups happen once, before the first connection.
    const pools = new Map<string, SourcePool.SourcePool>()
    for (const rule of [...routing.rules, undefined]) {
      const resolved = Routing.settle(routing, rule)
      pools.set(
        resolved.rule,
        yield* SourcePool.make(resolved.sources, {
          selection: SourcePool.selections[resolved.selection],
          reverse: options.reverse
        })
      )
    }
    return {
      route: (mxHost) =>
        Effect.gen(function* () {
          const resolved = Routing.resolve(routing, mxHost)
          const pool = pools.get(resolved.rule)
          const source = pool === undefined ? Option.none() : yield* pool.acquire(mxHost)
          const sourceHelo = Option.flatMap(source, (s) => s.helo)
          return {
            rule: resolved.rule,
            proxy: resolved.proxy,
            localAddress: Option.map(source, (s) => s.address),
            helo: resolved.helo.pipe(
              Option.orElse(() => sourceHelo),
              Option.orElse(() => resolved.defaultHelo)
            ),
            mailFrom: resolved.mailFrom
          }
        })
    }
  })

/**
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  routing: Routing.Routing,
  options?: Parameters<typeof make>[1]
): Layer.Layer<never, Routing.InvalidRouting> => Layer.effect(Router, make(routing, options))

/**
 * A source address's PTR name, for its EHLO name: the first name, without the trailing dot; None
 * when there is none or the lookup fails (within 5 seconds).
 *
 * @category constructors
 * @since 0.1.0
 */
export const reverseWith =
  (dns: Dns.Dns["Service"]) =>
  (address: string): Effect.Effect<Option.Option<string>> =>
    dns.reverse(address).pipe(
      Effect.map((names) => Option.some(String(names[0]).replace(/\.$/, ""))),
      Effect.timeout("5 seconds"),
      Effect.orElseSucceed(() => Option.none<string>())
    )

/**
 * A router over `routing`, with PTR names from the `Dns` service.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerDns = (routing: Routing.Routing): Layer.Layer<never, Routing.InvalidRouting, Dns.Dns> =>
  Layer.effect(
    Router,
    Effect.gen(function* () {
      const dns = yield* Dns.Dns
      return yield* make(routing, { reverse: reverseWith(dns) })
    })
  )
