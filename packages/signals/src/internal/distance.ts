/**
 * Damerau-Levenshtein distance, optimal string alignment variant: insertions, deletions, substitutions and
 * transpositions of two adjacent characters each cost 1, and no substring is edited twice. That is the edit model of a
 * typing slip (`gmial` for `gmail` is one transposition).
 *
 * @since 0.1.0
 */

/**
 * The optimal-string-alignment distance between `a` and `b`, or `max + 1` as soon as it is known to exceed `max`.
 * Compares UTF-16 code units: callers pass ASCII domain labels.
 *
 * @category distance
 * @since 0.1.0
 */
export const distance = (a: string, b: string, max: number): number => {
  if (a === b) return 0
  if (Math.abs(a.length - b.length) > max) return max + 1
  const n = b.length
  // Three rolling rows: the one before last (for transpositions), the last, the current.
  let before = new Int32Array(n + 1)
  let last = new Int32Array(n + 1)
  let current = new Int32Array(n + 1)
  for (let j = 0; j <= n; j++) last[j] = j
  for (let i = 1; i <= a.length; i++) {
    current[0] = i
    let rowMin = i
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1
      let d = Math.min(last[j]! + 1, current[j - 1]! + 1, last[j - 1]! + cost)
      if (
        i > 1 &&
        j > 1 &&
        a.charCodeAt(i - 1) === b.charCodeAt(j - 2) &&
        a.charCodeAt(i - 2) === b.charCodeAt(j - 1)
      ) {
        d = Math.min(d, before[j - 2]! + 1)
      }
      current[j] = d
      if (d < rowMin) rowMin = d
    }
    // No later row has a cell below this row's minimum: a transposition looks back two rows, but that row's minimum
    // is at most one below this one's, and the transposition itself costs one.
    if (rowMin > max) return max + 1
    const spare = before
    before = last
    last = current
    current = spare
  }
  const result = last[n]!
  return result > max ? max + 1 : result
}
