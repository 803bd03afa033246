/**
 * The ATN op (ATN-1): y_t = g * (a_t - mu_t) / sqrt(var_t + eps) + b, statistics over the window of the last k steps
 * of the same sample. Differentiable in a, gain and bias.
 *
 * Host path (wasm, cpu, tensorflow): the O(T*B*H) work stays on the backend (per-step max/min, scaling by a power of
 * two, two-pass mean and M2, normalization, affine); the O(T*B) window statistics are read back and combined in
 * float64 on the host by atn_window.ts, at a cost independent of k. Its gradient is the closed form of ATN-4.1
 * (atn_grad.ts), attached with tf.customGrad; both run in tf.tidy scopes named after ATN_KERNEL (kernel_names.ts).
 * Device path (webgpu, which cannot read synchronously in Node): atn_graph.ts, tfjs ops only, autodiff.
 */
import * as tf from '@tensorflow/tfjs';
import { badArgument } from '../../protocol/errors';
import { atnGrad, type AtnSaved } from './atn_grad';
import { atnGraph } from './atn_graph';
import { layoutOf, scaleExponent, windowStats } from './atn_window';
import { ATN_KERNEL } from './kernel_names';

export { ATN_KERNEL } from './kernel_names';

export interface AtnOptions {
  k: number;
  eps: number;
  gain?: tf.Tensor1D;
  bias?: tf.Tensor1D;
  /** a is [B,T,H] instead of [T,B,H]. */
  batchMajor?: boolean;
  /** Force a path (tests): 'host' needs synchronous reads, 'device' is tfjs ops with autodiff. Default: by backend. */
  path?: 'host' | 'device';
}

/** Backends whose tensors cannot be read synchronously (in Node). */
const NO_SYNC_READ = new Set(['webgpu', 'webgl']);

export function defaultPath(): 'host' | 'device' {
  return NO_SYNC_READ.has(tf.getBackend()) ? 'device' : 'host';
}

export function checkAtnOptions(a: tf.Tensor, opts: AtnOptions): { T: number; B: number; H: number; eps32: number } {
  if (a.rank !== 3) throw badArgument('a', 'ATN-6.3', `expected a rank-3 tensor, got shape [${a.shape}]`);
  if (!Number.isInteger(opts.k) || opts.k < 1) throw badArgument('k', 'ATN-6.1', `must be a positive integer, got ${opts.k}`);
  if (!Number.isFinite(opts.eps) || opts.eps < 0) throw badArgument('eps', 'ATN-6.2', `must be finite and non-negative, got ${opts.eps}`);
  const [d0, d1, H] = a.shape as [number, number, number];
  const [T, B] = opts.batchMajor ? [d1, d0] : [d0, d1];
  for (const [name, v] of [['gain', opts.gain], ['bias', opts.bias]] as const)
    if (v && (v.rank !== 1 || v.shape[0] !== H)) throw badArgument(name, 'ATN-6.5', `expected shape [${H}], got [${v.shape}]`);
  return { T, B, H, eps32: Math.fround(opts.eps) };
}

/**
 * ATN of a [T,B,H] (time-major; [B,T,H] with batchMajor). eps is used as the float32 value it rounds to. A window with
 * var + eps = 0 throws AtnError degenerate_window (ATN-6.6) on the host path (the device path yields NaN there; the
 * protocol target checks the data itself).
 */
export function atn(a: tf.Tensor3D, opts: AtnOptions): tf.Tensor3D {
  const { T, B, H, eps32 } = checkAtnOptions(a, opts);
  return tf.tidy(ATN_KERNEL, () => {
    const gain = opts.gain ?? tf.ones([H]);
    const bias = opts.bias ?? tf.zeros([H]);
    if ((opts.path ?? defaultPath()) === 'device') return atnGraph(a, gain as tf.Tensor1D, bias as tf.Tensor1D, { k: opts.k, eps: eps32, batchMajor: opts.batchMajor });
    const f = tf.customGrad(((x: tf.Tensor3D, g: tf.Tensor1D, b: tf.Tensor1D, save: tf.GradSaveFunc) =>
      atnHost(x, g, b, { T, B, H, k: opts.k, eps: eps32, batchMajor: !!opts.batchMajor }, save)) as never) as unknown as (
      x: tf.Tensor3D,
      g: tf.Tensor1D,
      b: tf.Tensor1D,
    ) => tf.Tensor3D;
    return f(a, gain as tf.Tensor1D, bias as tf.Tensor1D);
  });
}

interface HostDims {
  T: number;
  B: number;
  H: number;
  k: number;
  eps: number;
  batchMajor: boolean;
}

/** Scaling is skipped when every step's largest magnitude lies here: squares and sums then stay normal floats. */
const SAFE_LO = 2 ** -30;
const SAFE_HI = 2 ** 30;

function atnHost(a: tf.Tensor3D, gain: tf.Tensor1D, bias: tf.Tensor1D, dm: HostDims, save: tf.GradSaveFunc) {
  const { T, B, H, k, eps, batchMajor } = dm;
  const R = T * B;
  const L = layoutOf(T, B, batchMajor);
  const rowShape = [a.shape[0], a.shape[1], 1];
  // 1. per-step extremes: the scale of each step, and exact detection of constant windows
  const mx = tf.max(a, -1).dataSync();
  const mn = tf.min(a, -1).dataSync();
  const p = new Float64Array(R); // exact powers of two: x = a * p
  let scaled = false;
  for (let r = 0; r < R; r++) {
    const c = Math.max(Math.abs(mx[r]), Math.abs(mn[r]));
    p[r] = Math.pow(2, -scaleExponent(c));
    if (c !== 0 && (c < SAFE_LO || c > SAFE_HI)) scaled = true;
  }
  if (!scaled) p.fill(1);
  const x = scaled ? tf.mul(a, tf.tensor(Float32Array.from(p), rowShape)) : a;
  // 2. step statistics in units of 1/p, two-pass with the correction term: d = x - m (exact where x is near the
  // float32 mean m, which is where it matters), a = d/p + m/p, the step's mean is m + sum(d)/H. Without the correction the
  // rounding of m (~u|m|) would enter the window variance to first order (Chan's formula assumes exact means),
  // an error ~u*K_t relative in s_t that ATN-7.3 does not allow for the ghat/s term.
  const m = tf.mean(x, -1, true);
  const d = tf.sub(x, m);
  const sd = tf.sum(d, -1).dataSync();
  const q32 = tf.sum(tf.square(d), -1).dataSync();
  const m32 = m.dataSync();
  const base = new Float64Array(R), mean = new Float64Array(R), m2 = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    base[r] = m32[r] / p[r];
    mean[r] = (m32[r] + sd[r] / H) / p[r];
    m2[r] = Math.max(0, q32[r] - (sd[r] * sd[r]) / H) / (p[r] * p[r]);
  }
  // 3. window statistics on the host (float64, window-local, O(T*B) whatever k is)
  const W = windowStats(L, k, H, eps, mean, m2, Float64Array.from(mx), Float64Array.from(mn));
  // 4. z = (a - mu_t)/s_t = d * A + C with A = 1/(p s_t), C = (m/p - mu_t)/s_t: both bounded by ~K_t
  const A = new Float32Array(R), C = new Float32Array(R);
  for (let r = 0; r < R; r++) {
    A[r] = 1 / (p[r] * W.s[r]);
    C[r] = (base[r] - W.mu[r]) / W.s[r];
  }
  const z = tf.add(tf.mul(d, tf.tensor(A, rowShape)), tf.tensor(C, rowShape));
  const y = tf.add(tf.mul(z, gain), bias);
  save([d, z, gain]);
  const saved: AtnSaved = { dims: { T, B, H, k, batchMajor }, p, base, W };
  return { value: y, gradFunc: (dy: tf.Tensor3D, s: tf.Tensor[]) => atnGrad(dy, s as [tf.Tensor3D, tf.Tensor3D, tf.Tensor1D], saved) };
}
