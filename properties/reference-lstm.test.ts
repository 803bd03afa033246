/**
 * The ATN-LSTM of the reference (reference/lstm.ts): its gradients against central finite differences at working
 * precision (ATN-4.3), the weight-scaling theorems in the LSTM (ATN-5.2, ATN-5.3), k = 1 against an LN-LSTM built
 * from ln.ts (ATN-5.1), shapes, the degenerate-window error (ATN-6.6), and the ATN-7.4 tolerances: a straightforward
 * float32 implementation (reference/lstm-float.ts) stays inside them, each deliberate mistake falls far outside.
 *
 * Inputs come from a seeded generator (weights ~ N(0, 1/sqrt(fan-in)), gains near 1): fast-check draws the shapes
 * and the generator's seed. BigNumber is slow, so shapes are small and run counts modest.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AtnError } from '../protocol/errors';
import type { Leaf, Leaf2, LstmArgs, LstmVjpArgs } from '../protocol/args';
import { fdJvp } from '../reference/fd';
import { lnForward } from '../reference/ln';
import { floatInputs, forwardSample, lstmExpect, lstmForward, lstmInputs, lstmVjp, unitRoundoff, type LstmGradsBig, type LstmInputs } from '../reference/lstm';
import { lstmTolerance } from '../reference/lstm-bounds';
import { lstmFloat } from '../reference/lstm-float';
import { LSTM_FLOAT_MISTAKES } from '../mutants/lstm-float';
import { createMathCtx, type Big } from '../reference/math';
import { assertProperty } from './lib/seed';
import { mulberry32 as rng } from '../util/prng';

const m = createMathCtx(64);
const isBig = (v: unknown): boolean => m.Big.isDecimal(v);
/** Wide enough to hold d*w exactly for a double w and a short decimal d. */
const wide = createMathCtx(1200);

interface Shape {
  T: number;
  B: number;
  I: number;
  H: number;
  k: number;
  seed: number;
}

const shape = (lim: { T: [number, number]; B?: [number, number]; I?: [number, number]; H: [number, number]; k: [number, number] }) =>
  fc.record({
    T: fc.integer({ min: lim.T[0], max: lim.T[1] }),
    B: fc.integer({ min: (lim.B ?? [1, 2])[0], max: (lim.B ?? [1, 2])[1] }),
    I: fc.integer({ min: (lim.I ?? [1, 3])[0], max: (lim.I ?? [1, 3])[1] }),
    H: fc.integer({ min: lim.H[0], max: lim.H[1] }),
    k: fc.integer({ min: lim.k[0], max: lim.k[1] }),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  });

/** Typical LSTM inputs: x, dh ~ N(0,1), h0, c0 ~ N(0, 0.25), W ~ N(0, 1/fan-in), biases ~ N(0, 0.01), gains ~ N(1, 0.01). */
function makeArgs(s: Shape, dtype: 'float32' | 'float64', eps = 1e-5): LstmVjpArgs {
  const R = rng(s.seed);
  const n = () => Math.sqrt(-2 * Math.log(R() || 1e-12)) * Math.cos(2 * Math.PI * R());
  const f = dtype === 'float32' ? Math.fround : (v: number) => v;
  const v = (len: number, sc = 1, off = 0) => Array.from({ length: len }, () => f(off + sc * n()));
  const mat = (r: number, c: number, sc = 1) => Array.from({ length: r }, () => v(c, sc));
  const { T, B, I, H, k } = s;
  return {
    dtype,
    k,
    eps: f(eps),
    T,
    B,
    I,
    H,
    x: Array.from({ length: T }, () => mat(B, I)),
    h0: mat(B, H, 0.5),
    c0: mat(B, H, 0.5),
    params: {
      w_xh: mat(I, 4 * H, 1 / Math.sqrt(I)),
      w_hh: mat(H, 4 * H, 1 / Math.sqrt(H)),
      b_x: v(4 * H, 0.1),
      b_h: v(4 * H, 0.1),
      atn_x: { gain: v(4 * H, 0.1, 1), bias: v(4 * H, 0.1) },
      atn_h: { gain: v(4 * H, 0.1, 1), bias: v(4 * H, 0.1) },
      atn_c: { gain: v(H, 0.1, 1), bias: v(H, 0.1) },
    },
    dh: Array.from({ length: T }, () => mat(B, H)),
  };
}

/** |a - b| <= rel * (1 + |b|) for every pair of entries of two nested Big structures of the same shape. */
function expectClose(a: unknown, b: unknown, rel: number, path = ''): void {
  if (Array.isArray(b)) {
    expect(Array.isArray(a) && a.length === b.length, `${path}: shape`).toBe(true);
    b.forEach((e, i) => expectClose((a as unknown[])[i], e, rel, `${path}[${i}]`));
  } else if (b && typeof b === 'object' && !isBig(b)) {
    for (const key of Object.keys(b)) expectClose((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], rel, `${path}.${key}`);
  } else {
    const [x, y] = [a as Big, b as Big];
    const err = x.minus(y).abs();
    if (err.gt(y.abs().plus(1).times(rel))) expect.fail(`${path}: ${x.toString()} vs ${y.toString()} (difference ${err.toExponential(3)})`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// ATN-4.3: BPTT against central differences

type Group = 'x' | 'h0' | 'c0' | 'w_xh' | 'w_hh' | 'b_x' | 'b_h' | 'atn_x.gain' | 'atn_x.bias' | 'atn_h.gain' | 'atn_h.bias' | 'atn_c.gain' | 'atn_c.bias';
const GROUPS: Group[] = ['x', 'h0', 'c0', 'w_xh', 'w_hh', 'b_x', 'b_h', 'atn_x.gain', 'atn_x.bias', 'atn_h.gain', 'atn_h.bias', 'atn_c.gain', 'atn_c.bias'];

/** The container (a vector) holding an entry of group g, in inputs or in gradients (same structure). */
function vecOf(o: LstmInputs | LstmGradsBig, g: Group, idx: number[]): Big[] {
  const [head, tail] = g.split('.') as [string, string | undefined];
  let v = (o as unknown as Record<string, unknown>)[head];
  if (tail) v = (v as Record<string, unknown>)[tail];
  for (const i of idx.slice(0, -1)) v = (v as unknown[])[i];
  return v as Big[];
}

function dims(inp: LstmInputs, g: Group): number[] {
  const { T, B, I, H } = inp;
  const G = 4 * H;
  const table: Record<Group, number[]> = {
    x: [T, B, I],
    h0: [B, H],
    c0: [B, H],
    w_xh: [I, G],
    w_hh: [H, G],
    b_x: [G],
    b_h: [G],
    'atn_x.gain': [G],
    'atn_x.bias': [G],
    'atn_h.gain': [G],
    'atn_h.bias': [G],
    'atn_c.gain': [H],
    'atn_c.bias': [H],
  };
  return table[g];
}

/** A deep copy of the inputs (Bigs are immutable, so copying the arrays is enough). */
function copyInputs(inp: LstmInputs): LstmInputs {
  return structuredCloneArrays(inp) as LstmInputs;
}
function structuredCloneArrays(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(structuredCloneArrays);
  if (v && typeof v === 'object' && !isBig(v)) return Object.fromEntries(Object.entries(v).map(([key, e]) => [key, structuredCloneArrays(e)]));
  return v;
}

/** Σ_{t,b,j} dh * h: the scalar whose gradient lstm.vjp returns. */
function loss(inp: LstmInputs, dh: Big[][][]): Big {
  let s = m.zero;
  for (let b = 0; b < inp.B; b++) {
    const f = forwardSample(m, inp, b);
    f.h.forEach((ht, t) => ht.forEach((v, j) => (s = s.plus(v.times(dh[t][b][j])))));
  }
  return s;
}

describe('ATN-4.3 ATN-LSTM gradients', () => {
  it('ATN-4.3 lstm.vjp equals central finite differences at working precision to >= 30 digits, every parameter group', async () => {
    await assertProperty(
      fc.property(shape({ T: [1, 5], H: [1, 3], k: [1, 6] }), (s) => {
        const args = makeArgs(s, 'float64');
        const inp = lstmInputs(m, args);
        const dh = args.dh.map((r) => r.map((v) => v.map((l) => m.big(l as number))));
        const grads = lstmVjp(m, args).grads;
        const R = rng(s.seed ^ 0x5bd1e995);
        for (const g of GROUPS) {
          // One entry per group (random position) keeps the case to ~26 forward passes.
          const idx = dims(inp, g).map((d) => Math.floor(R() * d));
          const j = idx[idx.length - 1];
          const x0 = vecOf(inp, g, idx)[j];
          const f = (xs: Big[]) => {
            const q = copyInputs(inp);
            vecOf(q, g, idx)[j] = xs[0];
            return [loss(q, dh)];
          };
          const fd = fdJvp(m, f, [x0], [m.one])[0];
          const exact = vecOf(grads, g, idx)[j];
          const err = fd.minus(exact).abs();
          expect(err.lte(exact.abs().plus(1).times(1e-30)), `${g}${JSON.stringify(idx)}: BPTT ${exact} vs FD ${fd}`).toBe(true);
        }
      }),
      { numRuns: 5 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// ATN-5.2 / ATN-5.3: weight scaling (eps = 0)

/** Decimal-string args (dtype "decimal") with (W, b) of the chosen preactivations multiplied by d EXACTLY. */
function scaled(args: LstmVjpArgs, d: string, which: { x: boolean; h: boolean }): LstmVjpArgs {
  const dec = (l: Leaf, by: string | null) => (by === null ? m.big(l as number) : wide.big(l as number).times(by)).toString();
  const v = (a: Leaf[], by: string | null) => a.map((l) => dec(l, by));
  const mat = (a: Leaf2, by: string | null) => a.map((r) => v(r, by));
  const p = args.params;
  const dx = which.x ? d : null;
  const dhh = which.h ? d : null;
  return {
    ...args,
    dtype: 'decimal',
    eps: '0',
    x: args.x.map((r) => mat(r, null)),
    h0: mat(args.h0, null),
    c0: mat(args.c0, null),
    dh: args.dh.map((r) => mat(r, null)),
    params: {
      w_xh: mat(p.w_xh, dx),
      b_x: v(p.b_x, dx),
      w_hh: mat(p.w_hh, dhh),
      b_h: v(p.b_h, dhh),
      atn_x: { gain: v(p.atn_x.gain, null), bias: v(p.atn_x.bias, null) },
      atn_h: { gain: v(p.atn_h.gain, null), bias: v(p.atn_h.bias, null) },
      atn_c: { gain: v(p.atn_c.gain, null), bias: v(p.atn_c.bias, null) },
    },
  };
}

const scaleCase = fc.record({
  s: shape({ T: [1, 5], H: [2, 4], k: [1, 6] }),
  d: fc.constantFrom('0.001', '0.37', '3', '1024', '12345.678'),
  which: fc.constantFrom({ x: true, h: false }, { x: false, h: true }, { x: true, h: true }),
});

describe('ATN-5.2 / ATN-5.3 weight scaling in the ATN-LSTM', () => {
  it('ATN-5.2 T2: scaling (W_xh, b_x) and/or (W_hh, b_h) by d > 0 leaves h and c unchanged (eps = 0)', async () => {
    await assertProperty(
      fc.property(scaleCase, ({ s, d, which }) => {
        const args = makeArgs(s, 'float64', 0);
        const base = lstmForward(m, scaled(args, '1', { x: false, h: false }));
        const got = lstmForward(m, scaled(args, d, which));
        expectClose(got, base, 1e-50);
      }),
      { numRuns: 10 },
    );
  });

  it('ATN-5.3 T3: the gradients w.r.t. the scaled W and b at d*W are (1/d) times those at W (eps = 0)', async () => {
    await assertProperty(
      fc.property(scaleCase, ({ s, d, which }) => {
        const args = makeArgs(s, 'float64', 0);
        const base = lstmVjp(m, scaled(args, '1', { x: false, h: false })).grads;
        const got = lstmVjp(m, scaled(args, d, which)).grads;
        const times = (v: Big[][] | Big[]): unknown =>
          Array.isArray(v[0]) ? (v as Big[][]).map((r) => r.map((e) => e.times(d))) : (v as Big[]).map((e) => e.times(d));
        if (which.x) expectClose([times(got.w_xh), times(got.b_x)], [base.w_xh, base.b_x], 1e-45);
        if (which.h) expectClose([times(got.w_hh), times(got.b_h)], [base.w_hh, base.b_h], 1e-45);
        // Everything else (x, h0, c0, the ATN gains and biases) is unchanged.
        expectClose([got.x, got.h0, got.c0, got.atn_x, got.atn_h, got.atn_c], [base.x, base.h0, base.c0, base.atn_x, base.atn_h, base.atn_c], 1e-45);
      }),
      { numRuns: 6 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// k = 1, shapes, errors

/** The LN-LSTM of ATN-3 with k = 1 written directly over ln.ts (LN of each step's preactivations and cell state). */
function lnLstm(args: LstmArgs): { h: Big[][][]; c: Big[][][] } {
  const inp = lstmInputs(m, args);
  const { T, H } = inp;
  const aff = (v: Big[], W: Big[][], bias: Big[]) => bias.map((b0, n) => v.reduce((s, e, r) => s.plus(e.times(W[r][n])), m.zero).plus(b0));
  let h = inp.h0,
    c = inp.c0;
  const hs: Big[][][] = [],
    cs: Big[][][] = [];
  for (let t = 0; t < T; t++) {
    const nx = lnForward(m, { eps: inp.eps, x: inp.x[t].map((xb) => aff(xb, inp.w_xh, inp.b_x)), ...inp.atn_x }).y;
    const nh = lnForward(m, { eps: inp.eps, x: h.map((hb) => aff(hb, inp.w_hh, inp.b_h)), ...inp.atn_h }).y;
    const pre = nx.map((r, b) => r.map((v, n) => v.plus(nh[b][n])));
    c = pre.map((p, b) =>
      Array.from({ length: H }, (_, j) =>
        m
          .sigmoid(p[j])
          .times(c[b][j])
          .plus(m.sigmoid(p[H + j]).times(m.tanh(p[3 * H + j]))),
      ),
    );
    const nc = lnForward(m, { eps: inp.eps, x: c, ...inp.atn_c }).y;
    h = pre.map((p, b) => Array.from({ length: H }, (_, j) => m.sigmoid(p[2 * H + j]).times(m.tanh(nc[b][j]))));
    hs.push(h);
    cs.push(c);
  }
  return { h: hs, c: cs };
}

describe('ATN-3 ATN-LSTM structure', () => {
  it('ATN-5.1 T1 in the LSTM: k = 1 gives the LN-LSTM (LN of each preactivation and of each cell state)', async () => {
    await assertProperty(
      fc.property(shape({ T: [1, 6], H: [1, 4], k: [1, 1] }), (s) => {
        const args = makeArgs(s, 'float64');
        expectClose(lstmForward(m, args), lnLstm(args), 1e-50);
      }),
      { numRuns: 6 },
    );
  });

  it('ATN-3.5 h and c are [T][B][H]; the gradients have the shapes of the inputs; expect() has the op structure', () => {
    const s = { T: 3, B: 2, I: 3, H: 2, k: 2, seed: 7 };
    const args = makeArgs(s, 'float32');
    const r = lstmVjp(m, args);
    const shapeOf = (v: unknown): unknown =>
      Array.isArray(v)
        ? [v.length, shapeOf(v[0])]
        : v && typeof v === 'object' && !isBig(v)
          ? Object.fromEntries(Object.entries(v).map(([key, e]) => [key, shapeOf(e)]))
          : 0;
    expect(shapeOf(r.h)).toEqual(shapeOf(args.dh));
    expect(shapeOf(r.c)).toEqual(shapeOf(args.dh));
    expect(shapeOf(r.grads)).toEqual(shapeOf({ x: args.x, h0: args.h0, c0: args.c0, ...args.params }));
    const e = lstmExpect(m, args, 'lstm.vjp');
    expect(shapeOf(e.tol)).toEqual(shapeOf(e.want));
    expect(shapeOf(e.want)).toEqual(shapeOf({ h: args.dh, c: args.dh, grads: { x: args.x, h0: args.h0, c0: args.c0, ...args.params } }));
    const ef = lstmExpect(m, args, 'lstm.forward');
    expect(Object.keys(ef.want)).toEqual(['h', 'c']);
    expect(shapeOf(ef.tol)).toEqual(shapeOf(ef.want));
  });

  it('ATN-6.6 a constant window with eps = 0 (x = 0, b_x = 0: a^x_1 = 0) is a degenerate_window naming the ATN, t and b', () => {
    const args = makeArgs({ T: 2, B: 2, I: 2, H: 2, k: 2, seed: 3 }, 'float64', 0);
    args.x[0][1] = [0, 0];
    args.params.b_x = args.params.b_x.map(() => 0);
    let err: unknown;
    try {
      lstmForward(m, args);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AtnError);
    const a = err as AtnError;
    expect([a.code, a.clause, a.arg]).toEqual(['degenerate_window', 'ATN-6.6', 'params.atn_x']);
    expect(a.message).toMatch(/t=0, sample b=1/);
    expect(() => lstmExpect(m, args, 'lstm.forward')).toThrow(AtnError);
  });

  it('ATN-6.6 a^h_1 = h0 W_hh + b_h constant (h0 = 0, b_h = 0, eps = 0) is degenerate in ATN_h; one nonzero b_h entry is not', () => {
    const args = makeArgs({ T: 3, B: 1, I: 2, H: 2, k: 3, seed: 5 }, 'float64', 0);
    args.h0 = [[0, 0]];
    args.c0 = [[0, 0]];
    args.params.b_h = args.params.b_h.map(() => 0);
    // a^h_1 = h0 W_hh + b_h = 0 is constant: that IS degenerate (it is a preactivation, not the initial state).
    expect(() => lstmForward(m, args)).toThrow(/params\.atn_h/);
    args.params.b_h[0] = 0.5;
    expect(() => lstmForward(m, args)).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// ATN-7.4: soundness and tightness of the tolerances

/** max over entries of |got - want| / tol for two nested number structures. */
function worstRatio(got: unknown, want: unknown, tol: unknown): number {
  if (Array.isArray(want)) return want.reduce((mx: number, w, i) => Math.max(mx, worstRatio((got as unknown[])[i], w, (tol as unknown[])[i])), 0);
  if (want && typeof want === 'object')
    return Object.keys(want).reduce(
      (mx, key) =>
        Math.max(mx, worstRatio((got as Record<string, unknown>)[key], (want as Record<string, unknown>)[key], (tol as Record<string, unknown>)[key])),
      0,
    );
  const [g, w, t] = [got as number, want as number, tol as number];
  return g === w ? 0 : Math.abs(g - w) / t;
}

describe('ATN-7.4 ATN-LSTM tolerances', () => {
  it('ATN-7.4 a straightforward float32 ATN-LSTM agrees within tol; gate order, missing ATN_c, a shared window, c0 in the window, a VJP without the past all fail it', async () => {
    await assertProperty(
      fc.property(shape({ T: [2, 6], H: [2, 4], k: [2, 6] }), (s) => {
        const args = makeArgs(s, 'float32');
        const e = lstmExpect(m, args, 'lstm.vjp');
        const p = floatInputs(args);
        const ok = lstmFloat(p, Math.fround);
        expect(worstRatio(ok, e.want, e.tol)).toBeLessThanOrEqual(1);
        for (const mistake of LSTM_FLOAT_MISTAKES) {
          const bad = lstmFloat(p, Math.fround, mistake.alter);
          const ratio =
            mistake.shows === 'grads'
              ? worstRatio(bad.grads, (e.want as { grads: unknown }).grads, (e.tol as { grads: unknown }).grads)
              : worstRatio({ h: bad.h, c: bad.c }, { h: e.want.h, c: e.want.c }, { h: e.tol.h, c: e.tol.c });
          expect(ratio, mistake.id).toBeGreaterThan(10);
        }
      }),
      { numRuns: 10 },
    );
  });

  it('ATN-7.4 a replica resumed at step t0 (lstm-float.ts ForwardResume) is the full run, bit for bit, with any site shifted from t0 on', async () => {
    // The tolerance's shifted runs resume at their site's step; this is what makes that the same measurement.
    await assertProperty(
      fc.property(shape({ T: [1, 6], B: [1, 1], H: [1, 3], k: [1, 7] }), fc.nat(), fc.nat(), fc.boolean(), (s, pickT, pickS, vjp) => {
        const args = makeArgs(s, 'float32');
        const p = floatInputs(vjp ? args : { ...args, dh: undefined });
        const T = p.x.length;
        const counter = { n: 0, recording: false, site: (v: number) => (counter.n++, v) };
        const base = lstmFloat(p, (v) => v, {}, counter);
        const from = base.forward!;
        expect(from.siteStart[T]).toBeLessThanOrEqual(counter.n);
        const t0 = pickT % (T + 1);
        // a site at or after the first of step t0 (a BPTT site when t0 = T and vjp), shifted by a small step
        const lo = from.siteStart[t0];
        const target = lo + (pickS % Math.max(1, counter.n - lo));
        const shiftAt = (skip: boolean) => {
          let i = 0;
          return {
            recording: false,
            skip: skip ? (n: number) => (i = n) : undefined,
            site: (v: number) => (i++ === target ? v + 1e-7 * Math.max(Math.abs(v), 1) : v),
          };
        };
        const full = lstmFloat(p, (v) => v, {}, shiftAt(false));
        const resumed = lstmFloat(p, (v) => v, {}, shiftAt(true), { from, t0 });
        // (without dh a resumed run allocates no gradients: there are none to compare)
        const out = (o: typeof full) => JSON.stringify({ h: o.h, c: o.c, g: vjp ? o.grads : undefined });
        expect(out(resumed)).toBe(out(full));
      }),
      { numRuns: 60 },
    );
  });

  it('ATN-7.4 float64: the same implementation in double agrees within tol (forward and gradients)', async () => {
    await assertProperty(
      fc.property(shape({ T: [1, 5], H: [1, 4], k: [1, 6] }), (s) => {
        const args = makeArgs(s, 'float64');
        const e = lstmExpect(m, args, 'lstm.vjp');
        const ok = lstmFloat(floatInputs(args), (v) => v);
        expect(worstRatio(ok, e.want, e.tol)).toBeLessThanOrEqual(1);
        const ef = lstmExpect(m, args, 'lstm.forward');
        expect(worstRatio({ h: ok.h, c: ok.c }, ef.want, ef.tol)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 6 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// ATN-7.4 with tiny parameters: zero, subnormal and near-underflow entries. The sensitivities used to be measured with a
// step of 1e-7 of the site's scale, which is 0 or a few-bit subnormal there (0/0 = NaN); and relative bounds miss the
// absolute λ/2 errors of underflowing products.

/** Values near or below the underflow thresholds of both dtypes (float32 rounds some of them to 0 or a subnormal). */
const TINY = [0, -0, 5e-324, -5e-324, -5.8e-185, 1e-310, 2 ** -1022, 1e-300, 1e-200, 1e-45, 2 ** -149, -1e-40, 2 ** -126, 1e-30, -3e-20];

/** makeArgs with each leaf replaced, with probability `prob`, by a value of TINY (rounded to the dtype). */
function tinyArgs(s: Shape, dtype: 'float32' | 'float64', eps: number, prob: number, pick: number): LstmVjpArgs {
  const args = makeArgs(s, dtype, eps);
  const R = rng(pick);
  const f = dtype === 'float32' ? Math.fround : (v: number) => v;
  const swap = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(swap)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([key, e]) => [key, swap(e)]))
        : R() < prob
          ? f(TINY[Math.floor(R() * TINY.length)])
          : v;
  return {
    ...args,
    x: swap(args.x) as Leaf2[],
    h0: swap(args.h0) as Leaf2,
    c0: swap(args.c0) as Leaf2,
    dh: swap(args.dh) as Leaf2[],
    params: swap(args.params) as LstmVjpArgs['params'],
  };
}

/** Every leaf of a nested number structure. */
const leaves = (v: unknown, out: number[] = []): number[] => {
  if (typeof v === 'number') out.push(v);
  else if (Array.isArray(v)) v.forEach((e) => leaves(e, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((e) => leaves(e, out));
  return out;
};

const tinyCase = fc.record({
  s: shape({ T: [1, 4], H: [1, 3], k: [1, 5] }),
  dtype: fc.constantFrom('float32' as const, 'float64' as const),
  eps: fc.constantFrom(1e-5, 1e-3),
  prob: fc.constantFrom(0.2, 0.6, 0.9, 1),
  pick: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

describe('ATN-7.4 tolerances with tiny, subnormal and zero parameters', () => {
  it('ATN-7.4 tiny/subnormal/zero entries (eps > 0): every tolerance is finite and >= 0, and the plain float implementation stays within it', async () => {
    await assertProperty(
      fc.property(tinyCase, ({ s, dtype, eps, prob, pick }) => {
        const args = tinyArgs(s, dtype, eps, prob, pick);
        const e = lstmExpect(m, args, 'lstm.vjp');
        const bad = leaves(e.tol).filter((t) => !(Number.isFinite(t) && t >= 0));
        expect(bad, 'non-finite or negative tolerances').toEqual([]);
        const got = lstmFloat(floatInputs(args), dtype === 'float32' ? Math.fround : (v) => v);
        expect(worstRatio(got, e.want, e.tol)).toBeLessThanOrEqual(1);
        const ef = lstmExpect(m, args, 'lstm.forward');
        expect(leaves(ef.tol).every((t) => Number.isFinite(t) && t >= 0)).toBe(true);
        expect(worstRatio({ h: got.h, c: got.c }, ef.want, ef.tol)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 40 },
    );
  });

  it('ATN-7.4 eps = 0 with tiny entries: no tolerance is NaN or negative (Infinity only where the double replica divides by a zero window spread)', async () => {
    await assertProperty(
      fc.property(tinyCase, ({ s, dtype, prob, pick }) => {
        // Straight to the tolerances: the reference would refuse the windows that are exactly constant (ATN-6.6).
        const args = tinyArgs(s, dtype, 0, prob, pick);
        const { u, lam } = unitRoundoff(dtype);
        const tol = leaves(lstmTolerance(floatInputs(args), u, lam));
        expect(
          tol.filter((t) => !(t >= 0)),
          'NaN or negative tolerances',
        ).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });
});
