/**
 * ATN over a whole sequence with tfjs ops only (the "device" path): no synchronous reads, differentiable by autodiff.
 * It runs where the host path cannot read tensors back synchronously (webgpu in Node), and the tests use it as the
 * autodiff cross-check of the closed-form gradient of the host path.
 *
 * Windows by doubling: S_L(t) holds the statistics of the L steps ending at t (fewer during warm-up); S_2L(t) joins
 * S_L(t-L) and S_L(t). The window of k steps is the join of the blocks of k's binary digits, O(log k) joins of [T,B]
 * tensors, each over entries of the window only (window-local, ATN-7.3).
 */
import * as tf from '@tensorflow/tfjs';
import { EMPTY_EXP, joinT, normalizeT, stepStatsT, type StatsT } from './atn_tensor';

/** S shifted forward in time by o steps (time-major [T,B]); the first o rows become empty groups. */
function shift(S: StatsT, o: number, T: number, B: number): StatsT {
  if (o === 0) return S;
  if (o >= T) return { e: tf.fill([T, B], EMPTY_EXP), m: tf.zeros([T, B]), s1: tf.zeros([T, B]), q: tf.zeros([T, B]) };
  const f = (x: tf.Tensor, v: number) => tf.concat([tf.fill([o, B], v), tf.slice(x, [0, 0], [T - o, B])], 0);
  return { e: f(S.e, EMPTY_EXP), m: f(S.m, 0), s1: f(S.s1, 0), q: f(S.q, 0) };
}

/** Entries of the L-step block ending at t - o, per t ([T,1] constant): max(0, min(L, t-o+1)) * H. */
function counts(T: number, L: number, o: number, H: number): tf.Tensor {
  const c = new Float32Array(T);
  for (let t = 0; t < T; t++) c[t] = Math.max(0, Math.min(L, t - o + 1)) * H;
  return tf.tensor2d(c, [T, 1]);
}

/** Window statistics W_t for all t of time-major step statistics [T,B]; returns W and its entry counts N [T,1]. */
export function windowStatsT(step: StatsT, T: number, B: number, H: number, k: number): { W: StatsT; N: tf.Tensor } {
  const kk = Math.min(k, T);
  const levels: StatsT[] = [step];
  for (let L = 1; 2 * L <= kk; L *= 2) {
    const S = levels[levels.length - 1];
    levels.push(joinT(shift(S, L, T, B), S, counts(T, L, L, H), counts(T, L, 0, H)));
  }
  let acc: StatsT | undefined;
  let o = 0;
  for (let j = levels.length - 1; j >= 0; j--) {
    const L = 1 << j;
    if (!(kk & L)) continue;
    const blk = shift(levels[j], o, T, B);
    acc = acc ? joinT(acc, blk, counts(T, o, 0, H), counts(T, L, o, H)) : blk;
    o += L;
  }
  return { W: acc as StatsT, N: counts(T, kk, 0, H) };
}

export interface AtnGraphOptions {
  k: number;
  eps: number; // the float32 value
  batchMajor?: boolean;
}

/** y = ATN(a) for a [T,B,H] (or [B,T,H] with batchMajor); gain and bias [H]. Degenerate windows give NaN here. */
export function atnGraph(a: tf.Tensor3D, gain: tf.Tensor1D, bias: tf.Tensor1D, opts: AtnGraphOptions): tf.Tensor3D {
  return tf.tidy(() => {
    const x = opts.batchMajor ? tf.transpose(a, [1, 0, 2]) : a;
    const [T, B, H] = x.shape;
    const step = stepStatsT(x);
    const { W, N } = windowStatsT(step, T, B, H, opts.k);
    const y = normalizeT(step.d, step.e, step.m, W, N, opts.eps, gain, bias) as tf.Tensor3D;
    return opts.batchMajor ? tf.transpose(y, [1, 0, 2]) : y;
  });
}

/**
 * Known limit of the autodiff paths (this file and AtnStream; not of the closed-form gradient of the host path): the
 * small steps of a window are rescaled to the window's largest scale, and the gradient through that rescaling
 * underflows in float32 when the steps' magnitudes differ by more than about 2^100 (with small dy). Within
 * AUTODIFF_SPREAD the gradient meets ATN-7.3; the forward pass has no such limit.
 */
export const AUTODIFF_SPREAD = 2 ** 60;

/** Largest ratio of step magnitudes (max |a| of a step; all-zero steps left out) within one window of one sample. */
export function stepSpread(a: number[][][], k: number): number {
  let worst = 1;
  for (let b = 0; b < a[0].length; b++) {
    const c = a.map((m) => Math.max(...m[b].map(Math.abs)));
    for (let t = 0; t < a.length; t++) {
      const w = c.slice(Math.max(0, t - k + 1), t + 1).filter((x) => x > 0);
      if (w.length) worst = Math.max(worst, Math.max(...w) / Math.min(...w));
    }
  }
  return worst;
}
