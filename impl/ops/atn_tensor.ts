/**
 * ATN statistics as tfjs ops only (no reads back to the host), differentiable by autodiff. Used by AtnStream, by the
 * sequence op on backends that cannot read synchronously (webgpu), and by the tests as the autodiff cross-check of the
 * closed-form gradient.
 *
 * Representation: a group's statistics (m, s1, q) are held in units of 2^e per row, e an integer-valued float32 tensor:
 * the entries are x = a * 2^-e, m is a float32 centre (their rounded mean), s1 = sum(x - m) the small remainder (so the
 * true mean is m + s1/n without rounding it into one float32), q their M2 about the true mean. Carrying s1 matters:
 * Chan's formula with rounded means would put the rounding (~u|m|) into the variance to first order, ~u*K relative,
 * which ATN-7.3 does not allow. Scaling by powers of two keeps squares and sums of 1e30 entries finite and of
 * subnormal entries normal. Joining two groups rescales both to the larger exponent (factors <= 1: underflow there
 * only drops what is negligible next to the larger group) and applies Chan's formula, which never subtracts large
 * sums (stable when |mean| >> std).
 */
import * as tf from '@tensorflow/tfjs';

export const MIN_EXP = -125;
export const MAX_EXP = 126;
/** Exponent of an empty group: joining with it rescales it by 2^-big = 0. */
export const EMPTY_EXP = -1000;

export interface StatsT {
  e: tf.Tensor; // exponent per row
  m: tf.Tensor; // centre (float32 mean), in units of 2^e
  s1: tf.Tensor; // sum of (x - m): the mean is m + s1/n
  q: tf.Tensor; // M2 about the mean, in units of 2^(2e)
}

const pow2 = (e: tf.Tensor) => tf.pow(tf.scalar(2), e);

/**
 * Per row of the last axis: e with max|x| * 2^-e in [0.5, 1), clamped to a normal float32 scale, 0 for an all-zero
 * row. A function of the data that is piecewise constant: its gradient is zero, given here explicitly so that autodiff
 * never differentiates log/floor (log(0) would make 0 * Infinity = NaN).
 */
export const scaleExponents = tf.customGrad(((x: tf.Tensor) => {
  const value = tf.tidy(() => {
    const c = tf.max(tf.abs(x), -1);
    const pos = tf.greater(c, 0);
    const safe = tf.where(pos, c, tf.onesLike(c));
    let e = tf.clipByValue(tf.add(tf.floor(tf.div(tf.log(safe), Math.LN2)), 1), MIN_EXP, MAX_EXP);
    // the float log may be one off: fix it against the exact scaled value
    const y = tf.mul(c, pow2(tf.neg(e)));
    e = tf.add(e, tf.sub(tf.cast(tf.greaterEqual(y, 1), 'float32'), tf.cast(tf.less(y, 0.5), 'float32')));
    return tf.where(pos, tf.clipByValue(e, MIN_EXP, MAX_EXP), tf.zerosLike(e));
  });
  return { value, gradFunc: () => tf.zerosLike(x) };
}) as never) as unknown as (x: tf.Tensor) => tf.Tensor;

export interface StepT extends StatsT {
  /** a * 2^-e minus the step mean: the step's entries centred, in units of 2^e ([..rows, H]). */
  d: tf.Tensor;
}

/** Two-pass statistics of each row of the last axis (one time step of one sample per row), scaled. */
export function stepStatsT(a: tf.Tensor): StepT {
  const e = scaleExponents(a);
  const x = tf.mul(a, tf.expandDims(pow2(tf.neg(e)), -1));
  const m = tf.mean(x, -1, true);
  const d = tf.sub(x, m);
  const H = a.shape[a.rank - 1] as number;
  const s1 = tf.sum(d, -1);
  // corrected two-pass M2: sum(d^2) - s1^2/H (>= 0 in exact arithmetic)
  const q = tf.relu(tf.sub(tf.sum(tf.square(d), -1), tf.div(tf.square(s1), H)));
  return { e, m: tf.squeeze(m, [-1]), s1, q, d };
}

/**
 * Chan's join of two disjoint groups with nA and nB entries (numbers, or tensors broadcasting against the rows; 0 for
 * an empty group).
 */
export function joinT(A: StatsT, B: StatsT, nA: number | tf.Tensor, nB: number | tf.Tensor): StatsT {
  const e = tf.maximum(A.e, B.e);
  const rA = pow2(tf.sub(A.e, e));
  const rB = pow2(tf.sub(B.e, e));
  const mA = tf.mul(A.m, rA);
  const mB = tf.mul(B.m, rB);
  const sA = tf.mul(A.s1, rA);
  const sB = tf.mul(B.s1, rB);
  let wB: number | tf.Tensor, wAB: number | tf.Tensor, iA: number | tf.Tensor, iB: number | tf.Tensor;
  if (typeof nA === 'number' && typeof nB === 'number') {
    const n = nA + nB;
    wB = n > 0 ? nB / n : 0;
    wAB = n > 0 ? (nA * nB) / n : 0;
    iA = nA > 0 ? 1 / nA : 0;
    iB = nB > 0 ? 1 / nB : 0;
  } else {
    const n = tf.maximum(tf.add(nA, nB), 1);
    wB = tf.div(nB, n);
    wAB = tf.div(tf.mul(nA, nB), n);
    iA = tf.div(1, tf.maximum(nA, 1));
    iB = tf.div(1, tf.maximum(nB, 1));
  }
  // difference of the true means: centres first (close values, little rounding), then the small remainders
  const dm = tf.sub(mB, mA);
  const delta = tf.add(dm, tf.sub(tf.mul(sB, iB), tf.mul(sA, iA)));
  const m = tf.add(mA, tf.mul(dm, wB));
  const s1 = tf.add(tf.add(sA, sB), tf.add(tf.mul(tf.sub(mA, m), nA), tf.mul(tf.sub(mB, m), nB)));
  const q = tf.add(tf.add(tf.mul(tf.mul(A.q, rA), rA), tf.mul(tf.mul(B.q, rB), rB)), tf.mul(tf.square(delta), wAB));
  return { e, m, s1, q };
}

/**
 * The scale exponent below which eps*2^-2U would exceed 2^100: the unit of the normalization is at least
 * sqrt(eps)*2^-50, so eps/unit^2 stays finite in float32 while var/unit^2 keeps every bit that matters.
 */
export function epsExponent(eps: number): number {
  return eps > 0 ? Math.ceil(Math.log2(Math.sqrt(eps))) - 50 : -Infinity;
}

/**
 * z = (a - mu)/sqrt(var + eps) for a step given centred in its own units (d, step exponent eS, step mean mS) against
 * window statistics W holding N entries; returns g*z + b. Shapes: d [...rows, H], the others [...rows] (N may be a
 * number or broadcast against rows). eps is the float32 value.
 */
export function normalizeT(
  d: tf.Tensor,
  eS: tf.Tensor,
  mS: tf.Tensor,
  W: StatsT,
  N: number | tf.Tensor,
  eps: number,
  gain: tf.Tensor,
  bias: tf.Tensor,
): tf.Tensor {
  const U = eps > 0 ? tf.maximum(W.e, epsExponent(eps)) : W.e;
  const rW = pow2(tf.sub(W.e, U));
  const mu = tf.mul(W.m, rW); // the window's centre; its mean is mu + rest
  const rest = tf.div(tf.mul(W.s1, rW), N);
  let v = tf.div(tf.mul(tf.mul(W.q, rW), rW), N);
  if (eps > 0) {
    const pU = pow2(tf.neg(U));
    // eps/unit^2 <= 2^100 by the choice of U. The floor 2^-80 (eps > 0 only) keeps var + eps > 0 where eps/unit^2
    // underflows and keeps rsqrt's gradient (v^-1.5/2) finite; where it acts, K_t > 2^40 and ATN-7.2 is that loose.
    v = tf.add(v, tf.maximum(tf.mul(tf.mul(tf.scalar(eps), pU), pU), 2 ** -80));
  }
  const inv = tf.rsqrt(v);
  const rS = pow2(tf.sub(eS, U));
  const A = tf.mul(rS, inv);
  const Bc = tf.mul(tf.sub(tf.sub(tf.mul(mS, rS), mu), rest), inv);
  const z = tf.add(tf.mul(d, tf.expandDims(A, -1)), tf.expandDims(Bc, -1));
  return tf.add(tf.mul(z, gain), bias);
}
