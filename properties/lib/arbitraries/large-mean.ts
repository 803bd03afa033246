/** The large-mean regime: |mean|/std ~ 1e4..1e6 (1e8 in float64), which catches var = E[x^2] - E[x]^2. */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import { finish, pick, rawAtn, withH, withRoomForH2 } from './base';
import { SMALL, type Limits } from './shapes';
import { build3 } from '../../../util/tree';
import type { AtnCase } from './types';

export interface LargeMeanConstraints {
  /** Shapes (default SMALL); H = 2 is always allowed, since eps = 0 needs it. */
  limits?: Limits;
  /** |mean| is 10^j * (1 + |v|), v in [-1, 1], j in -maxMeanExponent..maxMeanExponent (default 3). */
  maxMeanExponent?: number;
  /**
   * |mean|/std is 10^r, r uniform in minRatioExponent..maxRatioExponent (default 4..6 in float32, 4..8 in float64):
   * E[x^2] - E[x]^2 cancels about 2r digits, more than float32's 7 from r = 4 on.
   */
  minRatioExponent?: number;
  maxRatioExponent?: number;
  /** eps values (default 0: any eps > 0 of the usual sizes would dominate the small variance of a small mean). */
  eps?: fc.Arbitrary<number>;
}

/** ATN inputs c + std * sqrt(3) * u (u uniform in [-1, 1]: variance std^2) with |c| >> std. */
export function largeMeanCase(dtype: CampaignDtype, c: LargeMeanConstraints = {}): fc.Arbitrary<AtnCase> {
  const meanExp = c.maxMeanExponent ?? 3;
  const r0 = c.minRatioExponent ?? 4;
  const r1 = c.maxRatioExponent ?? (dtype === 'float32' ? 6 : 8);
  return rawAtn(withRoomForH2(c.limits ?? SMALL), c.eps ?? fc.constant(0)).map(({ d, u, p, eps, aff }) => {
    const dd = withH(d, eps);
    const mean = (p[0] < 0 ? -1 : 1) * 10 ** pick(p[1], -meanExp, meanExp) * (1 + Math.abs(p[2]));
    const ratio = 10 ** (r0 + ((p[3] + 1) / 2) * (r1 - r0)); // mean/std
    const std = Math.abs(mean) / ratio;
    return finish(
      dtype,
      dd,
      eps,
      build3(dd.T, dd.B, dd.H, (_t, _b, _h, i) => mean + std * Math.sqrt(3) * u[i]),
      aff(dd.H),
      'large-mean',
    );
  });
}
