/**
 * The theorems of ATN-5, checked on the target itself (metamorphic): two of its outputs that are equal in exact
 * arithmetic may differ by the sum of their tolerances (ATN-7.5), the tolerances being the reference's for each
 * request. Inputs are built so that the transformed request is exact in the dtype (powers of two, grid sums).
 */
import fc from 'fast-check';
import type { ReferenceOp } from '../../../reference';
import {
  atnArgs,
  atnCase,
  atnScaling,
  atnVjpArgs,
  build3,
  flat3,
  gridAtnCase,
  lnArgs,
  lstmArgs,
  lstmCase,
  lstmScaling,
  lstmVjpArgs,
  map3,
  nonConstantSteps,
  rounder,
  shiftInt,
  unit,
  withDh,
  type AtnCase,
  type AtnScaling,
  type GridCase,
  type LstmCase,
  type LstmScaling,
  type LstmSide,
  type LstmVjpCase,
} from '../arbitraries';
import type { Result } from '../../../protocol/ops';
import { compareOutputs, maskTree, maxRatio, scaleTree } from '../compare';
import type { Check, CheckContext } from '../types';
import { expectOf, propertyCheck, type Outcome, type Session } from './framework';
import { lstmRuns } from './agreement';

type Tree = Record<string, unknown>;

interface PairOptions<Op extends ReferenceOp> {
  label: string;
  /** Maps the second result (and, the same way, its tolerance) before the comparison. */
  map2?: (r: Result<Op>) => Result<Op>;
  /** Compares only the elements where keep() holds. */
  keep?: (output: string, index: number[]) => boolean;
}

/** One request of a theorem: its result, typed once its structure is the reference's ("OP (WHICH request): ..." else). */
function checked<Op extends ReferenceOp>(s: Session, op: Op, args: Tree, want: Result<Op>, which: string): Promise<Result<Op>> {
  return s.checked(op, args, want, `${op} (${which} request)`);
}

/** Sends two requests whose exact results are equal (after map2) and compares the target's two answers. */
export async function pair<Op extends ReferenceOp>(ctx: CheckContext, s: Session, op: Op, args1: Tree, args2: Tree, o: PairOptions<Op>): Promise<Outcome> {
  const e1 = expectOf(ctx, op, args1);
  const e2 = expectOf(ctx, op, args2);
  let r1 = await checked(s, op, args1, e1.want, 'first');
  let r2 = await checked(s, op, args2, e2.want, 'second');
  let t2 = e2.tol;
  if (o.map2) {
    r2 = o.map2(r2);
    t2 = o.map2(t2);
  }
  if (o.keep) {
    r1 = maskTree(r1, o.keep);
    r2 = maskTree(r2, o.keep);
  }
  const cmp = compareOutputs(r1, r2, e1.tol, t2);
  return {
    ok: cmp.ok,
    detail: `${o.label}: ${cmp.detail} (want = the first answer, tol = the sum of both, ATN-7.5)`,
    worst: cmp.worst,
    ratio: maxRatio(cmp.ratios),
  };
}

const timeSteps = (c: AtnCase) => c.a.length;

// ---------------------------------------------------------------------------------------------------------------
// T1: k = 1 is LN per step

const t1: Check = propertyCheck({
  id: 'T1.k1-equals-ln',
  needs: { k: [1] },
  clause: 'ATN-5.1',
  title: 'T1: atn.forward with k = 1 equals ln.forward of each time step',
  ops: ['atn.forward', 'ln.forward'],
  kind: 'theorem',
  arb: (ctx) => atnCase(ctx.dtype, 'general').map((c) => ({ ...c, k: 1 })),
  async run(c, s, ctx) {
    const args = atnArgs(ctx.dtype, c);
    const e = expectOf(ctx, 'atn.forward', args);
    const lnReq = c.a.map((x) => lnArgs(ctx.dtype, { eps: c.eps, x, gain: c.gain, bias: c.bias }));
    const le = lnReq.map((a) => expectOf(ctx, 'ln.forward', a));
    const y = await checked(s, 'atn.forward', args, e.want, 'atn.forward');
    const ys: unknown[] = [];
    for (let t = 0; t < lnReq.length; t++) ys.push((await checked(s, 'ln.forward', lnReq[t], le[t].want, `ln.forward of step ${t}`)).y);
    const cmp = compareOutputs(y, { y: ys }, e.tol, { y: le.map((x) => x.tol.y) });
    return { ok: cmp.ok, detail: `atn k=1 (first) vs ln per step (second): ${cmp.detail}`, worst: cmp.worst, ratio: maxRatio(cmp.ratios) };
  },
});

// ---------------------------------------------------------------------------------------------------------------
// T2: scale invariance ATN_{eps d^2}(d a) = ATN_eps(a), d = 2^m

const t2: Check = propertyCheck<AtnScaling>({
  id: 'T2.scaling',
  needs: { eps: 'free' },
  clause: 'ATN-5.2',
  title: 'T2: atn.forward(d*a, eps*d^2) equals atn.forward(a, eps) for d = 2^m, m in -100..100 (exact inputs); series: invariance error against log2 d',
  ops: ['atn.forward'],
  kind: 'theorem',
  // m is clamped inside the arbitrary: d * a and eps * d^2 are exact (scaling.ts).
  arb: (ctx) =>
    atnScaling(ctx.dtype, fc.oneof(atnCase(ctx.dtype, 'general'), atnCase(ctx.dtype, 'scale'), atnCase(ctx.dtype, 'near-eps')), { maxExponent: 100 }),
  async run({ c, m }, s, ctx) {
    const d = 2 ** m;
    const scaled: AtnCase = { ...c, a: map3(c.a, (v) => v * d), eps: c.eps * d * d };
    const o = await pair(ctx, s, 'atn.forward', atnArgs(ctx.dtype, c), atnArgs(ctx.dtype, scaled), { label: `T2 d = 2^${m}: y(a, eps) vs y(d*a, eps*d^2)` });
    return { ...o, points: { invariance: [{ x: m, y: o.ratio ?? 0, group: `eps ${c.eps === 0 ? '= 0' : '> 0'}` }] } };
  },
});

// ---------------------------------------------------------------------------------------------------------------
// T2 and T3 in the ATN-LSTM: scaling (W_xh, b_x) or (W_hh, b_h) by d with eps = 0

/** The case with W and b of one side times 2^m (exact: lstmScaling clamps m). */
function lstmScaled<C extends LstmCase>(c: C, side: LstmSide, m: number): C {
  const p = c.params;
  const d = 2 ** m;
  const params = { ...p };
  if (side === 'x') {
    params.w_xh = p.w_xh.map((r) => r.map((v) => v * d));
    if (p.b_x) params.b_x = p.b_x.map((v) => v * d);
  } else {
    params.w_hh = p.w_hh.map((r) => r.map((v) => v * d));
    if (p.b_h) params.b_h = p.b_h.map((v) => v * d);
  }
  return { ...c, params };
}

const t2lstm: Check = propertyCheck<LstmScaling<LstmCase>>({
  id: 'T2.lstm-scaling',
  needs: { eps: [0] },
  clause: 'ATN-5.2',
  title: 'T2 in the ATN-LSTM: with eps = 0, scaling W_xh and b_x (or W_hh and b_h) by d = 2^m leaves h and c unchanged',
  ops: ['lstm.forward'],
  kind: 'theorem',
  runs: lstmRuns,
  arb: (ctx) => lstmScaling(ctx.dtype, lstmCase(ctx.dtype, undefined, { eps: fc.constant(0), explicit: true, shortOnly: true }), { maxExponent: 40 }),
  async run({ c, m, side }, s, ctx) {
    const scaled = lstmScaled(c, side, m);
    const o = await pair(ctx, s, 'lstm.forward', lstmArgs(ctx.dtype, c), lstmArgs(ctx.dtype, scaled), {
      label: `T2 LSTM, W_${side}h and b_${side} times 2^${m}`,
    });
    return { ...o, points: { invariance: [{ x: m, y: o.ratio ?? 0, group: `lstm W_${side}h` }] } };
  },
});

const t3: Check = propertyCheck<LstmScaling<LstmVjpCase>>({
  id: 'T3.lstm-grad-scaling',
  needs: { eps: [0] },
  clause: 'ATN-5.3',
  title: 'T3: with eps = 0, lstm.vjp gradients w.r.t. W_xh, b_x (or W_hh, b_h) at d*W are (1/d) times those at W; every other gradient is unchanged',
  ops: ['lstm.vjp'],
  kind: 'theorem',
  runs: lstmRuns,
  arb: (ctx) =>
    lstmScaling(ctx.dtype, withDh(ctx.dtype, lstmCase(ctx.dtype, undefined, { eps: fc.constant(0), explicit: true, shortOnly: true })), { maxExponent: 40 }),
  async run({ c, m, side }, s, ctx) {
    const scaled = lstmScaled(c, side, m);
    const d = 2 ** m;
    const [wKey, bKey] = side === 'x' ? (['w_xh', 'b_x'] as const) : (['w_hh', 'b_h'] as const);
    // d * (gradient at d*W) is exactly the gradient at W (times a power of two: exact).
    const map2 = (r: Result<'lstm.vjp'>): Result<'lstm.vjp'> => {
      const g = r.grads;
      return { ...r, grads: { ...g, [wKey]: scaleTree(g[wKey], d), [bKey]: scaleTree(g[bKey], d) } };
    };
    return pair(ctx, s, 'lstm.vjp', lstmVjpArgs(ctx.dtype, c), lstmVjpArgs(ctx.dtype, scaled), {
      label: `T3 LSTM, W_${side}h and b_${side} times 2^${m}, their gradients times 2^${m}`,
      map2,
    });
  },
});

// ---------------------------------------------------------------------------------------------------------------
// T4: shift invariance, and the VJP of one y_t sums to zero

const t4: Check = propertyCheck<{ c: GridCase; j: number }>({
  id: 'T4.shift-invariance',
  clause: 'ATN-5.4',
  title: 'T4: adding one constant c to every entry of the sequence leaves atn.forward unchanged (exact grid inputs)',
  ops: ['atn.forward'],
  kind: 'theorem',
  arb: (ctx) => fc.record({ c: gridAtnCase(ctx.dtype), j: shiftInt.filter((j) => j !== 0) }),
  async run({ c, j }, s, ctx) {
    const shift = j * c.quantum;
    const shifted: AtnCase = { ...c, a: map3(c.a, (v) => v + shift) };
    return pair(ctx, s, 'atn.forward', atnArgs(ctx.dtype, c), atnArgs(ctx.dtype, shifted), { label: `T4 c = ${shift}: y(a) vs y(a + c)` });
  },
});

/** Neumaier's compensated sum: the sum of a few hundred doubles to about one rounding. */
function sum(xs: number[]): number {
  let s = 0;
  let comp = 0;
  for (const x of xs) {
    const t = s + x;
    comp += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
  }
  return s + comp;
}

const t4vjp: Check = propertyCheck<{ c: AtnCase; dy: number[]; t: number }>({
  id: 'T4.vjp-sums-to-zero',
  clause: 'ATN-5.4',
  title: 'T4: the da contributions of one y_t sum to zero over its window, per sample (dy nonzero only at step t)',
  ops: ['atn.vjp'],
  kind: 'theorem',
  arb: (ctx) =>
    fc.record({
      c: fc.oneof(atnCase(ctx.dtype, 'general'), atnCase(ctx.dtype, 'large-mean'), atnCase(ctx.dtype, 'near-eps')),
      dy: fc.array(unit, { minLength: 16, maxLength: 16 }),
      t: fc.nat({ max: 100 }),
    }),
  async run({ c, dy: pool, t: tPick }, s, ctx) {
    const r = rounder(ctx.dtype);
    const T = c.a.length,
      B = c.a[0].length,
      H = c.a[0][0].length;
    const t = tPick % T;
    const dy = build3(T, B, H, (tt, b, h) => (tt === t ? r(pool[(b * H + h) % 16] || 0.5) : 0));
    const args = atnVjpArgs(ctx.dtype, { ...c, dy });
    const e = expectOf(ctx, 'atn.vjp', args);
    const res = await checked(s, 'atn.vjp', args, e.want, 'only');
    const da = res.da;
    const tol = e.tol.da;
    let worst: Outcome | undefined;
    for (let b = 0; b < B; b++) {
      const terms: number[] = [];
      let bound = 0;
      let mag = 0;
      for (let s2 = 0; s2 < T; s2++)
        for (let h = 0; h < H; h++) {
          terms.push(da[s2][b][h]);
          bound += tol[s2][b][h];
          mag += Math.abs(da[s2][b][h]);
        }
      const total = sum(terms);
      // The double sum itself adds at most a few ulps of the magnitudes summed.
      const allowed = bound + 4 * 2 ** -53 * mag;
      const ratio = Number.isNaN(total) ? Infinity : Math.abs(total) / allowed;
      if (!worst || ratio > (worst.ratio ?? 0))
        worst = {
          ok: ratio <= 1,
          ratio,
          detail: `T4: sum over s, h of da[s][${b}][h] = ${total.toExponential(3)} for dy nonzero at step ${t} only; bound ${allowed.toExponential(3)} (sum of tol(da)) (ratio ${ratio.toPrecision(3)})`,
        };
    }
    return worst as Outcome;
  },
});

// ---------------------------------------------------------------------------------------------------------------
// T5: |y| <= sqrt(N - 1) with g = 1, b = 0, eps = 0

interface BoundInput {
  c: AtnCase;
  outliers: boolean;
  explicitAffine: boolean;
}

const t5: Check = propertyCheck<BoundInput>({
  id: 'T5.bound',
  needs: { eps: [0] },
  clause: 'ATN-5.5',
  title: 'T5: with g = 1, b = 0, eps = 0 every |y_t| <= sqrt(N_t - 1), including windows with one outlier per step (near equality)',
  ops: ['atn.forward'],
  kind: 'theorem',
  arb: (ctx) => fc.record({ c: atnCase(ctx.dtype, 'general'), outliers: fc.boolean(), explicitAffine: fc.boolean() }),
  async run({ c, outliers, explicitAffine }, s, ctx) {
    const r = rounder(ctx.dtype);
    const H = Math.max(2, c.a[0][0].length);
    const T = c.a.length,
      B = c.a[0].length;
    // Outliers: all entries equal to c0 except one per step and sample, which is c0 + delta (|z| of it near sqrt(N-1)).
    const c0 = c.a[0][0][0];
    let a = outliers
      ? build3(T, B, H, (t, b, h) => (h === (t + b) % H ? r(c0 + (c.a[t][b][h % c.a[0][0].length] - c0 || 1)) : c0))
      : build3(T, B, H, (t, b, h) => c.a[t][b][h % c.a[0][0].length]);
    a = nonConstantSteps(a, ctx.dtype);
    const base: AtnCase = { k: c.k, eps: 0, a, regime: c.regime };
    if (explicitAffine) {
      base.gain = new Array(H).fill(1);
      base.bias = new Array(H).fill(0);
    }
    const args = atnArgs(ctx.dtype, base);
    const e = expectOf(ctx, 'atn.forward', args);
    const res = await checked(s, 'atn.forward', args, e.want, 'only');
    const y = res.y;
    const tol = e.tol.y;
    let out: Outcome = { ok: true, ratio: 0, detail: 'all within the bound' };
    for (let t = 0; t < T; t++) {
      const N = Math.min(t + 1, c.k) * H;
      const bound = Math.sqrt(N - 1);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++) {
          const v = y[t][b][h];
          const excess = Math.abs(v) - bound;
          const ratio = Number.isNaN(v) ? Infinity : excess <= 0 ? 0 : excess / tol[t][b][h];
          if (ratio > (out.ratio ?? 0))
            out = {
              ok: ratio <= 1,
              ratio,
              detail: `T5: |y[${t}][${b}][${h}]| = ${Math.abs(v)} exceeds sqrt(N - 1) = ${bound} (N = ${N}) by more than its tolerance ${tol[t][b][h].toExponential(3)} (ratio ${ratio.toPrecision(3)})`,
            };
        }
    }
    return out;
  },
});

// ---------------------------------------------------------------------------------------------------------------
// T6: locality in time and across samples

interface LocalityInput {
  c: AtnCase;
  fresh: number[];
  pick: number;
}

const t6: Check = propertyCheck<LocalityInput>({
  id: 'T6.locality',
  clause: 'ATN-5.6',
  title: "T6: changing a_s for s before y_t's window, or any entry of another sample, leaves y_t unchanged",
  ops: ['atn.forward'],
  kind: 'theorem',
  arb: (ctx) =>
    fc.record({
      c: fc.oneof(atnCase(ctx.dtype, 'general'), atnCase(ctx.dtype, 'drift')).filter((c) => timeSteps(c) >= 2),
      fresh: fc.array(unit, { minLength: 64, maxLength: 64 }),
      pick: fc.nat({ max: 10_000 }),
    }),
  async run({ c, fresh, pick }, s, ctx) {
    const r = rounder(ctx.dtype);
    const T = c.a.length,
      B = c.a[0].length;
    const k = 1 + ((c.k - 1) % (T - 1)); // k <= T - 1: some step lies before a window
    const p = 1 + (pick % (T - k)); // steps 0..p-1 change; windows of t >= p + k - 1 exclude them
    const b = pick % B;
    const scale = Math.max(...flat3(c.a).map(Math.abs)) || 1;
    let changed = map3(c.a, (v, t, bb, h) => (bb !== b || t < p ? r(v + scale * (fresh[(t * 7 + bb * 3 + h) % 64] || 0.5)) : v));
    if (c.eps === 0) changed = nonConstantSteps(changed, ctx.dtype);
    const keep = (_o: string, idx: number[]) => idx[0] >= p + k - 1 && idx[1] === b;
    return pair(ctx, s, 'atn.forward', atnArgs(ctx.dtype, { ...c, k }), atnArgs(ctx.dtype, { ...c, k, a: changed }), {
      label: `T6 k = ${k}: steps 0..${p - 1} of sample ${b} and all other samples changed; y[t >= ${p + k - 1}][${b}] compared`,
      keep,
    });
  },
});

// ---------------------------------------------------------------------------------------------------------------
// T7: k >= T is prefix statistics

const t7: Check = propertyCheck<{ c: AtnCase; extra: number }>({
  id: 'T7.prefix',
  needs: { k: 'free' },
  clause: 'ATN-5.7',
  title: 'T7: for k >= T the windows are the prefixes: atn.forward with k = T equals k = T + 5 and k = T + 50',
  ops: ['atn.forward'],
  kind: 'theorem',
  arb: (ctx) => fc.record({ c: atnCase(ctx.dtype, 'general'), extra: fc.constantFrom(5, 50) }),
  run: ({ c, extra }, s, ctx) => {
    const T = timeSteps(c);
    return pair(ctx, s, 'atn.forward', atnArgs(ctx.dtype, { ...c, k: T }), atnArgs(ctx.dtype, { ...c, k: T + extra }), {
      label: `T7: k = ${T} vs k = ${T + extra}`,
    });
  },
});

// ---------------------------------------------------------------------------------------------------------------
// T8: per-step shifts change y when k > 1

interface StepShiftInput {
  c: GridCase;
  shifts: number[];
}

/** The known counterexample: two steps [0, 1], the second shifted by 8, k = 2. */
const T8_EXAMPLE: StepShiftInput = {
  c: { k: 2, eps: 0, a: [[[0, 1]], [[0, 1]]], regime: 'example', quantum: 1 },
  shifts: [0, 8],
};

const t8: Check = propertyCheck<StepShiftInput>({
  id: 'T8.per-step-shift',
  needs: { k: 'free' },
  clause: 'ATN-5.8',
  title: 'T8: for k > 1, adding a different constant to each time step changes y beyond tolerance (a target that ignores k is invariant)',
  ops: ['atn.forward'],
  kind: 'theorem',
  examples: () => [T8_EXAMPLE],
  arb: (ctx) =>
    fc.record({
      c: gridAtnCase(ctx.dtype).filter((c) => timeSteps(c) >= 2),
      shifts: fc.array(shiftInt, { minLength: 8, maxLength: 8 }),
    }),
  async run({ c, shifts }, s, ctx) {
    const T = timeSteps(c);
    const k = 2 + ((c.k - 1) % (T - 1)); // 2..T
    const shift = (t: number) => shifts[t % shifts.length] * c.quantum;
    const shifted: AtnCase = { ...c, k, a: map3(c.a, (v, t) => v + shift(t)) };
    const args1 = atnArgs(ctx.dtype, { ...c, k });
    const args2 = atnArgs(ctx.dtype, shifted);
    const e1 = expectOf(ctx, 'atn.forward', args1, 'values');
    const e2 = expectOf(ctx, 'atn.forward', args2, 'values');
    // The element where the exact outputs differ most, in units of the summed tolerances.
    const w1 = e1.want.y,
      w2 = e2.want.y,
      t1v = e1.tol.y,
      t2v = e2.tol.y;
    let best = { sep: 0, idx: [0, 0, 0] };
    w1.forEach((m, t) =>
      m.forEach((row, b) =>
        row.forEach((v, h) => {
          const sep = Math.abs(v - w2[t][b][h]) / (t1v[t][b][h] + t2v[t][b][h]);
          if (sep > best.sep) best = { sep, idx: [t, b, h] };
        }),
      ),
    );
    fc.pre(best.sep > 4); // the exact outputs must differ clearly (almost always)
    const r1 = await checked(s, 'atn.forward', args1, e1.want, 'first');
    const r2 = await checked(s, 'atn.forward', args2, e2.want, 'second');
    const [t, b, h] = best.idx;
    const g1 = r1.y[t][b][h],
      g2 = r2.y[t][b][h];
    const tol = t1v[t][b][h] + t2v[t][b][h];
    const diff = Math.abs(g1 - g2);
    const ok = diff > tol;
    const place = `y[${t}][${b}][${h}]`;
    return {
      ok,
      detail: ok
        ? `T8: ${place} moved by ${diff.toExponential(3)} > ${tol.toExponential(3)}`
        : `T8 k = ${k}, step shifts ${JSON.stringify(c.a.map((_, t) => shift(t)))}: ${place} = ${g1} before and ${g2} after, a change within the tolerance ${tol.toExponential(3)} although the exact outputs differ by ${Math.abs(w1[t][b][h] - w2[t][b][h]).toExponential(3)} (the target behaves as if k = 1)`,
    };
  },
});

export const THEOREMS: Check[] = [t1, t2, t2lstm, t3, t4, t4vjp, t5, t6, t7, t8];
