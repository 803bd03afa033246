/**
 * The per-element tolerances of ATN-7.2 (forward) and ATN-7.3 (VJP), computed from the exact statistics (s_t, z, K_t
 * of stats.ts). Exported piecewise so that the ATN-LSTM running error analysis (ATN-7.4, reference/lstm*.ts) reuses
 * the same 7.2 term per window.
 */
import type { Dtype } from '../protocol/types';
import type { AtnBig } from './atn';
import { dyadicString } from './convert';
import type { Big, MathCtx } from './math';
import type { WindowStats } from './stats';

/** u (unit roundoff) and lam (smallest subnormal) of the dtype a float target computes in. */
export interface Unit {
  u: Big;
  lam: Big;
}

/** float32: 2^-24, 2^-149; float64: 2^-53, 2^-1074. "decimal" gets the float64 constants (a float64 comparison). */
export function unitOf(m: MathCtx, dtype: Dtype): Unit {
  const [ue, le] = dtype === 'float32' ? [-24, -149] : [-53, -1074];
  return { u: new m.Big(dyadicString(1n, ue)), lam: new m.Big(dyadicString(1n, le)) };
}

/** rho_t = N_t + 4 (ATN-7.2). */
export const rhoOf = (st: WindowStats): number => st.N + 4;

/**
 * ATN-7.2 for the current step of one window: tol(y_i) = 2u(|g_i| rho (K + |z_i|) + |y_i| + |b_i|) + 4 lam,
 * y the exact output row of that step.
 */
export function forwardTolRow(m: MathCtx, unit: Unit, st: WindowStats, gain: readonly Big[], bias: readonly Big[], y: readonly Big[]): Big[] {
  const zt = st.z[st.n - 1];
  const rho = rhoOf(st);
  const twoU = unit.u.times(2);
  const fourLam = unit.lam.times(4);
  return y.map((yi, i) =>
    twoU.times(gain[i].abs().times(rho).times(st.K.plus(zt[i].abs())).plus(yi.abs()).plus(bias[i].abs())).plus(fourLam),
  );
}

/** ATN-7.2 for every y[t][b][i]. */
export function atnForwardTol(m: MathCtx, unit: Unit, x: AtnBig, y: Big[][][], stats: WindowStats[][]): Big[][][] {
  return stats.map((row, t) => row.map((st, b) => forwardTolRow(m, unit, st, x.gain, x.bias, y[t][b])));
}

/** ATN-7.3: tolerances of da, dgain and dbias. */
export function atnVjpTol(m: MathCtx, unit: Unit, x: AtnBig, dy: Big[][][], stats: WindowStats[][]): { da: Big[][][]; dgain: Big[]; dbias: Big[] } {
  const T = x.a.length, B = x.a[0].length, H = x.a[0][0].length, k = x.k;
  const twoU = unit.u.times(2);
  const fourLam = unit.lam.times(4);
  // Per window: |ĝ|, m1, m2 and the factor (rho + k)/s.
  const win = stats.map((row, t) =>
    row.map((st, b) => {
      const zt = st.z[st.n - 1];
      const gAbs = dy[t][b].map((d, h) => x.gain[h].times(d).abs());
      const m1 = m.sum(gAbs).div(st.N);
      const m2 = m.sum(gAbs.map((g, h) => g.times(zt[h].abs()))).div(st.N);
      return { gAbs, m1, m2, f: new m.Big(rhoOf(st) + k).div(st.s) };
    }),
  );
  const da = x.a.map((step, s) =>
    step.map((row, b) =>
      row.map((_, h) => {
        let acc = m.zero;
        // Underflow: a product g*dy in the subnormal range is off by up to lam/2 absolutely, and 1/s_t amplifies
        // that (ATN-7.3, last term): lam * (2 + |z|(1 + K_t)) / s_t per window.
        let under = m.zero;
        for (let t = s; t <= Math.min(T - 1, s + k - 1); t++) {
          const st = stats[t][b];
          const w = win[t][b];
          const zs = st.z[s - (t - st.n + 1)][h].abs();
          const own = t === s ? w.gAbs[h] : m.zero;
          const bracket = own.plus(w.m1).plus(st.K.plus(zs).times(w.m2)).plus(zs.times(st.K).times(w.m1));
          acc = acc.plus(w.f.times(bracket));
          under = under.plus(zs.times(st.K.plus(1)).plus(2).div(st.s));
        }
        return twoU.times(acc).plus(unit.lam.times(2).times(under)).plus(fourLam);
      }),
    ),
  );
  const TB = T * B;
  const dgain: Big[] = [];
  const dbias: Big[] = [];
  for (let h = 0; h < H; h++) {
    let g = m.zero;
    let sAbs = m.zero;
    for (let t = 0; t < T; t++)
      for (let b = 0; b < B; b++) {
        const st = stats[t][b];
        const z = st.z[st.n - 1][h].abs();
        const d = dy[t][b][h].abs();
        g = g.plus(d.times(rhoOf(st)).times(st.K.plus(z))).plus(d.times(z).times(TB));
        sAbs = sAbs.plus(d);
      }
    dgain.push(twoU.times(g).plus(fourLam));
    dbias.push(twoU.times(TB).times(sAbs).plus(fourLam));
  }
  return { da, dgain, dbias };
}
