/** Shapes: T, B, H and the window length k, with the corner cases (1, k > T) forced among them. */
import fc from 'fast-check';

export interface Dims {
  T: number;
  B: number;
  H: number;
  k: number;
}
export interface Limits {
  maxT: number;
  maxB: number;
  maxH: number;
  /** Largest k below or at T; k > T is also generated (T+1..T+3). */
  maxK?: number;
  /** Smallest T (default 1). */
  minT?: number;
  /** Smallest H (default 1). */
  minH?: number;
}
export const SMALL: Limits = { maxT: 6, maxB: 3, maxH: 4 };
/** Long ATN sequences (a share of the general runs): T from 32 to 64, k anywhere in 1..T or beyond. */
export const ATN_LONG: Limits = { maxT: 64, maxB: 2, maxH: 3, minT: 32 };

/**
 * Realistic sizes (ATN-9.10), one dimension at a time (the oracle's cost grows with T*B*H*min(k, T), ATN-6.11): code
 * that tiles, blocks or vectorizes goes wrong only where a dimension exceeds its tile.
 * - WIDE: H from 257 to 512, beyond WebGPU's default maxComputeInvocationsPerWorkgroup (256), the largest tile a
 *   one-workgroup-per-row reduction gets without asking; T up to 4, B up to 4 (B*H up to 2048).
 * - WIDE_WINDOWS: T from 65 to 128, k up to 64 (and k > T), B up to 4, H up to 3: windows of up to 64 steps (a k-deep
 *   ring buffer, a blocked window join, float32 running sums over long sequences).
 */
export const WIDE: Limits = { maxT: 4, maxB: 4, maxH: 512, minH: 257 };
export const WIDE_WINDOWS: Limits = { maxT: 128, maxB: 4, maxH: 3, minT: 65, maxK: 64 };

/** A size in 1..max with 1 forced among the cases (B = 1, H = 1, T = 1 are corner cases). */
export function size(max: number, min = 1): fc.Arbitrary<number> {
  if (max <= min) return fc.constant(min);
  return fc.oneof({ arbitrary: fc.constant(min), weight: 1 }, { arbitrary: fc.integer({ min, max }), weight: 3 });
}

export type KMode = 'one' | 'within' | 'beyond';

/** k = 1 (LN per step), k within 1..T (sliding windows: most mistakes show there), k > T (warm-up only). */
export const kModes: fc.Arbitrary<KMode> = fc.oneof(
  { arbitrary: fc.constant('one' as const), weight: 1 },
  { arbitrary: fc.constant('within' as const), weight: 3 },
  { arbitrary: fc.constant('beyond' as const), weight: 1 },
);

/** T, B, H and k: k = 1, k within 1..T, or k > T (warm-up only, ATN-1.6) are all generated. */
export function dims(lim: Limits): fc.Arbitrary<Dims> {
  return fc
    .record({
      T: size(lim.maxT, lim.minT),
      B: size(lim.maxB),
      H: size(lim.maxH, lim.minH),
      kMode: kModes,
      kPick: fc.nat({ max: 1000 }),
    })
    .map(({ T, B, H, kMode, kPick }) => {
      const maxK = Math.min(T, lim.maxK ?? T);
      const k = kMode === 'one' ? 1 : kMode === 'within' ? 1 + (kPick % maxK) : T + 1 + (kPick % 3);
      return { T, B, H, k };
    });
}
