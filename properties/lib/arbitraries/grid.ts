/** Grid cases: exact sums for the shift theorems (T4, T8). */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import { affine, withH, withRoomForH2 } from './base';
import { rounder } from './numbers';
import { dims, SMALL, type Limits } from './shapes';
import { build3 } from '../../../util/tree';
import type { AtnCase } from './types';

export interface GridCase extends AtnCase {
  /** Every entry is an integer multiple of `quantum` (a power of two) with |i| <= 2^10 + 1. */
  quantum: number;
}

/**
 * ATN inputs on the grid i * 2^e (|i| <= 2^10, e in -10..10), so that adding j * 2^e with |j| <= 2^12 is exact in
 * float32. eps is 0 (non-constant steps made on the grid) or (2^e)^2 * {2^-10, 1}.
 */
export function gridAtnCase(dtype: CampaignDtype, lim: Limits = SMALL): fc.Arbitrary<GridCase> {
  const n = lim.maxT * lim.maxB * Math.max(lim.maxH, 2);
  return fc
    .record({
      d: dims(withRoomForH2(lim)),
      i: fc.array(fc.integer({ min: -(2 ** 10), max: 2 ** 10 }), { minLength: n, maxLength: n }),
      e: fc.integer({ min: -10, max: 10 }),
      epsMode: fc.constantFrom(0, 1, 2),
      aff: affine(lim.maxH),
    })
    .map(({ d, i, e, epsMode, aff }) => {
      const q = 2 ** e;
      const eps = epsMode === 0 ? 0 : q * q * (epsMode === 1 ? 2 ** -10 : 1);
      const dd = withH(d, eps);
      let a = build3(dd.T, dd.B, dd.H, (_t, _b, _h, j) => i[j % n] * q);
      if (eps === 0) a = a.map((m) => m.map((row) => (row.every((v) => v === row[0]) ? [row[0] + q, ...row.slice(1)] : row)));
      const r = rounder(dtype);
      const out: GridCase = { k: dd.k, eps, a, regime: 'grid', quantum: q };
      const ab = aff(dd.H);
      if (ab.gain) out.gain = ab.gain.map(r);
      if (ab.bias) out.bias = ab.bias.map(r);
      return out;
    });
}

/** Integer multiples j * quantum with |j| <= 2^12 (a + shift stays exact, see gridAtnCase). */
export const shiftInt: fc.Arbitrary<number> = fc.integer({ min: -(2 ** 12), max: 2 ** 12 });
