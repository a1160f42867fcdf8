/**
 * Routing on Node.js: the options every front end takes (`proxy`, `sourceAddresses`, a routing
 * file), combined into one `Routing` and provided as the `Router` layer, with PTR names from DNS.
 *
 * A routing file is YAML or JSON (YAML 1.2 reads JSON as it is), parsed with the `yaml` package;
 * `Routing.decode` checks it. Flags fill what the file's `default` leaves out.
 *
 * @since 0.1.0
 */
import { Effect, Layer, Result, Schema } from "effect"
import type { Dns } from "effect/net"
import * as Fs from "node:fs/promises"
import { createRequire } from "node:module"
import { Proxy, Router, Routing, type SourcePool } from "@rcpt/client"

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** Every host through this proxy (`socks5://[user:pass@]host:port`), unless a rule says otherwise. */
  readonly proxy?: Proxy.Socks5Proxy | string | undefined
  /** Send from these local addresses (each with its EHLO name: given, or its PTR). */
  readonly sourceAddresses?: ReadonlyArray<string | SourcePool.Source> | undefined
  /** How a source address is chosen. Default round robin. */
  readonly selection?: SourcePool.SelectionName | undefined
  /** Rules by MX host suffix or provider (from `load`, or `Routing.decode`). */
  readonly routing?: Routing.Routing | undefined
}

/**
 * The options as one `Routing`, checked: the routing given (or none), its default filled from
 * `proxy`, `sourceAddresses` and `selection`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const combine = (options: Options): Result.Result<Routing.Routing, Routing.InvalidRouting> => {
  let proxy: Proxy.Socks5Proxy | undefined
  if (typeof options.proxy === "string") {
    const parsed = Proxy.parse(options.proxy)
    if (Result.isFailure(parsed)) return Result.fail(new Routing.InvalidRouting({ message: parsed.failure.message }))
    proxy = parsed.success
  } else {
    proxy = options.proxy
  }
  const sources = options.sourceAddresses?.map((s) => (typeof s === "string" ? { address: s } : s))
  // The same checks a routing file's addresses get.
  const flags = Routing.decode({ default: { sourceAddresses: sources ?? [] } })
  if (Result.isFailure(flags)) return Result.fail(flags.failure)
  const routing = Routing.withDefaults(options.routing ?? Routing.direct, {
    proxy,
    sources: sources !== undefined && sources.length > 0 ? sources : undefined,
    selection: options.selection
  })
  return Routing.check(routing)
}

/**
 * Whether the options route anything differently from dialling directly.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isDirect = (options: Options): boolean =>
  options.proxy === undefined &&
  (options.sourceAddresses?.length ?? 0) === 0 &&
  (options.routing === undefined ||
    (options.routing.rules.length === 0 && Object.keys(options.routing.default).length === 0))

/**
 * The `yaml` package, loaded on the first routing file: it is ~70 modules that every `rcpt` start
 * would otherwise pay for (most runs have no routing file). `require` keeps `parse` synchronous.
 * Resolved from this package's root, found by its name: the `rcpt` CLI bundles this code into
 * files of its own, elsewhere.
 */
let yaml: typeof import("yaml") | undefined
const loadYaml = (): typeof import("yaml") =>
  (yaml ??= createRequire(createRequire(import.meta.url).resolve("@rcpt/node/package.json"))(
    "yaml"
  ) as typeof import("yaml"))

/**
 * Parses a routing file's text (YAML or JSON).
 *
 * @category constructors
 * @since 0.1.0
 */
export const parse = (text: string): Result.Result<Routing.Routing, Routing.InvalidRouting> => {
  let input: unknown
  try {
    input = loadYaml().parse(text)
  } catch (error) {
    return Result.fail(
      new Routing.InvalidRouting({
        message: `not YAML or JSON: ${error instanceof Error ? error.message : String(error)}`
      })
    )
  }
  return Routing.decode(input)
}

/**
 * A routing file that cannot be read.
 *
 * @category errors
 * @since 0.1.0
 */
export class RoutingFileError extends Schema.TaggedError<RoutingFileError>()("RoutingFileError", {
  path: Schema.String,
  message: Schema.String
}) {}

/**
 * Reads and checks a routing file: `RoutingFileError` when it cannot be read (a CLI says 66),
 * `InvalidRouting` naming the file when its content is wrong.
 *
 * @category constructors
 * @since 0.1.0
 */
export const load = (path: string): Effect.Effect<Routing.Routing, Routing.InvalidRouting | RoutingFileError> =>
  Effect.tryPromise({
    try: () => Fs.readFile(path, "utf8"),
    catch: (error) => new RoutingFileError({ path, message: error instanceof Error ? error.message : String(error) })
  }).pipe(
    Effect.flatMap((text) =>
      Effect.fromResult(parse(text)).pipe(
        Effect.mapError((e) => new Routing.InvalidRouting({ message: `${path}: ${e.message}` }))
      )
    )
  )

/**
 * The `Router` for the options; none (direct) when they route nothing.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<never, Routing.InvalidRouting, Dns.Dns> =>
  isDirect(options)
    ? Layer.empty
    : Layer.unwrap(Effect.map(Effect.fromResult(combine(options)), (routing) => Router.layerDns(routing)))
