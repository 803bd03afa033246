/**
 * What every ATN regime is made of: one draw of shape, value pools, eps, gain and bias (rawAtn), which a regime maps
 * to its inputs, and the common finish (rounding to the dtype, eps = 0 only with windows that vary).
 */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import { nonConstantSteps, pool, rounder, unit, valuesShrinking } from './numbers';
import { dims, type Dims, type Limits } from './shapes';
import { map3 } from '../../../util/tree';
import type { Affine, AtnCase, Num3 } from './types';

/** eps values a spec reader would try; 0 among them (with non-degenerate windows, see nonConstantSteps). */
export const epsGeneral: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1e-5, 1e-3),
  fc.constantFrom(1e-8, 0.25, 1),
  fc.integer({ min: -12, max: 0 }).chain((e) => unit.map((u) => (1 + Math.abs(u)) * 10 ** e)),
);

/** Gain and bias of width n (from a pool of max), not all ones/zeros; omitted in about one case in five. */
export function affine(max: number): fc.Arbitrary<(n: number) => Affine> {
  return fc.record({ omit: fc.nat({ max: 4 }), g: pool(max), b: pool(max) }).map(({ omit, g, b }) => (n: number) => {
    if (omit === 0) return {};
    return { gain: g.slice(0, n).map((u) => 2 * u), bias: b.slice(0, n) };
  });
}

/** One draw of an ATN case before its regime shapes the values. */
export interface RawAtn {
  d: Dims;
  /** Uniform values in [-1, 1], one per entry of the largest shape. */
  u: number[];
  /** Small integers in -8..8, one per entry: exponent jitter per entry or per step. */
  e: number[];
  /** Four uniform values in [-1, 1]: case-wide parameters (scale, offset, ...). */
  p: number[];
  eps: number;
  aff: (n: number) => Affine;
}

/**
 * One raw draw within `lim`. shrinkValues = false (wide cases: thousands of values) keeps the value pools out of
 * shrinking: each shrink candidate costs an oracle evaluation of the whole case, and the shape (T, B, H, k) still
 * shrinks, which is what a reader of a counterexample needs first.
 */
export function rawAtn(lim: Limits, eps: fc.Arbitrary<number>, shrinkValues = true): fc.Arbitrary<RawAtn> {
  const n = lim.maxT * lim.maxB * lim.maxH;
  const values = <V>(a: fc.Arbitrary<V>) => valuesShrinking(a, shrinkValues);
  return fc.record({
    d: dims(lim),
    u: values(pool(n)),
    // Read by no regime: drawn only so that every generated case (and so every campaign verdict) stays what it was;
    // removing it changes every ATN case of every seed. Never shrunk: nothing reads it, so shrinking it only costs.
    unused: fc.noShrink(pool(n)),
    // Small integers: exponent jitter per entry / per step, and case-wide parameters.
    e: values(fc.array(fc.integer({ min: -8, max: 8 }), { minLength: n, maxLength: n })),
    p: pool(4),
    eps,
    // Gain and bias are values too: up to 2 * maxH of them, each shrink step a whole oracle evaluation.
    aff: values(affine(lim.maxH)),
  });
}

/** Rounds the case to the dtype; with eps = 0 every step is made to vary (nonConstantSteps). */
export function finish(dtype: CampaignDtype, d: Dims, eps: number, a: Num3, aff: Affine, regime: string): AtnCase {
  const r = rounder(dtype);
  const epsR = r(eps);
  let rounded = map3(a, r);
  if (epsR === 0) rounded = nonConstantSteps(rounded, dtype);
  const out: AtnCase = { k: d.k, eps: epsR, a: rounded, regime };
  if (aff.gain) out.gain = aff.gain.map(r);
  if (aff.bias) out.bias = aff.bias.map(r);
  return out;
}

/** eps = 0 needs H >= 2 (a window of one entry has variance 0). */
export function withH(d: Dims, eps: number, minH = 2): Dims {
  return eps === 0 && d.H < minH ? { ...d, H: minH } : d;
}

/** The integer in lo..hi that a uniform u in [-1, 1] picks (rounded linearly). */
export const pick = (u: number, lo: number, hi: number): number => Math.round(lo + ((u + 1) / 2) * (hi - lo));

/** The limits with H >= 2 allowed (the regimes that may draw eps = 0 need room for H = 2). */
export const withRoomForH2 = (lim: Limits): Limits => ({ ...lim, maxH: Math.max(lim.maxH, 2) });
