/**
 * The scale and mixed regimes, one generator: one window scale d = 10^e, e in -30..30 (overflow and underflow of
 * naive squares in float32), or magnitudes 10^(e +- 8) mixed within one window.
 */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import { finish, pick, rawAtn, withH, withRoomForH2 } from './base';
import { SMALL, type Limits } from './shapes';
import { build3 } from '../../../util/tree';
import type { AtnCase } from './types';

export interface ScaleConstraints {
  /** Shapes (default SMALL); H = 2 is always allowed, since eps = 0 needs it. */
  limits?: Limits;
  /**
   * Mixed magnitudes: every entry has its own decade, the case's e plus a jitter in -8..8, instead of one scale for
   * the whole case (default false). A window then holds values 16 decades apart: a sum that is not compensated, or a
   * variance taken about 0, loses the small ones.
   */
  mixed?: boolean;
  /**
   * The case's decade e is drawn from minExponent..maxExponent (default -30..30 for one scale: in float32 the square
   * of 1e-23 underflows and of 1e20 overflows; -22..22 when mixed, so that 10^(e +- 8) stays within 1e-30..1e30).
   */
  minExponent?: number;
  maxExponent?: number;
  /** eps values (default 0 twice as often as 1e-5: eps > 0 hides an underflowed variance). */
  eps?: fc.Arbitrary<number>;
}

/** ATN inputs of one scale 10^e, or of mixed magnitudes (see ScaleConstraints.mixed). */
export function scaleCase(dtype: CampaignDtype, c: ScaleConstraints = {}): fc.Arbitrary<AtnCase> {
  const mixed = c.mixed === true;
  const lo = c.minExponent ?? (mixed ? -22 : -30);
  const hi = c.maxExponent ?? (mixed ? 22 : 30);
  return rawAtn(withRoomForH2(c.limits ?? SMALL), c.eps ?? fc.constantFrom(0, 0, 1e-5)).map(({ d, u, e, p, eps, aff }) => {
    const dd = withH(d, eps);
    const base = pick(p[0], lo, hi);
    const a = build3(dd.T, dd.B, dd.H, (_t, _b, _h, i) => u[i] * 10 ** (base + (mixed ? e[i] : 0)));
    return finish(dtype, dd, eps, a, aff(dd.H), mixed ? 'mixed' : 'scale');
  });
}

/** The mixed regime: scaleCase with mixed magnitudes. */
export function mixedCase(dtype: CampaignDtype, c: Omit<ScaleConstraints, 'mixed'> = {}): fc.Arbitrary<AtnCase> {
  return scaleCase(dtype, { ...c, mixed: true });
}
