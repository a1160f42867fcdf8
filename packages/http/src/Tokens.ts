/**
 * Bearer tokens the service accepts (`Authorization: Bearer <token>`): several at once, from
 * values (an environment variable) or from a file that is re-read when it changes, so a token can
 * be added or revoked without a restart.
 *
 * Each token is kept as its SHA-256 and compared with `timingSafeEqual` against every one (no
 * early exit): neither a token's content nor its length shows in the timing. A token's `id` (the
 * first 12 hex digits of its hash) names it in logs and is the key the per-token limits count by.
 *
 * @since 0.1.0
 */
import { Data, Effect, Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import * as Fs from "node:fs"

/**
 * @category models
 * @since 0.1.0
 */
export interface Token {
  readonly id: string
  readonly digest: Buffer
}

/**
 * A set of tokens that may change (a file's). `current` is the set in force now.
 *
 * @category models
 * @since 0.1.0
 */
export interface Tokens {
  readonly current: Effect.Effect<ReadonlyArray<Token>>
}

/**
 * A token file that cannot be read, or holds no token.
 *
 * @category errors
 * @since 0.1.0
 */
export class TokenFileError extends Data.TaggedError("TokenFileError")<{
  readonly path: string
  readonly message: string
}> {}

/**
 * SHA-256 of a credential, the form tokens and secrets are kept and compared in.
 *
 * @category hashing
 * @since 0.1.0
 */
export const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

const tokenOf = (text: string): Token => {
  const d = digest(text)
  return { id: d.toString("hex").slice(0, 12), digest: d }
}

/**
 * The tokens in a text: separated by whitespace, commas or line breaks; lines starting with `#`
 * are comments. Empty tokens are ignored.
 *
 * @category parsing
 * @since 0.1.0
 */
export const parse = (text: string): ReadonlyArray<string> =>
  text
    .split(/\r?\n/)
    .filter((line) => !line.trim().startsWith("#"))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter((t) => t.length > 0)

/**
 * A fixed set.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromValues = (values: ReadonlyArray<Redacted.Redacted | string>): Tokens => {
  const tokens = values
    .map((v) => tokenOf(typeof v === "string" ? v : Redacted.value(v)))
    .filter((_, i) => {
      const v = values[i]!
      return (typeof v === "string" ? v : Redacted.value(v)).length > 0
    })
  return { current: Effect.succeed(tokens) }
}

/**
 * The tokens in `path` (see {@link parse}), re-read when its modification time or size changes
 * (looked at no more than once per `recheckMillis`, default 1000). Fails when the file cannot be
 * read or holds no token at start; later, an unreadable or empty file keeps the last good set (a
 * half-written file during rotation must not lock everyone out) and logs a warning.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromFile = (
  path: string,
  options: { readonly recheckMillis?: number | undefined } = {}
): Effect.Effect<Tokens, TokenFileError> =>
  Effect.gen(function* () {
    const recheck = options.recheckMillis ?? 1000
    const read = () => {
      const stat = Fs.statSync(path)
      const tokens = parse(Fs.readFileSync(path, "utf8")).map(tokenOf)
      return { stamp: `${stat.mtimeMs}:${stat.size}`, tokens }
    }
    const first = yield* Effect.try({
      try: read,
      catch: (e) => new TokenFileError({ path, message: `cannot read ${path}: ${(e as Error).message}` })
    })
    if (first.tokens.length === 0) return yield* new TokenFileError({ path, message: `${path} holds no token` })
    let state = first
    let checked = Date.now()
    const current = Effect.suspend(() => {
      const now = Date.now()
      if (now - checked < recheck) return Effect.succeed(state.tokens)
      checked = now
      return Effect.try(() => {
        const stamp = Fs.statSync(path)
        if (`${stamp.mtimeMs}:${stamp.size}` === state.stamp) return state.tokens
        const next = read()
        if (next.tokens.length === 0) throw new Error("the file holds no token")
        state = next
        return state.tokens
      }).pipe(
        Effect.catch((e) =>
          Effect.logWarning(
            `token file ${path}: ${e.cause instanceof Error ? e.cause.message : String(e.cause)}; keeping the previous ${state.tokens.length} token(s)`
          ).pipe(Effect.as(state.tokens))
        )
      )
    })
    return { current }
  })

/**
 * The token `given` matches, compared against every token whatever the outcome.
 *
 * @category matching
 * @since 0.1.0
 */
export const match = (tokens: ReadonlyArray<Token>, given: string): Token | undefined => {
  const d = digest(given)
  let found: Token | undefined
  for (const t of tokens) if (timingSafeEqual(d, t.digest) && found === undefined) found = t
  return given.length > 0 ? found : undefined
}

/**
 * Several sets as one (`--token-env` and `--token-file` together).
 *
 * @category constructors
 * @since 0.1.0
 */
export const combine = (sets: ReadonlyArray<Tokens>): Tokens => ({
  current: Effect.map(Effect.all(sets.map((s) => s.current)), (all) => all.flat())
})
