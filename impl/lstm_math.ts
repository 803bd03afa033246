/**
 * exp, sigmoid and tanh for the fused LSTM loops (lstm_core.ts). Why not Math.exp / Math.tanh: in V8 they are
 * library calls (~10 ns and ~40 ns here); the LSTM evaluates five of them per hidden unit and step, a quarter of a
 * training step's time. This exp is the textbook table method, inlined by V8: x = (64n + j) ln2/64 + r with
 * |r| <= ln2/128, exp(x) = 2^n * 2^(j/64) * p(r), p the degree-5 Taylor polynomial (truncation < 4e-15 relative; measured
 * <= 4e-16 against Math.exp on [-15, 15]). Far below float32 resolution (2^-24), so the float32 tolerances
 * (ATN-7.4: 4u|f(v)| per evaluation) are untouched.
 */

/** 1.5 * 2^52: (y + MAGIC) - MAGIC rounds a double |y| < 2^51 to the nearest integer. */
const MAGIC = 6755399441055744;
const K = 64 / Math.LN2;
/** ln2/64 = L_HI + L_LO: L_HI has 36 significant bits, so kf * L_HI is exact for |k| < 2^17 (here |k| < 64700). */
const L_HI = 0.010830424696223417;
const L_LO = 2.572804622327669e-14;
const FRAC = Float64Array.from({ length: 64 }, (_, j) => Math.pow(2, j / 64));
/** 2^n for n in [-1150, 1150] (0 and Infinity at the ends, as exp itself). */
const POW2 = Float64Array.from({ length: 2301 }, (_, i) => Math.pow(2, i - 1150));

export function exp(x: number): number {
  // Outside (-700, 700), and for NaN, the library call (the result is 0, Infinity, NaN or near the double range).
  if (!(x > -700 && x < 700)) return Math.exp(x);
  const kf = x * K + MAGIC - MAGIC;
  const k = kf | 0;
  const r = x - kf * L_HI - kf * L_LO;
  const p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120)))));
  return p * FRAC[k & 63] * POW2[(k >> 6) + 1150];
}

export function sigmoid(v: number): number {
  return 1 / (1 + exp(-v));
}

/** tanh(v) = 2 sigmoid(2v) - 1: in float64 its absolute error (~1e-16) is far below any float32 tolerance. */
export function tanh(v: number): number {
  return 2 / (1 + exp(-2 * v)) - 1;
}
