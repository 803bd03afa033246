/**
 * Gradient of the ATN op (kernel ATN_KERNEL, host path), the closed form of ATN-4.1/4.2. Per sample, with
 * ghat = g * dy, m1_t = (1/N_t) sum_h ghat_{t,h}, m2_t = (1/N_t) sum_h ghat_{t,h} z_{t,h} (dy_t reaches only step t's
 * entries of window t):
 *   da_{s,h} = ghat_{s,h}/s_s - sum_{t=s}^{s+k-1} (1/s_t) (m1_t + z_{t;(s,h)} m2_t),  z_{t;(s,h)} = (a_{s,h} - mu_t)/s_t
 *   dgain = sum_{t,b} dy z,  dbias = sum_{t,b} dy.
 * With a_{s,h} = d_{s,h}/p_s + base_s exactly (d the scaled step minus its float32 mean m, base = m/p; from the
 * forward pass) the window sum splits into
 *   sum_t u_t + base_s sum_t v_t - sum_t mu_t v_t  +  (d_{s,h}/p_s) sum_t v_t,   u = m1/s, v = m2/s^2,
 * forward-looking window sums of [T,B] values, taken in float64 on the host (atn_window.ts, window-local), so that
 * da = ghat * alpha + d * beta + gamma costs a few elementwise passes whatever k is.
 */
import * as tf from '@tensorflow/tfjs';
import { forwardWindowSums, layoutOf, type WindowStats } from './atn_window';
import { ATN_GRAD } from './kernel_names';

export interface AtnSaved {
  dims: { T: number; B: number; H: number; k: number; batchMajor: boolean };
  /** Per row: the power of two the step was scaled by, its float32 mean (unscaled; a = d/p + base exactly), and the
   * window statistics. */
  p: Float64Array;
  base: Float64Array;
  W: WindowStats;
}

/** Coefficients outside this range are applied as (.) * 2^e in two factors, so none over- or underflows. */
const COEF_LO = 2 ** -100;
const COEF_HI = 2 ** 100;

export function atnGrad(dy: tf.Tensor3D, saved: [tf.Tensor3D, tf.Tensor3D, tf.Tensor1D], S: AtnSaved): tf.Tensor[] {
  return tf.tidy(ATN_GRAD, () => atnGradIn(dy, saved, S));
}

function atnGradIn(dy: tf.Tensor3D, saved: [tf.Tensor3D, tf.Tensor3D, tf.Tensor1D], S: AtnSaved): tf.Tensor[] {
  const [d, z, gain] = saved;
  const { T, B, H, k, batchMajor } = S.dims;
  const R = T * B;
  const rowShape = [d.shape[0], d.shape[1], 1];
  const dy2 = tf.reshape(dy, [R, H]);
  const w2 = tf.reshape(tf.mul(dy, z), [R, H]);
  // Column sums and row dot products as matrix products: fast on every backend (a sum over axis 0 transposes).
  const ones = tf.ones([1, R]);
  const dgain = tf.reshape(tf.matMul(ones, w2), [H]);
  const dbias = tf.reshape(tf.matMul(ones, dy2), [H]);
  const gcol = tf.reshape(gain, [H, 1]);
  const S1 = tf.matMul(dy2, gcol).dataSync(); // sum_h ghat
  const S2 = tf.matMul(w2, gcol).dataSync(); // sum_h ghat z
  const { p, base, W } = S;
  const u = new Float64Array(R), v = new Float64Array(R), q = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const s = W.s[r];
    u[r] = S1[r] / W.n[r] / s;
    v[r] = S2[r] / W.n[r] / (s * s);
    q[r] = W.mu[r] * v[r];
  }
  const [Su, Sv, Sq] = forwardWindowSums(layoutOf(T, B, batchMajor), k, [u, v, q]);
  const alpha = new Float64Array(R), beta = new Float64Array(R), gamma = new Float64Array(R);
  let wide = false;
  for (let r = 0; r < R; r++) {
    alpha[r] = 1 / W.s[r];
    beta[r] = -Sv[r] / p[r];
    gamma[r] = -(Su[r] + base[r] * Sv[r] - Sq[r]);
    for (const c of [alpha[r], beta[r], gamma[r]]) {
      const m = Math.abs(c);
      if (m !== 0 && (m < COEF_LO || m > COEF_HI)) wide = true;
    }
  }
  const ghat = tf.mul(dy, gain);
  let da: tf.Tensor;
  if (!wide) {
    da = tf.add(tf.add(tf.mul(ghat, tf.tensor(Float32Array.from(alpha), rowShape)), tf.mul(d, tf.tensor(Float32Array.from(beta), rowShape))), tf.tensor(Float32Array.from(gamma), rowShape));
  } else {
    // per row: da = (ghat alpha' + d beta' + gamma') * 2^e1 * 2^e2 with the primed coefficients near 1
    const a1 = new Float32Array(R), b1 = new Float32Array(R), c1 = new Float32Array(R), w1 = new Float32Array(R), w2s = new Float32Array(R);
    for (let r = 0; r < R; r++) {
      const e = exponentOf(Math.max(Math.abs(alpha[r]), Math.abs(beta[r]), Math.abs(gamma[r])));
      const f = Math.pow(2, -e);
      a1[r] = alpha[r] * f;
      b1[r] = beta[r] * f;
      c1[r] = gamma[r] * f;
      const h = Math.trunc(e / 2);
      w1[r] = Math.pow(2, h);
      w2s[r] = Math.pow(2, e - h);
    }
    const t = (x: Float32Array) => tf.tensor(x, rowShape);
    da = tf.mul(tf.mul(tf.add(tf.add(tf.mul(ghat, t(a1)), tf.mul(d, t(b1))), t(c1)), t(w1)), t(w2s));
  }
  return [da, dgain, dbias];
}

/** Unclamped binary exponent (c * 2^-e in [0.5, 1)); 0 for 0. */
function exponentOf(c: number): number {
  if (c === 0 || !Number.isFinite(c)) return 0;
  let e = Math.floor(Math.log2(c)) + 1;
  if (c * Math.pow(2, -e) >= 1) e++;
  else if (c * Math.pow(2, -e) < 0.5) e--;
  return e;
}
