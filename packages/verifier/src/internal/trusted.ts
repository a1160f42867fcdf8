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
 * @internal
 */
import { Verification } from "../Verification.ts"

/** Every field of a `Verification`, in the schema's key order. */
export type Fields = ConstructorParameters<typeof Verification>[0]

export const trusted = (fields: Fields): Verification =>
  Object.assign(Object.create(Verification.prototype) as Verification, fields)
