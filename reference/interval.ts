/**
 * Float64 intervals for the tolerance formulas of ATN-7.2/7.3 on the fast oracle (ATN-7.9): each value is [lo, hi],
 * two doubles around the exact real value, every operation rounded outward. The formulas are sums and products of
 * magnitudes (no cancellation), so an interval stays a few ulps wide; a verdict is given only when it holds for every
 * double of the tolerance's interval, and RN(exact), the exact path's tolerance, is one of them (lo <= exact <= hi and
 * rounding is monotonic), so the verdict is the exact path's (compare.ts asks the exact oracle otherwise). The same
 * formulas in double-double cost ten times as much (an object and a chain of error-free transformations per operation)
 * for digits a bound does not need.
 */
import type { Dtype } from '../protocol/types';
import type { AtnBig } from './atn';
import type { DD } from './dd';
import type { Big } from './math';
import type { WindowStats } from './stats';
import { floatUnit, forwardTolRowOf, vjpTolOf, type Arith, type TolWindow, type Unit } from './tolerance';

export class Interval {
  constructor(
    readonly lo: number,
    readonly hi: number,
  ) {}
}

/**
 * Outward rounding of a result that is within half an ulp of the exact value (a correctly rounded +, *, /), or exact
 * under underflow (+) or off by at most half the subnormal spacing (*, /): widened by one ulp's worth relative
 * (2^-52 |x|, twice the error, so that the widening's own rounding is covered) and the subnormal spacing.
 */
const REL = 2 ** -52;
const ABS = 2 ** -1074;
const down = (x: number) => x - Math.abs(x) * REL - ABS;
const up = (x: number) => x + Math.abs(x) * REL + ABS;

const point = (x: number) => new Interval(x, x);
const isPoint0 = (a: Interval) => a.lo === 0 && a.hi === 0;

/** The four products (or quotients) of the ends, outward: exact where an operand is exactly 0. */
function corners(a: Interval, b: Interval, f: (x: number, y: number) => number): Interval {
  const p = f(a.lo, b.lo),
    q = f(a.lo, b.hi),
    r = f(a.hi, b.lo),
    s = f(a.hi, b.hi);
  return ordered(down(Math.min(p, q, r, s)), up(Math.max(p, q, r, s)));
}

/** [lo, hi], or the whole line where an end is NaN (0 * Infinity, Infinity - Infinity): no bound, never a wrong one. */
const ordered = (lo: number, hi: number) => (Number.isNaN(lo) || Number.isNaN(hi) ? WHOLE : new Interval(lo, hi));
const WHOLE = new Interval(-Infinity, Infinity);

export const INTERVAL_ARITH: Arith<Interval> = {
  of: point,
  add: (a, b) => {
    if (isPoint0(a)) return b;
    if (isPoint0(b)) return a;
    return ordered(down(a.lo + b.lo), up(a.hi + b.hi));
  },
  mul: (a, b) => (isPoint0(a) || isPoint0(b) ? point(0) : corners(a, b, (x, y) => x * y)),
  div: (a, b) => {
    // the formulas divide by s_t > 0 and by counts; a divisor interval that reaches 0 has no bound
    if (!(b.lo > 0 || b.hi < 0)) return WHOLE;
    return isPoint0(a) ? point(0) : corners(a, b, (x, y) => x / y);
  },
  abs: (a) => (a.lo >= 0 ? a : a.hi <= 0 ? new Interval(-a.hi, -a.lo) : new Interval(0, Math.max(-a.lo, a.hi))),
};

/**
 * A double-double value with its bound (exact in [hi + lo - e, hi + lo + e]) as an interval: the sum of hi and lo and
 * the shift by e each round once, covered by a wider relative margin (2^-50) on top of the outward steps.
 */
export function intervalOfDD(d: DD): Interval {
  if (d.lo === 0 && d.e === 0) return point(d.hi);
  const m = d.hi + d.lo;
  const r = d.e + Math.abs(m) * 2 ** -50;
  return new Interval(down(m - r), up(m + r));
}

/** The tolerance formulas' view of one window of the double-double statistics, as intervals. */
export function intervalWindow(st: WindowStats): TolWindow<Interval> {
  const iv = (x: unknown) => intervalOfDD(x as DD);
  return { n: st.n, N: st.N, s: iv(st.s), K: iv(st.K), z: st.z.map((row) => row.map(iv)) };
}

/** u and lam of the dtype (powers of two: exact). */
function intervalUnit(dtype: Dtype): Unit<Interval> {
  const { u, lam } = floatUnit(dtype);
  return { u: point(u), lam: point(lam) };
}

const ivs = (xs: readonly Big[]) => xs.map((x) => intervalOfDD(x as unknown as DD));

/** ATN-7.2 for one window's current step (the LN rows too), from the double-double values: gain and bias converted once. */
export function intervalForwardTolRows(dtype: Dtype, gain: readonly Big[], bias: readonly Big[]): (st: TolWindow<Interval>, y: readonly Big[]) => Interval[] {
  const unit = intervalUnit(dtype),
    g = ivs(gain),
    b = ivs(bias);
  return (st, y) => forwardTolRowOf(INTERVAL_ARITH, unit, st, g, b, ivs(y));
}

/**
 * ATN-7.2 for every y[t][b][i] and, with dy, ATN-7.3 for da, dgain and dbias: the windows are turned into intervals
 * once for both.
 */
export function intervalAtnTols(
  dtype: Dtype,
  x: AtnBig,
  y: Big[][][],
  stats: WindowStats[][],
  dy?: Big[][][],
): { y: Interval[][][]; da?: Interval[][][]; dgain?: Interval[]; dbias?: Interval[] } {
  const w = stats.map((row) => row.map(intervalWindow));
  const row = intervalForwardTolRows(dtype, x.gain, x.bias);
  const ty = w.map((r, t) => r.map((st, b) => row(st, y[t][b])));
  if (!dy) return { y: ty };
  const da = vjpTolOf(
    INTERVAL_ARITH,
    intervalUnit(dtype),
    x.k,
    ivs(x.gain),
    dy.map((step) => step.map(ivs)),
    w,
  );
  return { y: ty, ...da };
}
