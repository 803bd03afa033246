/**
 * Central finite differences at working precision: the independent check of the closed-form VJP (ATN-4.1, 4.2) and
 * of the ATN-LSTM gradients (ATN-4.3).
 *
 * Step: a central difference has truncation error ~h^2 |f'''| and rounding error ~10^-p |f| / h at p digits, balanced
 * at h ~ 10^(-p/3): with p = 64, h = 10^-21 (times the scale of x) leaves ~42 correct digits, comfortably more than the
 * 30 the suite asks for. `richardson: true` combines h and h/2 ((4 D(h/2) - D(h)) / 3, error ~h^4) with h ~ 10^(-p/5),
 * ~51 digits, at twice the cost. The divisor is the step actually taken ((x+h) - (x-h) after rounding), not 2h.
 */
import type { Big, MathCtx } from './math';

export type VecFn = (x: Big[]) => Big[];

export interface FdOptions {
  /** Extrapolate two steps (4 evaluations per derivative instead of 2). */
  richardson?: boolean;
  /** Override the step exponent: h = 10^-stepDigits times the scale. */
  stepDigits?: number;
  /** Override the scale of the step along v (default (1 + max|x|) / max|v|). */
  scale?: Big;
}

function maxAbs(m: MathCtx, v: readonly Big[]): Big {
  return v.reduce((a, x) => (x.abs().gt(a) ? x.abs() : a), m.zero);
}

/** D(h) = (f(x + h v) - f(x - h v)) / (actual step), for one step h. */
function central(m: MathCtx, f: VecFn, x: Big[], v: Big[], h: Big): Big[] {
  const xp = x.map((xi, i) => xi.plus(h.times(v[i])));
  const xm = x.map((xi, i) => xi.minus(h.times(v[i])));
  // The step along v actually taken, read off the largest component of v (rounding of x ± h v).
  let j = 0;
  v.forEach((vi, i) => {
    if (vi.abs().gt(v[j].abs())) j = i;
  });
  const denom = xp[j].minus(xm[j]).div(v[j]);
  const fp = f(xp);
  const fm = f(xm);
  return fp.map((p, i) => p.minus(fm[i]).div(denom));
}

/** The directional derivative J(x) v of f at x (every output), by central differences. */
export function fdJvp(m: MathCtx, f: VecFn, x: Big[], v: Big[], opts: FdOptions = {}): Big[] {
  const vmax = maxAbs(m, v);
  if (vmax.isZero()) return f(x).map(() => m.zero);
  const digits = opts.stepDigits ?? Math.floor(m.precision / (opts.richardson ? 5 : 3));
  const scale = opts.scale ?? m.one.plus(maxAbs(m, x)).div(vmax);
  const h = new m.Big(10).pow(-digits).times(scale);
  const d1 = central(m, f, x, v, h);
  if (!opts.richardson) return d1;
  const d2 = central(m, f, x, v, h.div(2));
  return d2.map((b, i) => b.times(4).minus(d1[i]).div(3));
}

/** The gradient of <w, f(x)> w.r.t. every x_i (a VJP), one central difference per coordinate, step ~ (1 + |x_i|). */
export function fdVjp(m: MathCtx, f: VecFn, x: Big[], w: Big[], opts: FdOptions = {}): Big[] {
  const g: VecFn = (xs) => [f(xs).reduce((s, y, i) => s.plus(y.times(w[i])), m.zero)];
  return x.map((xi, i) => {
    const e = x.map((_, j) => (j === i ? m.one : m.zero));
    return fdJvp(m, g, x, e, { ...opts, scale: m.one.plus(xi.abs()) })[0];
  });
}
