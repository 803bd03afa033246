/**
 * ATN in plain JS (float64 arithmetic) with the statistics mistakes of flags.ts switchable. The sequence op, the
 * streaming LSTM cell and LN all go through `groupsForStep` (which entries feed the statistics of step t) and
 * `statsOf` (mean and scale of one group), so that a flag changes one decision in one place.
 *
 * Layout: a sequence is T steps of B*W values ([b][i] row-major); flat index of (t, b, i) is (t*B + b)*W + i.
 * Constant steps (leaked state from a previous request, c0 in the cell window) can precede step 0: they fill windows
 * and take no gradient.
 */
import { AtnError } from '../protocol/errors';
import type { Flags } from './flags';

export interface AtnSeq {
  steps: Float64Array[];
  prefix: Float64Array[];
  B: number;
  W: number;
  k: number;
  eps: number;
  /** true for dtype float32: only the f32-naive-variance mistake looks at it (it computes in float32). */
  f32: boolean;
  /** lstm-window-reset-8: the window restarts at every multiple of `chunk` steps (0-based t). */
  chunk?: number;
}

/** The entries whose statistics normalize the outputs `outs` (indices b*W+i within step t). */
export interface Group {
  vals: number[];
  /** Flat index into the sequence of each entry, or -1 for a constant (padding zero, leaked or prefix value). */
  refs: number[];
  /** Step (extended index, prefix included) of each entry: the history-detached mistake drops all but the last. */
  stepOf: number[];
  /** Entries that enter the mean (undefined: all). */
  inMean?: boolean[];
  outs: number[];
  Dm: number;
  Dv: number;
  /** Σ (v - mu) over the entries is 0 in exact arithmetic (the mean is the mean of exactly these entries). */
  centered: boolean;
  /** For error messages: the sample ("0", "all"). */
  sample: string;
  /** The output step, extended index. */
  step: number;
}

export interface Stats {
  mu: number;
  /** The divisor of (a - mu): sqrt(var + eps), or sigma + eps for eps-outside-sqrt. */
  s: number;
  /** sqrt(var) (used by the gradient of sigma + eps). */
  sigma: number;
  /** Power-of-two scale: values were divided by p before summing (stable for 1e-300 .. 1e300 entries). */
  p: number;
  mux: number;
  sx: number;
  naive: boolean;
  round: (x: number) => number;
}

const id = (x: number) => x;

/** The tile of the tiled-reduction-256 mistake: WebGPU's default maxComputeInvocationsPerWorkgroup. */
const TILE = 256;

function windowLength(k: number, flags: Flags): number {
  if (flags.has('k-ignored')) return 1;
  if (flags.has('window-k-plus-1')) return k + 1;
  if (flags.has('window-k-minus-1')) return Math.max(1, k - 1);
  return k;
}

export function groupsForStep(seq: AtnSeq, t: number, flags: Flags): Group[] {
  const { B, W, k } = seq;
  const P = seq.prefix.length;
  const e = P + t;
  const len = windowLength(k, flags);
  // stats-lagged: a streaming port that updates its running window after normalizing step t uses W_{t-1}.
  const end = flags.has('stats-lagged') && e >= 1 ? e - 1 : e;
  const from0 = Math.max(0, end - len + 1);
  const from = seq.chunk ? Math.max(from0, P + t - (t % seq.chunk)) : from0;
  const n = end - from + 1;
  const pad = flags.has('warmup-zero-pad') ? len - n : 0;
  const divK = flags.has('warmup-divide-by-k');
  const lnMean = flags.has('ln-mean-window-var');
  const stepAt = (x: number) => (x < P ? seq.prefix[x] : seq.steps[x - P]);
  const refOf = (x: number, j: number) => (x < P ? -1 : (x - P) * B * W + j);

  const make = (cols: number[], outs: number[], sample: string): Group => {
    const g: Group = { vals: [], refs: [], stepOf: [], outs, Dm: 0, Dv: 0, centered: !divK && !lnMean, sample, step: e };
    if (lnMean) g.inMean = [];
    for (let p = 0; p < pad; p++)
      for (let c = 0; c < cols.length; c++) {
        g.vals.push(0);
        g.refs.push(-1);
        g.stepOf.push(-1);
        g.inMean?.push(false);
      }
    for (let x = from; x <= end; x++) {
      const row = stepAt(x);
      for (const j of cols) {
        g.vals.push(row[j]);
        g.refs.push(refOf(x, j));
        g.stepOf.push(x);
        g.inMean?.push(x === e);
      }
    }
    const N = g.vals.length;
    g.Dm = lnMean ? cols.length : divK ? len * cols.length : N;
    g.Dv = divK ? len * cols.length : flags.has('unbiased-variance') ? N - 1 : N;
    return g;
  };

  const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
  if (flags.has('stats-across-batch')) return [make(range(0, B * W), range(0, B * W), 'all')];
  const groups: Group[] = [];
  for (let b = 0; b < B; b++) {
    if (flags.has('stats-per-feature')) for (let i = 0; i < W; i++) groups.push(make([b * W + i], [b * W + i], String(b)));
    // tiled-reduction-256: a kernel that reduces one 256-wide tile per row and never loops to the next one; every
    // feature is still normalized, by the statistics of the first 256.
    else groups.push(make(range(b * W, flags.has('tiled-reduction-256') ? Math.min(W, TILE) : W), range(b * W, W), String(b)));
  }
  return groups;
}

function pow2Below(m: number): number {
  if (!(m > 0) || !Number.isFinite(m)) return 1;
  let p = Math.pow(2, Math.floor(Math.log2(m)));
  // log2 may round across a power of two: make p <= m < 2p exactly.
  if (p > m) p /= 2;
  else if (p * 2 <= m) p *= 2;
  return p;
}

export function statsOf(g: Group, seq: AtnSeq, flags: Flags): Stats {
  const eps = flags.has('eps-dropped') ? 0 : seq.eps;
  if (flags.has('f32-naive-variance')) return naiveStats(g, eps, seq.f32);
  const { vals } = g;
  let m = 0;
  for (const v of vals) m = Math.max(m, Math.abs(v));
  const p = pow2Below(m);
  let sum = 0;
  for (let j = 0; j < vals.length; j++) if (!g.inMean || g.inMean[j]) sum += vals[j] / p;
  const mux = sum / g.Dm;
  let ss = 0;
  for (const v of vals) {
    const d = v / p - mux;
    ss += d * d;
  }
  const varx = ss / g.Dv;
  const sigma = Math.sqrt(varx) * p;
  const mu = mux * p;
  let s: number;
  let sx: number;
  if (flags.has('eps-outside-sqrt')) {
    s = sigma + eps;
    sx = s / p;
  } else {
    const epsx = eps / p / p;
    sx = Math.sqrt(varx + epsx);
    // eps dwarfs every entry (eps / p^2 overflowed): var is negligible next to it.
    s = Number.isFinite(sx) ? sx * p : Math.sqrt(eps);
  }
  const allEqual = vals.every((v) => v === vals[0]);
  if (s === 0 || (g.centered && eps === 0 && allEqual))
    throw new AtnError(
      'degenerate_window',
      'ATN-6.6',
      `a: the window of step t=${g.step + 1} (1-based), sample b=${g.sample} has var + eps = 0 (all entries equal, eps = 0) (ATN-6.6)`,
      'a',
    );
  return { mu, s, sigma, p, mux, sx, naive: false, round: id };
}

/** E[x^2] - E[x]^2 with every operation rounded to float32 (the f32-naive-variance mistake). */
function naiveStats(g: Group, eps: number, f32: boolean): Stats {
  const r = f32 ? Math.fround : id;
  let sum = 0;
  let sq = 0;
  for (const v of g.vals) {
    sum = r(sum + v);
    sq = r(sq + r(v * v));
  }
  const mu = r(sum / g.Dm);
  const variance = r(r(sq / g.Dv) - r(mu * mu));
  const s = r(Math.sqrt(r(variance + r(eps))));
  if (s === 0)
    throw new AtnError('degenerate_window', 'ATN-6.6', `a: the window of step t=${g.step + 1}, sample b=${g.sample} has var + eps = 0 (ATN-6.6)`, 'a');
  return { mu, s, sigma: Math.sqrt(variance), p: 1, mux: mu, sx: s, naive: true, round: r };
}

/** (v - mu) / s, computed in the scaled domain so that neither the difference nor the quotient overflows. */
export function zOf(v: number, st: Stats): number {
  if (st.naive) return st.round(st.round(v - st.mu) / st.s);
  if (Number.isFinite(st.sx) && st.sx > 0) return (v / st.p - st.mux) / st.sx;
  return (v - st.mu) / st.s;
}

/**
 * Adds the gradient of the outputs of group g into da (flat over the sequence). gh[o] is the upstream gradient of
 * the normalized value z of output o (gain already applied); zo[o] its z. Generic chain rule through mu and var; with
 * no flag it is the closed form of ATN-4.1: da_j += (1/s)(gh_j[j in step t] - mean(gh) - z_j mean(gh z)).
 */
export function groupVjp(g: Group, st: Stats, seq: AtnSeq, t: number, gh: number[], zo: number[], da: Float64Array, flags: Flags): void {
  const { B, W } = seq;
  const base = t * B * W;
  // Each entry's bracket (of the size of gh) is summed first and divided by s once: with a tiny s the terms
  // gh/s overflow separately although their sum (often 0) does not.
  const bracket = new Map<number, number>();
  const add = (ref: number, v: number) => bracket.set(ref, (bracket.get(ref) ?? 0) + v);
  let S1 = 0;
  let S2 = 0;
  for (let o = 0; o < g.outs.length; o++) {
    add(base + g.outs[o], gh[o]);
    S1 += gh[o];
    S2 += gh[o] * zo[o];
  }
  // d s / d var times s: 1/2 for sqrt(var + eps); s / (2 sigma) for sigma + eps.
  const cs = flags.has('eps-outside-sqrt') ? st.s / (2 * st.sigma) : 0.5;
  const z = g.vals.map((v) => zOf(v, st));
  let zsum = 0;
  if (!g.centered) for (const zj of z) zsum += zj;
  // s * dL/dmu, through mu directly and (when the entries are not centred on mu) through var.
  let dmu = -S1 + (2 * cs * S2 * zsum) / g.Dv;
  if (flags.has('vjp-mean-detached')) dmu = 0;
  for (let j = 0; j < g.vals.length; j++) {
    const ref = g.refs[j];
    if (ref < 0) continue;
    if (flags.has('history-detached') && g.stepOf[j] !== g.step) continue;
    let d = (-2 * cs * S2 * z[j]) / g.Dv;
    if (!g.inMean || g.inMean[j]) d += dmu / g.Dm;
    add(ref, d);
  }
  for (const [ref, v] of bracket) addScaled(da, ref, v, st);
}

/** 2^64, and the overflow accumulators of addScaled (per da array). */
const BIG = 2 ** 64;
const overflow = new WeakMap<Float64Array, Map<number, number>>();

/**
 * da[ref] += v / s where v / s may overflow although the sum over windows does not (entries near the top of the
 * double range): the overflowing part is kept scaled by 2^-64 and folded in by `settle`.
 */
function addScaled(da: Float64Array, ref: number, v: number, st: Stats): void {
  // v / s as (v / sx) / p: s = sx * p may be subnormal (entries near 1e-310) and hold few bits, sx and p do not.
  const div = (x: number) => (!st.naive && Number.isFinite(st.sx) && st.sx > 0 ? x / st.sx / st.p : x / st.s);
  const sum = da[ref] + div(v);
  if (Number.isFinite(sum)) {
    da[ref] = sum;
    return;
  }
  let m = overflow.get(da);
  if (!m) overflow.set(da, (m = new Map()));
  m.set(ref, (m.get(ref) ?? 0) + div(v / BIG));
}

/** Folds the scaled overflow parts into da (call once, after every window's contribution). */
export function settle(da: Float64Array): void {
  const m = overflow.get(da);
  if (!m) return;
  for (const [ref, big] of m) da[ref] = (da[ref] / BIG + big) * BIG;
  overflow.delete(da);
}

export interface AtnSeqResult {
  /** y per step, B*W each. */
  y: Float64Array[];
  da?: Float64Array;
  dgain?: Float64Array;
  dbias?: Float64Array;
}

/** y of step t (B*W values): the streaming form the LSTM uses (steps 0..t must be present). */
export function atnStep(seq: AtnSeq, t: number, gain: ArrayLike<number>, bias: ArrayLike<number>, flags: Flags): Float64Array {
  if (!flags.has('affine-before-normalize')) return atnSteps(seq, t, gain, bias, flags).y;
  const affine = (row: Float64Array) => row.map((v, j) => gain[j % seq.W] * v + bias[j % seq.W]);
  const work = { ...seq, steps: seq.steps.slice(0, t + 1).map(affine), prefix: seq.prefix.map(affine) };
  return atnSteps(work, t, new Float64Array(seq.W).fill(1), new Float64Array(seq.W), flags).y;
}

function atnSteps(
  seq: AtnSeq,
  t: number,
  gain: ArrayLike<number>,
  bias: ArrayLike<number>,
  flags: Flags,
  dy?: Float64Array,
  acc?: { da: Float64Array; dgain: Float64Array; dbias: Float64Array },
): { y: Float64Array } {
  const { W } = seq;
  const y = new Float64Array(seq.B * W);
  const swapped = flags.has('gain-bias-swapped');
  for (const g of groupsForStep(seq, t, flags)) {
    const st = statsOf(g, seq, flags);
    const zo = g.outs.map((o) => zOf(seq.steps[t][o], st));
    for (let o = 0; o < g.outs.length; o++) {
      const i = g.outs[o] % W;
      const [gi, bi] = swapped ? [bias[i], gain[i]] : [gain[i], bias[i]];
      y[g.outs[o]] = st.round(st.round(gi * zo[o]) + bi);
    }
    if (dy && acc) {
      const off = t * seq.B * W;
      const gh = g.outs.map((o) => {
        const i = o % W;
        const d = dy[off + o];
        const gi = swapped ? bias[i] : gain[i];
        return flags.has('vjp-gain-forgotten') ? d : gi * d;
      });
      for (let o = 0; o < g.outs.length; o++) {
        const i = g.outs[o] % W;
        const d = dy[off + g.outs[o]];
        if (swapped) {
          acc.dbias[i] += d * zo[o];
          acc.dgain[i] += d;
        } else {
          acc.dgain[i] += d * zo[o];
          acc.dbias[i] += d;
        }
      }
      groupVjp(g, st, seq, t, gh, zo, acc.da, flags);
    }
  }
  return { y };
}

/**
 * The sequence op: y for every step and, given dy (flat, T*B*W), the VJP (da, dgain, dbias).
 * affine-before-normalize is handled here: the entries are g*a + b before any statistics, then normalized with no
 * affine after; the gradients are mapped back through the affine map.
 */
export function atnSequence(seq: AtnSeq, gain: ArrayLike<number>, bias: ArrayLike<number>, flags: Flags, dy?: Float64Array): AtnSeqResult {
  const { B, W } = seq;
  const T = seq.steps.length;
  const before = flags.has('affine-before-normalize');
  const affine = (row: Float64Array) => row.map((v, j) => gain[j % W] * v + bias[j % W]);
  const work: AtnSeq = before ? { ...seq, steps: seq.steps.map(affine), prefix: seq.prefix.map(affine) } : seq;
  const ones = new Float64Array(W).fill(1);
  const zeros = new Float64Array(W);
  const [g, b] = before ? [ones, zeros] : [gain, bias];
  const acc = dy ? { da: new Float64Array(T * B * W), dgain: new Float64Array(W), dbias: new Float64Array(W) } : undefined;
  const y: Float64Array[] = [];
  for (let t = 0; t < T; t++) y.push(atnSteps(work, t, g, b, flags, dy, acc).y);
  if (!acc) return { y };
  settle(acc.da);
  if (!before) return { y, ...acc };
  // Through v = gain*a + bias: da = gain * dv, dgain = Σ dv * a, dbias = Σ dv.
  const da = new Float64Array(T * B * W);
  const dgain = new Float64Array(W);
  const dbias = new Float64Array(W);
  for (let t = 0; t < T; t++)
    for (let j = 0; j < B * W; j++) {
      const f = t * B * W + j;
      const i = j % W;
      da[f] = gain[i] * acc.da[f];
      dgain[i] += acc.da[f] * seq.steps[t][j];
      dbias[i] += acc.da[f];
    }
  return { y, da, dgain, dbias };
}

export interface AtnAcc {
  /** Over the sequence's own steps (T*B*W, prefix excluded). */
  da: Float64Array;
  dgain: Float64Array;
  dbias: Float64Array;
}

/**
 * The VJP of window t alone (the streaming form the LSTM's backpropagation uses): dyStep (B*W) is the gradient of
 * y_t; the contributions to every a_s of the window, to gain and to bias are added into acc. Steps 0..t must be present.
 */
export function atnStepVjp(seq: AtnSeq, t: number, gain: ArrayLike<number>, bias: ArrayLike<number>, flags: Flags, dyStep: Float64Array, acc: AtnAcc): void {
  const { B, W } = seq;
  const T = seq.steps.length;
  const dy = new Float64Array(T * B * W);
  dy.set(dyStep, t * B * W);
  if (!flags.has('affine-before-normalize')) {
    atnSteps(seq, t, gain, bias, flags, dy, acc);
    settle(acc.da);
    return;
  }
  const affine = (row: Float64Array) => row.map((v, j) => gain[j % W] * v + bias[j % W]);
  const work = { ...seq, steps: seq.steps.map(affine), prefix: seq.prefix.map(affine) };
  const tmp: AtnAcc = { da: new Float64Array(T * B * W), dgain: new Float64Array(W), dbias: new Float64Array(W) };
  atnSteps(work, t, new Float64Array(W).fill(1), new Float64Array(W), flags, dy, tmp);
  settle(tmp.da);
  for (let f = 0; f < T * B * W; f++) {
    const i = f % W;
    const s = (f / (B * W)) | 0;
    acc.da[f] += gain[i] * tmp.da[f];
    acc.dgain[i] += tmp.da[f] * seq.steps[s][f % (B * W)];
    acc.dbias[i] += tmp.da[f];
  }
}
