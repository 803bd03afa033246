/**
 * ATN-7.4: the ATN-LSTM tolerances by (linearised) running error analysis. See reference/lstm-tolerance.md for the
 * derivation; in short, for every output entry y (h, c, and with dh every gradient entry):
 *
 *   tol(y) = 2u * ( Σ_sites |∂y/∂v_s| L_s + D(y) ) + 4λ
 *
 * where the sites s are the rounded operations of a straightforward implementation (lstm-float.ts lists them and
 * their local bounds L_s, in units of u), ∂y/∂v_s is the sensitivity of y to a change of the value computed at site s
 * (through everything computed after it, the backward pass included), and D(y) the local bounds charged straight to
 * y (the last accumulations into a gradient). The sensitivities are measured on the double-precision replica by
 * perturbing one site at a time (one-sided difference, step 1e-7 of the site's scale but at least 2^-968, divided by
 * the shift actually applied): they only need a few correct digits, the bound carries a factor 2. A sensitivity that
 * cannot be measured (non-finite replica values) gives Infinity for the entries it reaches, never NaN.
 */
import type { LstmGrads } from '../protocol/types';
import { lstmFloat, type FloatGrads, type LstmFloatIn, type Probe } from './lstm-float';

export interface LstmTol {
  h: number[][][];
  c: number[][][];
  grads?: LstmGrads;
}

/** Leaves of a nested number structure, in a fixed order. */
function flatten(v: unknown, out: number[] = []): number[] {
  if (typeof v === 'number') out.push(v);
  else if (Array.isArray(v)) for (const e of v) flatten(e, out);
  else if (v && typeof v === 'object') for (const key of Object.keys(v).sort()) flatten((v as Record<string, unknown>)[key], out);
  return out;
}

/** The structure of `like` filled from `flat` in flatten's order. */
function unflatten<V>(like: V, flat: ArrayLike<number>, pos = { i: 0 }): V {
  if (typeof like === 'number') return flat[pos.i++] as V;
  if (Array.isArray(like)) return like.map((e) => unflatten(e, flat, pos)) as V;
  const o: Record<string, unknown> = {};
  for (const key of Object.keys(like as object).sort()) o[key] = unflatten((like as Record<string, unknown>)[key], flat, pos);
  // keep the original key order for readability of results
  return Object.fromEntries(Object.keys(like as object).map((key) => [key, o[key]])) as V;
}

class Recorder implements Probe {
  readonly recording = true;
  constructor(readonly tiny: number) {}
  values: number[] = [];
  bounds: number[] = [];
  site(v: number, L: number): number {
    this.values.push(v);
    this.bounds.push(L);
    return v;
  }
}

class Perturber implements Probe {
  readonly recording = false;
  private i = 0;
  /** The shift actually applied, (v + step) - v: not `step` when v + step rounds (v huge next to step). */
  applied = 0;
  constructor(
    private readonly target: number,
    private readonly step: number,
  ) {}
  site(v: number): number {
    if (this.i++ !== this.target) return v;
    const w = v + this.step;
    this.applied = w - v;
    return w;
  }
}

/**
 * Smallest step used (2^-968): a normal double with 2^54 binades of headroom above the subnormals, so that v + step
 * is resolved to full precision and the output differences it causes are not lost to underflow. 1e-7 of a tiny
 * site's scale (a b_x entry of 5e-324, a value of 1e-310) is 0 or a subnormal with a few bits: the difference quotient
 * was then 0/0 or x/0, i.e. NaN or Infinity for a perfectly bounded output.
 */
const MIN_STEP = 2 ** -968;

/** Σ_s |∂y/∂v_s| L_s + D(y) for one sample's sub-problem (B = 1), flattened as {h, c, grads}. */
function sampleBound(p: LstmFloatIn, tiny: number): { like: { h: number[][][]; c: number[][][]; grads?: FloatGrads }; acc: Float64Array } {
  const id = (v: number) => v;
  const rec = new Recorder(tiny);
  const base = lstmFloat(p, id, 'none', rec);
  const pick = (o: { h: number[][][]; c: number[][][]; grads: FloatGrads }) => (p.dh ? { h: o.h, c: o.c, grads: o.grads } : { h: o.h, c: o.c });
  const like = pick(base);
  const y0 = flatten(like);
  const acc = new Float64Array(y0.length);
  if (p.dh && base.direct) {
    const d = flatten({ h: base.h.map((r) => r.map((v) => v.map(() => 0))), c: base.c.map((r) => r.map((v) => v.map(() => 0))), grads: base.direct });
    d.forEach((v, i) => (acc[i] += v));
  }
  rec.bounds.forEach((L, s) => {
    if (L === 0) return; // an exact site (operands 0): nothing to propagate
    // Step: 1e-7 of the site's scale, max(|v|, L) (L sums the operands' magnitudes), but at most 1e-4 |v| so that a
    // site with a huge bound (K >> 1) is still perturbed in its linear range.
    const v = Math.abs(rec.values[s]);
    // A non-finite site value or bound (overflow, or 0*Infinity from a zero window spread, in the replica) cannot be
    // perturbed or charged: every output of the sample is then unbounded (Infinity), never NaN, never skipped.
    if (!Number.isFinite(v) || !(L > 0 && Number.isFinite(L))) {
      acc.fill(Infinity);
      return;
    }
    const step = Math.max(MIN_STEP, 1e-7 * (v > 0 ? Math.min(Math.max(v, L), 1e3 * v) : L));
    const pert = new Perturber(s, step);
    const y1 = flatten(pick(lstmFloat(p, id, 'none', pert)));
    for (let i = 0; i < y1.length; i++) {
      if (y1[i] === y0[i]) continue; // no measurable dependence (equal infinities included)
      const dy = y1[i] - y0[i];
      // dy NaN or infinite (the replica overflowed or went NaN): no bound derivable, Infinity (never NaN, never 0*Inf).
      const sens = Number.isFinite(dy) && pert.applied !== 0 ? Math.abs(dy / pert.applied) : Infinity;
      acc[i] += Number.isFinite(sens) ? sens * L : Infinity;
    }
  });
  // A sensitivity the replica cannot measure (non-finite values) leaves that entry unbounded rather than NaN.
  // (D terms can be NaN too: 0 * Infinity when a window's s is 0.)
  for (let i = 0; i < acc.length; i++) if (!(acc[i] >= 0)) acc[i] = Infinity;
  return { like, acc };
}

/**
 * The ATN-7.4 tolerances of lstm.forward ({h, c}) or, with p.dh, lstm.vjp ({h, c, grads}); p holds the dtype-rounded
 * inputs as doubles (exactly the values the reference computes on), u and λ those of the dtype.
 */
export function lstmTolerance(p: LstmFloatIn, u: number, lam: number): LstmTol {
  const T = p.x.length, B = p.x[0].length;
  const fin = (v: number) => 2 * u * v + 4 * lam;
  const perSample = Array.from({ length: B }, (_, b) =>
    sampleBound({ ...p, batch: B, x: p.x.map((r) => [r[b]]), h0: [p.h0[b]], c0: [p.c0[b]], dh: p.dh?.map((r) => [r[b]]) }, lam / u),
  );
  const parts = perSample.map(({ like, acc }) => unflatten(like, acc));
  const byT = (key: 'h' | 'c') => Array.from({ length: T }, (_, t) => parts.map((q) => q[key][t][0].map(fin)));
  const out: LstmTol = { h: byT('h'), c: byT('c') };
  if (!p.dh) return out;
  const gs = parts.map((q) => q.grads!);
  const sum = (pick: (g: FloatGrads) => number[][] | number[]) => {
    const first = pick(gs[0]);
    return first.map((row, i) =>
      Array.isArray(row) ? row.map((_, j) => fin(gs.reduce((s, g) => s + (pick(g) as number[][])[i][j], 0))) : fin(gs.reduce((s, g) => s + (pick(g) as number[])[i], 0)),
    );
  };
  out.grads = {
    x: Array.from({ length: T }, (_, t) => gs.map((g) => g.x[t][0].map(fin))),
    h0: gs.map((g) => g.h0[0].map(fin)),
    c0: gs.map((g) => g.c0[0].map(fin)),
    w_xh: sum((g) => g.w_xh) as number[][],
    w_hh: sum((g) => g.w_hh) as number[][],
    b_x: sum((g) => g.b_x) as number[],
    b_h: sum((g) => g.b_h) as number[],
    atn_x: { gain: sum((g) => g.atn_x.gain) as number[], bias: sum((g) => g.atn_x.bias) as number[] },
    atn_h: { gain: sum((g) => g.atn_h.gain) as number[], bias: sum((g) => g.atn_h.bias) as number[] },
    atn_c: { gain: sum((g) => g.atn_c.gain) as number[], bias: sum((g) => g.atn_c.bias) as number[] },
  };
  return out;
}
