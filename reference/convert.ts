/**
 * Exact conversions between IEEE binary floats and BigNumbers (ATN-7.1, ATN-8.3).
 *
 * double -> Big is EXACT: a finite double is M * 2^E (integers), i.e. M * 5^-E * 10^E for E < 0, written as a decimal
 * string from BigInt arithmetic (never String(x), which is only the shortest round-trip decimal). Such a value has up
 * to 767 significant digits (the subnormal 2^-1074 has 751); decimal.js does not round a value on construction, so it
 * is held exactly at any working precision, and only the operations applied to it round.
 *
 * Big -> double / float32 is correctly rounded (round half to even, gradual underflow, overflow to ±Infinity): a
 * candidate within one unit in the last place (from a 25-digit decimal parse) is moved to the right neighbour by
 * comparing the value EXACTLY (decimal.js `cmp` never rounds) with the exact midpoints between adjacent format values,
 * themselves exact dyadic numbers built like the conversions above. No high-precision clone is needed.
 */
import type { Dtype } from '../protocol/types';
import type { Leaf } from '../protocol/args';
import type { Big, BigCtor } from './big';

/** A binary interchange format: `p` stored fraction bits, `emin` smallest normal exponent, `emax` largest. */
interface BinFormat {
  p: number;
  emin: number;
  emax: number;
  /** Bit-level neighbours and decomposition for NON-NEGATIVE finite values of the format. */
  next(x: number): number;
  prev(x: number): number;
  /** x = M * 2^E exactly, E the exponent of the unit in the last place of x. */
  split(x: number): [bigint, number];
  isOdd(x: number): boolean;
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

const DOUBLE: BinFormat = {
  p: 52,
  emin: -1022,
  emax: 1023,
  next: (x) => ((f64[0] = x), (u64[0] += 1n), f64[0]),
  prev: (x) => ((f64[0] = x), (u64[0] -= 1n), f64[0]),
  split: (x) => {
    f64[0] = x;
    const bits = u64[0];
    const be = Number((bits >> 52n) & 0x7ffn);
    const frac = bits & ((1n << 52n) - 1n);
    return be === 0 ? [frac, -1074] : [frac | (1n << 52n), be - 1075];
  },
  isOdd: (x) => ((f64[0] = x), (u64[0] & 1n) === 1n),
};

const FLOAT32: BinFormat = {
  p: 23,
  emin: -126,
  emax: 127,
  next: (x) => ((f32[0] = x), (u32[0] += 1), f32[0]),
  prev: (x) => ((f32[0] = x), (u32[0] -= 1), f32[0]),
  split: (x) => {
    f32[0] = x;
    const bits = u32[0];
    const be = (bits >>> 23) & 0xff;
    const frac = BigInt(bits & 0x7fffff);
    return be === 0 ? [frac, -149] : [frac | (1n << 23n), be - 150];
  },
  isOdd: (x) => ((f32[0] = x), (u32[0] & 1) === 1),
};

const pow5 = new Map<number, bigint>();
function fivePow(n: number): bigint {
  let v = pow5.get(n);
  if (v === undefined) pow5.set(n, (v = 5n ** BigInt(n)));
  return v;
}

/** The exact decimal string of M * 2^E (M >= 0), trailing zero bits folded into E first to keep 5^-E small. */
export function dyadicString(M: bigint, E: number): string {
  if (M === 0n) return '0';
  while (E < 0 && (M & 1n) === 0n) {
    M >>= 1n;
    E += 1;
  }
  return E >= 0 ? (M << BigInt(E)).toString() : `${M * fivePow(-E)}e${E}`;
}

/** The exact decimal string of a finite double (-0 gives '-0'); NaN and ±Infinity as decimal.js spells them. */
export function exactDecimalString(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [M, E] = DOUBLE.split(Math.abs(x));
  return (x < 0 ? '-' : '') + dyadicString(M, E);
}

/**
 * The fast oracle's values (reference/dd.ts) stand in for Big: they are built from doubles directly and round
 * themselves (or refuse to, when their error bound cannot decide the rounding: ATN-7.8).
 */
interface FastCtor {
  fromDouble?: (x: number) => Big;
}
interface FastValue {
  nearestDouble?: () => number;
}

/** A double as a Big of `Big`'s context, exactly (see the header). */
export function doubleToBig(Big: BigCtor, x: number): Big {
  const fast = (Big as unknown as FastCtor).fromDouble;
  if (fast) return fast(x);
  return new Big(exactDecimalString(x));
}

/** A request leaf as a Big: float32 rounds it to float32 first (ATN-7.1), decimal strings are parsed exactly. */
export function leafToBig(Big: BigCtor, leaf: Leaf, dtype: Dtype): Big {
  if (typeof leaf === 'string') {
    if (dtype !== 'decimal') throw new TypeError(`string leaf with dtype ${dtype}`);
    return new Big(leaf);
  }
  return doubleToBig(Big, dtype === 'float32' ? Math.fround(leaf) : leaf);
}

/** The exact midpoint between x >= 0 and its upper neighbour in `fmt` (x + ulp/2). */
function upperMid(Big: BigCtor, fmt: BinFormat, x: number): Big {
  const [M, E] = fmt.split(x);
  return new Big(dyadicString(2n * M + 1n, E - 1));
}

const thresholds = new WeakMap<BinFormat, Map<BigCtor, { over: Big; under: Big; max: number; min: number }>>();
function limitsOf(Big: BigCtor, fmt: BinFormat) {
  let byCtor = thresholds.get(fmt);
  if (!byCtor) thresholds.set(fmt, (byCtor = new Map()));
  let l = byCtor.get(Big);
  if (!l) {
    // Rounds to Infinity from the midpoint between the largest finite value and 2^(emax+1) on (the tie goes to the
    // even "2^(emax+1)"); rounds to 0 up to half the smallest subnormal (the tie goes to the even 0).
    const over = new Big(dyadicString((1n << BigInt(fmt.p + 2)) - 1n, fmt.emax - fmt.p - 1));
    const under = new Big(dyadicString(1n, fmt.emin - fmt.p - 1));
    const max = Number(BigInt.asUintN(64, (1n << BigInt(fmt.p + 1)) - 1n)) * 2 ** (fmt.emax - fmt.p);
    const min = 2 ** (fmt.emin - fmt.p);
    byCtor.set(Big, (l = { over, under, max, min }));
  }
  return l;
}

function roundTo(x: Big, fmt: BinFormat): number {
  if (x.isNaN()) return NaN;
  const neg = x.isNeg();
  const sign = neg ? -1 : 1;
  if (!x.isFinite()) return sign * Infinity;
  if (x.isZero()) return neg ? -0 : 0;
  const Big = x.constructor as BigCtor;
  const a = x.abs();
  const lim = limitsOf(Big, fmt);
  if (a.gte(lim.over)) return sign * Infinity;
  if (a.lte(lim.under)) return neg ? -0 : 0;
  let c = Number(a.toPrecision(25));
  if (fmt === FLOAT32) c = Math.fround(c);
  if (!(c <= lim.max)) c = lim.max;
  if (!(c >= lim.min)) c = lim.min;
  for (;;) {
    // Below the lower midpoint (or on it with c odd): the lower neighbour is nearer (or the even one of a tie).
    if (c > lim.min) {
      const lo = fmt.prev(c);
      const cmp = a.cmp(upperMid(Big, fmt, lo));
      if (cmp < 0 || (cmp === 0 && fmt.isOdd(c))) {
        c = lo;
        continue;
      }
    }
    if (c < lim.max) {
      const cmp = a.cmp(upperMid(Big, fmt, c));
      if (cmp > 0 || (cmp === 0 && fmt.isOdd(c))) {
        c = fmt.next(c);
        continue;
      }
    }
    return sign * c;
  }
}

/** The double nearest to x (round half to even; ±Infinity past the overflow threshold; signed zero kept). */
export function bigToDouble(x: Big): number {
  const fast = (x as unknown as FastValue).nearestDouble;
  if (fast) return fast.call(x);
  return roundTo(x, DOUBLE);
}

/** The float32 nearest to x, as a JS number (equals Math.fround of the exact value). */
export function bigToFloat32(x: Big): number {
  return roundTo(x, FLOAT32);
}

/** The value as a decimal string rounded to `precision` significant digits (half to even); '-0' is written '0'. */
export function bigToDecimalString(x: Big, precision: number): string {
  return x.toSignificantDigits(precision, 6).toString();
}
