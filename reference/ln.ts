/** Layer normalization (ATN-2.1): ATN with k = 1 over one step x[B][H]. */
import { atnForward } from './atn';
import type { Big, MathCtx } from './math';
import type { WindowStats } from './stats';

export interface LnBig {
  eps: Big;
  /** [B][H] */
  x: Big[][];
  gain: Big[];
  bias: Big[];
}

/** y[b] = LN(x[b]) and the statistics per sample; a constant row with eps = 0 is degenerate (arg "x", t = 0). */
export function lnForward(m: MathCtx, inp: LnBig): { y: Big[][]; stats: WindowStats[] } {
  const { y, stats } = atnForward(m, { k: 1, eps: inp.eps, a: [inp.x], gain: inp.gain, bias: inp.bias }, 'x');
  return { y: y[0], stats: stats[0] };
}
