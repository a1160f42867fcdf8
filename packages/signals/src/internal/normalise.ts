/**
 * How the signal lists and their lookups normalise domains and local parts.
 *
 * @since 0.1.0
 */

/**
 * Lower-case, trimmed, without one trailing dot.
 *
 * @category normalising
 * @since 0.1.0
 */
export const normaliseDomain = (domain: string): string => {
  const d = domain.trim().toLowerCase()
  return d.endsWith(".") ? d.slice(0, -1) : d
}

/**
 * Lower-case, trimmed, and the `+tag` of sub-addressing dropped (`info+shop` is `info`).
 *
 * @category normalising
 * @since 0.1.0
 */
export const normaliseLocalPart = (localPart: string): string => {
  const l = localPart.trim().toLowerCase()
  const plus = l.indexOf("+")
  return plus === -1 ? l : l.slice(0, plus)
}
