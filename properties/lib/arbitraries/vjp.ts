/** The VJP cases: ATN and ATN-LSTM inputs with their cotangents dy, dh. */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import { LSTM_LONG, LSTM_SMALL, type LstmLimits } from './lstm';
import { pool, rounder, valuesShrinking } from './numbers';
import { SMALL, type Limits } from './shapes';
import { build3 } from '../../../util/tree';
import type { AtnCase, AtnVjpCase, LstmCase, LstmVjpCase } from './types';

/**
 * The smallest sqrt(var_t + eps) over the windows of a case (in doubles: a generator's estimate). Loops, not slices:
 * it runs for every generated and shrunk case, and a wide one has T·B windows of up to k·H entries; the sums run in
 * the same order as over the flattened window (steps, then features), so the estimate does not depend on the loop.
 */
export function minWindowScale(c: AtnCase): number {
  const T = c.a.length,
    B = c.a[0].length,
    H = c.a[0][0].length;
  let smin = Infinity;
  for (let t = 0; t < T; t++)
    for (let b = 0; b < B; b++) {
      const t0 = Math.max(0, t - c.k + 1),
        n = (t + 1 - t0) * H;
      let big = 0; // scaled, so that squares of 1e-30 or 1e30 stay in range
      for (let s = t0; s <= t; s++) for (const v of c.a[s][b]) big = Math.max(big, Math.abs(v));
      big ||= 1;
      let mu = 0;
      for (let s = t0; s <= t; s++) for (const v of c.a[s][b]) mu += v / big;
      mu /= n;
      let v2 = 0;
      for (let s = t0; s <= t; s++) for (const v of c.a[s][b]) v2 += (v / big - mu) ** 2;
      v2 /= n;
      smin = Math.min(smin, Math.sqrt(v2 + c.eps / big / big) * big);
    }
  return smin;
}

/**
 * dy of the case's shape: values in [-1, 1] with some exact zeros, scaled by a power of two so that da stays well
 * inside the dtype's range (da ~ k (N + 2) |g dy| / s_t: a window of scale 1e-30, or of subnormals, would otherwise
 * ask a float32 target for gradients beyond 3.4e38, which it cannot represent).
 */
export function withDy(dtype: CampaignDtype, cases: fc.Arbitrary<AtnCase>, lim: Limits = SMALL, shrinkValues = true): fc.Arbitrary<AtnVjpCase> {
  const n = Math.max(lim.maxT, 8) * lim.maxB * Math.max(lim.maxH, 2); // cycled over for longer cases
  return fc.record({ c: cases, dy: valuesShrinking(pool(n), shrinkValues), zeros: fc.nat({ max: 3 }) }).map(({ c, dy, zeros }) => {
    const r = rounder(dtype);
    const T = c.a.length,
      B = c.a[0].length,
      H = c.a[0][0].length;
    const g = Math.max(1, ...(c.gain ?? []).map(Math.abs));
    const bound = (Math.min(c.k, T) * (Math.min(c.k, T) * H + 2) * g) / minWindowScale(c);
    const limit = dtype === 'float32' ? 2 ** 100 : 2 ** 1000;
    const scale = bound > limit ? 2 ** -Math.ceil(Math.log2(bound / limit)) : 1;
    return { ...c, dy: build3(T, B, H, (_t, _b, _h, i) => (zeros > 0 && i % (zeros + 2) === 0 ? 0 : r(dy[i % n] * scale))) };
  });
}

/** dh of the case's shape: values in [-1, 1], from a pool that covers LSTM_LONG (cycled over beyond it). */
export function withDh(dtype: CampaignDtype, cases: fc.Arbitrary<LstmCase>, lim: LstmLimits = LSTM_SMALL): fc.Arbitrary<LstmVjpCase> {
  const n = Math.max(lim.maxT * lim.maxB * Math.max(lim.maxH, 2), LSTM_LONG.maxT * LSTM_LONG.maxB * LSTM_LONG.maxH + 1);
  return fc.record({ c: cases, dh: pool(n) }).map(({ c, dh }) => {
    const r = rounder(dtype);
    const T = c.x.length,
      B = c.x[0].length,
      H = c.h0[0].length;
    return { ...c, dh: build3(T, B, H, (_t, _b, _h, i) => r(dh[i % n])) };
  });
}
