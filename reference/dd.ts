/**
 * The fast oracle (ATN-7.7, ATN-7.8): the SAME reference code (stats.ts, atn.ts, atn-vjp.ts, tolerance.ts, lstm.ts)
 * evaluated in double-double arithmetic with a rigorous running error bound instead of decimal.js.
 *
 * A value is hi + lo (a normalised double-double, about 106 bits) and e >= 0, a bound on its distance to the exact
 * value of the formula: exact ∈ [hi + lo - e, hi + lo + e]. Every operation adds its own rounding error (the
 * published relative bounds of the double-word algorithms, Joldes-Muller-Popescu 2017 and Lefèvre et al. 2023, each
 * taken with margin) and propagates the operands' e by first-order-exact interval reasoning (ATN-7.7). A result is
 * only ever used when it is DECIDED: nearestDouble() returns RN(exact) only when the whole interval rounds to the
 * same double; otherwise, and whenever a branch (isZero, gt) cannot be decided or a value leaves the certified range,
 * evaluation throws Undecidable and the caller falls back to the exact BigNumber reference (ATN-7.8). So the fast
 * path yields bit-for-bit the expectation of the exact path, or nothing.
 */
import type { Big, BigCtor, MathCtx } from './math';

/** The fast path cannot certify this value: the caller must use the exact reference. */
export class Undecidable extends Error {}

const U2 = 2 ** -106; // u^2 of binary64
/** e is itself computed in doubles: a few roundings, each covered by this factor. */
const UP = 1 + 2 ** -45;
/** Below this magnitude a product, quotient or root may underflow (or a lo part be lost): an absolute term is charged. */
const SMALL = 2 ** -900;
/** Absolute error charged for possible underflow inside one double-word operation (covers ~30 roundings of 2^-1075). */
const TINY = 2 ** -1000;
/** Dekker's split overflows past 2^996; the certified range stops well before. */
const BIG = 2 ** 990;
const SPLIT = 134217729; // 2^27 + 1

function twoSum(a: number, b: number, out: number[]): void {
  const s = a + b;
  const bb = s - a;
  out[0] = s;
  out[1] = a - (s - bb) + (b - bb);
}

function twoProd(a: number, b: number, out: number[]): void {
  const p = a * b;
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  out[0] = p;
  out[1] = ah * bh - p + ah * bl + al * bh + al * bl;
}

const tmp = [0, 0];
const tmp2 = [0, 0];

/**
 * Charge for possible underflow in a product or quotient of non-zero operands: when an operand or the result is tiny,
 * or the result is 0 (it underflowed completely: 0 is then not exact). Exact zero operands give an exact zero.
 */
function under(x: number, y: number, z: number): number {
  if (x === 0 || y === 0) return 0;
  return Math.abs(x) < SMALL || Math.abs(y) < SMALL || Math.abs(z) < SMALL ? TINY : 0;
}

/**
 * Why a value is refused, as an Undecidable. Messages that show the value are built here, never inline in a hot
 * function: a template literal in the body of check() made every DD operation about 8x slower under V8 (Node 20:
 * plus and times 250-350 ns each, 37 ns with the message built here; the campaign's fast oracle spent most of its
 * time there).
 */
function refused(what: string, x: unknown, after = ''): Undecidable {
  return new Undecidable(`${what}${String(x)}${after}`);
}

/** nearestDouble()'s refusal (DD_DEBUG=1 shows the value), built here for the same reason. */
function straddles(x: DD): Undecidable {
  return new Undecidable('the error bound straddles a rounding boundary' + (process.env.DD_DEBUG ? ` ${String(x)}` : ''));
}

function check(hi: number): void {
  if (!(Math.abs(hi) < BIG)) throw refused('a value of magnitude ', hi, ' is outside the certified range');
}

export class DD {
  readonly hi: number;
  readonly lo: number;
  /** Bound on |exact - (hi + lo)|. */
  readonly e: number;

  /** From a double (exact), a decimal string that is exactly a double (convert.ts's dyadic strings), or a DD. */
  constructor(x: number | string | DD, lo = 0, e = 0) {
    if (x instanceof DD) {
      this.hi = x.hi;
      this.lo = x.lo;
      this.e = x.e;
      return;
    }
    const hi = typeof x === 'number' ? x : Number(x);
    // A string that is not exactly a double would be rounded here: the reference only passes exact dyadic strings
    // (unit constants, exactDecimalString); anything else is refused rather than silently rounded.
    if (typeof x === 'string' && !/^-?[0-9]+(e-?[0-9]+)?$/.test(x)) throw refused('not an exact dyadic string: ', x);
    if (!Number.isFinite(hi)) throw refused('non-finite value ', x);
    this.hi = hi;
    this.lo = lo;
    this.e = e;
  }

  static fromDouble(x: number): DD {
    if (!Number.isFinite(x)) throw refused('non-finite input ', x);
    return new DD(x);
  }

  private static make(hi: number, lo: number, e: number): DD {
    check(hi);
    if (!(e < Infinity)) throw new Undecidable('error bound overflow');
    return new DD(hi, lo, e);
  }

  /** AccurateDWPlusDW (relative error <= 3u^2 + 13u^3): charged 4u^2 |result|. */
  plus(y: DD | number): DD {
    const b = y instanceof DD ? y : new DD(y);
    // 0 + x is x itself (the same node, so that x - (0 + x) is exactly 0 below); zeros go the general way (signs).
    if (isExactZero(this) && b.hi !== 0) return b;
    twoSum(this.hi, b.hi, tmp);
    const sh = tmp[0],
      sl = tmp[1];
    twoSum(this.lo, b.lo, tmp2);
    const th = tmp2[0],
      tl = tmp2[1];
    // TwoSum throughout (not Fast2Sum): every step but the roundings of c and w is then error-free
    // unconditionally, so the sum is exact when both of those are (this keeps exact zeros and exact 54-bit ties
    // exact). Additions are exact under underflow.
    twoSum(sl, th, tmp2);
    const c = tmp2[0],
      cErr = tmp2[1];
    twoSum(sh, c, tmp);
    const vh = tmp[0],
      vl = tmp[1];
    twoSum(tl, vl, tmp2);
    const w = tmp2[0],
      wErr = tmp2[1];
    twoSum(vh, w, tmp);
    const zh = tmp[0],
      zl = tmp[1];
    const exact = cErr === 0 && wErr === 0;
    const err = this.e + b.e + (exact ? 0 : 4 * U2 * Math.abs(zh));
    return DD.make(zh, zl, err === 0 ? 0 : err * UP);
  }

  minus(y: DD | number): DD {
    // One value (one node of the formula, DDs are immutable) minus itself is exactly 0 whatever its bound: the
    // window statistics centre each window on one of its own entries (stats.ts), so a window of one entry
    // (H = 1, k = 1: the LSTM cell state's ATN) is then exactly constant, as in exact arithmetic.
    if (y === this) return ZERO;
    const b = y instanceof DD ? y : new DD(y);
    return this.plus(new DD(-b.hi, -b.lo, b.e));
  }

  neg(): DD {
    return new DD(-this.hi, -this.lo, this.e);
  }

  abs(): DD {
    return this.hi < 0 || (this.hi === 0 && this.lo < 0) ? this.neg() : this;
  }

  /** DWTimesDW1 (relative error <= 7u^2 without FMA): charged 8u^2; |xy - x'y'| <= |x'|ey + |y'|ex + ex ey. */
  times(y: DD | number): DD {
    const b = y instanceof DD ? y : new DD(y);
    twoProd(this.hi, b.hi, tmp);
    const ch = tmp[0];
    const cl = tmp[1] + (this.hi * b.lo + this.lo * b.hi);
    const zh = ch + cl;
    const zl = cl - (zh - ch);
    const ax = Math.abs(this.hi) * (1 + 2 ** -51),
      ay = Math.abs(b.hi) * (1 + 2 ** -51);
    const prop = ax * b.e + ay * this.e + this.e * b.e;
    // A product of two doubles is exact (twoProd) unless it underflows.
    const round = this.lo === 0 && b.lo === 0 ? 0 : 8 * U2 * Math.abs(zh);
    const err = prop + round + under(this.hi, b.hi, zh);
    return DD.make(zh, zl, err === 0 ? 0 : err * UP);
  }

  /** DWDivDW2 (relative error <= 15u^2 + 56u^3): charged 20u^2; |x/y - x'/y'| <= (ex + |x'/y'| ey) / (|y'| - ey). */
  div(y: DD | number): DD {
    const b = y instanceof DD ? y : new DD(y);
    // x / 1 is x itself (the mean of a one-entry window is that entry: see minus).
    if (b.hi === 1 && b.lo === 0 && b.e === 0) return this;
    if (b.hi === 0) throw new Undecidable('division by a value not certified non-zero');
    const th = this.hi / b.hi;
    // r = b * th (DWTimesFP), then the remainder this - r, divided once more.
    twoProd(b.hi, th, tmp);
    // Exact quotient of two doubles (b.hi * th == this.hi exactly): no rounding, only propagation.
    const exactQ = this.lo === 0 && b.lo === 0 && tmp[0] === this.hi && tmp[1] === 0 && under(this.hi, b.hi, th) === 0;
    const ch = tmp[0];
    const cl = tmp[1] + b.lo * th;
    const rh = ch + cl;
    const rl = cl - (rh - ch);
    twoSum(this.hi, -rh, tmp2);
    const dl = this.lo + (tmp2[1] - rl);
    const d = tmp2[0] + dl;
    const tl = d / b.hi;
    const zh = th + tl;
    const zl = tl - (zh - th);
    const den = Math.abs(b.hi) * (1 - 2 ** -50) - b.e;
    if (!(den > 0)) throw new Undecidable('division by a value not certified non-zero');
    const q = Math.abs(zh) * (1 + 2 ** -50);
    const prop = b.e === 0 && this.e === 0 ? 0 : (this.e + q * b.e) / den;
    if (exactQ) return DD.make(th, 0, prop === 0 ? 0 : prop * UP);
    return DD.make(zh, zl, (prop + 20 * U2 * Math.abs(zh) + under(this.hi, b.hi, zh)) * UP);
  }

  /** One Newton step from sqrt(hi) (SQRTDWtoDW, <= 25/8 u^2 with FMA, + u^2 without): charged 8u^2. */
  sqrt(): DD {
    if (this.hi === 0 && this.lo === 0 && this.e === 0) return this;
    if (!(this.hi > 0)) throw new Undecidable('square root of a value not certified positive');
    const sh = Math.sqrt(this.hi);
    twoProd(sh, sh, tmp);
    const r = this.hi - tmp[0] - tmp[1] + this.lo;
    const sl = r / (2 * sh);
    const zh = sh + sl;
    const zl = sl - (zh - sh);
    // |sqrt(x) - sqrt(x')| = |x - x'| / (sqrt x + sqrt x') <= e / sqrt x'.
    const prop = this.e === 0 ? 0 : this.e / (zh * (1 - 2 ** -50));
    return DD.make(zh, zl, (prop + 8 * U2 * zh + under(this.hi, 1, zh)) * UP);
  }

  /**
   * exp by range reduction: x = j ln2 + r, r/2^8 through 12 Taylor terms (remainder charged), squared 8 times,
   * scaled by 2^j. Every step is a DD operation, so its rounding and the propagation of e are charged automatically;
   * only the Taylor remainder and the ln2 constant's error are added by hand.
   */
  exp(): DD {
    const x = this.hi + this.lo;
    if (x < -700) {
      // exp(x) < 2^-1009: zero within the charge (and within e propagated: exp is increasing).
      if (this.hi + this.e < -700) return new DD(0, 0, 2 ** -1000);
      throw new Undecidable('exp near the underflow threshold');
    }
    if (x > 700) throw new Undecidable('exp overflow');
    const j = Math.round(x / Math.LN2);
    const r = this.minus(LN2.times(j));
    const s = new DD(r.hi * 2 ** -8, r.lo * 2 ** -8, r.e * 2 ** -8);
    const a = Math.abs(s.hi) + s.e;
    // Horner: 1 + s(1 + s/2(1 + s/3(... (1 + s/12)))).
    let p: DD = ONE;
    for (let n = 12; n >= 1; n--) p = ONE.plus(s.times(p).div(n));
    // Taylor remainder: |sum_{n>12} s^n/n!| <= a^13/13! * e^a.
    let rem = Math.exp(a);
    for (let n = 1; n <= 13; n++) rem *= a / n;
    p = new DD(p.hi, p.lo, (p.e + rem * 1.01) * UP);
    for (let i = 0; i < 8; i++) p = p.times(p);
    const f = 2 ** j;
    if (!(f > 0 && Number.isFinite(f))) throw new Undecidable('exp scale out of range');
    const res = new DD(p.hi * f, p.lo * f, p.e * f + under(p.hi, f, p.hi * f));
    check(res.hi);
    return res;
  }

  /** tanh(x) = sign(x) (1 - 2/(exp(2|x|) + 1)): large |x| saturates exactly, tiny |x| loses relative accuracy (charged). */
  tanh(): DD {
    const neg = this.hi < 0;
    const a = neg ? this.neg() : this;
    if (a.hi > 40) {
      // 1 - tanh(a) = 2/(exp(2a)+1) < 2 e^-80 < 2^-114.
      if (a.hi - a.e > 40) {
        const t = new DD(1, 0, 2 ** -114);
        return neg ? t.neg() : t;
      }
    }
    const t = ONE.minus(TWO.div(a.times(2).exp().plus(1)));
    return neg ? t.neg() : t;
  }

  isZero(): boolean {
    if (this.hi === 0 && this.lo === 0 && this.e === 0) return true;
    if (Math.abs(this.hi) > this.e * UP) return false;
    throw new Undecidable('cannot decide whether a value is zero');
  }

  isNeg(): boolean {
    // Only used to choose between equivalent formulas (sigmoid): either branch is correct.
    return this.hi < 0 || (this.hi === 0 && this.lo < 0);
  }

  gt(y: DD | number): boolean {
    // The computed difference has the exact difference's sign whenever |hi| > e (exact operands: always, unless equal).
    const d = this.minus(y);
    if (d.hi === 0 && d.e === 0) return false;
    if (d.hi > d.e) return true;
    if (-d.hi > d.e) return false;
    throw new Undecidable('cannot decide a comparison');
  }

  /**
   * RN(exact) as a double, when the interval [hi + lo - e, hi + lo + e] lies strictly inside the rounding interval of
   * hi (half the gap to each neighbour); otherwise Undecidable (ATN-7.8). A tie is never decided here.
   */
  nearestDouble(): number {
    // e = 0: the value is exactly hi + lo, and every operation leaves hi = RN(hi + lo) (its last step is a rounded
    // addition hi = fl(vh + w) with hi + lo = vh + w exactly), ties to even included.
    if (this.e === 0) return this.hi;
    const h = this.hi;
    if (h === 0) throw new Undecidable('a result too close to zero to round');
    const gap = Math.min(Math.abs(nextAway(h) - h), Math.abs(h - nextToward(h)));
    if ((Math.abs(this.lo) + this.e) * (1 + 2 ** -50) < gap / 2) return h;
    throw straddles(this);
  }

  /**
   * Two doubles lo <= RN(exact) <= hi (ATN-7.9): the rounding of the interval's ends, each moved two steps outward to
   * cover the roundings of hi + (lo -+ e) here (RN is monotone, so RN(exact) lies between the roundings of the ends).
   * Used where nearestDouble() cannot decide: a verdict is often decided for every double of the bracket.
   */
  bracket(): [number, number] {
    const below = this.hi + (this.lo - this.e),
      above = this.hi + (this.lo + this.e);
    const lo = stepDown(stepDown(below)),
      hi = stepUp(stepUp(above));
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Undecidable('a result too close to the double range to bracket');
    return [lo, hi];
  }

  toString(): string {
    return `${this.hi}+${this.lo}±${this.e}`;
  }
}

function isExactZero(x: DD): boolean {
  return x.hi === 0 && x.lo === 0 && x.e === 0;
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
/** The neighbour of finite non-zero x away from zero, and toward zero (bit steps of the magnitude). */
function nextAway(x: number): number {
  f64[0] = x;
  u64[0] += 1n;
  return f64[0];
}
function nextToward(x: number): number {
  f64[0] = x;
  u64[0] -= 1n;
  return f64[0];
}

/** The next double below x, and above (for x = 0: the smallest subnormals; ±Infinity stays). */
function stepDown(x: number): number {
  if (x === 0) return -(2 ** -1074);
  return x > 0 ? nextToward(x) : nextAway(x);
}
function stepUp(x: number): number {
  if (x === 0) return 2 ** -1074;
  return x > 0 ? nextAway(x) : nextToward(x);
}

const ZERO = new DD(0);
const ONE = new DD(1);
const TWO = new DD(2);
/** ln 2 as a double-double: |ln2 - (hi + lo)| < 2^-109. */
const LN2 = new DD(0.6931471805599453, 2.3190468138462996e-17, 2 ** -109);

/**
 * max over values with error bounds: the exact maximum lies in [max(x - e), max(x + e)]. Returned as that interval's
 * midpoint and radius (exactly the largest value when all are exact), never a comparison that cannot be decided.
 */
export function ddMax(xs: readonly DD[]): DD {
  // Largest midpoint first; it is the answer (with its own bound) when no other value can exceed it.
  let best = xs[0];
  for (const x of xs) if (x.hi + x.lo > best.hi + best.lo) best = x;
  if (xs.every((x) => x === best || x.e + best.e === 0 || !intervalsMeet(x, best))) {
    // Exact values are ordered exactly (gt of exact values never throws).
    if (best.e === 0) for (const x of xs) if (x.e === 0 && x.gt(best)) best = x;
    return best;
  }
  let lo = -Infinity,
    hi = -Infinity;
  for (const x of xs) {
    lo = Math.max(lo, x.hi - Math.abs(x.lo) - x.e);
    hi = Math.max(hi, x.hi + Math.abs(x.lo) + x.e);
  }
  const mid = (lo + hi) / 2;
  return new DD(mid, 0, ((hi - lo) / 2 + Math.abs(mid) * 2 ** -50) * UP);
}

/** Whether x may exceed m (their intervals, widened by an ulp for the roundings here, overlap or x lies above). */
function intervalsMeet(x: DD, m: DD): boolean {
  return x.hi + Math.abs(x.lo) + x.e + Math.abs(x.hi) * 2 ** -50 >= m.hi - Math.abs(m.lo) - m.e - Math.abs(m.hi) * 2 ** -50;
}

let ctx: MathCtx | undefined;
/** The double-double context: the MathCtx interface of math.ts over DD values (its `Big` constructs DDs). */
export function ddCtx(): MathCtx {
  if (ctx) return ctx;
  const Big = DD as unknown as BigCtor;
  const zero = new DD(0) as unknown as Big;
  const one = ONE as unknown as Big;
  const d = (x: Big) => x as unknown as DD;
  const b = (x: DD) => x as unknown as Big;
  ctx = {
    precision: 32,
    math: undefined as never,
    Big,
    zero,
    one,
    two: TWO as unknown as Big,
    big: (x) => b(typeof x === 'number' ? DD.fromDouble(x) : new DD(x as unknown as DD | string)),
    sum: (xs) => xs.reduce((s, x) => s.plus(x), zero),
    max: (xs) => b(ddMax(xs as unknown as DD[])),
    sqrt: (x) => x.sqrt(),
    abs: (x) => x.abs(),
    exp: (x) => x.exp(),
    tanh: (x) => x.tanh(),
    sigmoid: (x) =>
      b(
        d(x).isNeg()
          ? d(x)
              .exp()
              .div(ONE.plus(d(x).exp()))
          : ONE.div(ONE.plus(d(x).neg().exp())),
      ),
  };
  return ctx;
}
