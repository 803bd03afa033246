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

/** What the forward keeps for the backward: the window statistics per row (not the input: the caller passes it again). */
export interface HostTape {
  dims: HostDims;
  gain: Float64Array;
  /** Each row's own mean (step statistics). */
  mean: Float64Array;
  W: WindowStats;
}

/**
 * Two-pass mean and M2 of each row of H entries (exact for a constant row: mean = the entry, M2 = 0). Each pass sums
 * in four float64 accumulators (entries h mod 4), joined at the end: four independent chains instead of one (the loop
 * is bound by the latency of the adds), and the same float64 error bound; the partial sums of a constant row are
 * exact multiples of the entry (float32 entries, fewer than 2^29 per row), so its mean stays exact and its M2 zero.
 */
export function rowStats(a: Float32Array, R: number, H: number): { mean: Float64Array; m2: Float64Array } {
  const mean = new Float64Array(R),
    m2 = new Float64Array(R);
  const H4 = H - (H % 4);
  for (let r = 0, o = 0; r < R; r++, o += H) {
    const e4 = o + H4,
      e = o + H;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0,
      i = o;
    for (; i < e4; i += 4) {
      s0 += a[i];
      s1 += a[i + 1];
      s2 += a[i + 2];
      s3 += a[i + 3];
    }
    for (; i < e; i++) s0 += a[i];
    const m = (s0 + s1 + (s2 + s3)) / H;
    let q0 = 0,
      q1 = 0,
      q2 = 0,
      q3 = 0;
    for (i = o; i < e4; i += 4) {
      const d0 = a[i] - m,
        d1 = a[i + 1] - m,
        d2 = a[i + 2] - m,
        d3 = a[i + 3] - m;
      q0 += d0 * d0;
      q1 += d1 * d1;
      q2 += d2 * d2;
      q3 += d3 * d3;
    }
    for (; i < e; i++) {
      const d = a[i] - m;
      q0 += d * d;
    }
    mean[r] = m;
    m2[r] = q0 + q1 + (q2 + q3);
  }
  return { mean, m2 };
}

/**
 * y = g * (a - mu_t)/s_t + b for a flat [T*B*H] (rows in the order of dims.batchMajor), written into `y` (a new array
 * when omitted; the op passes the output tensor's own storage). Throws ATN-6.6 errors.
 */
export function atnForwardHost(
  a: Float32Array,
  gain: Float64Array,
  bias: Float64Array,
  dims: HostDims,
  y: Float32Array = new Float32Array(dims.T * dims.B * dims.H),
  what = 'a',
): { y: Float32Array; tape: HostTape } {
  const { T, B, H, k, eps, batchMajor } = dims;
  const R = T * B;
  const { mean, m2 } = rowStats(a, R, H);
  const W = windowStats(layoutOf(T, B, batchMajor), k, H, eps, mean, m2, undefined, undefined, what);
  const wmu = W.mu,
    ws = W.s;
  for (let r = 0, o = 0; r < R; r++, o += H) {
    const mu = wmu[r],
      rs = 1 / ws[r];
    for (let h = 0, i = o; h < H; h++, i++) y[i] = gain[h] * ((a[i] - mu) * rs) + bias[h];
  }
  return { y, tape: { dims, gain, mean, W } };
}

/**
 * The VJP (ATN-4.1/4.2) for dy, given the forward's input `a` again. Per row t: u_t = m1_t/s_t and v_t = m2_t/s_t^2
 * with m1 = (1/N_t) sum_h ghat, m2 = (1/N_t) sum_h ghat z, ghat = g dy. Entry (s,h) receives ghat/s_s - sum_{t=s}^{s+k-1} (u_t + v_t (a - mu_t)),
 * written as ghat/s_s - (a - m_s) Sv - (Su + sum_t v_t (m_s - mu_t)) with m_s the mean of step s itself, so that the
 * centred a - m_s, not a, meets the window sums (no cancellation when |mu| >> s). Why the step's mean and not the
 * window mean mu_s: window s may hold entries far larger than window t's (they are different windows), and the
 * cancellation of (a - mu_s) against (mu_s - mu_t) would then cost u*|mu_s|*v_t, an error from outside window t that
 * ATN-7.3 does not allow; |m_s| is at most the largest entry of step s, which lies in every window t that sends
 * gradient to it. The sums over t are forward-looking window sums (atn_window.ts). da is written into `da` (a new
 * array when omitted); the row sums run in two float64 accumulators each (even and odd h), as in rowStats.
 */
export function atnBackwardHost(
  tape: HostTape,
  a: Float32Array,
  dy: Float32Array,
  da: Float32Array = new Float32Array(tape.dims.T * tape.dims.B * tape.dims.H),
): { da: Float32Array; dgain: Float64Array; dbias: Float64Array } {
  const { dims, gain, mean, W } = tape;
  const { T, B, H, k, batchMajor } = dims;
  const R = T * B;
  const wmu = W.mu,
    ws = W.s,
    wn = W.n;
  const dg = new Float64Array(H),
    db = new Float64Array(H);
  const u = new Float64Array(R),
    v = new Float64Array(R),
    q = new Float64Array(R);
  const H2 = H - (H % 2);
  for (let r = 0, o = 0; r < R; r++, o += H) {
    const mu = wmu[r],
      s = ws[r],
      rs = 1 / s;
    let s1 = 0,
      s2 = 0,
      t1 = 0,
      t2 = 0,
      h = 0;
    for (; h < H2; h += 2) {
      const i = o + h;
      const d0 = dy[i],
        d1 = dy[i + 1];
      const z0 = (a[i] - mu) * rs,
        z1 = (a[i + 1] - mu) * rs;
      const g0 = gain[h] * d0,
        g1 = gain[h + 1] * d1;
      s1 += g0;
      t1 += g1;
      s2 += g0 * z0;
      t2 += g1 * z1;
      dg[h] += d0 * z0;
      dg[h + 1] += d1 * z1;
      db[h] += d0;
      db[h + 1] += d1;
    }
    if (h < H) {
      const i = o + h;
      const d = dy[i];
      const z = (a[i] - mu) * rs;
      const g = gain[h] * d;
      s1 += g;
      s2 += g * z;
      dg[h] += d * z;
      db[h] += d;
    }
    const n = wn[r];
    u[r] = (s1 + t1) / n / s;
    v[r] = (s2 + t2) / n / (s * s);
    q[r] = mu * v[r];
  }
  const [Su, Sv, Sq] = forwardWindowSums(layoutOf(T, B, batchMajor), k, [u, v, q]);
  for (let r = 0, o = 0; r < R; r++, o += H) {
    const m = mean[r],
      rs = 1 / ws[r],
      sv = Sv[r];
    const c = Su[r] + m * sv - Sq[r];
    for (let h = 0, i = o; h < H; h++, i++) da[i] = gain[h] * dy[i] * rs - (a[i] - m) * sv - c;
  }
  return { da, dgain: dg, dbias: db };
}
