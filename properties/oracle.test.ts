/**
 * ATN-7.7, ATN-7.8: the fast oracle (double-double with a running error bound) answers exactly the expectation of the
 * exact BigNumber oracle, or defers to it. Every generated case of every regime and op, both dtypes, is evaluated by
 * both oracles (auto vs forced exact) and the two expectations must be identical numbers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createReference, type ReferenceOp } from '../reference';
import { DD, Undecidable } from '../reference/dd';
import { oracleCases } from './lib/oracle-cases';
import type { CampaignDtype } from './lib/types';

const SEED = 20261201;
const exact = createReference({ oracle: 'exact' });

function same(dtype: CampaignDtype, op: ReferenceOp, args: Record<string, unknown>, auto = createReference({ oracle: 'auto' })): 'fast' | 'exact' | 'refused' {
  let want: unknown;
  try {
    want = exact.expect(op, args);
  } catch (e) {
    // The fast path must refuse with the same error.
    expect(() => auto.expect(op, args)).toThrow((e as Error).message);
    return 'refused';
  }
  const before = auto.oracle!.fast;
  expect(auto.expect(op, args)).toEqual(want);
  return auto.oracle!.fast > before ? 'fast' : 'exact';
}

describe.each(['float32', 'float64'] as const)('fast oracle = exact oracle (%s), seed ' + SEED, (dtype) => {
  const cases = oracleCases(dtype, { 'atn.forward': 40, 'atn.vjp': 25, 'ln.forward': 40, 'lstm.forward': 8, 'lstm.vjp': 6 });
  it.each(cases)('%s', (name, op, arb, runs) => {
    const tally = { fast: 0, exact: 0, refused: 0 };
    fc.assert(
      fc.property(arb, (args) => {
        tally[same(dtype, op, args)]++;
      }),
      { seed: SEED, numRuns: runs },
    );
    console.log(`${dtype} ${name}: ${JSON.stringify(tally)}`);
    // The fast path must actually decide the common cases (not defer everything) outside the regimes built to be hard.
    if (['atn.forward general', 'atn.vjp general', 'ln.forward'].includes(name)) expect(tally.fast).toBeGreaterThan(tally.exact);
  });
});

describe('DD error bounds', () => {
  it('contain the exact result of sums with cancellation, products, quotients, roots, exp, tanh (checked at 64 digits)', () => {
    const ref = createReference({ oracle: 'exact' });
    void ref;
    const mk = (x: number) => DD.fromDouble(x);
    const x = mk(1e16).plus(mk(1)).minus(mk(1e16)); // 1 exactly, with cancellation
    expect(x.hi + x.lo).toBe(1);
    expect(Math.abs(x.hi + x.lo - 1)).toBeLessThanOrEqual(x.e);
    const t = mk(0.5).exp();
    expect(Math.abs(t.hi - Math.exp(0.5))).toBeLessThanOrEqual(2 ** -52 * Math.exp(0.5));
    expect(t.e).toBeLessThan(2 ** -90);
    expect(() =>
      mk(1)
        .minus(mk(1).plus(new DD(0, 0, 1e-30)))
        .isZero(),
    ).toThrow(Undecidable);
    // A square that underflows to 0 is not an exact 0 (found by the Python port's test: a = [0, -2.4e-271], eps = 0).
    const sq = mk(-2.3661043723335494e-271).times(mk(-2.3661043723335494e-271));
    expect(sq.e).toBeGreaterThan(0);
    expect(() => sq.isZero()).toThrow(Undecidable);
    const args = { dtype: 'float64', k: 1, eps: 0, a: [[[0, -2.3661043723335494e-271]]], gain: [0, 0], bias: [0, 0] };
    expect(createReference({ oracle: 'auto' }).expect('atn.forward', args)).toEqual(createReference({ oracle: 'exact' }).expect('atn.forward', args));
  });
});

describe('DD identities of one node', () => {
  it('x - x, 0 + x and x / 1 are exact whatever the bound of x, and decide one-entry windows (H = 1, k = 1)', () => {
    const x = DD.fromDouble(0.3).exp(); // an uncertain value (e > 0)
    expect(x.e).toBeGreaterThan(0);
    const d = x.minus(x);
    expect([d.hi, d.lo, d.e]).toEqual([0, 0, 0]);
    expect(new DD(0).plus(x)).toBe(x);
    expect(x.div(1)).toBe(x);
    // Two different nodes with the same value are NOT known equal: their difference keeps both bounds.
    const y = DD.fromDouble(0.3).exp();
    expect(x.minus(y).e).toBeGreaterThan(0);
    // The shrunk cases that fell back to the exact oracle before: an LSTM of one hidden unit, k = 1 (ATN_c's window
    // holds the one entry c_t, so h_t's ATN_c term is exactly its bias).
    const fwd = {
      dtype: 'float32',
      k: 1,
      eps: 0.000009999999747378752,
      x: [[[0]]],
      h0: [[0.10000000149011612]],
      c0: [[0]],
      params: {
        w_xh: [[0, 0, 0, 0]],
        w_hh: [[0, 0, 0, 0]],
        b_x: [0, 0, 0, 0],
        b_h: [0, 0, 0, 0],
        atn_x: { gain: [1, 1, 1, 1], bias: [0, 0, 0, 0] },
        atn_h: { gain: [1, 1, 1, 1], bias: [0, -0.0005187795031815767, 0, -0.2987547516822815] },
        atn_c: { gain: [1], bias: [0] },
      },
    };
    const vjp = { ...fwd, x: [[[1.5055726766586304]]], c0: [[-0.04059495031833649]], dh: [[[-0.501537024974823]]] };
    for (const [op, args] of [
      ['lstm.forward', fwd],
      ['lstm.vjp', vjp],
    ] as const) {
      const auto = createReference({ oracle: 'auto' });
      expect(auto.expect(op, args)).toEqual(exact.expect(op, args));
      expect(auto.oracle!.fast, op).toBe(1);
    }
  });
});
