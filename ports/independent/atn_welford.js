/**
 * An ATN written the way a framework user writes it, NOT from atn-kit's code: per window a one-pass Welford variance
 * (what `torch.var(x, dim)` and LayerNorm kernels use), no power-of-two scaling, and a VJP by reverse-mode autodiff
 * through mean, var, sqrt and the division, in the order autograd visits them (torch's backward formulas: the division's
 * `-grad * num / (den * den)`, sqrt's `grad / (2 * result)`, var's `2/N * grad * (x - x.mean())` with the mean
 * recomputed). Every operation is rounded to the dtype (Math.fround at float32).
 *
 * Used by properties/independent-atn.test.ts: ATN-7.2/7.3 must hold for it everywhere outside the extended range (it
 * overflows and underflows there, unscaled, as the spec says such ports do).
 *
 *   const { forward, vjp } = require('./atn_welford');
 *   forward(a, { k, eps, gain, bias, dtype }) -> y;  vjp(a, dy, p) -> { y, da, dgain, dbias }
 */
'use strict';

function rounding(dtype) {
  return dtype === 'float32' ? Math.fround : (x) => x;
}

/** Window entries of sample b for step t: steps max(0, t-k+1)..t, oldest first, as [step, feature, value]. */
function windowOf(a, t, b, k) {
  const out = [];
  for (let s = Math.max(0, t - k + 1); s <= t; s++) for (let h = 0; h < a[s][b].length; h++) out.push([s, h, a[s][b][h]]);
  return out;
}

/** Welford's updating mean and biased variance. */
function welford(R, xs) {
  let mean = 0,
    m2 = 0;
  xs.forEach((x, i) => {
    const d = R(x - mean);
    mean = R(mean + R(d / (i + 1)));
    m2 = R(m2 + R(d * R(x - mean)));
  });
  return { mean, v: R(m2 / xs.length) };
}

function sum(R, xs) {
  return xs.reduce((acc, x) => R(acc + x), 0);
}

/** The forward pass of one window: what autograd keeps for the backward. */
function step(R, a, t, b, k, eps, gain, bias) {
  const w = windowOf(a, t, b, k);
  const { mean, v } = welford(
    R,
    w.map((e) => e[2]),
  );
  const s = R(Math.sqrt(R(v + eps)));
  const num = a[t][b].map((x) => R(x - mean));
  const xn = num.map((n) => R(n / s));
  const y = xn.map((z, h) => R(R(z * gain[h]) + bias[h]));
  return { w, mean, s, num, xn, y };
}

function forward(a, p) {
  const R = rounding(p.dtype);
  const eps = R(p.eps);
  return a.map((row, t) => row.map((_, b) => step(R, a, t, b, p.k, eps, p.gain, p.bias).y));
}

/** vjp; with detachMean the mean's path is left out of the backward (a real mistake: the mean treated as a constant). */
function vjpOf({ detachMean = false } = {}) {
  return (a, dy, p) => vjpImpl(a, dy, p, detachMean);
}

function vjpImpl(a, dy, p, detachMean) {
  const R = rounding(p.dtype);
  const eps = R(p.eps);
  const T = a.length,
    B = a[0].length,
    H = a[0][0].length;
  const da = a.map((row) => row.map((r) => r.map(() => 0)));
  const dgain = new Array(H).fill(0),
    dbias = new Array(H).fill(0);
  const y = [];
  for (let t = 0; t < T; t++) {
    const yt = [];
    for (let b = 0; b < B; b++) {
      const f = step(R, a, t, b, p.k, eps, p.gain, p.bias);
      yt.push(f.y);
      const N = f.w.length;
      const dxn = dy[t][b].map((d, h) => R(d * p.gain[h]));
      for (let h = 0; h < H; h++) {
        dgain[h] = R(dgain[h] + R(dy[t][b][h] * f.xn[h]));
        dbias[h] = R(dbias[h] + dy[t][b][h]);
      }
      // (x - mean) / s: the numerator's gradient, and the denominator's, summed over the broadcast features.
      const dnum = dxn.map((g) => R(g / f.s));
      const ss = R(f.s * f.s);
      const ds = sum(
        R,
        dxn.map((g, h) => R(R(-g * f.num[h]) / ss)),
      );
      const dv = R(ds / R(2 * f.s));
      const dmean = R(-sum(R, dnum));
      // var's backward recomputes the window mean (plain sum / N).
      const mean2 = R(
        sum(
          R,
          f.w.map((e) => e[2]),
        ) / N,
      );
      const cv = R(R(2 / N) * dv);
      for (let h = 0; h < H; h++) da[t][b][h] = R(da[t][b][h] + dnum[h]);
      for (const [s, h, x] of f.w) {
        da[s][b][h] = R(da[s][b][h] + R(cv * R(x - mean2)));
        if (!detachMean) da[s][b][h] = R(da[s][b][h] + R(dmean / N));
      }
    }
    y.push(yt);
  }
  return { y, da, dgain, dbias };
}

module.exports = { forward, vjp: vjpOf(), vjpOf };
