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
 * Window statistics per row from step means, step M2 (sum of squared deviations from the step mean) and step max/min,
 * all per row and exact in float64. A window whose entries are all equal gets mu = that value and var = 0 exactly;
 * with eps = 0 that is the degenerate window of ATN-6.6 and throws. max/min may be omitted when the step statistics
 * are exact for constant steps (float64 two-pass over float32 entries: the mean of equal entries is that entry and
 * its M2 is 0), since Chan's formula then keeps a constant window's mean exact and its M2 zero by itself.
 */
export function windowStats(
  L: Layout,
  k: number,
  H: number,
  eps: number,
  mean: Float64Array,
  m2: Float64Array,
  max?: Float64Array,
  min?: Float64Array,
  what = 'a',
): WindowStats {
  const checkConstant = max !== undefined && min !== undefined;
  max ??= mean;
  min ??= mean;
  const { T, B, strideT, strideB } = L;
  if (!(T >= 1)) return { mu: new Float64Array(0), s: new Float64Array(0), n: new Float64Array(0) };
  const R = T * B;
  const mu = new Float64Array(R),
    s = new Float64Array(R),
    n = new Float64Array(R);
  // partial aggregates of one sample: count (steps), mean, M2, max, min
  const pc = new Float64Array(T),
    pm = new Float64Array(T),
    pq = new Float64Array(T),
    px = new Float64Array(T),
    pn = new Float64Array(T);
  const sc = new Float64Array(T),
    sm = new Float64Array(T),
    sq = new Float64Array(T),
    sx = new Float64Array(T),
    sn = new Float64Array(T);
  // Why no closures and no max/min unless asked: this runs once per op call on every row (T*B of them), and a
  // closure per row index or per window costs more than the arithmetic; the arithmetic is the same in either form.
  for (let b = 0; b < B; b++) {
    const base = b * strideB;
    // prefixes, restarting at each block start
    for (let t = 0, r = base, pos = 0; t < T; t++, r += strideT, pos = pos === k - 1 ? 0 : pos + 1) {
      if (pos === 0) {
        pc[t] = 1;
        pm[t] = mean[r];
        pq[t] = m2[r];
        if (checkConstant) {
          px[t] = max[r];
          pn[t] = min[r];
        }
      } else {
        const c = pc[t - 1] + 1;
        const d = mean[r] - pm[t - 1];
        pc[t] = c;
        pm[t] = pm[t - 1] + d / c;
        pq[t] = pq[t - 1] + m2[r] + d * d * H * ((c - 1) / c);
        if (checkConstant) {
          px[t] = Math.max(px[t - 1], max[r]);
          pn[t] = Math.min(pn[t - 1], min[r]);
        }
      }
    }
    // suffixes, restarting at each block end
    for (let t = T - 1, r = base + (T - 1) * strideT, pos = (T - 1) % k; t >= 0; t--, r -= strideT, pos = pos === 0 ? k - 1 : pos - 1) {
      if (pos === k - 1 || t === T - 1) {
        sc[t] = 1;
        sm[t] = mean[r];
        sq[t] = m2[r];
        if (checkConstant) {
          sx[t] = max[r];
          sn[t] = min[r];
        }
      } else {
        const c = sc[t + 1] + 1;
        const d = mean[r] - sm[t + 1];
        sc[t] = c;
        sm[t] = sm[t + 1] + d / c;
        sq[t] = sq[t + 1] + m2[r] + d * d * H * ((c - 1) / c);
        if (checkConstant) {
          sx[t] = Math.max(sx[t + 1], max[r]);
          sn[t] = Math.min(sn[t + 1], min[r]);
        }
      }
    }
    // each window: prefix[t] alone, or joined with suffix[from] (windowFrom)
    for (let t = 0, r = base, pos = 0; t < T; t++, r += strideT, pos = pos === k - 1 ? 0 : pos + 1) {
      const from = windowFrom(t, k, pos);
      let c = pc[t],
        m = pm[t],
        q = pq[t],
        hi = checkConstant ? px[t] : 0,
        lo = checkConstant ? pn[t] : 0;
      if (from >= 0) {
        // Chan et al.: join two disjoint groups of ca*H and c*H entries
        const ca = sc[from],
          d = m - sm[from],
          tot = ca + c;
        m = sm[from] + d * (c / tot);
        q = sq[from] + q + d * d * H * ((ca * c) / tot);
        c = tot;
        if (checkConstant) {
          hi = Math.max(hi, sx[from]);
          lo = Math.min(lo, sn[from]);
        }
      }
      const N = c * H;
      let v = q / N;
      if (checkConstant && hi === lo) {
        // every entry of the window equals hi: exact statistics, whatever rounding the step means had
        m = hi;
        v = 0;
      }
      const s2 = v + eps;
      if (!(s2 > 0)) throw degenerateWindow(what, t, b, c, checkConstant ? hi : m);
      mu[r] = m;
      s[r] = Math.sqrt(s2);
      n[r] = N;
    }
  }
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
 * on the reversed sequence: each sum adds only terms of its own window.
 */
export function forwardWindowSums(L: Layout, k: number, v: Float64Array[]): Float64Array[] {
  const { T, B, strideT, strideB } = L;
  const out = v.map(() => new Float64Array(T * B));
  const pre = new Float64Array(T),
    suf = new Float64Array(T);
  for (let j = 0; j < v.length; j++) {
    const src = v[j],
      dst = out[j];
    for (let b = 0; b < B; b++) {
      // reversed time u = T-1-t turns forward windows into backward ones; row of u = top - u * strideT
      const top = (T - 1) * strideT + b * strideB;
      for (let u = 0, pos = 0; u < T; u++, pos = pos === k - 1 ? 0 : pos + 1) pre[u] = (pos === 0 ? 0 : pre[u - 1]) + src[top - u * strideT];
      for (let u = T - 1, pos = (T - 1) % k; u >= 0; u--, pos = pos === 0 ? k - 1 : pos - 1)
        suf[u] = (pos === k - 1 || u === T - 1 ? 0 : suf[u + 1]) + src[top - u * strideT];
      for (let u = 0, pos = 0; u < T; u++, pos = pos === k - 1 ? 0 : pos + 1) {
        const from = windowFrom(u, k, pos);
        dst[top - u * strideT] = from >= 0 ? suf[from] + pre[u] : pre[u];
      }
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
