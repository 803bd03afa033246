/**
 * The theorems of ATN-5 (T1..T8) on the reference, in BigNumber arithmetic. "Equal in exact arithmetic" is checked
 * to 1e-50 relative to the natural scale of the compared values (the reference rounds to 64 digits; y is O(|g| sqrt N
 * + |b|) whatever the magnitude of a); where both sides run the very same operations on the same values (T6, T7)
 * equality is exact. The transformed inputs (d*a, a + c) are formed EXACTLY, in a context wide enough for any double
 * (`wide`), so that the theorems are tested on the full double range, subnormals included, and not on rounding.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { call } from '../protocol/target';
import { atnForward, atnStats, type AtnBig } from '../reference/atn';
import { atnVjp } from '../reference/atn-vjp';
import { createMathCtx, type Big } from '../reference/math';
import { createReference } from '../reference/reference';
import { windowStats, windowVjp } from '../reference/stats';
import { assertProperty } from './lib/seed';
import { mulberry32 } from '../util/prng';

const m = createMathCtx(64);
const wide = createMathCtx(2400);
const ref = createReference();
/** x*y and x+y exactly (operands of at most ~1100 digits; a quotient is rounded at 2400 digits). */
const exactTimes = (x: Big, y: Big): Big => new wide.Big(x).times(y);
const exactPlus = (x: Big, y: Big): Big => new wide.Big(x).plus(y);

interface Case {
  T: number;
  B: number;
  H: number;
  k: number;
  a: number[][][];
  gain: number[];
  bias: number[];
  eps: number;
}

const num = (lim: number) => fc.double({ min: -lim, max: lim, noNaN: true, noDefaultInfinity: true });
/** Rows of H >= 2 entries, not all equal (so that no window is constant even with eps = 0). */
const row = (H: number) => fc.array(num(4), { minLength: H, maxLength: H }).filter((r) => r.some((x) => x !== r[0]));
const shapes = (max = { T: 8, B: 3, H: 16, k: 10 }) =>
  fc.record({
    T: fc.integer({ min: 1, max: max.T }),
    B: fc.integer({ min: 1, max: max.B }),
    H: fc.integer({ min: 2, max: max.H }),
    k: fc.integer({ min: 1, max: max.k }),
  });
function cases(max?: { T: number; B: number; H: number; k: number }, eps: fc.Arbitrary<number> = fc.constant(0)): fc.Arbitrary<Case> {
  return shapes(max).chain(({ T, B, H, k }) =>
    fc.record({
      T: fc.constant(T),
      B: fc.constant(B),
      H: fc.constant(H),
      k: fc.constant(k),
      a: fc.array(fc.array(row(H), { minLength: B, maxLength: B }), { minLength: T, maxLength: T }),
      gain: fc.array(num(2), { minLength: H, maxLength: H }),
      bias: fc.array(num(2), { minLength: H, maxLength: H }),
      eps,
    }),
  );
}
const epsPos = fc.double({ min: 1e-4, max: 2, noNaN: true });

const big3 = (v: number[][][]) => v.map((s) => s.map((r) => r.map((x) => m.big(x))));
const toBig = (c: Case, eps = m.big(c.eps)): AtnBig => ({ k: c.k, eps, a: big3(c.a), gain: c.gain.map((x) => m.big(x)), bias: c.bias.map((x) => m.big(x)) });
const flat = (v: Big[][][]) => v.flat(2);
function close(x: readonly Big[], y: readonly Big[], rel = '1e-50'): boolean {
  const scale = [...x, ...y].reduce((s, v) => (v.abs().gt(s) ? v.abs() : s), m.one);
  return x.length === y.length && x.every((v, i) => v.minus(y[i]).abs().lte(scale.times(rel)));
}
/** A positive scale factor: powers of two and ten, and arbitrary decimals. */
const factor = fc.oneof(
  fc.integer({ min: -20, max: 20 }).map((e) => new m.Big(2).pow(e)),
  fc.integer({ min: -30, max: 30 }).map((e) => new m.Big(10).pow(e)),
  fc.double({ min: 1e-3, max: 1e3, noNaN: true }).map((x) => m.big(x)),
);

describe('reference theorems (ATN-5)', () => {
  it('ATN-5.1 T1: k = 1 equals LN step by step (atn.forward vs ln.forward on the reference target)', async () => {
    const target = ref.target();
    await assertProperty(
      fc.asyncProperty(cases({ T: 6, B: 3, H: 16, k: 1 }, epsPos), async (c) => {
        const y = (await call<{ y: string[][][] }>(target, 'atn.forward', { dtype: 'decimal', k: 1, eps: c.eps, a: c.a, gain: c.gain, bias: c.bias })).y;
        for (let t = 0; t < c.T; t++) {
          const ln = (await call<{ y: string[][] }>(target, 'ln.forward', { dtype: 'decimal', eps: c.eps, x: c.a[t], gain: c.gain, bias: c.bias })).y;
          expect(y[t]).toEqual(ln);
        }
      }),
      { numRuns: 10 },
    );
  });

  it('ATN-5.2 T2: ATN_eps(d*a) = ATN_{eps/d^2}(a), and ATN_0(d*a) = ATN_0(a)', async () => {
    await assertProperty(
      fc.property(cases({ T: 6, B: 2, H: 8, k: 8 }, fc.oneof(fc.constant(0), epsPos)), factor, (c, d) => {
        const x = toBig(c);
        const scaled = { ...x, a: x.a.map((s) => s.map((r) => r.map((v) => exactTimes(v, d)))) };
        const lhs = flat(atnForward(m, scaled).y);
        const rhs = flat(atnForward(m, { ...x, eps: new wide.Big(x.eps).div(exactTimes(d, d)) }).y);
        const plain = flat(atnForward(m, x).y);
        return close(lhs, rhs) && (!x.eps.isZero() || close(lhs, plain));
      }),
      { numRuns: 25 },
    );
  });

  it('ATN-5.3 T3: for y = ATN(x W), eps = 0, the gradient of sum(dy*y) w.r.t. W at d*W is (1/d) times that at W', async () => {
    // Inputs on the grid k/8: a window of x W is then either constant (skipped) or spread by >= 1/64, so the
    // gradient's natural scale stays near its size and a relative comparison is meaningful.
    const num = (lim: number) => fc.integer({ min: -8 * lim, max: 8 * lim }).map((v) => v / 8);
    const arb = fc
      .record({
        T: fc.integer({ min: 1, max: 5 }),
        B: fc.integer({ min: 1, max: 2 }),
        I: fc.integer({ min: 2, max: 5 }),
        H: fc.integer({ min: 2, max: 8 }),
        k: fc.integer({ min: 1, max: 6 }),
      })
      .chain((s) =>
        fc.record({
          s: fc.constant(s),
          x: fc.array(fc.array(fc.array(num(3), { minLength: s.I, maxLength: s.I }), { minLength: s.B, maxLength: s.B }), { minLength: s.T, maxLength: s.T }),
          W: fc.array(fc.array(num(1), { minLength: s.H, maxLength: s.H }), { minLength: s.I, maxLength: s.I }),
          dy: fc.array(fc.array(fc.array(num(1), { minLength: s.H, maxLength: s.H }), { minLength: s.B, maxLength: s.B }), { minLength: s.T, maxLength: s.T }),
        }),
      );
    await assertProperty(
      fc.property(arb, factor, ({ s, x, W, dy }, d) => {
        const xb = big3(x);
        const dyb = big3(dy);
        const Wb = W.map((r) => r.map((v) => m.big(v)));
        const gradW = (Wm: Big[][]): Big[] | undefined => {
          const a = xb.map((st) => st.map((xr) => Wm[0].map((_, j) => xr.reduce((acc, xi, i) => acc.plus(xi.times(Wm[i][j])), m.zero))));
          let r;
          try {
            r = atnVjp(m, { k: s.k, eps: m.zero, a, gain: Wm[0].map(() => m.one), bias: Wm[0].map(() => m.zero) }, dyb);
          } catch {
            return undefined; // x W happened to make a constant window: T3 assumes non-degenerate parameters
          }
          // dL/dW[i][j] = sum_{t,b} x[t][b][i] da[t][b][j]
          return Wm.flatMap((wr, i) => wr.map((_, j) => xb.reduce((acc, st, t) => st.reduce((ac, xr, b) => ac.plus(xr[i].times(r.da[t][b][j])), acc), m.zero)));
        };
        const g1 = gradW(Wb);
        const gd = gradW(Wb.map((r) => r.map((v) => exactTimes(v, d))));
        if (!g1 || !gd) return true;
        return close(
          gd.map((v) => v.times(d)),
          g1,
        );
      }),
      { numRuns: 20 },
    );
  });

  it("ATN-5.4 T4: adding one constant to the sequence leaves y unchanged; each window's VJP contributions sum to 0", async () => {
    await assertProperty(
      fc.property(
        cases({ T: 6, B: 2, H: 8, k: 8 }, fc.oneof(fc.constant(0), epsPos)),
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        fc.array(num(2), { minLength: 16, maxLength: 16 }),
        (c, shift, dyRow) => {
          const x = toBig(c);
          const cb = m.big(shift);
          const y0 = flat(atnForward(m, x).y);
          const y1 = flat(atnForward(m, { ...x, a: x.a.map((s) => s.map((r) => r.map((v) => exactPlus(v, cb)))) }).y);
          if (!close(y0, y1)) return false;
          const stats = atnStats(m, x);
          return stats.every((rowT) =>
            rowT.every((st) => {
              const gHat = dyRow.slice(0, c.H).map((v, h) => m.big(v).times(x.gain[h]));
              const contrib = windowVjp(m, st, gHat).flat();
              const total = m.sum(contrib);
              // Natural scale of the contributions: (|ĝ_j| + mean|ĝ| + |z_j| mean|ĝ z|) / s summed over the window.
              const zt = st.z[st.n - 1];
              const m1 = m.sum(gHat.map((g) => g.abs())).div(st.N);
              const m2 = m.sum(gHat.map((g, h) => g.times(zt[h]).abs())).div(st.N);
              const size = m
                .sum(st.z.flat().map((z) => m1.plus(z.abs().times(m2))))
                .plus(m1.times(st.N))
                .div(st.s);
              return total.abs().lte(size.times('1e-55'));
            }),
          );
        },
      ),
      { numRuns: 25 },
    );
  });

  it('ATN-5.5 T5: with eps = 0, |z| <= sqrt(N - 1) for every window entry, with equality when the other N - 1 are equal', async () => {
    await assertProperty(
      fc.property(cases(), (c) => {
        const stats = atnStats(m, toBig(c));
        const slack = new m.Big('1e-55');
        return stats.every((r) => r.every((st) => st.z.flat().every((z) => z.abs().lte(new m.Big(st.N - 1).sqrt().plus(slack)))));
      }),
      { numRuns: 25 },
    );
    await assertProperty(
      fc.property(
        fc.integer({ min: 2, max: 16 }),
        fc.integer({ min: 1, max: 5 }),
        num(4),
        num(4).filter((v) => v !== 0),
        (H, T, base, off) => {
          // Every entry equal to base except the last entry of the last step: |z| of that entry is sqrt(N - 1).
          const a = Array.from({ length: T }, (_, t) => [
            Array.from({ length: H }, (_, h) => (t === T - 1 && h === H - 1 ? exactPlus(m.big(base), m.big(off)) : m.big(base))),
          ]);
          const st = windowStats(
            m,
            a.map((step) => step[0]),
            m.zero,
            { t: T - 1, b: 0 },
          );
          return st.z[st.n - 1][H - 1]
            .abs()
            .minus(new m.Big(st.N - 1).sqrt())
            .abs()
            .lte('1e-55');
        },
      ),
      { numRuns: 30 },
    );
  });

  it('ATN-5.6 T6: y[t][b] depends only on a[t-k+1..t][b] (other steps and samples changed: bit-identical)', async () => {
    await assertProperty(
      fc.property(cases(undefined, epsPos), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 2 ** 30 }), (c, tp, bp, seed) => {
        const t = tp % c.T,
          b = bp % c.B;
        const next = mulberry32(seed);
        const rnd = () => next() * 8 - 4;
        const other = c.a.map((st, ti) => st.map((r, bi) => (bi === b && ti <= t && ti > t - c.k ? r : r.map((v, h) => (h === 0 ? rnd() : v + rnd())))));
        const y0 = atnForward(m, toBig(c)).y[t][b];
        const y1 = atnForward(m, toBig({ ...c, a: other })).y[t][b];
        return y0.every((v, i) => v.eq(y1[i]));
      }),
      { numRuns: 25 },
    );
  });

  it('ATN-5.7 T7: every k >= T gives the same output, the prefix (cumulative) statistics', async () => {
    await assertProperty(
      fc.property(cases({ T: 8, B: 2, H: 8, k: 1 }, epsPos), fc.integer({ min: 0, max: 20 }), (c, extra) => {
        const yT = flat(atnForward(m, toBig({ ...c, k: c.T })).y);
        const yK = flat(atnForward(m, toBig({ ...c, k: c.T + extra })).y);
        // Prefix statistics: step t with the whole prefix 0..t, i.e. the last step of the sequence cut after t.
        const prefix = Array.from({ length: c.T }, (_, t) => atnForward(m, toBig({ ...c, a: c.a.slice(0, t + 1), k: t + 1 })).y[t]);
        return yT.every((v, i) => v.eq(yK[i])) && yT.every((v, i) => v.eq(prefix.flat(2)[i]));
      }),
      { numRuns: 15 },
    );
  });

  it('ATN-5.8 T8: per-step re-centering a_t + c_t leaves y unchanged for k = 1 and not for k > 1 (counterexample)', async () => {
    // The spec's counterexample: H = 2, eps = 0, a_1 = a_2 = (0, 2); shifting step 2 by 10 moves y_2 for every k >= 2.
    const a = [[[0, 2]], [[0, 2]]];
    const shifted = [[[0, 2]], [[10, 12]]];
    for (let k = 1; k <= 10; k++) {
      const y0 = atnForward(m, toBig({ T: 2, B: 1, H: 2, k, a, gain: [1, 1], bias: [0, 0], eps: 0 })).y[1][0];
      const y1 = atnForward(m, toBig({ T: 2, B: 1, H: 2, k, a: shifted, gain: [1, 1], bias: [0, 0], eps: 0 })).y[1][0];
      if (k === 1) expect(close(y0, y1)).toBe(true);
      else {
        expect(y0.map((v) => v.toNumber())).toEqual([-1, 1]);
        expect(
          y1[0]
            .minus(new m.Big(4).div(new m.Big(26).sqrt()))
            .abs()
            .lt('1e-60'),
        ).toBe(true);
        expect(
          y1[1]
            .minus(new m.Big(6).div(new m.Big(26).sqrt()))
            .abs()
            .lt('1e-60'),
        ).toBe(true);
      }
    }
    // And for k = 1 the invariance holds on every input and every per-step shift.
    await assertProperty(
      fc.property(
        cases({ T: 6, B: 3, H: 16, k: 1 }, fc.oneof(fc.constant(0), epsPos)),
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 6, maxLength: 6 }),
        (c, shifts) => {
          const y0 = flat(atnForward(m, toBig(c)).y);
          const x = toBig(c);
          const moved = x.a.map((s, t) => s.map((r) => r.map((v) => exactPlus(v, m.big(shifts[t])))));
          return close(y0, flat(atnForward(m, { ...x, a: moved }).y));
        },
      ),
      { numRuns: 20 },
    );
  });
});
