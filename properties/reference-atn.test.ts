/**
 * The reference's ATN, LN and VJP (ATN-1, ATN-2, ATN-4) against independent computations: central finite
 * differences (VJP), a naive formula at 100 digits (decimal dtype), and float implementations within the derived
 * tolerances (ATN-7.2, ATN-7.3: the bounds must hold for a plain two-pass float algorithm).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { call } from '../protocol/target';
import { atnForward, type AtnBig } from '../reference/atn';
import { atnVjp } from '../reference/atn-vjp';
import { fdJvp, fdVjp } from '../reference/fd';
import { createMathCtx, type Big, type MathCtx } from '../reference/math';
import { createReference } from '../reference/reference';
import { assertProperty } from './lib/seed';
import { mulberry32 } from '../util/prng';

const m = createMathCtx(64);
const ref = createReference();

interface Case {
  T: number;
  B: number;
  H: number;
  k: number;
  eps: number;
  a: number[][][];
  dy: number[][][];
  gain: number[];
  bias: number[];
}

const num = (lim: number) => fc.double({ min: -lim, max: lim, noNaN: true, noDefaultInfinity: true });
const ten = (T: number, B: number, H: number, v: fc.Arbitrary<number>) =>
  fc.array(fc.array(fc.array(v, { minLength: H, maxLength: H }), { minLength: B, maxLength: B }), { minLength: T, maxLength: T });

/** Shapes T 1..8, B 1..3, H 1..16, k 1..10 (or smaller maxima); eps > 0 so that no window is degenerate. */
function cases(max = { T: 8, B: 3, H: 16, k: 10 }, lim = 4): fc.Arbitrary<Case> {
  return fc
    .record({
      T: fc.integer({ min: 1, max: max.T }),
      B: fc.integer({ min: 1, max: max.B }),
      H: fc.integer({ min: 1, max: max.H }),
      k: fc.integer({ min: 1, max: max.k }),
    })
    .chain(({ T, B, H, k }) =>
      fc.record({
        T: fc.constant(T),
        B: fc.constant(B),
        H: fc.constant(H),
        k: fc.constant(k),
        eps: fc.double({ min: 1e-3, max: 1, noNaN: true }),
        a: ten(T, B, H, num(lim)),
        dy: ten(T, B, H, num(2)),
        gain: fc.array(num(2), { minLength: H, maxLength: H }),
        bias: fc.array(num(2), { minLength: H, maxLength: H }),
      }),
    );
}

const toBig = (c: Case): AtnBig => ({
  k: c.k,
  eps: m.big(c.eps),
  a: c.a.map((s) => s.map((r) => r.map((x) => m.big(x)))),
  gain: c.gain.map((x) => m.big(x)),
  bias: c.bias.map((x) => m.big(x)),
});
const flat = (v: Big[][][]) => v.flat(2);

/** f(a, gain, bias) = flattened y, as a function of one flat vector (for the finite differences). */
function forwardFlat(c: Case): (x: Big[]) => Big[] {
  const n = c.T * c.B * c.H;
  return (x) => {
    const a = Array.from({ length: c.T }, (_, t) => Array.from({ length: c.B }, (_, b) => x.slice((t * c.B + b) * c.H, (t * c.B + b + 1) * c.H)));
    return flat(atnForward(m, { k: c.k, eps: m.big(c.eps), a, gain: x.slice(n, n + c.H), bias: x.slice(n + c.H) }).y);
  };
}

/** |got - want| <= rel * scale for every element, scale = max(|want|) (agreement in significant digits of the result). */
function agree(got: Big[], want: Big[], rel: string): boolean {
  const scale = want.reduce((s, w) => (w.abs().gt(s) ? w.abs() : s), m.zero);
  const bound = scale.isZero() ? new m.Big(rel) : scale.times(rel);
  return got.every((g, i) => g.minus(want[i]).abs().lte(bound));
}

describe('reference ATN', () => {
  it('ATN-4.1 ATN-4.2 closed-form VJP (da, dgain, dbias) = central finite differences to >= 30 significant digits', async () => {
    await assertProperty(
      fc.property(cases({ T: 4, B: 2, H: 6, k: 5 }), (c) => {
        const x = toBig(c);
        const dy = c.dy.map((s) => s.map((r) => r.map((v) => m.big(v))));
        const r = atnVjp(m, x, dy);
        const closed = [...flat(r.da), ...r.dgain, ...r.dbias];
        const fd = fdVjp(m, forwardFlat(c), [...flat(x.a), ...x.gain, ...x.bias], flat(dy));
        return agree(closed, fd, '1e-30');
      }),
      { numRuns: 8 },
    );
  });

  it('ATN-4.1 VJP along random directions (full shape range) = directional finite differences to >= 30 digits', async () => {
    await assertProperty(
      fc.property(cases(), fc.integer({ min: 1, max: 2 ** 31 - 1 }), (c, dirSeed) => {
        const x = toBig(c);
        const dy = c.dy.map((s) => s.map((r) => r.map((v) => m.big(v))));
        const r = atnVjp(m, x, dy);
        const grad = [...flat(r.da), ...r.dgain, ...r.dbias];
        const x0 = [...flat(x.a), ...x.gain, ...x.bias];
        const next = mulberry32(dirSeed);
        const v = x0.map(() => m.big(next() * 2 - 1));
        // <grad, v> must equal d/dh <dy, y(x + h v)>.
        const L = (xs: Big[]) => [forwardFlat(c)(xs).reduce((acc, y, i) => acc.plus(y.times(flat(dy)[i])), m.zero)];
        const fd = fdJvp(m, L, x0, v)[0];
        const dot = grad.reduce((acc, g, i) => acc.plus(g.times(v[i])), m.zero);
        const scale = grad.reduce((acc, g, i) => acc.plus(g.times(v[i]).abs()), m.zero);
        return fd.minus(dot).abs().lte(scale.times('1e-30'));
      }),
      { numRuns: 12 },
    );
  });

  it('ATN-1.3 ATN-1.4 ATN-8.4 decimal dtype: decimal strings equal to an independent 100-digit computation within 1e-40', async () => {
    const hi = createMathCtx(100);
    const dec = fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 28, max: 31 })).map(([n, e]) => `${n}e-${e}`);
    const target = ref.target();
    await assertProperty(
      fc.asyncProperty(cases({ T: 5, B: 2, H: 6, k: 6 }), fc.array(dec, { minLength: 200, maxLength: 200 }), async (c, pool) => {
        let i = 0;
        const d3 = (v: number[][][]) => v.map((s) => s.map((r) => r.map(() => pool[i++ % pool.length])));
        const args = {
          dtype: 'decimal',
          k: c.k,
          eps: '0.001',
          a: d3(c.a),
          dy: d3(c.dy),
          gain: c.gain.map(() => pool[i++ % pool.length]),
          bias: c.bias.map(() => pool[i++ % pool.length]),
        };
        const got = await call<{ y: string[][][]; da: string[][][]; dgain: string[]; dbias: string[] }>(target, 'atn.vjp', args);
        const want = naiveVjp(hi, c.k, args.eps, args.a, args.dy, args.gain, args.bias);
        const all = (g: unknown[], w: Big[]) => {
          const gs = (g.flat(3) as string[]).map((s) => {
            expect(typeof s).toBe('string');
            return new hi.Big(s);
          });
          return gs.length === w.length && gs.every((x, j) => x.minus(w[j]).abs().lte(w[j].abs().plus(1).times('1e-40')));
        };
        return all(got.y, want.y.flat(2)) && all(got.da, want.da.flat(2)) && all(got.dgain, want.dgain) && all(got.dbias, want.dbias);
      }),
      { numRuns: 6 },
    );
  });

  it('ATN-1.3 ATN-1.4 statistics stay accurate on extreme windows (subnormals, 1e±300, |mu| >> spread): y to 1e-50', async () => {
    const hi = createMathCtx(400);
    // A case is either any doubles, or every entry a few ulps around ONE base (a window far from zero, tiny spread).
    const tight = (n: number) =>
      fc
        .tuple(fc.double({ min: 1e-300, max: 1e300, noNaN: true }), fc.boolean())
        .chain(([base, neg]) =>
          fc
            .array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n })
            .map((ks) => ks.map((j) => (neg ? -1 : 1) * (base + j * base * Number.EPSILON))),
        );
    const entries = (n: number) => fc.oneof(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n }), tight(n));
    const arb = fc.record({ T: fc.integer({ min: 1, max: 4 }), H: fc.integer({ min: 2, max: 6 }), k: fc.integer({ min: 1, max: 4 }) }).chain((s) =>
      fc.record({
        s: fc.constant(s),
        a: entries(s.T * s.H).map((v) => Array.from({ length: s.T }, (_, t) => [v.slice(t * s.H, (t + 1) * s.H)])),
        eps: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
      }),
    );
    await assertProperty(
      fc.property(arb, ({ s, a, eps }) => {
        const gain = new Array<number>(s.H).fill(1);
        const bias = new Array<number>(s.H).fill(0);
        let got;
        try {
          got = atnForward(m, {
            k: s.k,
            eps: m.big(eps),
            a: a.map((st) => st.map((r) => r.map((v) => m.big(v)))),
            gain: gain.map((v) => m.big(v)),
            bias: bias.map((v) => m.big(v)),
          }).y;
        } catch (e) {
          return (e as { code?: string }).code === 'degenerate_window' && eps === 0;
        }
        const S = (v: number) => new hi.Big(m.big(v));
        const want = naiveVjp(
          hi,
          s.k,
          S(eps).toString(),
          a.map((st) => st.map((r) => r.map((v) => S(v).toString()))),
          a.map((st) => st.map((r) => r.map(() => '0'))),
          gain.map(String),
          bias.map(String),
        ).y;
        // |y| <= sqrt(N - 1) with g = 1, b = 0: an absolute 1e-50 is 50 digits of the natural scale.
        return flat(got).every((v, i) => v.minus(flat(want)[i]).abs().lt('1e-50'));
      }),
      { numRuns: 40 },
    );
  });

  it('ATN-1.6 warm-up: step 1 of every sequence equals LN of that step (no padding, divisor N_1 = H)', async () => {
    const target = ref.target();
    await assertProperty(
      fc.asyncProperty(cases({ T: 3, B: 3, H: 8, k: 10 }), async (c) => {
        const y = (await call<{ y: number[][][] }>(target, 'atn.forward', { dtype: 'float64', k: c.k, eps: c.eps, a: c.a, gain: c.gain, bias: c.bias })).y;
        const ln = (await call<{ y: number[][] }>(target, 'ln.forward', { dtype: 'float64', eps: c.eps, x: c.a[0], gain: c.gain, bias: c.bias })).y;
        expect(y[0]).toEqual(ln);
      }),
      { numRuns: 10 },
    );
  });

  it('ATN-7.2 ATN-7.3 a plain two-pass float32/float64 implementation stays within the derived tolerances', async () => {
    await assertProperty(
      fc.property(cases({ T: 8, B: 2, H: 16, k: 10 }, 100), fc.constantFrom('float32', 'float64'), fc.boolean(), (c0, dtype, zeroEps) => {
        // floatVjp does not scale its windows (ATN-7.2's assumption), so keep its squares clear of underflow. And
        // keep g*dy clear of the subnormal range: an underflowed g*dy is amplified by 1/s_t, which the 4λ term of
        // ATN-7.3 does not cover (reported to the spec's owner: e.g. g = 0.19, dy = -5e-324, eps = 1e-3 misses by 6λ).
        const clamp = (x: number) => (Math.abs(x) < 1e-8 ? 0 : x);
        const c3 = (v: number[][][]) => v.map((s) => s.map((row) => row.map(clamp)));
        const c = { ...c0, a: c3(c0.a), dy: c3(c0.dy), gain: c0.gain.map(clamp), bias: c0.bias.map(clamp) };
        const r = dtype === 'float32' ? Math.fround : (v: number) => v;
        const eps = zeroEps && c.H > 1 ? 0 : c.eps;
        const args = { dtype, k: c.k, eps, a: c.a, dy: c.dy, gain: c.gain, bias: c.bias };
        let e;
        try {
          e = ref.expect('atn.vjp', args);
        } catch {
          return true; // a degenerate window (possible only with eps = 0): nothing to compare
        }
        const got = floatVjp(r, c.k, eps, c.a, c.dy, c.gain, c.bias);
        const within = (g: unknown, w: unknown, t: unknown): boolean =>
          Array.isArray(g) ? g.every((x, j) => within(x, (w as unknown[])[j], (t as unknown[])[j])) : Math.abs((g as number) - (w as number)) <= (t as number);
        const want = e.want as Record<string, unknown>;
        const tol = e.tol as Record<string, unknown>;
        return (['y', 'da', 'dgain', 'dbias'] as const).every((key) => within(got[key], want[key], tol[key]));
      }),
      { numRuns: 40 },
    );
  });

  it('ATN-8.4 float32 answers are float32 values (the exact result rounded once), float64 answers the nearest doubles', async () => {
    const target = ref.target();
    await assertProperty(
      fc.asyncProperty(cases({ T: 4, B: 2, H: 8, k: 4 }), async (c) => {
        const args = { k: c.k, eps: c.eps, a: c.a, dy: c.dy, gain: c.gain, bias: c.bias };
        const f32 = await call<Record<string, unknown>>(target, 'atn.vjp', { ...args, dtype: 'float32' });
        const dec = await call<Record<string, unknown>>(target, 'atn.vjp', { ...args, dtype: 'decimal', ...f32Inputs(args) });
        const f64 = await call<Record<string, unknown>>(target, 'atn.vjp', { ...args, dtype: 'float64' });
        const e = ref.expect('atn.vjp', { ...args, dtype: 'float64' });
        expect(f64).toEqual(e.want);
        for (const key of ['y', 'da', 'dgain', 'dbias']) {
          const got = (f32[key] as unknown[]).flat(2) as number[];
          const exact = (dec[key] as unknown[]).flat(2) as string[];
          // decimal on the float32-rounded inputs, then rounded to float32, is the float32 answer. (Via Number, an
          // independent route; its double rounding could differ only within 2^-29 of a float32 midpoint.)
          // The sign of an exact zero is not specified: -0 === 0 (as in the comparison rule, ATN-7.1).
          got.forEach((v, i) => expect(v === Math.fround(Number(exact[i]))).toBe(true));
        }
      }),
      { numRuns: 8 },
    );
  });

  it('ATN-7.2 tolerances are positive and finite, and shaped like the result', () => {
    const e = ref.expect('atn.vjp', { dtype: 'float32', k: 2, eps: 0.5, a: [[[1, 2, 3]], [[4, 5, 7]]], dy: [[[1, 1, 1]], [[1, -1, 0]]] });
    for (const key of ['y', 'da', 'dgain', 'dbias']) {
      const t = (e.tol[key] as unknown[]).flat(3) as number[];
      const w = (e.want[key] as unknown[]).flat(3) as number[];
      expect(t.length).toBe(w.length);
      for (const v of t) expect(v > 0 && Number.isFinite(v)).toBe(true);
    }
  });
});

/** The float32-rounded inputs as exact decimal strings (what the float32 dtype computes on, ATN-7.1). */
function f32Inputs(args: { eps: number; a: number[][][]; dy: number[][][]; gain: number[]; bias: number[] }) {
  const s = (v: number) => m.big(Math.fround(v)).toFixed();
  const s3 = (v: number[][][]) => v.map((x) => x.map((r) => r.map(s)));
  return { eps: s(args.eps), a: s3(args.a), dy: s3(args.dy), gain: args.gain.map(s), bias: args.bias.map(s) };
}

/** A straightforward float ATN forward + VJP (two-pass statistics, every operation rounded by r). */
function floatVjp(r: (v: number) => number, k: number, eps0: number, a0: number[][][], dy0: number[][][], g0: number[], b0: number[]) {
  const a = a0.map((s) => s.map((row) => row.map(r)));
  const dy = dy0.map((s) => s.map((row) => row.map(r)));
  const g = g0.map(r),
    bb = b0.map(r),
    eps = r(eps0);
  const T = a.length,
    B = a[0].length,
    H = a[0][0].length;
  const y = a.map((s) => s.map((row) => row.map(() => 0)));
  const da = a.map((s) => s.map((row) => row.map(() => 0)));
  const dgain = new Array<number>(H).fill(0);
  const dbias = new Array<number>(H).fill(0);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < B; b++) {
      const lo = Math.max(0, t - k + 1);
      const N = (t - lo + 1) * H;
      let sum = 0;
      for (let s = lo; s <= t; s++) for (const v of a[s][b]) sum = r(sum + v);
      const mu = r(sum / N);
      let sq = 0;
      for (let s = lo; s <= t; s++) for (const v of a[s][b]) sq = r(sq + r(r(v - mu) * r(v - mu)));
      const sd = r(Math.sqrt(r(r(sq / N) + eps)));
      const z = (v: number) => r(r(v - mu) / sd);
      const gh = dy[t][b].map((d, h) => r(g[h] * d));
      let s1 = 0,
        s2 = 0;
      for (let h = 0; h < H; h++) {
        const zt = z(a[t][b][h]);
        y[t][b][h] = r(r(g[h] * zt) + bb[h]);
        s1 = r(s1 + gh[h]);
        s2 = r(s2 + r(gh[h] * zt));
        dgain[h] = r(dgain[h] + r(dy[t][b][h] * zt));
        dbias[h] = r(dbias[h] + dy[t][b][h]);
      }
      const m1 = r(s1 / N),
        m2 = r(s2 / N);
      for (let s = lo; s <= t; s++)
        for (let h = 0; h < H; h++) {
          const own = s === t ? gh[h] : 0;
          da[s][b][h] = r(da[s][b][h] + r(r(r(own - m1) - r(z(a[s][b][h]) * m2)) / sd));
        }
    }
  return { y, da, dgain, dbias };
}

/**
 * The same quantities from the definitions, written independently of reference/stats.ts: mean first, then the biased
 * variance, and the VJP from the full Jacobian ∂y_t,i/∂a_s,h (ATN-4.1, first display), not from its contracted form.
 */
function naiveVjp(hm: MathCtx, k: number, epsS: string, aS: string[][][], dyS: string[][][], gS: string[], bS: string[]) {
  const B_ = (s: string) => new hm.Big(s);
  const a = aS.map((s) => s.map((r) => r.map(B_)));
  const dy = dyS.map((s) => s.map((r) => r.map(B_)));
  const g = gS.map(B_),
    bias = bS.map(B_),
    eps = B_(epsS);
  const T = a.length,
    Bn = a[0].length,
    H = a[0][0].length;
  const y = a.map((s) => s.map((r) => r.map(() => hm.zero)));
  const da = a.map((s) => s.map((r) => r.map(() => hm.zero)));
  const dgain = g.map(() => hm.zero);
  const dbias = g.map(() => hm.zero);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < Bn; b++) {
      const lo = Math.max(0, t - k + 1);
      const entries: Big[] = [];
      for (let s = lo; s <= t; s++) entries.push(...a[s][b]);
      const N = entries.length;
      const mu = hm.sum(entries).div(N);
      const variance = hm.sum(entries.map((v) => v.minus(mu).pow(2))).div(N);
      const sd = variance.plus(eps).sqrt();
      const z = (v: Big) => v.minus(mu).div(sd);
      for (let i = 0; i < H; i++) {
        const zi = z(a[t][b][i]);
        y[t][b][i] = g[i].times(zi).plus(bias[i]);
        dgain[i] = dgain[i].plus(dy[t][b][i].times(zi));
        dbias[i] = dbias[i].plus(dy[t][b][i]);
        for (let s = lo; s <= t; s++)
          for (let h = 0; h < H; h++) {
            const delta = s === t && h === i ? 1 : 0;
            const J = g[i].div(sd).times(new hm.Big(delta).minus(hm.one.div(N)).minus(zi.times(z(a[s][b][h])).div(N)));
            da[s][b][h] = da[s][b][h].plus(dy[t][b][i].times(J));
          }
      }
    }
  return { y, da, dgain, dbias };
}
