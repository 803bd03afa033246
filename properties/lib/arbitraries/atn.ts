/**
 * ATN inputs by regime: one generator per regime (its own file, with its constraints), dispatched by name.
 *
 * Every leaf is rounded to the campaign dtype before it is sent (Math.fround for float32), so the target and the
 * reference see the same numbers (ATN-7.1). Shapes come from fixed-size flat pools sliced by the generated dims: when
 * fast-check shrinks T, B or H the values stay put, which keeps shrunk counterexamples close to the failing one.
 *
 * The regimes are the places where plausible implementations go wrong:
 * - general (general.ts): random shapes with B = 1, H = 1, T = 1 and k > T forced among them, gain/bias not all
 *   ones/zeros, sometimes omitted (ATN-1.5 defaults);
 * - scale (scale.ts): one window scale d = 10^e, e in -30..30 (overflow/underflow of naive squares in float32);
 * - mixed (scale.ts): magnitudes 10^(e +- 8) mixed within one window;
 * - drift (drift.ts): the magnitude changes by many orders across time (catches prefix sums differenced, ATN-7.3's
 *   locality);
 * - large-mean (large-mean.ts): |mean|/std ~ 1e4..1e6 (catches E[x^2] - E[x]^2);
 * - near-eps (near-eps.ts): the window variance within a factor 100 of eps in {1e-5, 1e-3} (catches eps dropped or
 *   outside sqrt);
 * - subnormal (subnormal.ts): entries in the dtype's subnormal range, some mixed with normal ones.
 * eps = 0 comes only with non-degenerate windows: H >= 2 and no step whose entries are all equal.
 * Long sequences come in a share of the general runs: up to T = 64 (ATN_LONG).
 */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import { driftCase } from './drift';
import { generalCase } from './general';
import { largeMeanCase } from './large-mean';
import { nearEpsCase } from './near-eps';
import { mixedCase, scaleCase } from './scale';
import { SMALL, type Limits } from './shapes';
import { subnormalCase } from './subnormal';
import type { AtnCase, Regime } from './types';

export const REGIMES: readonly Regime[] = ['general', 'scale', 'mixed', 'drift', 'large-mean', 'near-eps', 'subnormal'];

/** Each regime's generator, called with the one constraint all of them share: the shape limits. */
const BY_REGIME: Record<Regime, (dtype: CampaignDtype, c: { limits: Limits }) => fc.Arbitrary<AtnCase>> = {
  general: generalCase,
  scale: scaleCase,
  mixed: mixedCase,
  drift: driftCase,
  'large-mean': largeMeanCase,
  'near-eps': nearEpsCase,
  subnormal: subnormalCase,
};

/** ATN inputs of one regime (see the file comment). */
export function atnCase(dtype: CampaignDtype, regime: Regime = 'general', lim: Limits = SMALL): fc.Arbitrary<AtnCase> {
  return BY_REGIME[regime](dtype, { limits: lim });
}

/** A mixture of every hard regime (for the VJP, whose tolerance has the same shape). */
export function atnHardCase(dtype: CampaignDtype, lim: Limits = SMALL): fc.Arbitrary<AtnCase> {
  return fc.oneof(...REGIMES.filter((r) => r !== 'general').map((r) => atnCase(dtype, r, lim)));
}
