/** The ATN vector-Jacobian product in closed form (ATN-4.1, ATN-4.2) — not by differencing (fd.ts checks it). */
import { atnForward, type AtnBig } from './atn';
import type { Big, MathCtx } from './math';
import { windowVjp, type WindowStats } from './stats';

export interface AtnVjpResult {
  y: Big[][][];
  da: Big[][][];
  dgain: Big[];
  dbias: Big[];
  stats: WindowStats[][];
}

/** y and the gradient of Σ dy ⊙ y w.r.t. a, gain and bias; dy is [T][B][H]. */
export function atnVjp(m: MathCtx, x: AtnBig, dy: Big[][][]): AtnVjpResult {
  const { y, stats } = atnForward(m, x);
  const T = x.a.length,
    B = x.a[0].length,
    H = x.a[0][0].length;
  const da = x.a.map((step) => step.map((row) => row.map(() => m.zero)));
  const dgain = new Array<Big>(H).fill(m.zero);
  const dbias = new Array<Big>(H).fill(m.zero);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < B; b++) {
      const st = stats[t][b];
      const dyt = dy[t][b];
      const zt = st.z[st.n - 1];
      for (let h = 0; h < H; h++) {
        dgain[h] = dgain[h].plus(dyt[h].times(zt[h]));
        dbias[h] = dbias[h].plus(dyt[h]);
      }
      // The window of step t holds steps t-n+1..t: its output sends gradient into every one of them.
      const contrib = windowVjp(
        m,
        st,
        dyt.map((d, h) => x.gain[h].times(d)),
      );
      const lo = t - st.n + 1;
      contrib.forEach((row, r) => {
        const target = da[lo + r][b];
        row.forEach((v, h) => (target[h] = target[h].plus(v)));
      });
    }
  return { y, da, dgain, dbias, stats };
}
