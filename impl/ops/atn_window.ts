/**
 * Window statistics of ATN on the host, in float64, from per-step statistics (ATN-1.2, ATN-1.3), and the window sums of
 * its VJP (ATN-4.1). Used by the sequence op on backends that can read tensors synchronously (wasm, cpu, tensorflow).
 *
 * Why window-local blocks: the tolerance (ATN-7.2/7.3) is local to each window, so a window's statistics may depend
 * only on its own entries. Prefix sums over the whole sequence, then differenced, break that when the magnitude moves
 * by many orders along the sequence. Instead time is cut into blocks of k steps; every window [t-k+1, t] is the
 * suffix of one block joined with the prefix of the next (or one prefix), so each window costs O(1) combinations,
 * whatever k is, and each partial aggregate holds only entries of the window.
 *
 * Why float64 here: per-step statistics of float32 entries (atn_host.ts); in float64 their squares and sums neither
 * overflow (1e30 entries) nor underflow (subnormal entries), so no rescaling is needed on the host.
 */
import { AtnError } from '../../protocol/errors';

/** Row index of (t, b) in a [T,B] (time-major) or [B,T] (batch-major) table of per-step values. */
export interface Layout {
  T: number;
  B: number;
  /** row(t, b) = t * strideT + b * strideB */
  strideT: number;
  strideB: number;
}

export function layoutOf(T: number, B: number, batchMajor: boolean): Layout {
  return batchMajor ? { T, B, strideT: 1, strideB: T } : { T, B, strideT: B, strideB: 1 };
}

/**
 * The window [max(0,t-k+1), t] of one sample is the join of the partial aggregate `suffix[from]` (covering from..end
 * of its block) and `prefix[t]` (covering start of t's block..t); from = -1 when the window is the prefix alone.
 * Block j covers steps jk..jk+k-1; pos = t mod k (tracked by the loops: a division per step costs more than the rest).
 * The window starts a block exactly when (t + 1) mod k = 0.
 */
function windowFrom(t: number, k: number, pos: number): number {
  const start = t - k + 1;
  return start <= 0 || pos === k - 1 ? -1 : start;
}

export interface WindowStats {
  /** Window mean mu_t per row. */
  mu: Float64Array;
  /** sqrt(var_t + eps) per row. */
  s: Float64Array;
  /** N_t = n_t * H per row. */
  n: Float64Array;
}

/**
 * Window statistics per row from step means and step M2 (sum of squared deviations from the step mean), per row and
 * exact in float64. The step statistics must be exact for constant steps (float64 two-pass over float32 entries: the
 * mean of equal entries is that entry and its M2 is 0); Chan's formula then keeps a constant window's mean exact and
 * its M2 zero by itself, so that with eps = 0 such a window is the degenerate window of ATN-6.6, and throws.
 *
 * Why time outer and samples inner: each sample's prefix (and suffix) is a chain of dependent divisions, one step
 * after the other; run one sample at a time, the loop waits on that chain (about 40 ns a row). With the B samples of a
 * step side by side the chains are independent and overlap. The arithmetic of each row is the same in either order.
 */
export function windowStats(L: Layout, k: number, H: number, eps: number, mean: Float64Array, m2: Float64Array, what = 'a'): WindowStats {
  const { T, B, strideT, strideB } = L;
  const R = T * B;
  const mu = new Float64Array(R),
    s = new Float64Array(R),
    n = new Float64Array(R);
  if (!(T >= 1)) return { mu, s, n };
  // partial aggregates, indexed t * B + b: prefix (pm, pq) and suffix (sm, sq) means and M2; their counts in steps
  // depend on t alone (cnt)
  const pm = new Float64Array(R),
    pq = new Float64Array(R),
    sm = new Float64Array(R),
    sq = new Float64Array(R);
  const pc = new Float64Array(T),
    sc = new Float64Array(T);
  // prefixes, restarting at each block start
  for (let t = 0, pos = 0; t < T; t++, pos = pos === k - 1 ? 0 : pos + 1) {
    const o = t * B,
      rt = t * strideT;
    if (pos === 0) {
      pc[t] = 1;
      for (let b = 0, r = rt; b < B; b++, r += strideB) {
        pm[o + b] = mean[r];
        pq[o + b] = m2[r];
      }
    } else {
      const c = pc[t - 1] + 1,
        w = (c - 1) / c;
      pc[t] = c;
      for (let b = 0, r = rt, i = o; b < B; b++, r += strideB, i++) {
        const d = mean[r] - pm[i - B];
        pm[i] = pm[i - B] + d / c;
        pq[i] = pq[i - B] + m2[r] + d * d * H * w;
      }
    }
  }
  // suffixes, restarting at each block end
  for (let t = T - 1, pos = (T - 1) % k; t >= 0; t--, pos = pos === 0 ? k - 1 : pos - 1) {
    const o = t * B,
      rt = t * strideT;
    if (pos === k - 1 || t === T - 1) {
      sc[t] = 1;
      for (let b = 0, r = rt; b < B; b++, r += strideB) {
        sm[o + b] = mean[r];
        sq[o + b] = m2[r];
      }
    } else {
      const c = sc[t + 1] + 1,
        w = (c - 1) / c;
      sc[t] = c;
      for (let b = 0, r = rt, i = o; b < B; b++, r += strideB, i++) {
        const d = mean[r] - sm[i + B];
        sm[i] = sm[i + B] + d / c;
        sq[i] = sq[i + B] + m2[r] + d * d * H * w;
      }
    }
  }
  // each window: prefix[t] alone, or joined with suffix[from] (windowFrom); the degenerate window reported is the
  // first in sample order, then time order
  let bad: { t: number; b: number; steps: number; value: number } | undefined;
  for (let t = 0, pos = 0; t < T; t++, pos = pos === k - 1 ? 0 : pos + 1) {
    const from = windowFrom(t, k, pos);
    const o = t * B,
      rt = t * strideT;
    const cp = pc[t];
    if (from < 0) {
      const N = cp * H;
      for (let b = 0, r = rt, i = o; b < B; b++, r += strideB, i++) {
        const s2 = pq[i] / N + eps;
        if (!(s2 > 0) && (bad === undefined || b < bad.b)) bad = { t, b, steps: cp, value: pm[i] };
        mu[r] = pm[i];
        s[r] = Math.sqrt(s2);
        n[r] = N;
      }
    } else {
      // Chan et al.: join two disjoint groups of ca*H and cp*H entries
      const ca = sc[from],
        tot = ca + cp,
        wm = cp / tot,
        wq = (ca * cp) / tot,
        N = tot * H,
        f = from * B;
      for (let b = 0, r = rt, i = o, j = f; b < B; b++, r += strideB, i++, j++) {
        const d = pm[i] - sm[j];
        const m = sm[j] + d * wm;
        const s2 = (sq[j] + pq[i] + d * d * H * wq) / N + eps;
        if (!(s2 > 0) && (bad === undefined || b < bad.b)) bad = { t, b, steps: tot, value: m };
        mu[r] = m;
        s[r] = Math.sqrt(s2);
        n[r] = N;
      }
    }
  }
  if (bad) throw degenerateWindow(what, bad.t, bad.b, bad.steps, bad.value);
  return { mu, s, n };
}

export function degenerateWindow(what: string, t: number, b: number, steps: number, value: number): AtnError {
  return new AtnError(
    'degenerate_window',
    'ATN-6.6',
    `${what}: the window at t=${t} (0-based, steps ${t - steps + 1}..${t}) of sample b=${b} has all entries equal to ${value} and eps = 0, so var + eps = 0 (ATN-6.6)`,
    what,
  );
}

/**
 * Forward-looking window sums: out[j][row(s,b)] = sum of v[j][row(t,b)] over t = s..min(T-1, s+k-1), the windows
 * that contain step s (the VJP of ATN-4.1 sends gradient from y_t into every step of W_t). Same block scheme as above
 * on the reversed sequence: each sum adds only terms of its own window. Samples inner, as in windowStats.
 */
export function forwardWindowSums(L: Layout, k: number, v: Float64Array[]): Float64Array[] {
  const { T, B, strideT, strideB } = L;
  const R = T * B;
  const out = v.map(() => new Float64Array(R));
  // reversed time u = T-1-t turns forward windows into backward ones; partial sums indexed u * B + b
  const pre = new Float64Array(R),
    suf = new Float64Array(R);
  for (let j = 0; j < v.length; j++) {
    const src = v[j],
      dst = out[j];
    for (let u = 0, pos = 0; u < T; u++, pos = pos === k - 1 ? 0 : pos + 1) {
      const o = u * B,
        rt = (T - 1 - u) * strideT;
      if (pos === 0) for (let b = 0, r = rt; b < B; b++, r += strideB) pre[o + b] = 0 + src[r];
      else for (let b = 0, r = rt, i = o; b < B; b++, r += strideB, i++) pre[i] = pre[i - B] + src[r];
    }
    for (let u = T - 1, pos = (T - 1) % k; u >= 0; u--, pos = pos === 0 ? k - 1 : pos - 1) {
      const o = u * B,
        rt = (T - 1 - u) * strideT;
      if (pos === k - 1 || u === T - 1) for (let b = 0, r = rt; b < B; b++, r += strideB) suf[o + b] = 0 + src[r];
      else for (let b = 0, r = rt, i = o; b < B; b++, r += strideB, i++) suf[i] = suf[i + B] + src[r];
    }
    for (let u = 0, pos = 0; u < T; u++, pos = pos === k - 1 ? 0 : pos + 1) {
      const from = windowFrom(u, k, pos);
      const o = u * B,
        rt = (T - 1 - u) * strideT;
      if (from < 0) for (let b = 0, r = rt; b < B; b++, r += strideB) dst[r] = pre[o + b];
      else for (let b = 0, r = rt, f = from * B; b < B; b++, r += strideB) dst[r] = suf[f + b] + pre[o + b];
    }
  }
  return out;
}

/**
 * ATN-6.6 on the data, before any backend work: with eps = 0 a window whose entries are all equal (as float32) has
 * var + eps = 0. The host op checks this too; the device path (webgpu) cannot, so the target always does.
 */
export function checkDegenerate(a: ArrayLike<number>, T: number, B: number, H: number, k: number, eps32: number, what: string): void {
  if (eps32 !== 0) return;
  const hi = new Float64Array(T * B),
    lo = new Float64Array(T * B);
  for (let r = 0; r < T * B; r++) {
    let x = -Infinity,
      y = Infinity;
    for (let h = 0; h < H; h++) {
      const v = a[r * H + h];
      if (v > x) x = v;
      if (v < y) y = v;
    }
    hi[r] = x;
    lo[r] = y;
  }
  for (let b = 0; b < B; b++) {
    // run: first step of the current run of constant steps that all hold the same value
    let run = 0;
    for (let t = 0; t < T; t++) {
      const r = t * B + b;
      const constant = hi[r] === lo[r];
      if (!constant) run = t + 1;
      else if (t > 0 && run < t && hi[r] !== hi[r - B]) run = t;
      const t0 = Math.max(0, t - k + 1);
      if (constant && run <= t0) throw degenerateWindow(what, t, b, t - t0 + 1, hi[r]);
    }
  }
}
