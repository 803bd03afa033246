/**
 * Exact conversions of the reference (reference/convert.ts): double -> BigNumber exact, BigNumber -> double/float32
 * correctly rounded (ATN-8.3, ATN-7.1).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bigToDecimalString, bigToDouble, bigToFloat32, dyadicString, exactDecimalString, leafToBig } from '../reference/convert';
import { createMathCtx } from '../reference/math';
import { assertProperty } from './lib/seed';

const m = createMathCtx(64);
const big = (s: string) => new m.Big(s);
/** Values just beside a midpoint need more digits than 64: built in a context that keeps them all. */
const wide = createMathCtx(1500);
const wbig = (s: string) => new wide.Big(s);

/** Neighbours and exact midpoints, from the bits (independent of convert.ts's search). */
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
function nextUp(x: number): number {
  f64[0] = x;
  u64[0] += 1n;
  return f64[0];
}
/** Exact value of a finite double as M * 2^E with BigInt (a second route to the same number). */
function dyadicOf(x: number): [bigint, number] {
  f64[0] = Math.abs(x);
  const bits = u64[0];
  const be = Number(bits >> 52n);
  const frac = bits & ((1n << 52n) - 1n);
  return be === 0 ? [frac, -1074] : [frac | (1n << 52n), be - 1075];
}
function midUp(x: number): string {
  const [M, E] = dyadicOf(x);
  return dyadicString(2n * M + 1n, E - 1);
}
const isEven = (x: number) => ((f64[0] = x), (u64[0] & 1n) === 0n);

const EXTREMES = [
  0,
  -0,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  2.225073858507201e-308,
  1.7976931348623157e308,
  -1.7976931348623157e308,
  1,
  -1,
  0.1,
  1 / 3,
  2 ** -1022,
  2 ** 1023,
  Number.EPSILON,
  3.4028234663852886e38,
  1.401298464324817e-45,
];

describe('reference conversions', () => {
  it('ATN-8.3 double -> BigNumber -> double is the identity for every finite double (subnormals, -0, extremes)', async () => {
    for (const x of EXTREMES) expect(Object.is(bigToDouble(m.big(x)), x)).toBe(true);
    await assertProperty(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => Object.is(bigToDouble(m.big(x)), x)),
      { numRuns: 3000 },
    );
  });

  it('ATN-8.3 double -> BigNumber is exact: the decimal expansion equals M * 2^E digit for digit', async () => {
    expect(exactDecimalString(0.1)).toBe('1000000000000000055511151231257827021181583404541015625e-55');
    expect(m.big(0.1).toString()).toBe('0.1000000000000000055511151231257827021181583404541015625');
    // 2^-1074 has 751 significant digits; all are kept whatever the working precision.
    expect(m.big(5e-324).sd()).toBe(751);
    await assertProperty(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => x !== 0),
        (x) => {
          const [M, E] = dyadicOf(x);
          // x * 2^-E must be the integer M exactly: checked in a context wide enough to hold every digit.
          const scaled = new wide.Big(exactDecimalString(Math.abs(x))).times(new wide.Big(2).pow(-E));
          return scaled.isInteger() && scaled.toFixed() === M.toString() && m.big(x).isNeg() === x < 0;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('ATN-8.3 BigNumber -> float32 equals Math.fround of the exact value, for every double', async () => {
    for (const x of EXTREMES) expect(Object.is(bigToFloat32(m.big(x)), Math.fround(x))).toBe(true);
    await assertProperty(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => Object.is(bigToFloat32(m.big(x)), Math.fround(x))),
      { numRuns: 3000 },
    );
    // Values near the float32 range: overflow threshold, subnormals.
    await assertProperty(
      fc.property(fc.oneof(fc.double({ min: 1e37, max: 1e39, noNaN: true }), fc.double({ min: 1e-47, max: 1e-36, noNaN: true })), (x) =>
        Object.is(bigToFloat32(m.big(x)), Math.fround(x)),
      ),
      { numRuns: 2000 },
    );
  });

  it('ATN-8.3 BigNumber -> double rounds half to even at exact midpoints and to nearest just beside them', async () => {
    await assertProperty(
      fc.property(fc.double({ min: 0, max: 1.7976931348623155e308, noNaN: true }), (x) => {
        const up = nextUp(x);
        const mid = wbig(midUp(x));
        const tie = bigToDouble(mid);
        const even = isEven(x) ? x : up;
        const eps = mid.abs().times('1e-700').plus('1e-1200');
        return tie === even && bigToDouble(mid.minus(eps)) === x && bigToDouble(mid.plus(eps)) === up && bigToDouble(mid.neg()) === -even;
      }),
      { numRuns: 1000 },
    );
  });

  it('ATN-8.3 BigNumber -> double: overflow to ±Infinity, underflow to signed zero, huge and tiny decimals', () => {
    const maxD = 1.7976931348623157e308;
    const over = wbig(midUp(maxD)); // 2^1024 - 2^970: the tie goes to "2^1024", i.e. Infinity
    expect(bigToDouble(over)).toBe(Infinity);
    expect(bigToDouble(over.neg())).toBe(-Infinity);
    expect(bigToDouble(over.minus('1e-300'))).toBe(maxD);
    expect(bigToDouble(big('1e400'))).toBe(Infinity);
    const halfMin = wbig(dyadicString(1n, -1075));
    expect(Object.is(bigToDouble(halfMin), 0)).toBe(true);
    expect(Object.is(bigToDouble(halfMin.neg()), -0)).toBe(true);
    expect(bigToDouble(halfMin.plus('1e-1400'))).toBe(5e-324);
    expect(Object.is(bigToDouble(big('-1e-400')), -0)).toBe(true);
    expect(Object.is(bigToDouble(big('-0')), -0)).toBe(true);
    expect(bigToFloat32(big('1e39'))).toBe(Infinity);
    expect(bigToFloat32(big(dyadicString(1n, -150)))).toBe(0);
    expect(bigToFloat32(big(dyadicString(3n, -151)))).toBe(2 ** -149);
  });

  it('ATN-8.3 BigNumber -> double agrees with JSON.parse on random long decimal strings', async () => {
    const digits = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 40 }).map((d) => d.join(''));
    await assertProperty(
      fc.property(fc.boolean(), digits, fc.integer({ min: -340, max: 310 }), (neg, ds, e) => {
        const s = `${neg ? '-' : ''}0.${ds}e${e}`;
        return Object.is(bigToDouble(big(s)), JSON.parse(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('ATN-7.1 leaves: float32 rounds with Math.fround first, float64 is exact, decimal strings are parsed exactly', () => {
    expect(leafToBig(m.Big, 0.1, 'float32').eq(m.big(Math.fround(0.1)))).toBe(true);
    expect(leafToBig(m.Big, 0.1, 'float64').toString()).toBe('0.1000000000000000055511151231257827021181583404541015625');
    const long = '0.' + '3'.repeat(100);
    expect(leafToBig(m.Big, long, 'decimal').toFixed()).toBe(long);
    expect(leafToBig(m.Big, 0.1, 'decimal').eq(m.big(0.1))).toBe(true);
  });

  it('ATN-8.3 decimal output: at most `precision` significant digits, a valid decimal string, rounded half to even', () => {
    const third = m.one.div(3);
    const s = bigToDecimalString(third, 64);
    expect(s).toBe('0.' + '3'.repeat(64));
    expect(bigToDecimalString(big('1e-30'), 64)).toMatch(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/);
    expect(bigToDecimalString(big('2.5'), 1)).toBe('2');
    expect(bigToDecimalString(big('3.5'), 1)).toBe('4');
  });
});
