/**
 * A `Verification` from fields the verifier made itself, without the schema's checks.
 *
 * The class constructor parses every field against the schema (about 9 us a result, checks off
 * or on: `disableChecks` still parses the structure), and a bulk run makes one per address from
 * values that are valid by construction (`build`: integers rounded, the score clamped, reasons
 * and literals from closed sets). This makes the same instance, the class's prototype with the
 * fields as its own properties in the schema's key order, at about a tenth of the cost: the same
 * `instanceof`, `Equal.equals` and JSON as `new Verification(fields)` (a test holds them to it on
 * a table of every verdict and reason). Anything made from input or a user's values still goes
 * through the constructor.
 *
 * The fields are set one by one, in the schema's key order, on an object a plain constructor makes
 * with the class's prototype: its fields stay in-object (V8 fast properties; `Object.assign` of
 * more than a dozen onto `Object.create(prototype)` made a dictionary, about 1.6 KB a result, 8 of
 * the 10 MB the duplicate cache's 5,000 results held), and it costs a tenth of giving the fields'
 * literal the prototype with `Object.setPrototypeOf` (a runtime call the optimiser cannot inline:
 * about 0.6 us a result, 2 % of a bulk run). The names are written out: a test holds them to the
 * schema's, key for key.
 *
 * @internal
 */
import { Verification } from "../Verification.ts"

/** Every field of a `Verification`, in the schema's key order. */
export type Fields = ConstructorParameters<typeof Verification>[0]

type Writable = { -readonly [K in keyof Fields]: Fields[K] }

/** Sets the fields in the schema's order. Called with `new`: its `prototype` is the class's. */
function Trusted(this: Writable, f: Fields) {
  this.address = f.address
  this.normalized = f.normalized
  this.domain = f.domain
  this.verdict = f.verdict
  this.reason = f.reason
  this.retryable = f.retryable
  this.score = f.score
  this.detail = f.detail
  this.mx = f.mx
  this.rcpt = f.rcpt
  this.vrfy = f.vrfy
  this.tls = f.tls
  this.catchAll = f.catchAll
  this.catchAllProbe = f.catchAllProbe
  this.signals = f.signals
  this.provider = f.provider
  this.sender = f.sender
  this.retryAfter = f.retryAfter
  this.timing = f.timing
  this.attempts = f.attempts
  this.startedAt = f.startedAt
  this.durationMs = f.durationMs
  this.transcript = f.transcript
}
Trusted.prototype = Verification.prototype

/** A `Verification` with these fields, as its own properties (the values are shared, not copied). */
export const trusted = (fields: Fields): Verification =>
  new (Trusted as unknown as new (f: Fields) => Verification)(fields)
