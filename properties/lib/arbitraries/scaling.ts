/**
 * Power-of-two scalings for the scale theorems (T2, T3), exact inside the arbitrary: the exponent m drawn is clamped,
 * in the generator, to the largest |m| for which every scaled value is exact and normal in the dtype (scalesExactly),
 * so that a case, and every shrink of it, carries the m its requests are sent with.
 */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import { clampExponent, scalesExactly } from './numbers';
import { flat3 } from '../../../util/tree';
import type { AtnCase, LstmCase } from './types';

export interface ScalingConstraints {
  /**
   * The exponent is drawn from -maxExponent..maxExponent before it is clamped (T2 on ATN: 100, which reaches both
   * ends of the float32 range from moderate inputs; the ATN-LSTM: 40).
   */
  maxExponent: number;
}

/** An ATN case and d = 2^m such that d * a and eps * d^2 are exact in the dtype (T2). */
export interface AtnScaling {
  c: AtnCase;
  m: number;
}

export function atnScaling(dtype: CampaignDtype, cases: fc.Arbitrary<AtnCase>, k: ScalingConstraints): fc.Arbitrary<AtnScaling> {
  return fc.record({ c: cases, m: fc.integer({ min: -k.maxExponent, max: k.maxExponent }) }).map(({ c, m: want }) => {
    const vals = flat3(c.a);
    return { c, m: clampExponent(want, (m) => scalesExactly(vals, m, dtype) && scalesExactly([c.eps], 2 * m, dtype)) };
  });
}

/** Which input projection of the ATN-LSTM is scaled: (W_xh, b_x) or (W_hh, b_h). */
export type LstmSide = 'x' | 'h';

/** An ATN-LSTM case, a side and d = 2^m such that d * W and d * b of that side are exact in the dtype (T2, T3). */
export interface LstmScaling<C extends LstmCase> {
  c: C;
  m: number;
  side: LstmSide;
}

/** The values that scaling one side multiplies: W and b of the side (b omitted: none). */
export function lstmSideValues(c: LstmCase, side: LstmSide): number[] {
  const p = c.params;
  const w = side === 'x' ? p.w_xh : p.w_hh;
  const b = (side === 'x' ? p.b_x : p.b_h) ?? [];
  return [...w.flat(), ...b];
}

export function lstmScaling<C extends LstmCase>(dtype: CampaignDtype, cases: fc.Arbitrary<C>, k: ScalingConstraints): fc.Arbitrary<LstmScaling<C>> {
  return fc
    .record({ c: cases, m: fc.integer({ min: -k.maxExponent, max: k.maxExponent }), side: fc.constantFrom<LstmSide>('x', 'h') })
    .map(({ c, m: want, side }) => {
      const vals = lstmSideValues(c, side);
      return { c, m: clampExponent(want, (m) => scalesExactly(vals, m, dtype)), side };
    });
}
