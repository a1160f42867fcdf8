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
 * The fields' object literal itself becomes the instance (its prototype set), rather than being
 * copied onto `Object.create(prototype)`: V8 turns an object given more than a dozen properties by
 * `Object.assign` into a dictionary (about 1.6 KB a result, 8 of the 10 MB the duplicate cache's
 * 5,000 results held), while a literal keeps its fields in-object (about 0.2 KB).
 *
 * @internal
 */
import { Verification } from "../Verification.ts"

/** Every field of a `Verification`, in the schema's key order. */
export type Fields = ConstructorParameters<typeof Verification>[0]

/** `fields` becomes the result: a fresh object literal, which nothing else holds. */
export const trusted = (fields: Fields): Verification => Object.setPrototypeOf(fields, Verification.prototype)
