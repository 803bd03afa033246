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
import { leaves, leavesLike, unflatten } from '../util/tree';

const flatNumbers = (v: unknown): number[] => leaves(v) as number[];

export interface LstmTol {
  h: number[][][];
  c: number[][][];
  grads?: LstmGrads;
}

class Recorder implements Probe {
  readonly recording = true;
  constructor(readonly tiny: number) {}
  values: number[] = [];
  bounds: number[] = [];
  adjoint: boolean[] = [];
  site(v: number, L: number, adjoint = false): number {
    this.values.push(v);
    this.bounds.push(L);
    this.adjoint.push(adjoint);
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
  skip(n: number): void {
    this.i = n;
  }
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

/**
 * The steps by which site s is shifted (one or two). The error to propagate is u·L at most, so the natural step is
 * 1e-7 of max(|v|, L) (L sums the operands' magnitudes: the scale of the values the site combines).
 * - An adjoint: the outputs are linear in it, so that step is used whatever |v| is. (Capping it by |v| lost the
 *   sensitivity when the adjoint is rounding noise around an exact 0: an ATN over N = 2 entries with eps = 0 has a
 *   zero Jacobian, so what it sends back is 0 in exact arithmetic and ~1e-16 in the replica; a step of 1e-4 |v|
 *   vanished in the later sums, the sensitivity came out 0 and the site's error, which every float implementation
 *   makes there, was not counted.)
 * - A forward site: at most 1e3|v|·1e-7 first, so that a site with a huge bound (K >> 1) is perturbed in its linear
 *   range; where that cap applied, a second step of 1e-7·max(|v|, L) for the outputs the first did not resolve.
 * Never below MIN_STEP.
 */
function siteSteps(v: number, L: number, adjoint: boolean): number[] {
  const natural = Math.max(MIN_STEP, 1e-7 * Math.max(v, L));
  if (adjoint) return [natural];
  const capped = Math.max(MIN_STEP, 1e-7 * (v > 0 ? Math.min(Math.max(v, L), 1e3 * v) : L));
  return capped < natural ? [capped, natural] : [capped];
}

/**
 * Whether an output's change is resolved to a few digits: at least 2^12 ulps of the output. An exactly unchanged
 * output is unresolved too: a true structural zero stays zero at the larger step, a lost shift does not.
 */
const resolved = (y0: number, y1: number) => Math.abs(y1 - y0) >= 2 ** -40 * Math.max(Math.abs(y0), Math.abs(y1));

/** |Δy / applied shift|: 0 when y did not move (equal infinities included), Infinity when no bound is derivable. */
function sensitivity(y0: number, y1: number, applied: number): number {
  if (y1 === y0) return 0;
  const dy = y1 - y0;
  // dy NaN or infinite (the replica overflowed or went NaN): no bound derivable, Infinity (never NaN, never 0*Inf).
  return Number.isFinite(dy) && applied !== 0 ? Math.abs(dy / applied) : Infinity;
}

/** Σ_s |∂y/∂v_s| L_s + D(y) for one sample's sub-problem (B = 1), flattened as {h, c, grads}. */
function sampleBound(p: LstmFloatIn, tiny: number): { like: { h: number[][][]; c: number[][][]; grads?: FloatGrads }; acc: Float64Array } {
  const id = (v: number) => v;
  const rec = new Recorder(tiny);
  const base = lstmFloat(p, id, {}, rec);
  const pick = (o: { h: number[][][]; c: number[][][]; grads: FloatGrads }) => (p.dh ? { h: o.h, c: o.c, grads: o.grads } : { h: o.h, c: o.c });
  const like = pick(base);
  const y0 = flatNumbers(like);
  const acc = new Float64Array(y0.length);
  if (p.dh && base.direct) {
    const d = flatNumbers({ h: base.h.map((r) => r.map((v) => v.map(() => 0))), c: base.c.map((r) => r.map((v) => v.map(() => 0))), grads: base.direct });
    d.forEach((v, i) => (acc[i] += v));
  }
  // every shifted run's outputs have the base run's structure: flattened by one plan
  const flatLike = leavesLike(like) as (v: unknown) => number[];
  // A shifted run resumes at the step of its site (lstm-float.ts ForwardResume): the steps before it are the base run's.
  const from = base.forward!;
  const T = p.x.length;
  let t0 = 0;
  /** One replica run with site s shifted by `step`: the outputs and the shift actually applied. */
  const shifted = (s: number, step: number) => {
    const pert = new Perturber(s, step);
    const y = flatLike(pick(lstmFloat(p, id, {}, pert, { from, t0 })));
    return { y, applied: pert.applied };
  };
  rec.bounds.forEach((L, s) => {
    while (t0 < T && from.siteStart[t0 + 1] <= s) t0++; // the step whose sites include s (T: a BPTT site)
    if (L === 0) return; // an exact site (operands 0): nothing to propagate
    const v = Math.abs(rec.values[s]);
    // A non-finite site value or bound (overflow, or 0*Infinity from a zero window spread, in the replica) cannot be
    // perturbed or charged: every output of the sample is then unbounded (Infinity), never NaN, never skipped.
    if (!Number.isFinite(v) || !(L > 0 && Number.isFinite(L))) {
      acc.fill(Infinity);
      return;
    }
    const steps = siteSteps(v, L, rec.adjoint[s]);
    const first = shifted(s, steps[0]);
    const second = steps.length > 1 ? shifted(s, steps[1]) : undefined;
    for (let i = 0; i < y0.length; i++) {
      let sens = sensitivity(y0[i], first.y[i], first.applied);
      // Poorly resolved at the first step (the shift vanished in a later sum, or left a few ulps): the larger step
      // decides too. Taking the larger of the two keeps the bound whichever of them is accurate.
      if (second && !resolved(y0[i], first.y[i])) sens = Math.max(sens, sensitivity(y0[i], second.y[i], second.applied));
      if (sens > 0) acc[i] += Number.isFinite(sens) ? sens * L : Infinity;
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
  const T = p.x.length,
    B = p.x[0].length;
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
      Array.isArray(row)
        ? row.map((_, j) => fin(gs.reduce((s, g) => s + (pick(g) as number[][])[i][j], 0)))
        : fin(gs.reduce((s, g) => s + (pick(g) as number[])[i], 0)),
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
