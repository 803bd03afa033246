/**
 * The per-element tolerances of ATN-7.2 (forward) and ATN-7.3 (VJP): the ONE place these formulas are written.
 * Generic over the number type: the reference evaluates them exactly on its BigNumber statistics (s_t, z, K_t of
 * stats.ts), the diagnosis (mutants/tolerance.ts) in float64 on a float base's statistics. Exported piecewise so that
 * the ATN-LSTM running error analysis (ATN-7.4, reference/lstm*.ts) reuses the same 7.2 term per window.
 */
import type { Dtype } from '../protocol/types';
import type { AtnBig } from './atn';
import { dyadicString } from './convert';
import type { Big, MathCtx } from './math';
import type { WindowStats } from './stats';

/** The arithmetic the formulas use. */
export interface Arith<N> {
  of(x: number): N;
  add(a: N, b: N): N;
  mul(a: N, b: N): N;
  div(a: N, b: N): N;
  abs(a: N): N;
}

export const FLOAT_ARITH: Arith<number> = {
  of: (x) => x,
  add: (a, b) => a + b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  abs: Math.abs,
};

export function bigArith(m: MathCtx): Arith<Big> {
  return { of: (x) => new m.Big(x), add: (a, b) => a.plus(b), mul: (a, b) => a.times(b), div: (a, b) => a.div(b), abs: (a) => a.abs() };
}

/** What the formulas need of one window (one sample, one step): WindowStats has it, exactly. */
export interface TolWindow<N> {
  /** Steps in the window (n_t) and entries (N_t). */
  n: number;
  N: number;
  s: N;
  K: N;
  /** z[r][h] for the window's rows, oldest first: z[n-1] is the current step. */
  z: N[][];
}

/** u (unit roundoff) and lam (smallest subnormal) of the dtype a float target computes in. */
export interface Unit<N = Big> {
  u: N;
  lam: N;
}

/** float32: 2^-24, 2^-149; float64: 2^-53, 2^-1074. "decimal" gets the float64 constants (a float64 comparison). */
export function unitExponents(dtype: string): { u: number; lam: number } {
  return dtype === 'float32' ? { u: -24, lam: -149 } : { u: -53, lam: -1074 };
}

export function unitOf(m: MathCtx, dtype: Dtype): Unit {
  const e = unitExponents(dtype);
  return { u: new m.Big(dyadicString(1n, e.u)), lam: new m.Big(dyadicString(1n, e.lam)) };
}

/** The same constants as doubles (exact: powers of two). */
export function floatUnit(dtype: string): Unit<number> {
  const e = unitExponents(dtype);
  return { u: 2 ** e.u, lam: 2 ** e.lam };
}

/** rho_t = N_t + 4 (ATN-7.2). */
export const rhoOf = (st: { N: number }): number => st.N + 4;

/**
 * ATN-7.2 for the current step of one window: tol(y_i) = 2u(|g_i| rho (K + |z_i| (1 + K)) + |y_i| + |b_i|) + 4 lam,
 * y the exact output row of that step. The (1 + K) on |z_i| is the variance's own error: a one-pass updating variance
 * (Welford's, which torch.var and LayerNorm kernels use) is off by up to N u (1 + K) relative to s^2, a two-pass one by
 * N u (ATN-7.2 (ii)).
 */
export function forwardTolRowOf<N>(A: Arith<N>, unit: Unit<N>, st: TolWindow<N>, gain: readonly N[], bias: readonly N[], y: readonly N[]): N[] {
  const zt = st.z[st.n - 1];
  const rho = A.of(rhoOf(st));
  const twoU = A.mul(unit.u, A.of(2));
  const fourLam = A.mul(unit.lam, A.of(4));
  return y.map((yi, i) =>
    A.add(A.mul(twoU, A.add(A.add(A.mul(A.mul(A.abs(gain[i]), rho), zTerm(A, st.K, A.abs(zt[i]))), A.abs(yi)), A.abs(bias[i]))), fourLam),
  );
}

/** K + |z| (1 + K): the mean's error (K) and s_t's relative error, one-pass variances included, times |z| (ATN-7.2). */
function zTerm<N>(A: Arith<N>, K: N, z: N): N {
  return A.add(K, A.mul(z, A.add(A.of(1), K)));
}

/** ATN-7.3: tolerances of da, dgain and dbias, for gain g, cotangent dy [T][B][H] and the windows [T][B], window k. */
export function vjpTolOf<N>(
  A: Arith<N>,
  unit: Unit<N>,
  k: number,
  gain: readonly N[],
  dy: N[][][],
  stats: TolWindow<N>[][],
): { da: N[][][]; dgain: N[]; dbias: N[] } {
  const T = dy.length,
    B = dy[0].length,
    H = dy[0][0].length;
  const zero = A.of(0);
  const twoU = A.mul(unit.u, A.of(2));
  const fourLam = A.mul(unit.lam, A.of(4));
  const sum = (xs: N[]) => xs.reduce((s, x) => A.add(s, x), zero);
  // Per window: |ĝ|, m1, m2 and the factor (rho + k)/s.
  const win = stats.map((row, t) =>
    row.map((st, b) => {
      const zt = st.z[st.n - 1];
      const gAbs = dy[t][b].map((d, h) => A.abs(A.mul(gain[h], d)));
      const NN = A.of(st.N);
      const m1 = A.div(sum(gAbs), NN);
      const m2 = A.div(sum(gAbs.map((g, h) => A.mul(g, A.abs(zt[h])))), NN);
      return { gAbs, m1, m2, f: A.div(A.of(rhoOf(st) + k), st.s) };
    }),
  );
  const da = dy.map((step, s) =>
    step.map((row, b) =>
      row.map((_, h) => {
        let acc = zero;
        // Underflow: a product g*dy in the subnormal range is off by up to lam/2 absolutely, and 1/s_t amplifies
        // that (ATN-7.3, last term): lam * (2 + |z|(1 + K_t)) / s_t per window.
        let under = zero;
        for (let t = s; t <= Math.min(T - 1, s + k - 1); t++) {
          const st = stats[t][b];
          const w = win[t][b];
          const zs = A.abs(st.z[s - (t - st.n + 1)][h]);
          const own = t === s ? w.gAbs[h] : zero;
          // The 7.3 bracket: own + m1 + (K + |z|) m2 + |z| K m1, plus K (own + m1 + 3 |z| m2) for s_t's relative error
          // from a one-pass variance (N u K at most): s enters the contribution as 1/s and through z, 3 times in z S2.
          const base = A.add(A.add(A.add(own, w.m1), A.mul(A.add(st.K, zs), w.m2)), A.mul(A.mul(zs, st.K), w.m1));
          const onePass = A.mul(st.K, A.add(A.add(own, w.m1), A.mul(A.mul(A.of(3), zs), w.m2)));
          const bracket = A.add(base, onePass);
          acc = A.add(acc, A.mul(w.f, bracket));
          under = A.add(under, A.div(A.add(A.mul(zs, A.add(st.K, A.of(1))), A.of(2)), st.s));
        }
        return A.add(A.add(A.mul(twoU, acc), A.mul(A.mul(unit.lam, A.of(2)), under)), fourLam);
      }),
    ),
  );
  const TB = A.of(T * B);
  const dgain: N[] = [];
  const dbias: N[] = [];
  for (let h = 0; h < H; h++) {
    let g = zero;
    let sAbs = zero;
    for (let t = 0; t < T; t++)
      for (let b = 0; b < B; b++) {
        const st = stats[t][b];
        const z = A.abs(st.z[st.n - 1][h]);
        const d = A.abs(dy[t][b][h]);
        g = A.add(A.add(g, A.mul(A.mul(d, A.of(rhoOf(st))), zTerm(A, st.K, z))), A.mul(A.mul(d, z), TB));
        sAbs = A.add(sAbs, d);
      }
    dgain.push(A.add(A.mul(twoU, g), fourLam));
    dbias.push(A.add(A.mul(A.mul(twoU, TB), sAbs), fourLam));
  }
  return { da, dgain, dbias };
}

/** ATN-7.2 for one window's current step, exactly. */
export function forwardTolRow(m: MathCtx, unit: Unit, st: WindowStats, gain: readonly Big[], bias: readonly Big[], y: readonly Big[]): Big[] {
  return forwardTolRowOf(bigArith(m), unit, st, gain, bias, y);
}

/** ATN-7.2 for every y[t][b][i]. */
export function atnForwardTol(m: MathCtx, unit: Unit, x: AtnBig, y: Big[][][], stats: WindowStats[][]): Big[][][] {
  const A = bigArith(m);
  return stats.map((row, t) => row.map((st, b) => forwardTolRowOf(A, unit, st, x.gain, x.bias, y[t][b])));
}

/** ATN-7.3: tolerances of da, dgain and dbias, exactly. */
export function atnVjpTol(m: MathCtx, unit: Unit, x: AtnBig, dy: Big[][][], stats: WindowStats[][]): { da: Big[][][]; dgain: Big[]; dbias: Big[] } {
  return vjpTolOf(bigArith(m), unit, x.k, x.gain, dy, stats);
}
