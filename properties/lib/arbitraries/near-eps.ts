/** The near-eps regime: the window variance within a factor 100 of eps (catches eps dropped or added outside sqrt). */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import { finish, rawAtn } from './base';
import { SMALL, type Limits } from './shapes';
import { build3 } from '../../../util/tree';
import type { AtnCase } from './types';

export interface NearEpsConstraints {
  /** Shapes (default SMALL); H = 1 stays possible, since eps > 0. */
  limits?: Limits;
  /** eps values, all > 0 (default 1e-5 and 1e-3, the usual framework defaults). */
  eps?: fc.Arbitrary<number>;
  /**
   * The window variance is eps * 10^f, f uniform in -maxDecades..maxDecades (default 2): there eps and the variance
   * both matter, so that eps dropped, squared or added outside the sqrt moves y beyond its tolerance.
   */
  maxDecades?: number;
}

/** ATN inputs m + spread * u around a mean m in [-2, 2], with spread^2 / 3 (the variance) near eps. */
export function nearEpsCase(dtype: CampaignDtype, c: NearEpsConstraints = {}): fc.Arbitrary<AtnCase> {
  const decades = c.maxDecades ?? 2;
  return rawAtn(c.limits ?? SMALL, c.eps ?? fc.constantFrom(1e-5, 1e-3)).map(({ d, u, p, eps, aff }) => {
    // var = eps * 10^f with f in -decades..decades; u uniform on [-1,1] has variance 1/3.
    const f = 10 ** (decades * p[0]);
    const m = 2 * p[1];
    const spread = Math.sqrt(3 * eps * f);
    return finish(
      dtype,
      d,
      eps,
      build3(d.T, d.B, d.H, (_t, _b, _h, i) => m + spread * u[i]),
      aff(d.H),
      'near-eps',
    );
  });
}
