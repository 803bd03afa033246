/**
 * The statistics of one window of one sample (ATN-1.2, ATN-1.3) and what one window's output sends back into it
 * (ATN-4.1). Shared by ATN, LN, the tolerances (ATN-7.2/7.3) and the ATN-LSTM (reference/lstm.ts).
 *
 * Accuracy at working precision p: the entries are first centred on one of them, d_j = a_j - a_ref. decimal.js rounds
 * a difference correctly, so each d_j carries a relative error <= 10^-p, and the centred values c_j = d_j - mean(d)
 * have an error <= ~10^-p * max|d| (i.e. relative to the spread of the window, not to |mu|). var = mean(c^2) is then
 * accurate to ~N*10^-p relative even when |mu| >> spread (entries a few ulps apart, long decimal strings), where a
 * mean computed first and subtracted would keep only p - log10(|mu|/spread) digits. A constant window gives d = 0,
 * var = 0 exactly, which is how ATN-6.6 is decided on exact values.
 */
import { AtnError } from '../protocol/errors';
import type { Big, MathCtx } from './math';

export interface WindowStats {
  /** Steps in the window (n_t) and entries (N_t = n_t * H). */
  n: number;
  N: number;
  mu: Big;
  /** Biased variance. */
  variance: Big;
  /** s_t = sqrt(var_t + eps) and 1/s_t (divisions are the slowest BigNumber operation: one per window). */
  s: Big;
  invS: Big;
  /** z[r][h] = (a - mu)/s for the window's rows, oldest first: z[n-1] is the current step. */
  z: Big[][];
  /** K_t = max |a| / s (ATN-7.2). */
  K: Big;
}

/** Where a window sits, for the degenerate-window message: step t and sample b (0-based), and the argument. */
export interface Where {
  t: number;
  b: number;
  arg?: string;
}

/** Rows a[lo..t][b] of the window of step t (0-based) for window length k (ATN-1.2, warm-up ATN-1.6). */
export function windowRows<X>(a: readonly (readonly (readonly X[])[])[], k: number, t: number, b: number): X[][] {
  const rows: X[][] = [];
  for (let s = Math.max(0, t - k + 1); s <= t; s++) rows.push(a[s][b] as X[]);
  return rows;
}

/** Statistics of the window made of `rows` (oldest first, all of length H); throws degenerate_window (ATN-6.6). */
export function windowStats(m: MathCtx, rows: readonly (readonly Big[])[], eps: Big, where: Where): WindowStats {
  const n = rows.length;
  const H = rows[0].length;
  const N = n * H;
  const ref = rows[n - 1][0];
  const d = rows.map((r) => r.map((x) => x.minus(ref)));
  let sum = m.zero;
  for (const r of d) for (const x of r) sum = sum.plus(x);
  const shift = sum.div(N);
  const c = d.map((r) => r.map((x) => x.minus(shift)));
  let sq = m.zero;
  for (const r of c) for (const x of r) sq = sq.plus(x.times(x));
  const variance = sq.div(N);
  const v = variance.plus(eps);
  if (v.isZero()) {
    const arg = where.arg ?? 'a';
    throw new AtnError(
      'degenerate_window',
      'ATN-6.6',
      `${arg}: the window of step t=${where.t}, sample b=${where.b} (0-based) is constant and eps = 0, so var + eps = 0 (ATN-6.6)`,
      arg,
    );
  }
  const s = v.sqrt();
  const invS = m.one.div(s);
  // m.max, not a loop of comparisons: the fast oracle's values (dd.ts) take the max of uncertain values soundly.
  const amax = m.max(rows.flat().map((x) => x.abs()));
  return { n, N, mu: ref.plus(shift), variance, s, invS, z: c.map((r) => r.map((x) => x.times(invS))), K: amax.times(invS) };
}

/**
 * What one window's output y_t sends into the window's entries (ATN-4.1), given gHat = g ⊙ dy_t (length H, the
 * cotangent of the current step only): rows [n][H], oldest first, to be ADDED into da.
 */
export function windowVjp(m: MathCtx, st: WindowStats, gHat: readonly Big[]): Big[][] {
  const zt = st.z[st.n - 1];
  let s1 = m.zero;
  let s2 = m.zero;
  gHat.forEach((g, h) => {
    s1 = s1.plus(g);
    s2 = s2.plus(g.times(zt[h]));
  });
  const mean1 = s1.div(st.N);
  const mean2 = s2.div(st.N);
  return st.z.map((zr, r) =>
    zr.map((zj, h) => {
      const own = r === st.n - 1 ? gHat[h] : m.zero;
      return own.minus(mean1).minus(zj.times(mean2)).times(st.invS);
    }),
  );
}
