/** The campaign's building blocks: the comparison rule, seeds and replay, and what the generators promise. */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { atnCase, clampExponent, dims, flat3, gridAtnCase, lstmCase, REGIMES, scalesExactly, SMALL, type AtnCase } from './lib/arbitraries';
import { compare, compareOutputs, maxRatio } from './lib/compare';
import { DEFAULT_SEED, fcParams, replayLine, seedFromEnv } from './lib/seed';

describe('compare (the ATN-7.1 rule)', () => {
  const exp = { want: { y: [[[1, 2]], [[3, Infinity]]] }, tol: { y: [[[0.1, 0]], [[0.5, 0]]] } };

  it('ATN-7.1 equal values (equal infinities too) and differences within tol agree; the worst element is reported', () => {
    const r = compare({ y: [[[1.02, 2]], [[3.25, Infinity]]] }, exp);
    expect(r.ok).toBe(true);
    expect(r.ratios).toHaveLength(4);
    expect(r.worst).toMatchObject({ output: 'y', index: [1, 0, 0], got: 3.25, want: 3, tol: 0.5, ratio: 0.5 });
    expect(r.ratios[1]).toBe(0); // got === want with tol 0
  });

  it('ATN-7.1 a difference beyond tol fails with its ratio; tol 0 makes any difference infinite; NaN never agrees', () => {
    const r = compare({ y: [[[1.3, 2]], [[3, Infinity]]] }, exp);
    expect(r.ok).toBe(false);
    expect(r.worst.ratio).toBeCloseTo(3, 10);
    expect(r.detail).toMatch(/^y\[0\]\[0\]\[0\] = 1\.3, want 1 \+- 0\.1 \(ratio 3\.00\)$/);
    expect(compare({ y: [[[1, 2.5]], [[3, Infinity]]] }, exp).worst.ratio).toBe(Infinity);
    expect(compare({ y: [[[NaN, 2]], [[3, Infinity]]] }, exp).ok).toBe(false);
    expect(compare({ y: [[[1]]] }, { want: { y: [[[NaN]]] }, tol: { y: [[[1]]] } }).ok).toBe(false);
    expect(compare({ y: [[[1, 2]], [[3, -Infinity]]] }, exp).ok).toBe(false);
    expect(maxRatio([0.5, NaN, 2])).toBe(Infinity);
  });

  it('ATN-8.5 the structure must be exact: a squeezed dimension, a missing or extra key, a string leaf fail with a clear detail', () => {
    const squeezed = compare(
      {
        y: [
          [1, 2],
          [3, Infinity],
        ],
      },
      exp,
    );
    expect(squeezed.ok).toBe(false);
    expect(squeezed.worst.ratio).toBe(Infinity);
    expect(squeezed.detail).toBe('y: 2-dimensional, expected 3-dimensional (a dimension is missing, e.g. squeezed)');
    expect(compare({}, exp).detail).toBe('y: missing');
    expect(compare({ y: exp.want.y, extra: 1 }, exp).detail).toMatch(/^extra: unexpected key/);
    expect(compare({ y: [[[1, 2]], [[3, 'Infinity']]] }, exp).detail).toMatch(/y\[1\]\[0\]\[1\]: expected a number, got the string "Infinity"/);
    expect(compare({ y: [[[1, 2]]] }, exp).detail).toBe('y: length 1, expected 2');
    const nested = { want: { h: [1], grads: { atn_x: { gain: [1, 2] } } }, tol: { h: [0], grads: { atn_x: { gain: [0, 0] } } } };
    expect(compare({ h: [1], grads: { atn_x: { gain: [1] } } }, nested).detail).toBe('grads.atn_x.gain: length 1, expected 2');
    expect(compare({ h: [1], grads: { atn_x: { gain: [1, 2.5] } } }, nested).worst.output).toBe('grads.atn_x.gain');
  });

  it('ATN-7.1 at float32 the correctly rounded float32 result agrees (an exact result just above the float32 range is Infinity)', () => {
    const over = { want: { da: [3.402823669209385e38] }, tol: { da: [1.3e33] } };
    expect(compare({ da: [Infinity] }, over, { dtype: 'float32' }).ok).toBe(true);
    expect(compare({ da: [Infinity] }, over).ok).toBe(false);
    expect(compare({ da: [-Infinity] }, over, { dtype: 'float32' }).ok).toBe(false);
  });

  it('ATN-7.5 two outputs of one target may differ by the sum of their tolerances', () => {
    expect(compareOutputs({ y: [1] }, { y: [1.3] }, { y: [0.1] }, { y: [0.2] }).ok).toBe(true);
    expect(compareOutputs({ y: [1] }, { y: [1.31] }, { y: [0.1] }, { y: [0.2] }).ok).toBe(false);
  });
});

describe('seeds and replay', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['ATN_SEED', 'ATN_RUNS', 'ATN_PATH', 'ATN_CHECK']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('ATN-7.1 ATN_SEED replays, ATN_RUNS multiplies run counts, ATN_PATH applies to the check ATN_CHECK names', () => {
    delete process.env.ATN_SEED;
    delete process.env.ATN_RUNS;
    delete process.env.ATN_PATH;
    delete process.env.ATN_CHECK;
    expect(seedFromEnv()).toBe(DEFAULT_SEED);
    expect(fcParams({ numRuns: 10 })).toEqual({ seed: DEFAULT_SEED, numRuns: 10 });
    process.env.ATN_SEED = '42';
    process.env.ATN_RUNS = '2.5';
    expect(fcParams({ numRuns: 10 })).toEqual({ seed: 42, numRuns: 25 });
    expect(fcParams({ numRuns: 10, multiply: false }).numRuns).toBe(10);
    process.env.ATN_PATH = '3:1:0';
    process.env.ATN_CHECK = 'T2.scaling';
    expect(fcParams({ checkId: 'T2.scaling' }).path).toBe('3:1:0');
    expect(fcParams({ checkId: 'T7.prefix' }).path).toBeUndefined();
    expect(replayLine(42, '3:1:0', 'T2.scaling')).toBe('replay: ATN_SEED=42 ATN_PATH=3:1:0 ATN_CHECK=T2.scaling');
    process.env.ATN_SEED = 'soon';
    expect(() => seedFromEnv()).toThrow(/ATN_SEED/);
  });
});

const sample = <T>(arb: fc.Arbitrary<T>, n = 200): T[] => fc.sample(arb, { seed: DEFAULT_SEED, numRuns: n });
const windowOf = (c: AtnCase, t: number, b: number) => c.a.slice(Math.max(0, t - c.k + 1), t + 1).flatMap((m) => m[b]);
const stats = (xs: number[]) => {
  const mu = xs.reduce((s, x) => s + x, 0) / xs.length;
  return { mu, v: xs.reduce((s, x) => s + (x - mu) ** 2, 0) / xs.length };
};

describe('generators', () => {
  it('ATN-1.6 shapes include B = 1, H = 1, T = 1 and k > T', () => {
    const ds = sample(dims(SMALL), 300);
    expect(ds.some((d) => d.B === 1)).toBe(true);
    expect(ds.some((d) => d.H === 1)).toBe(true);
    expect(ds.some((d) => d.T === 1)).toBe(true);
    expect(ds.some((d) => d.k > d.T)).toBe(true);
    expect(ds.some((d) => d.k > 1 && d.k < d.T)).toBe(true);
    expect(ds.every((d) => d.k >= 1 && Number.isInteger(d.k))).toBe(true);
  });

  it('ATN-7.1 every float32 input is exactly representable in float32, eps included', () => {
    for (const regime of REGIMES)
      for (const c of sample(atnCase('float32', regime), 50)) {
        for (const v of [...flat3(c.a), c.eps, ...(c.gain ?? []), ...(c.bias ?? [])]) expect(Math.fround(v)).toBe(v);
      }
    for (const c of sample(lstmCase('float32'), 30)) {
      const leaves = JSON.stringify(c).match(/-?\d[\d.e+-]*/g) ?? [];
      for (const s of leaves) expect(Math.fround(Number(s))).toBe(Number(s));
    }
  });

  it('ATN-6.6 eps = 0 comes with non-degenerate windows (H >= 2, no constant step)', () => {
    for (const regime of REGIMES)
      for (const dtype of ['float32', 'float64'] as const)
        for (const c of sample(atnCase(dtype, regime), 60).filter((c) => c.eps === 0)) {
          expect(c.a[0][0].length).toBeGreaterThanOrEqual(2);
          for (const m of c.a) for (const row of m) expect(new Set(row).size).toBeGreaterThan(1);
        }
    for (const c of sample(gridAtnCase('float32'), 60).filter((c) => c.eps === 0))
      for (const m of c.a) for (const row of m) expect(new Set(row).size).toBeGreaterThan(1);
  });

  it('ATN-7.2 the hard regimes are what they claim: |mean|/std >= 1e3, var near eps, magnitudes drifting over decades, 1e-30..1e30 scales', () => {
    for (const c of sample(atnCase('float64', 'large-mean'), 60)) {
      const { mu, v } = stats(windowOf(c, c.a.length - 1, 0));
      expect(Math.abs(mu) / Math.sqrt(v)).toBeGreaterThan(1e3);
    }
    for (const c of sample(atnCase('float64', 'near-eps'), 60)) {
      const { v } = stats(windowOf(c, c.a.length - 1, 0));
      if (v > 0) expect(v / c.eps).toBeLessThan(200);
      expect([1e-5, 1e-3]).toContain(c.eps);
    }
    const spans = sample(atnCase('float64', 'drift'), 60).map((c) => {
      const mags = c.a.map((m) => Math.log10(Math.max(...m.flat().map(Math.abs)) || 1));
      return Math.max(...mags) - Math.min(...mags);
    });
    expect(spans.filter((s) => s >= 10).length).toBeGreaterThan(spans.length / 2);
    const scales = sample(atnCase('float32', 'scale'), 100).map((c) => Math.log10(Math.max(...flat3(c.a).map(Math.abs))));
    expect(Math.min(...scales)).toBeLessThan(-20);
    expect(Math.max(...scales)).toBeGreaterThan(20);
    const sub = sample(atnCase('float32', 'subnormal'), 30).flatMap((c) => flat3(c.a));
    expect(sub.some((v) => v !== 0 && Math.abs(v) < 2 ** -126)).toBe(true);
  });

  it('ATN-5.2 scalings by 2^m are taken only where they are exact in the dtype', () => {
    expect(scalesExactly([1.5, -3, 0], 100, 'float32')).toBe(true);
    expect(scalesExactly([1e30], 100, 'float32')).toBe(false); // overflow
    expect(scalesExactly([2 ** -120], -10, 'float32')).toBe(false); // below the normal range
    expect(scalesExactly([1e30], 100, 'float64')).toBe(true);
    expect(clampExponent(100, (m) => m <= 37)).toBe(37);
    expect(clampExponent(-100, (m) => m >= -5)).toBe(-5);
  });
});
