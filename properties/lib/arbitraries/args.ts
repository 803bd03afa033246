/** Request args of each op from the generated cases. */
import type { CampaignDtype } from '../types';
import type { AtnCase, AtnVjpCase, LnCase, LstmCase, LstmVjpCase } from './types';

export function atnArgs(dtype: CampaignDtype, c: AtnCase): Record<string, unknown> {
  const args: Record<string, unknown> = { dtype, k: c.k, eps: c.eps, a: c.a };
  if (c.gain) args.gain = c.gain;
  if (c.bias) args.bias = c.bias;
  return args;
}
export function atnVjpArgs(dtype: CampaignDtype, c: AtnVjpCase): Record<string, unknown> {
  return { ...atnArgs(dtype, c), dy: c.dy };
}
export function lnArgs(dtype: CampaignDtype, c: LnCase): Record<string, unknown> {
  const args: Record<string, unknown> = { dtype, eps: c.eps, x: c.x };
  if (c.gain) args.gain = c.gain;
  if (c.bias) args.bias = c.bias;
  return args;
}
export function lstmArgs(dtype: CampaignDtype, c: LstmCase): Record<string, unknown> {
  return { dtype, k: c.k, eps: c.eps, x: c.x, h0: c.h0, c0: c.c0, params: c.params };
}
export function lstmVjpArgs(dtype: CampaignDtype, c: LstmVjpCase): Record<string, unknown> {
  return { ...lstmArgs(dtype, c), dh: c.dh };
}
