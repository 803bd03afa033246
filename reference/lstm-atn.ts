/**
 * The three ATNs inside the ATN-LSTM, one window at a time (ATN-3.2, ATN-3.5), for ONE sample: the LSTM produces its
 * preactivations and cell states step by step, so the whole-sequence ops of atn.ts cannot be used; the formulas are
 * the same (biased variance, window W_t = {max(0,t-k+1)..t} 0-based, N = n_t * width), and so is stats.ts.
 */
import type { Big, MathCtx } from './math';
import { windowStats, windowVjp, type WindowStats } from './stats';

/** A window of stats.ts placed in the sequence: it holds steps t0..t. */
export interface WinStats extends WindowStats {
  t0: number;
  t: number;
}

/**
 * Statistics of window t of one sample's sequence seq[0..t] (each entry a vector). `arg` names the ATN in a
 * degenerate-window error (ATN-6.6): "params.atn_x", "params.atn_h" or "params.atn_c".
 */
export function lstmWindow(m: MathCtx, seq: readonly Big[][], t: number, k: number, eps: Big, arg: string, b: number): WinStats {
  const t0 = Math.max(0, t - k + 1);
  return { ...windowStats(m, seq.slice(t0, t + 1), eps, { t, b, arg }), t0, t };
}

/** y_t = gain * z_t + bias for the newest entries (step t) of the window. */
export function atnForwardStep(st: WinStats, gain: readonly Big[], bias: readonly Big[]): Big[] {
  return st.z[st.n - 1].map((zi, i) => gain[i].times(zi).plus(bias[i]));
}

/**
 * The VJP of window t (ATN-4.1): windowVjp's rows added into da[t0..t] (past steps included); dgain += dy*z_t,
 * dbias += dy (ATN-4.2).
 */
export function atnVjpStep(m: MathCtx, st: WinStats, gain: readonly Big[], dy: readonly Big[], da: Big[][], dgain: Big[], dbias: Big[]): void {
  const zt = st.z[st.n - 1];
  for (let i = 0; i < dy.length; i++) {
    dgain[i] = dgain[i].plus(dy[i].times(zt[i]));
    dbias[i] = dbias[i].plus(dy[i]);
  }
  windowVjp(
    m,
    st,
    dy.map((d, i) => gain[i].times(d)),
  ).forEach((row, r) => {
    const target = da[st.t0 + r];
    row.forEach((v, j) => (target[j] = target[j].plus(v)));
  });
}
