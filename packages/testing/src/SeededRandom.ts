/**
 * A small seeded PRNG, so a randomised test or bench input is the same on every machine and a
 * failing seed can be replayed. Not for anything secret.
 *
 * @since 0.3.0
 */

/**
 * mulberry32: numbers in [0, 1), the same sequence for the same seed.
 *
 * @category constructors
 * @since 0.3.0
 */
export const mulberry32 = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
