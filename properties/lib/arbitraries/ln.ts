/** LN inputs: one time step of the general, near-eps and large-mean ATN regimes. */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import { atnCase } from './atn';
import { SMALL, type Limits } from './shapes';
import type { LnCase } from './types';

export function lnCase(dtype: CampaignDtype, lim: Limits = SMALL): fc.Arbitrary<LnCase> {
  return fc
    .oneof(atnCase(dtype, 'general', { ...lim, maxT: 1 }), atnCase(dtype, 'near-eps', { ...lim, maxT: 1 }), atnCase(dtype, 'large-mean', { ...lim, maxT: 1 }))
    .map((c) => {
      const out: LnCase = { eps: c.eps, x: c.a[0] };
      if (c.gain) out.gain = c.gain;
      if (c.bias) out.bias = c.bias;
      return out;
    });
}
