/**
 * Seeded pseudo-random numbers. Why not Math.random: every generated value in the suite must replay from a printed
 * seed (a test, a corpus, a battery, initial weights). fast-check's own generator drives the properties; these serve
 * where values are made outside an arbitrary.
 */

/** The one generator for new code: mulberry32, uniform in [0, 1); quality ample for test data and initial weights. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The 32-bit linear congruential generator of Numerical Recipes (a = 1664525, c = 1013904223): the raw state, an
 * unsigned 32-bit integer per call. Kept only for data already frozen with it (reports/vectors/corpus.json through
 * reports/corpus-cases.ts, the diagnosis battery mutants/cases.ts, the report fixture): another generator would change
 * committed vectors that ports are checked against.
 */
export function lcgUint32(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

/** lcgUint32 scaled to [0, 1). */
export function lcgUnit(seed: number): () => number {
  const next = lcgUint32(seed);
  return () => next() / 2 ** 32;
}
