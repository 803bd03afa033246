/**
 * The general regime: random shapes with B = 1, H = 1, T = 1 and k > T forced among them, moderate scales and
 * offsets, gain/bias not all ones/zeros and sometimes omitted (ATN-1.5 defaults); a share of long sequences.
 */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import { epsGeneral, finish, pick, rawAtn, withH, withRoomForH2 } from './base';
import { ATN_LONG, SMALL, type Limits } from './shapes';
import { build3 } from '../../../util/tree';
import type { AtnCase } from './types';

export interface GeneralConstraints {
  /** Shapes (default SMALL); H = 2 is always allowed, since eps = 0 needs it. */
  limits?: Limits;
  /**
   * Long sequences mixed into one run in ten, where mistakes that show only after many steps live (default ATN_LONG
   * when `limits` is left at SMALL, none when the caller set its own limits: its cost or design needs them).
   */
  long?: Limits;
  /**
   * Values are 2^j * (offset + u), u in [-1, 1], offset in [-2, 2], j in -maxScaleExponent..maxScaleExponent
   * (default 6): moderate magnitudes, since the range edges are the other regimes' business.
   */
  maxScaleExponent?: number;
  /** eps values (default epsGeneral: 0, the usual 1e-5 and 1e-3, and random ones from 1e-12 to 2). */
  eps?: fc.Arbitrary<number>;
  /** Whether shrinking may change the values (default true); false for wide cases, see rawAtn. */
  shrinkValues?: boolean;
}

/** General ATN inputs (see the file comment). */
export function generalCase(dtype: CampaignDtype, c: GeneralConstraints = {}): fc.Arbitrary<AtnCase> {
  const lim = c.limits ?? SMALL;
  const long = 'long' in c ? c.long : lim === SMALL ? ATN_LONG : undefined;
  const maxScale = c.maxScaleExponent ?? 6;
  const general = (l: Limits) =>
    rawAtn(l, c.eps ?? epsGeneral, c.shrinkValues ?? true).map(({ d, u, p, eps, aff }) => {
      const dd = withH(d, eps);
      // a = 2^j * (offset + u): moderate scales and offsets.
      const scale = 2 ** pick(p[0], -maxScale, maxScale);
      const off = 2 * p[1];
      return finish(
        dtype,
        dd,
        eps,
        build3(dd.T, dd.B, dd.H, (_t, _b, _h, i) => scale * (off + u[i])),
        aff(dd.H),
        'general',
      );
    });
  return long ? fc.oneof({ arbitrary: general(withRoomForH2(lim)), weight: 9 }, { arbitrary: general(long), weight: 1 }) : general(withRoomForH2(lim));
}
