/**
 * ATN-7.9: verdicts by bracket. (1) Every bracket the fast oracle answers contains RN(exact) of its value, on every
 * generated case of every regime and op, both dtypes. (2) compare() with brackets gives the exact oracle's verdict for
 * every exact value inside the brackets (a property over brackets, answers and tolerances built to sit on the edges:
 * answers at the bracket ends, at their float32 roundings, tolerances at the ratio-1 boundary), and asks the exact
 * expectation exactly when it must.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bracket, createReference, expectationBounds, withBounds, type Expectation } from '../reference';
import { oracleCases } from './lib/oracle-cases';
import { compare } from './lib/compare';
import { leaves } from '../util/tree';

const SEED = 20261202;
console.log(`oracle-brackets: seed ${SEED}`);
const exact = createReference({ oracle: 'exact' });

describe.each(['float32', 'float64'] as const)('ATN-7.9 brackets contain RN(exact) (%s), seed ' + SEED, (dtype) => {
  const cases = oracleCases(dtype, { 'atn.forward': 25, 'atn.vjp': 25, 'lstm.forward': 8, 'lstm.vjp': 6 });
  let bracketedInAll = 0;
  it.each(cases)('%s', (name, op, arb, runs) => {
    const auto = createReference({ oracle: 'auto' });
    fc.assert(
      fc.property(arb, (args) => {
        let want: Expectation;
        try {
          want = exact.expect(op, args);
        } catch {
          return; // refused on both paths (oracle.test.ts checks the errors agree)
        }
        const got = auto.expect(op, args, { intervals: 'all' });
        const b = expectationBounds(got);
        if (!b) {
          expect(got).toEqual(want); // no bracket: RN(exact) throughout (ATN-7.8)
          return;
        }
        bracketedInAll++;
        const [w, lo, hi, tw, tlo, thi, mid] = [want.want, b.lo, b.hi, want.tol, b.tolLo, b.tolHi, got.want].map((v) => leaves(v) as number[]);
        w.forEach((x, i) => {
          expect(lo[i] <= x && x <= hi[i], `${name}: want leaf ${i}: ${x} outside [${lo[i]}, ${hi[i]}]`).toBe(true);
          expect(lo[i] <= mid[i] && mid[i] <= hi[i]).toBe(true);
        });
        tw.forEach((x, i) => expect(tlo[i] <= x && x <= thi[i], `${name}: tol leaf ${i}: ${x} outside [${tlo[i]}, ${thi[i]}]`).toBe(true));
        expect(b.exact()).toEqual(want); // the exact expectation behind the brackets is the exact oracle's
      }),
      { seed: SEED, numRuns: runs },
    );
  });
  it('the fast oracle bracketed some of these cases (the checks above are not vacuous)', () => {
    expect(bracketedInAll).toBeGreaterThan(0);
  });
});

/** Doubles near a value: itself, its float32 rounding, and a few ulps (double or float32) either way (the rule's edges). */
const near = (x: number) =>
  fc.tuple(fc.nat(3), fc.integer({ min: -2, max: 2 })).map(([k, d]) => {
    const f = Math.fround(x);
    return [x, f, x + d * Math.abs(x) * 2 ** -52, f + d * Math.abs(f) * 2 ** -23][k];
  });

/**
 * A bracket [lo, hi] with an exact value w inside, a tolerance bracket [tol, thi] with t inside, and an answer near
 * one of the rule's edges: the ends, the exact value, ratio 1 from an end or from the midpoint (the value shown), and
 * far outside (ratios 30 and 1000: the failures a shrink candidate keeps, ATN-9.7).
 */
const bracketCases = fc
  .record({
    lo: fc.double({ min: -4, max: 4, noNaN: true }),
    width: fc.constantFrom(0, 2 ** -60, 2 ** -40, 2 ** -24, 2 ** -10, 1e-3),
    at: fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })),
    tol: fc.constantFrom(0, 2 ** -30, 2 ** -24, 2 ** -12, 1e-3),
    tolWidth: fc.constantFrom(0, 2 ** -50, 2 ** -20),
    tolAt: fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })),
    float32: fc.boolean(),
    pick: fc.nat(13),
  })
  .chain((r) => {
    const hi = r.lo + r.width;
    const w = Math.min(hi, Math.max(r.lo, r.lo + r.at * r.width));
    const thi = r.tol * (1 + r.tolWidth);
    const t = Math.min(thi, Math.max(r.tol, r.tol * (1 + r.tolAt * r.tolWidth)));
    const mid = (r.lo + hi) / 2;
    const edges = [r.lo, hi, w, w + t, r.lo - r.tol, hi + thi, mid - r.tol, mid + r.tol, mid - thi, mid + thi, w + 30 * t, mid - 30 * thi, hi + 1000 * t, NaN];
    return fc.record({ r: fc.constant({ ...r, hi, w, mid, thi, t }), got: near(edges[r.pick]) });
  });

type BracketCase = typeof bracketCases extends fc.Arbitrary<infer C> ? C : never;

/** The case's exact expectation, and the bracketed one that counts its calls of the exact. */
function expectations({ r }: BracketCase) {
  const exactExp: Expectation = { want: { y: [r.w] }, tol: { y: [r.t] } };
  const counter = { calls: 0 };
  const mid = new Bracket(r.mid, r.lo, r.hi);
  const tmid = new Bracket((r.tol + r.thi) / 2, r.tol, r.thi);
  const bracketed = withBounds({ want: { y: [mid as unknown as number] }, tol: { y: [tmid as unknown as number] } }, () => {
    counter.calls++;
    return exactExp;
  });
  return { exactExp, bracketed, counter };
}

describe('ATN-7.9 compare() with brackets gives the exact verdict', () => {
  it('for every exact want and tolerance inside the brackets (answers and tolerances on the edges)', () => {
    let decided = 0,
      asked = 0;
    fc.assert(
      fc.property(bracketCases, (c) => {
        const { exactExp, bracketed, counter } = expectations(c);
        const dtype = c.r.float32 ? 'float32' : 'float64';
        const want = compare({ y: [c.got] }, exactExp, { dtype });
        const have = compare({ y: [c.got] }, bracketed, { dtype });
        expect(have.ok, JSON.stringify(c)).toBe(want.ok);
        // A failure is always shown against the exact expectation (its counterexample is the exact one).
        if (!want.ok) expect(have.worst).toEqual(want.worst);
        if (counter.calls) asked++;
        else decided++;
      }),
      { seed: SEED, numRuns: 3000 },
    );
    console.log(`ATN-7.9 compare: decided by the brackets ${decided}, asked the exact expectation ${asked}`);
    expect(decided).toBeGreaterThan(0);
    expect(asked).toBeGreaterThan(0);
  });

  it('for a shrink candidate (keep): ok, and whether its ratio reaches keep, are the exact ones', () => {
    let keptByBrackets = 0,
      asked = 0;
    const withKeep = fc.record({ c: bracketCases, k: fc.nat(5), ulps: fc.integer({ min: -1, max: 1 }) });
    fc.assert(
      fc.property(withKeep, ({ c, k, ulps }) => {
        const { exactExp, bracketed, counter } = expectations(c);
        const dtype = c.r.float32 ? 'float32' : 'float64';
        const want = compare({ y: [c.got] }, exactExp, { dtype });
        const exactRatio = want.ratios[0] ?? 0;
        // keep at the exact ratio itself (and an ulp either side) is where a loose bracket would decide wrongly.
        const atRatio = Number.isFinite(exactRatio) && exactRatio > 1 ? exactRatio * (1 + ulps * 2 ** -52) : 10;
        const keep = [1, 10, 100, atRatio, atRatio, 31][k];
        const have = compare({ y: [c.got] }, bracketed, { dtype, keep });
        const kept = (x: typeof want) => !x.ok && !(x.ratios[0] < keep);
        const why = JSON.stringify({ c, keep, exactRatio, have: have.ratios });
        expect(have.ok, why).toBe(want.ok);
        expect(kept(have), why).toBe(kept(want));
        if (counter.calls) asked++;
        else if (c.r.width > 0 && !want.ok) keptByBrackets++;
      }),
      { seed: SEED, numRuns: 3000 },
    );
    console.log(`ATN-7.9 compare with keep: failures judged on the brackets ${keptByBrackets}, asked the exact expectation ${asked}`);
    expect(keptByBrackets).toBeGreaterThan(0);
    expect(asked).toBeGreaterThan(0);
  });
});
