/**
 * The drift regime: the magnitude changes by many orders across time, so that sliding windows leave huge steps
 * behind (catches prefix sums differenced, and ATN-7.3's locality: a step's tolerance must not depend on steps
 * outside its window).
 */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import { finish, pick, rawAtn, withH, withRoomForH2 } from './base';
import { SMALL, type Limits } from './shapes';
import { build3 } from '../../../util/tree';
import type { AtnCase } from './types';

export interface DriftConstraints {
  /** Shapes (default SMALL); T is raised to at least 3 (windows slide) and its pool to 8 steps, H = 2 allowed. */
  limits?: Limits;
  /** Largest k within T (default 3, and always below T): short windows, so that they slide past the drift. */
  maxK?: number;
  /** The first step's decade is drawn from -startExponent..startExponent (default 20). */
  startExponent?: number;
  /**
   * The decades stay within -maxExponent..maxExponent (default 30: inside float32's normal range, 1.2e-38..3.4e38,
   * with some headroom).
   */
  maxExponent?: number;
  /** eps values (default 0 three times as often as 1e-5: eps > 0 hides the small steps' variance). */
  eps?: fc.Arbitrary<number>;
}

/** ATN inputs whose magnitude walks by up to +-12 decades a step (see the file comment). */
export function driftCase(dtype: CampaignDtype, c: DriftConstraints = {}): fc.Arbitrary<AtnCase> {
  const lim = withRoomForH2(c.limits ?? SMALL);
  const start = c.startExponent ?? 20;
  const bound = c.maxExponent ?? 30;
  return rawAtn({ ...lim, maxT: Math.max(lim.maxT, 8), maxK: c.maxK ?? 3 }, c.eps ?? fc.constantFrom(0, 0, 0, 1e-5)).map(({ d, u, e, p, eps, aff }) => {
    // T >= 3 so that windows slide; the exponent walks by up to +-12 decades a step, within -bound..bound.
    const dd = withH({ ...d, T: Math.max(d.T, 3), k: Math.min(d.k, Math.max(d.T, 3) - 1) }, eps);
    const exps: number[] = [];
    let x = pick(p[0], -start, start);
    for (let t = 0; t < dd.T; t++) {
      exps.push(x);
      const step = e[t] * 1.5 || (t % 2 ? 9 : -9);
      x = Math.max(-bound, Math.min(bound, x + Math.round(step)));
      if (x === exps[t]) x = x > 0 ? x - 10 : x + 10;
    }
    return finish(
      dtype,
      dd,
      eps,
      build3(dd.T, dd.B, dd.H, (t, _b, _h, i) => u[i] * 10 ** exps[t]),
      aff(dd.H),
      'drift',
    );
  });
}
