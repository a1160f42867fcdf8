/**
 * Loads this package's data: the files in `data/` and the list packages it depends on.
 *
 * Resolved from the package's root, found by its name, and not from this module's own location:
 * the `rcpt` CLI bundles this code into files of its own, from where `../data/` is elsewhere (it
 * depends on this package, so the name resolves from there too). Loaded on first use, not when
 * the module is imported.
 *
 * @since 0.1.0
 */
import { createRequire } from "node:module"

let fromRoot: NodeJS.Require | undefined

/**
 * `require` from the package's root: `requireData("./data/providers.json")`, `requireData("role-based-email-addresses")`.
 *
 * @category loading
 * @since 0.1.0
 */
export const requireData = (id: string): unknown =>
  (fromRoot ??= createRequire(createRequire(import.meta.url).resolve("@rcpt/signals/package.json")))(id)
