/** ATN forward (ATN-1.1..1.7) in BigNumber arithmetic, per sample, window statistics exactly as defined. */
import type { Dtype } from '../protocol/types';
import type { AtnArgs, Leaf } from '../protocol/args';
import { leafToBig } from './convert';
import type { Big, MathCtx } from './math';
import { windowRows, windowStats, type WindowStats } from './stats';

/** ATN inputs as BigNumbers (exact values of the dtype-rounded leaves, ATN-7.1). */
export interface AtnBig {
  k: number;
  eps: Big;
  /** [T][B][H] */
  a: Big[][][];
  gain: Big[];
  bias: Big[];
}

export interface AtnForwardResult {
  y: Big[][][];
  /** stats[t][b]: the statistics of the window of step t, sample b. */
  stats: WindowStats[][];
}

export const bigs1 = (m: MathCtx, v: readonly Leaf[], dtype: Dtype): Big[] => v.map((x) => leafToBig(m.Big, x, dtype));
export const bigs2 = (m: MathCtx, v: readonly (readonly Leaf[])[], dtype: Dtype): Big[][] => v.map((r) => bigs1(m, r, dtype));
export const bigs3 = (m: MathCtx, v: readonly (readonly (readonly Leaf[])[])[], dtype: Dtype): Big[][][] => v.map((r) => bigs2(m, r, dtype));

/** Validated atn args (protocol/args.ts) as BigNumbers; float32 leaves and eps are rounded to float32 first. */
export function atnInputs(m: MathCtx, args: AtnArgs): AtnBig {
  const { dtype } = args;
  return {
    k: args.k,
    eps: leafToBig(m.Big, args.eps, dtype),
    a: bigs3(m, args.a, dtype),
    gain: bigs1(m, args.gain, dtype),
    bias: bigs1(m, args.bias, dtype),
  };
}

/** Statistics of every window: [t][b]. Throws degenerate_window (ATN-6.6) naming t and b. */
export function atnStats(m: MathCtx, x: AtnBig, arg = 'a'): WindowStats[][] {
  return x.a.map((step, t) => step.map((_, b) => windowStats(m, windowRows(x.a, x.k, t, b), x.eps, { t, b, arg })));
}

/** y[t][b][i] = g_i * z_{t;(t,i)} + b_i (ATN-1.4). */
export function atnForward(m: MathCtx, x: AtnBig, arg = 'a'): AtnForwardResult {
  const stats = atnStats(m, x, arg);
  const y = stats.map((row) => row.map((st) => st.z[st.n - 1].map((z, i) => x.gain[i].times(z).plus(x.bias[i]))));
  return { y, stats };
}
