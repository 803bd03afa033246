/**
 * The subnormal regime: entries in the dtype's subnormal range, in half of the cases some lifted into the normal
 * range (mixed). eps = 0, since any usual eps would swamp variances this small.
 */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import { finish, pick, rawAtn, withH, withRoomForH2 } from './base';
import { SMALL, type Limits } from './shapes';
import { build3 } from '../../../util/tree';
import type { AtnCase } from './types';

export interface SubnormalConstraints {
  /** Shapes (default SMALL); H >= 2 forced, since eps = 0. */
  limits?: Limits;
  /**
   * Entries are i * 2^-(emin + j), emin = 126 (float32) or 1022 (float64), j in 1..maxDepth (default 20): subnormal
   * and exact in the dtype, down to 2^-20 of the smallest normal.
   */
  maxDepth?: number;
  /** |i| <= maxMantissa (default 255): at most 8 significant bits, so that some entries are deep subnormals. */
  maxMantissa?: number;
}

/** Subnormal ATN inputs (see the file comment); a lifted entry is multiplied by 2^(4 e), e in 5..8. */
export function subnormalCase(dtype: CampaignDtype, c: SubnormalConstraints = {}): fc.Arbitrary<AtnCase> {
  const depth = c.maxDepth ?? 20;
  const mantissa = c.maxMantissa ?? 255;
  return rawAtn(withRoomForH2(c.limits ?? SMALL), fc.constant(0)).map(({ d, u, e, p, aff }) => {
    const dd = withH(d, 0);
    // i * 2^-(emin + j): subnormal and exact; some entries lifted into the normal range (mixed).
    const emin = dtype === 'float32' ? 126 : 1022;
    const j = pick(p[0], 1, depth);
    const lift = p[1] > 0;
    const a = build3(dd.T, dd.B, dd.H, (_t, _b, _h, i) => Math.round(u[i] * mantissa) * 2 ** (-(emin + j) + (lift && e[i] > 4 ? 4 * e[i] : 0)));
    return finish(dtype, dd, 0, a, aff(dd.H), 'subnormal');
  });
}
