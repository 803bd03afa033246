/**
 * Window statistics of the ATN-LSTM recurrence (ATN-1.2, ATN-1.3) from per-step statistics, and the window sums of the
 * ATN VJP (ATN-4.1), for B samples at once.
 *
 * Why per-step (mean, M2) pairs combined with Chan's formula instead of running sums of a and a^2: the combination
 * never subtracts large sums, so the result depends only on the entries of the window (ATN-7.3 is window-local) and
 * stays accurate when |mean| >> std. Statistics are float64 scalars per (t, b); the O(n_t) combination per scalar is
 * negligible next to the O(H) work per (t, b) that produced them.
 */
import { AtnError } from '../protocol/errors';

/** Mean and M2 (sum of squared deviations) of `width` consecutive entries per sample, two-pass in float64. */
export function stepStats(a: ArrayLike<number>, offset: number, B: number, width: number, mean: Float64Array, m2: Float64Array, at: number): void {
  for (let b = 0; b < B; b++) {
    const o = offset + b * width;
    let s = 0;
    for (let j = 0; j < width; j++) s += a[o + j];
    const m = s / width;
    let q = 0;
    for (let j = 0; j < width; j++) {
      const d = a[o + j] - m;
      q += d * d;
    }
    mean[at + b] = m;
    m2[at + b] = q;
  }
}

/**
 * Window mean mu_t and s_t = sqrt(var_t + eps) for every sample at step t, from the step statistics of steps
 * max(0, t-k+1)..t (indices t*B + b). Equal counts per step: mu = mean of step means,
 * M2 = sum M2_s + width * sum (m_s - mu)^2.
 */
export function windowAt(
  t: number,
  B: number,
  width: number,
  k: number,
  eps: number,
  mean: Float64Array,
  m2: Float64Array,
  mu: Float64Array,
  sd: Float64Array,
  what: string,
): void {
  const t0 = Math.max(0, t - k + 1);
  const n = t - t0 + 1;
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let u = t0; u <= t; u++) s += mean[u * B + b];
    const m = s / n;
    let q = 0;
    let dq = 0;
    for (let u = t0; u <= t; u++) {
      q += m2[u * B + b];
      const d = mean[u * B + b] - m;
      dq += d * d;
    }
    const v = (q + width * dq) / (n * width) + eps;
    if (!(v > 0)) throw new AtnError('degenerate_window', 'ATN-6.6', `${what}: window at t=${t} (0-based), sample b=${b} has var + eps = 0 (ATN-6.6)`);
    mu[t * B + b] = m;
    sd[t * B + b] = Math.sqrt(v);
  }
}

/**
 * The window sums of the ATN VJP for step s (ATN-4.1). Window t (s <= t <= s+k-1) sends
 * -(alpha_t + beta_t (a_s - mu_t)) into every entry of step s, with alpha_t = (1/(s_t N_t)) sum ghat_t and
 * beta_t = (1/(s_t^2 N_t)) sum ghat_t z_t. Written as -(A + beta_sum (a_s - mu_s)) with
 * A = sum_t alpha_t + beta_t (mu_s - mu_t): the centred a_s - mu_s comes from the forward pass, so nothing cancels.
 */
export function vjpWindowSums(
  s: number,
  T: number,
  B: number,
  k: number,
  alpha: Float64Array,
  beta: Float64Array,
  mu: Float64Array,
  outA: Float64Array,
  outB: Float64Array,
): void {
  const t1 = Math.min(T - 1, s + k - 1);
  for (let b = 0; b < B; b++) {
    const ms = mu[s * B + b];
    let A = 0;
    let Bs = 0;
    for (let t = s; t <= t1; t++) {
      const i = t * B + b;
      A += alpha[i] + beta[i] * (ms - mu[i]);
      Bs += beta[i];
    }
    outA[b] = A;
    outB[b] = Bs;
  }
}
