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
 * Why rows go four at a time in the loops below: the inner loop over h then loads gain[h] (bias[h], and updates the
 * dgain/dbias sums) once for four rows, and runs four independent float64 chains (one per row) instead of one, which
 * is what bounds a loop of adds by their latency. Once any ArrayBuffer has been detached (the wasm backend's heap
 * detaches its buffer whenever it grows) every typed-array access in V8 carries a detach check, so loads saved count
 * twice. Every row's own arithmetic is unchanged (each sum runs over h in order, as one row at a time would), so the
 * results are the same bits as the loop one row at a time; R % 4 rows are done one at a time.
 */

/** Two-pass mean and M2 of each row of H entries (exact for a constant row: mean = the entry, M2 = 0). */
export function rowStats(a: Float32Array, R: number, H: number): { mean: Float64Array; m2: Float64Array } {
  const mean = new Float64Array(R),
    m2 = new Float64Array(R);
  const R4 = R - (R % 4),
    H2 = 2 * H,
    H3 = 3 * H;
  let r = 0,
    o = 0;
  for (; r < R4; r += 4, o += 4 * H) {
    const e = o + H;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let i = o; i < e; i++) {
      s0 += a[i];
      s1 += a[i + H];
      s2 += a[i + H2];
      s3 += a[i + H3];
    }
    const m0 = s0 / H,
      m1 = s1 / H,
      m2_ = s2 / H,
      m3 = s3 / H;
    let q0 = 0,
      q1 = 0,
      q2 = 0,
      q3 = 0;
    for (let i = o; i < e; i++) {
      const d0 = a[i] - m0,
        d1 = a[i + H] - m1,
        d2 = a[i + H2] - m2_,
        d3 = a[i + H3] - m3;
      q0 += d0 * d0;
      q1 += d1 * d1;
      q2 += d2 * d2;
      q3 += d3 * d3;
    }
    mean[r] = m0;
    mean[r + 1] = m1;
    mean[r + 2] = m2_;
    mean[r + 3] = m3;
    m2[r] = q0;
    m2[r + 1] = q1;
    m2[r + 2] = q2;
    m2[r + 3] = q3;
  }
  for (; r < R; r++, o += H) {
    const e = o + H;
    let s = 0;
    for (let i = o; i < e; i++) s += a[i];
    const m = s / H;
    let q = 0;
    for (let i = o; i < e; i++) {
      const d = a[i] - m;
      q += d * d;
    }
    mean[r] = m;
    m2[r] = q;
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
  const W = windowStats(layoutOf(T, B, batchMajor), k, H, eps, mean, m2, what);
  const wmu = W.mu,
    ws = W.s;
  const R4 = R - (R % 4),
    H2 = 2 * H,
    H3 = 3 * H;
  let r = 0,
    o = 0;
  for (; r < R4; r += 4, o += 4 * H) {
    const m0 = wmu[r],
      m1 = wmu[r + 1],
      m2_ = wmu[r + 2],
      m3 = wmu[r + 3];
    const c0 = 1 / ws[r],
      c1 = 1 / ws[r + 1],
      c2 = 1 / ws[r + 2],
      c3 = 1 / ws[r + 3];
    for (let h = 0, i = o; h < H; h++, i++) {
      const g = gain[h],
        b = bias[h];
      y[i] = g * ((a[i] - m0) * c0) + b;
      y[i + H] = g * ((a[i + H] - m1) * c1) + b;
      y[i + H2] = g * ((a[i + H2] - m2_) * c2) + b;
      y[i + H3] = g * ((a[i + H3] - m3) * c3) + b;
    }
  }
  for (; r < R; r++, o += H) {
    const mu = wmu[r],
      rs = 1 / ws[r];
    for (let h = 0, i = o; h < H; h++, i++) y[i] = gain[h] * ((a[i] - mu) * rs) + bias[h];
  }
  return { y, tape: { dims, gain, mean, W } };
}

/** u, v, q of row r from its sums s1 = sum_h ghat and s2 = sum_h ghat z. */
export function rowVjp(
  u: Float64Array,
  v: Float64Array,
  q: Float64Array,
  mu: Float64Array,
  sd: Float64Array,
  n: Float64Array,
  r: number,
  s1: number,
  s2: number,
): void {
  const s = sd[r];
  u[r] = s1 / n[r] / s;
  v[r] = s2 / n[r] / (s * s);
  q[r] = mu[r] * v[r];
}

/**
 * da's per-row constants from the rows' u, v, q (rowVjp): sv_s = sum_t v_t and kk_s = Su_s + m_s sv_s - Sq_s over the
 * windows t that contain step s (forwardWindowSums), m_s the step's own mean (see atnBackwardHost).
 */
export function daTerms(tape: HostTape, u: Float64Array, v: Float64Array, q: Float64Array): { sv: Float64Array; kk: Float64Array } {
  const { T, B, k, batchMajor } = tape.dims;
  const [Su, Sv, Sq] = forwardWindowSums(layoutOf(T, B, batchMajor), k, [u, v, q]);
  const kk = new Float64Array(T * B);
  for (let r = 0; r < kk.length; r++) kk[r] = Su[r] + tape.mean[r] * Sv[r] - Sq[r];
  return { sv: Sv, kk };
}

/**
 * The VJP (ATN-4.1/4.2) for dy, given the forward's input `a` again. Per row t: u_t = m1_t/s_t and v_t = m2_t/s_t^2
 * with m1 = (1/N_t) sum_h ghat, m2 = (1/N_t) sum_h ghat z, ghat = g dy. Entry (s,h) receives
 * ghat/s_s - sum_{t=s}^{s+k-1} (u_t + v_t (a - mu_t)),
 * written as ghat/s_s - (a - m_s) Sv - (Su + sum_t v_t (m_s - mu_t)) with m_s the mean of step s itself, so that the
 * centred a - m_s, not a, meets the window sums (no cancellation when |mu| >> s). Why the step's mean and not the
 * window mean mu_s: window s may hold entries far larger than window t's (they are different windows), and the
 * cancellation of (a - mu_s) against (mu_s - mu_t) would then cost u*|mu_s|*v_t, an error from outside window t that
 * ATN-7.3 does not allow; |m_s| is at most the largest entry of step s, which lies in every window t that sends
 * gradient to it. The sums over t are forward-looking window sums (atn_window.ts). da is written into `da` (a new
 * array when omitted).
 */
export function atnBackwardHost(
  tape: HostTape,
  a: Float32Array,
  dy: Float32Array,
  da: Float32Array = new Float32Array(tape.dims.T * tape.dims.B * tape.dims.H),
): { da: Float32Array; dgain: Float64Array; dbias: Float64Array } {
  const { dims, gain, mean, W } = tape;
  const { T, B, H } = dims;
  const R = T * B;
  const wmu = W.mu,
    ws = W.s,
    wn = W.n;
  const dg = new Float64Array(H),
    db = new Float64Array(H);
  const u = new Float64Array(R),
    v = new Float64Array(R),
    q = new Float64Array(R);
  const R4 = R - (R % 4),
    H2 = 2 * H,
    H3 = 3 * H;
  // u, v, q per row; dgain and dbias summed over the rows in order (dg[h] + p0 + p1 + ... adds left to right)
  let r = 0,
    o = 0;
  for (; r < R4; r += 4, o += 4 * H) {
    const m0 = wmu[r],
      m1 = wmu[r + 1],
      m2 = wmu[r + 2],
      m3 = wmu[r + 3];
    const c0 = 1 / ws[r],
      c1 = 1 / ws[r + 1],
      c2 = 1 / ws[r + 2],
      c3 = 1 / ws[r + 3];
    let a0 = 0,
      a1 = 0,
      a2 = 0,
      a3 = 0,
      b0 = 0,
      b1 = 0,
      b2 = 0,
      b3 = 0;
    for (let h = 0, i = o; h < H; h++, i++) {
      const g = gain[h];
      const d0 = dy[i],
        d1 = dy[i + H],
        d2 = dy[i + H2],
        d3 = dy[i + H3];
      const z0 = (a[i] - m0) * c0,
        z1 = (a[i + H] - m1) * c1,
        z2 = (a[i + H2] - m2) * c2,
        z3 = (a[i + H3] - m3) * c3;
      const g0 = g * d0,
        g1 = g * d1,
        g2 = g * d2,
        g3 = g * d3;
      a0 += g0;
      a1 += g1;
      a2 += g2;
      a3 += g3;
      b0 += g0 * z0;
      b1 += g1 * z1;
      b2 += g2 * z2;
      b3 += g3 * z3;
      dg[h] = dg[h] + d0 * z0 + d1 * z1 + d2 * z2 + d3 * z3;
      db[h] = db[h] + d0 + d1 + d2 + d3;
    }
    rowVjp(u, v, q, wmu, ws, wn, r, a0, b0);
    rowVjp(u, v, q, wmu, ws, wn, r + 1, a1, b1);
    rowVjp(u, v, q, wmu, ws, wn, r + 2, a2, b2);
    rowVjp(u, v, q, wmu, ws, wn, r + 3, a3, b3);
  }
  for (; r < R; r++, o += H) {
    const mu = wmu[r],
      s = ws[r],
      rs = 1 / s;
    let s1 = 0,
      s2 = 0;
    for (let h = 0, i = o; h < H; h++, i++) {
      const d = dy[i];
      const z = (a[i] - mu) * rs;
      const g = gain[h] * d;
      s1 += g;
      s2 += g * z;
      dg[h] += d * z;
      db[h] += d;
    }
    rowVjp(u, v, q, wmu, ws, wn, r, s1, s2);
  }
  const { sv: Sv, kk } = daTerms(tape, u, v, q);
  for (r = 0, o = 0; r < R4; r += 4, o += 4 * H) {
    const m0 = mean[r],
      m1 = mean[r + 1],
      m2 = mean[r + 2],
      m3 = mean[r + 3];
    const c0 = 1 / ws[r],
      c1 = 1 / ws[r + 1],
      c2 = 1 / ws[r + 2],
      c3 = 1 / ws[r + 3];
    const v0 = Sv[r],
      v1 = Sv[r + 1],
      v2 = Sv[r + 2],
      v3 = Sv[r + 3];
    const k0 = kk[r],
      k1 = kk[r + 1],
      k2 = kk[r + 2],
      k3 = kk[r + 3];
    for (let h = 0, i = o; h < H; h++, i++) {
      const g = gain[h];
      da[i] = g * dy[i] * c0 - (a[i] - m0) * v0 - k0;
      da[i + H] = g * dy[i + H] * c1 - (a[i + H] - m1) * v1 - k1;
      da[i + H2] = g * dy[i + H2] * c2 - (a[i + H2] - m2) * v2 - k2;
      da[i + H3] = g * dy[i + H3] * c3 - (a[i + H3] - m3) * v3 - k3;
    }
  }
  for (; r < R; r++, o += H) {
    const m = mean[r],
      rs = 1 / ws[r],
      sv = Sv[r],
      c = kk[r];
    for (let h = 0, i = o; h < H; h++, i++) da[i] = gain[h] * dy[i] * rs - (a[i] - m) * sv - c;
  }
  return { da, dgain: dg, dbias: db };
}
