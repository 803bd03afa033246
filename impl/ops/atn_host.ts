/**
 * The ATN op fused on the host (wasm, cpu, tensorflow backends): forward and the closed-form backward of ATN-4.1 as a
 * few float64 loops over flat float32 data, the way the ATN-LSTM's host path (impl/lstm_core.ts) runs, instead of a
 * chain of tfjs ops (each a kernel dispatch and a pass over memory).
 *
 * Forward, per row (one step of one sample, H contiguous entries): a two-pass mean and M2 while the row is in cache;
 * window statistics from those per-step pairs by atn_window.ts (window-local blocks, Chan's join, O(T*B) whatever k
 * is); then one pass writing y. Backward: one pass for the row sums of ATN-4.1 and the affine gradients, the
 * forward-looking window sums (atn_window.ts), one pass writing da.
 *
 * Why no power-of-two scaling here: ATN-7.2 assumes the implementation avoids overflow and underflow in the squares;
 * the float32 tfjs path did that by scaling each step by 2^-e. In float64 it holds by itself for float32 data: entries
 * lie in 2^-149..2^128, their squares in 2^-298..2^256, sums of up to 2^40 of them stay far inside float64's normal
 * range (2^-1022..2^1024), and a deviation a - m of two distinct float32 values is at least 2^-150, so a nonconstant
 * step never gets M2 = 0. The float64 rounding (2^-53) is negligible next to the float32 tolerance; the results are
 * rounded once, to float32, on the store (an exact value beyond the float32 range becomes +-Infinity, the correctly
 * rounded answer of ATN-7.1).
 */
import { forwardWindowSums, layoutOf, windowStats, type WindowStats } from './atn_window';

export interface HostDims {
  T: number;
  B: number;
  H: number;
  k: number;
  /** The float32 value of eps. */
  eps: number;
  /** Rows are [B][T] instead of [T][B]. */
  batchMajor: boolean;
}

/** What the forward keeps for the backward: the input and the window statistics per row. */
export interface HostTape {
  dims: HostDims;
  a: Float32Array;
  gain: Float64Array;
  /** Each row's own mean (step statistics). */
  mean: Float64Array;
  W: WindowStats;
}

/** Two-pass mean and M2 of each row of H entries (exact for a constant row: mean = the entry, M2 = 0). */
export function rowStats(a: ArrayLike<number>, R: number, H: number): { mean: Float64Array; m2: Float64Array } {
  const mean = new Float64Array(R),
    m2 = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const o = r * H;
    let s = 0;
    for (let h = 0; h < H; h++) s += a[o + h];
    const m = s / H;
    let q = 0;
    for (let h = 0; h < H; h++) {
      const d = a[o + h] - m;
      q += d * d;
    }
    mean[r] = m;
    m2[r] = q;
  }
  return { mean, m2 };
}

/** y = g * (a - mu_t)/s_t + b for a flat [T*B*H] (rows in the order of dims.batchMajor). Throws ATN-6.6 errors. */
export function atnForwardHost(a: Float32Array, gain: Float64Array, bias: Float64Array, dims: HostDims, what = 'a'): { y: Float32Array; tape: HostTape } {
  const { T, B, H, k, eps, batchMajor } = dims;
  const R = T * B;
  const { mean, m2 } = rowStats(a, R, H);
  const W = windowStats(layoutOf(T, B, batchMajor), k, H, eps, mean, m2, undefined, undefined, what);
  const y = new Float32Array(R * H);
  for (let r = 0; r < R; r++) {
    const o = r * H;
    const mu = W.mu[r],
      rs = 1 / W.s[r];
    for (let h = 0; h < H; h++) y[o + h] = gain[h] * ((a[o + h] - mu) * rs) + bias[h];
  }
  return { y, tape: { dims, a, gain, mean, W } };
}

/**
 * The VJP (ATN-4.1/4.2) for dy. Per row t: u_t = m1_t/s_t and v_t = m2_t/s_t^2 with m1 = (1/N_t) sum_h ghat,
 * m2 = (1/N_t) sum_h ghat z, ghat = g dy. Entry (s,h) receives ghat/s_s - sum_{t=s}^{s+k-1} (u_t + v_t (a - mu_t)),
 * written as ghat/s_s - (a - m_s) Sv - (Su + sum_t v_t (m_s - mu_t)) with m_s the mean of step s itself, so that the
 * centred a - m_s, not a, meets the window sums (no cancellation when |mu| >> s). Why the step's mean and not the
 * window mean mu_s: window s may hold entries far larger than window t's (they are different windows), and the
 * cancellation of (a - mu_s) against (mu_s - mu_t) would then cost u*|mu_s|*v_t, an error from outside window t that
 * ATN-7.3 does not allow; |m_s| is at most the largest entry of step s, which lies in every window t that sends
 * gradient to it. The sums over t are forward-looking window sums (atn_window.ts).
 */
export function atnBackwardHost(tape: HostTape, dy: Float32Array): { da: Float32Array; dgain: Float32Array; dbias: Float32Array } {
  const { dims, a, gain, mean, W } = tape;
  const { T, B, H, k, batchMajor } = dims;
  const R = T * B;
  const dg = new Float64Array(H),
    db = new Float64Array(H);
  const u = new Float64Array(R),
    v = new Float64Array(R),
    q = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const o = r * H;
    const mu = W.mu[r],
      s = W.s[r],
      rs = 1 / s;
    let s1 = 0,
      s2 = 0;
    for (let h = 0; h < H; h++) {
      const d = dy[o + h];
      const z = (a[o + h] - mu) * rs;
      const g = gain[h] * d;
      s1 += g;
      s2 += g * z;
      dg[h] += d * z;
      db[h] += d;
    }
    u[r] = s1 / W.n[r] / s;
    v[r] = s2 / W.n[r] / (s * s);
    q[r] = mu * v[r];
  }
  const [Su, Sv, Sq] = forwardWindowSums(layoutOf(T, B, batchMajor), k, [u, v, q]);
  const da = new Float32Array(R * H);
  for (let r = 0; r < R; r++) {
    const o = r * H;
    const m = mean[r],
      rs = 1 / W.s[r],
      sv = Sv[r];
    const c = Su[r] + m * sv - Sq[r];
    for (let h = 0; h < H; h++) da[o + h] = gain[h] * dy[o + h] * rs - (a[o + h] - m) * sv - c;
  }
  return { da, dgain: Float32Array.from(dg), dbias: Float32Array.from(db) };
}
