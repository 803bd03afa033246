/**
 * The hand-picked cases of the frozen vector corpus: each one pins a clause down with a small input a reader can follow.
 * Inputs are given here in plain numbers; vectors.ts rounds them per dtype and asks the reference for the answer.
 * Ids are stable: change a case's content only together with its id.
 */
import type { ClauseId } from '../spec/clauses';
import { lcgUnit as lcg } from '../util/prng';
import { build3 } from '../util/tree';

export type VectorFlag =
  | 'warm-up'
  | 'k>T'
  | 'k=1'
  | 'B=1'
  | 'H=1'
  | 'T=1'
  | 'large-magnitude'
  | 'tiny-magnitude'
  | 'subnormal'
  | 'tiny-variance'
  | 'eps=0'
  | 'large-eps'
  | 'mixed-scales'
  | 'default-affine'
  | 'degenerate'
  | 'bad-input'
  | 'unsupported'
  | 'protocol'
  | 'vjp'
  | 'ln'
  | 'lstm'
  | 'counterexample';

export interface CaseTemplate {
  id: string;
  comment: string;
  clause: ClauseId;
  flags: VectorFlag[];
  op: string;
  /** The request's args without dtype (added per dtype); `dtype` here overrides it (unsupported-dtype cases). */
  args: Record<string, unknown>;
  /** The dtypes this case is frozen for (default both). */
  dtypes?: Array<'float32' | 'float64'>;
  /** A bad input: the error a conforming target answers with. Valid cases leave it out. */
  error?: { code: string; clause: ClauseId };
}

function vals(n: number, seed: number, scale = 1, offset = 0): number[] {
  const r = lcg(seed);
  return Array.from({ length: n }, () => offset + Number((scale * (2 * r() - 1)).toPrecision(4)));
}

/** A [T][B][H] array of deterministic values. */
export function ten3(T: number, B: number, H: number, seed: number, scale = 1, offset = 0): number[][][] {
  const v = vals(T * B * H, seed, scale, offset);
  return build3(T, B, H, (_t, _b, _h, i) => v[i]);
}

function mat(R: number, C: number, seed: number, scale = 1, offset = 0): number[][] {
  const v = vals(R * C, seed, scale, offset);
  return Array.from({ length: R }, (_, i) => v.slice(i * C, (i + 1) * C));
}

function lstmParams(I: number, H: number, seed: number): Record<string, unknown> {
  return {
    w_xh: mat(I, 4 * H, seed, 0.5),
    w_hh: mat(H, 4 * H, seed + 1, 0.5),
    b_x: vals(4 * H, seed + 2, 0.1),
    b_h: vals(4 * H, seed + 3, 0.1),
    atn_x: { gain: vals(4 * H, seed + 4, 0.2, 1), bias: vals(4 * H, seed + 5, 0.1) },
    atn_h: { gain: vals(4 * H, seed + 6, 0.2, 1), bias: vals(4 * H, seed + 7, 0.1) },
    atn_c: { gain: vals(H, seed + 8, 0.2, 1), bias: vals(H, seed + 9, 0.1) },
  };
}

const g3 = [1.5, -0.5, 2];
const b3 = [0.25, 0, -1];

/** Sequence whose magnitude changes by many orders over time: window-local statistics are needed (ATN-7.3). */
const drifting = [1e20, 1e15, 1e10, 1e5, 1, 1e-5].map((s, t) => [vals(3, 100 + t, s, 0.1 * s)]);

const valid: CaseTemplate[] = [
  // ATN-1: definitions
  {
    id: 'atn.fwd.basic',
    comment: 'T=4, B=2, H=3, k=2 with gain and bias',
    clause: 'ATN-1.4',
    flags: [],
    op: 'atn.forward',
    args: { k: 2, eps: 1e-5, a: ten3(4, 2, 3, 1), gain: g3, bias: b3 },
  },
  {
    id: 'atn.fwd.default-affine',
    comment: 'gain and bias omitted: ones and zeros',
    clause: 'ATN-1.5',
    flags: ['default-affine'],
    op: 'atn.forward',
    args: { k: 2, eps: 1e-5, a: ten3(3, 2, 3, 2) },
  },
  {
    id: 'atn.fwd.warm-up',
    comment: 'k=4 over T=5: steps 0..2 use the 1..3 steps available, no padding',
    clause: 'ATN-1.6',
    flags: ['warm-up'],
    op: 'atn.forward',
    args: { k: 4, eps: 1e-5, a: ten3(5, 1, 3, 3, 2, 1) },
  },
  {
    id: 'atn.fwd.window',
    comment: 'k=3 over T=6: full windows after warm-up',
    clause: 'ATN-1.2',
    flags: [],
    op: 'atn.forward',
    args: { k: 3, eps: 1e-3, a: ten3(6, 2, 2, 4) },
  },
  {
    id: 'atn.fwd.biased-var',
    comment: 'variance divides by N, not N-1 (two entries: var = d^2/4)',
    clause: 'ATN-1.3',
    flags: ['B=1', 'T=1'],
    op: 'atn.forward',
    args: { k: 1, eps: 0, a: [[[1, 3]]] },
  },
  {
    id: 'atn.fwd.samples-independent',
    comment: 'B=3 samples of very different scales: statistics never mix samples',
    clause: 'ATN-1.1',
    flags: ['mixed-scales'],
    op: 'atn.forward',
    args: { k: 2, eps: 1e-5, a: [0, 1, 2].map((t) => [vals(3, 10 + t, 1e6), vals(3, 20 + t, 1e-3), vals(3, 30 + t, 1, 50)]) },
  },
  {
    id: 'atn.fwd.k-greater-than-t',
    comment: 'k=10 over T=3: every window is the whole prefix',
    clause: 'ATN-5.7',
    flags: ['k>T', 'warm-up'],
    op: 'atn.forward',
    args: { k: 10, eps: 1e-5, a: ten3(3, 2, 3, 5) },
  },
  {
    id: 'atn.fwd.k1',
    comment: 'k=1: per-step layer normalization',
    clause: 'ATN-5.1',
    flags: ['k=1'],
    op: 'atn.forward',
    args: { k: 1, eps: 1e-5, a: ten3(3, 2, 4, 6), gain: [1, 2, 0.5, -1], bias: [0, 1, 0, -1] },
  },
  {
    id: 'atn.fwd.b1-h1',
    comment: 'B=1, H=1, k=3: the window holds n_t single entries',
    clause: 'ATN-1.2',
    flags: ['B=1', 'H=1'],
    op: 'atn.forward',
    args: { k: 3, eps: 1e-5, a: ten3(5, 1, 1, 7) },
  },
  {
    id: 'atn.fwd.h1-k1-eps',
    comment: 'H=1, k=1, eps>0: the window is one entry, y = b',
    clause: 'ATN-1.4',
    flags: ['H=1', 'k=1'],
    op: 'atn.forward',
    args: { k: 1, eps: 0.5, a: [[[3]], [[-7]]], gain: [2], bias: [0.125] },
  },
  {
    id: 'atn.fwd.t1',
    comment: 'T=1: one step, k=5 > T',
    clause: 'ATN-1.6',
    flags: ['T=1', 'k>T'],
    op: 'atn.forward',
    args: { k: 5, eps: 1e-5, a: ten3(1, 2, 4, 8) },
  },
  // ATN-5 / ATN-7.2: numerics
  {
    id: 'atn.fwd.large',
    comment: 'entries near 1e30: squares overflow float32 if formed naively',
    clause: 'ATN-5.2',
    flags: ['large-magnitude'],
    op: 'atn.forward',
    args: { k: 2, eps: 1e-5, a: ten3(3, 1, 3, 9, 1e30) },
  },
  {
    id: 'atn.fwd.tiny',
    comment: 'entries near 1e-30: squares underflow if formed naively; eps=0',
    clause: 'ATN-5.2',
    flags: ['tiny-magnitude', 'eps=0'],
    op: 'atn.forward',
    args: { k: 2, eps: 0, a: ten3(3, 1, 3, 10, 1e-30) },
  },
  {
    id: 'atn.fwd.huge-mean',
    comment: '|mean| >> std: 1e4 + O(1) noise (cancellation in var = E[a^2] - mu^2)',
    clause: 'ATN-7.2',
    flags: ['tiny-variance'],
    op: 'atn.forward',
    args: { k: 2, eps: 0, a: ten3(3, 2, 3, 11, 1, 1e4) },
  },
  {
    id: 'atn.fwd.tiny-variance',
    comment: 'entries 1 +- 1e-3 with eps=1e-5: eps dominates part of the windows',
    clause: 'ATN-7.2',
    flags: ['tiny-variance'],
    op: 'atn.forward',
    args: { k: 3, eps: 1e-5, a: ten3(4, 1, 4, 12, 1e-3, 1) },
  },
  {
    id: 'atn.fwd.eps0',
    comment: 'eps = 0: |z| <= sqrt(N-1) (T5)',
    clause: 'ATN-5.5',
    flags: ['eps=0'],
    op: 'atn.forward',
    args: { k: 2, eps: 0, a: [[[0, 0, 0, 5]], [[0, 0, 0, 0]], [[1, 0, 0, 0]]] },
  },
  {
    id: 'atn.fwd.large-eps',
    comment: 'eps = 1e3 much larger than the variance: y is close to b',
    clause: 'ATN-1.4',
    flags: ['large-eps'],
    op: 'atn.forward',
    args: { k: 2, eps: 1000, a: ten3(3, 2, 3, 13), gain: g3, bias: b3 },
  },
  {
    id: 'atn.fwd.subnormal',
    comment: 'subnormal entries (float32 1e-40, float64 1e-310) with eps=0',
    clause: 'ATN-7.2',
    flags: ['subnormal', 'eps=0', 'tiny-magnitude'],
    op: 'atn.forward',
    args: { k: 2, eps: 0, a: [[[1e-40, -2e-40, 3e-40]], [[0, 1e-40, 5e-40]]] },
    dtypes: ['float32'],
  },
  {
    id: 'atn.fwd.subnormal',
    comment: 'subnormal entries (float32 1e-40, float64 1e-310) with eps=0',
    clause: 'ATN-7.2',
    flags: ['subnormal', 'eps=0', 'tiny-magnitude'],
    op: 'atn.forward',
    args: { k: 2, eps: 0, a: [[[1e-310, -2e-310, 3e-310]], [[0, 1e-310, 5e-310]]] },
    dtypes: ['float64'],
  },
  {
    id: 'atn.fwd.drifting-scale',
    comment: 'magnitude falls from 1e20 to 1e-5 over time, k=2: statistics must be window-local',
    clause: 'ATN-7.2',
    flags: ['mixed-scales', 'large-magnitude', 'B=1'],
    op: 'atn.forward',
    args: { k: 2, eps: 0, a: drifting },
  },
  {
    id: 'atn.fwd.shift-t4',
    comment: 'T4 companion of atn.fwd.basic: every entry + 1000 gives the same y',
    clause: 'ATN-5.4',
    flags: [],
    op: 'atn.forward',
    args: { k: 2, eps: 1e-5, a: ten3(4, 2, 3, 1, 1, 1000), gain: g3, bias: b3 },
  },
  {
    id: 'atn.fwd.locality',
    comment: 'T6: steps before t-k+1 hold 1e6 noise that must not reach later y_t',
    clause: 'ATN-5.6',
    flags: ['mixed-scales'],
    op: 'atn.forward',
    args: { k: 2, eps: 1e-5, a: [...ten3(2, 1, 3, 14, 1e6), ...ten3(3, 1, 3, 15)] },
  },
  {
    id: 'atn.fwd.t8',
    comment: 'T8: a shift of one step only changes y for k > 1',
    clause: 'ATN-5.8',
    flags: [],
    op: 'atn.forward',
    args: { k: 3, eps: 1e-5, a: [[[1, 2, 3]], [[11, 12, 13]], [[1, 2, 3]]] },
  },
  {
    id: 'atn.fwd.near-degenerate',
    comment: 'a = [1, 1 + 1e-10], eps = 0: a valid window in float64 (it is degenerate in float32)',
    clause: 'ATN-6.6',
    flags: ['tiny-variance', 'eps=0', 'B=1', 'T=1'],
    op: 'atn.forward',
    args: { k: 1, eps: 0, a: [[[1, 1 + 1e-10]]] },
    dtypes: ['float64'],
  },
  // ln.forward
  {
    id: 'ln.fwd.basic',
    comment: 'ln.forward over x[3][4] with gain and bias',
    clause: 'ATN-2.1',
    flags: ['ln'],
    op: 'ln.forward',
    args: { eps: 1e-5, x: mat(3, 4, 40), gain: [1, 2, 0.5, -1], bias: [0, 1, 0, -1] },
  },
  {
    id: 'ln.fwd.b1',
    comment: 'ln.forward with B=1, default gain and bias',
    clause: 'ATN-2.1',
    flags: ['ln', 'B=1', 'default-affine'],
    op: 'ln.forward',
    args: { eps: 1e-5, x: [[0.5, -1.25, 3, 8]] },
  },
  {
    id: 'ln.fwd.h1',
    comment: 'ln.forward with H=1: y = b for eps > 0',
    clause: 'ATN-2.1',
    flags: ['ln', 'H=1'],
    op: 'ln.forward',
    args: { eps: 1e-3, x: [[4], [-2]], gain: [3], bias: [0.5] },
  },
  {
    id: 'ln.fwd.huge-mean',
    comment: 'ln.forward with |mean| >> std',
    clause: 'ATN-7.2',
    flags: ['ln', 'tiny-variance', 'eps=0'],
    op: 'ln.forward',
    args: { eps: 0, x: mat(2, 5, 41, 1, 1e5) },
  },
  {
    id: 'ln.fwd.large',
    comment: 'ln.forward with entries near 1e30',
    clause: 'ATN-7.2',
    flags: ['ln', 'large-magnitude'],
    op: 'ln.forward',
    args: { eps: 1e-5, x: mat(2, 3, 42, 1e30) },
  },
  // atn.vjp
  {
    id: 'atn.vjp.basic',
    comment: 'VJP with T=4, B=2, H=3, k=2, gain and bias',
    clause: 'ATN-4.1',
    flags: ['vjp'],
    op: 'atn.vjp',
    args: { k: 2, eps: 1e-5, a: ten3(4, 2, 3, 50), gain: g3, bias: b3, dy: ten3(4, 2, 3, 51) },
  },
  {
    id: 'atn.vjp.warm-up',
    comment: 'VJP with k=3 over T=4: warm-up windows',
    clause: 'ATN-4.1',
    flags: ['vjp', 'warm-up', 'B=1'],
    op: 'atn.vjp',
    args: { k: 3, eps: 1e-5, a: ten3(4, 1, 3, 52), dy: ten3(4, 1, 3, 53) },
  },
  {
    id: 'atn.vjp.k-greater-than-t',
    comment: 'VJP with k=8 over T=3: every y_t reaches back to a_0',
    clause: 'ATN-4.1',
    flags: ['vjp', 'k>T'],
    op: 'atn.vjp',
    args: { k: 8, eps: 1e-5, a: ten3(3, 2, 2, 54), dy: ten3(3, 2, 2, 55) },
  },
  {
    id: 'atn.vjp.k1',
    comment: 'VJP with k=1 (LN gradient per step)',
    clause: 'ATN-4.1',
    flags: ['vjp', 'k=1'],
    op: 'atn.vjp',
    args: { k: 1, eps: 1e-5, a: ten3(3, 2, 3, 56), dy: ten3(3, 2, 3, 57) },
  },
  {
    id: 'atn.vjp.single-dy',
    comment: 'dy nonzero at the last step only: da is nonzero on its window only',
    clause: 'ATN-5.6',
    flags: ['vjp', 'B=1'],
    op: 'atn.vjp',
    args: { k: 2, eps: 1e-5, a: ten3(4, 1, 3, 58), dy: [[[0, 0, 0]], [[0, 0, 0]], [[0, 0, 0]], [[1, -2, 0.5]]] },
  },
  {
    id: 'atn.vjp.dgain-dbias',
    comment: 'dgain = sum dy*z and dbias = sum dy with nontrivial gain',
    clause: 'ATN-4.2',
    flags: ['vjp'],
    op: 'atn.vjp',
    args: { k: 2, eps: 1e-3, a: ten3(3, 3, 2, 59), gain: [2, -0.5], bias: [1, 1], dy: ten3(3, 3, 2, 60) },
  },
  {
    id: 'atn.vjp.large',
    comment: 'VJP with entries near 1e20 (da scales as 1/s)',
    clause: 'ATN-7.3',
    flags: ['vjp', 'large-magnitude'],
    op: 'atn.vjp',
    args: { k: 2, eps: 0, a: ten3(3, 1, 3, 61, 1e20), dy: ten3(3, 1, 3, 62) },
  },
  {
    id: 'atn.vjp.drifting-scale',
    comment: 'VJP on a sequence whose scale falls from 1e20 to 1e-5: window-local sums',
    clause: 'ATN-7.3',
    flags: ['vjp', 'mixed-scales', 'B=1'],
    op: 'atn.vjp',
    args: { k: 2, eps: 0, a: drifting, dy: ten3(6, 1, 3, 63) },
  },
  {
    id: 'atn.vjp.shift-sum',
    comment: 'T4: the da of each window sums to 0 when eps = 0 and k = T',
    clause: 'ATN-5.4',
    flags: ['vjp', 'eps=0', 'B=1'],
    op: 'atn.vjp',
    args: { k: 3, eps: 0, a: ten3(3, 1, 2, 64), dy: ten3(3, 1, 2, 65) },
  },
  {
    id: 'atn.vjp.h1',
    comment: 'VJP with H=1, k=2',
    clause: 'ATN-4.1',
    flags: ['vjp', 'H=1'],
    op: 'atn.vjp',
    args: { k: 2, eps: 1e-5, a: ten3(4, 2, 1, 66), dy: ten3(4, 2, 1, 67) },
  },
  // lstm
  {
    id: 'lstm.fwd.basic',
    comment: 'ATN-LSTM T=3, B=2, I=2, H=2, k=2',
    clause: 'ATN-3.5',
    flags: ['lstm'],
    op: 'lstm.forward',
    args: { k: 2, eps: 1e-5, x: ten3(3, 2, 2, 70), h0: mat(2, 2, 71, 0.5), c0: mat(2, 2, 72, 0.5), params: lstmParams(2, 2, 73) },
  },
  {
    id: 'lstm.fwd.k1',
    comment: 'LN-LSTM (k=1) T=2, B=1, I=3, H=1',
    clause: 'ATN-3.2',
    flags: ['lstm', 'k=1', 'B=1', 'H=1'],
    op: 'lstm.forward',
    args: { k: 1, eps: 1e-3, x: ten3(2, 1, 3, 80), h0: [[0.1]], c0: [[-0.2]], params: lstmParams(3, 1, 81) },
  },
  {
    id: 'lstm.fwd.k-greater-than-t',
    comment: 'ATN-LSTM with k=5 over T=3',
    clause: 'ATN-3.3',
    flags: ['lstm', 'k>T'],
    op: 'lstm.forward',
    args: { k: 5, eps: 1e-5, x: ten3(3, 1, 2, 90), h0: [[0, 0.5]], c0: [[0.25, -0.5]], params: lstmParams(2, 2, 91) },
  },
  {
    id: 'lstm.vjp.basic',
    comment: 'ATN-LSTM gradients by BPTT, T=2, B=1, I=2, H=2, k=2',
    clause: 'ATN-4.3',
    flags: ['lstm', 'vjp', 'B=1'],
    op: 'lstm.vjp',
    args: { k: 2, eps: 1e-5, x: ten3(2, 1, 2, 100), h0: [[0.1, -0.1]], c0: [[0.2, 0]], params: lstmParams(2, 2, 101), dh: ten3(2, 1, 2, 102) },
  },
  // long sequences (windows that slide far past warm-up; mistakes that show only after step 8)
  {
    id: 'atn.fwd.long',
    comment: 'T=64, B=1, H=3, k=5: windows slide for 60 steps',
    clause: 'ATN-1.2',
    flags: ['B=1'],
    op: 'atn.forward',
    args: { k: 5, eps: 1e-5, a: ten3(64, 1, 3, 110), gain: g3, bias: b3 },
  },
  {
    id: 'atn.vjp.long',
    comment: 'VJP with T=16, B=2, H=2, k=16 (k = T: every window reaches back to a_0)',
    clause: 'ATN-4.1',
    flags: ['vjp', 'warm-up'],
    op: 'atn.vjp',
    args: { k: 16, eps: 1e-5, a: ten3(16, 2, 2, 111), dy: ten3(16, 2, 2, 112) },
  },
  {
    id: 'lstm.fwd.long',
    comment: 'ATN-LSTM T=12, B=1, I=2, H=2, k=3: windows that span step 8 (a port resetting them every 8 steps fails)',
    clause: 'ATN-3.2',
    flags: ['lstm', 'B=1'],
    op: 'lstm.forward',
    args: { k: 3, eps: 1e-5, x: ten3(12, 1, 2, 113), h0: [[0.25, -0.1]], c0: [[0.1, 0.3]], params: lstmParams(2, 2, 114) },
  },
  {
    id: 'lstm.fwd.long-k-beyond',
    comment: 'ATN-LSTM T=14, k=20 > T: every window is the whole prefix',
    clause: 'ATN-3.5',
    flags: ['lstm', 'k>T', 'warm-up', 'B=1'],
    op: 'lstm.forward',
    args: { k: 20, eps: 1e-3, x: ten3(14, 1, 1, 115), h0: [[0.2, 0.4]], c0: [[-0.3, 0.2]], params: lstmParams(1, 2, 116) },
  },
  {
    id: 'lstm.vjp.long',
    comment: 'ATN-LSTM gradients by BPTT, T=12, B=1, I=1, H=2, k=12 (k = T)',
    clause: 'ATN-4.3',
    flags: ['lstm', 'vjp', 'B=1'],
    op: 'lstm.vjp',
    args: { k: 12, eps: 1e-5, x: ten3(12, 1, 1, 117), h0: [[0.3, -0.2]], c0: [[0.1, -0.4]], params: lstmParams(1, 2, 118), dh: ten3(12, 1, 2, 119) },
  },
  {
    id: 'lstm.vjp.eps0-k1',
    comment: 'BPTT with eps = 0, H = 2, k = 1: ATN_c pools 2 entries, its Jacobian is 0 and a float port returns rounding noise through it (ATN-7.4)',
    clause: 'ATN-7.4',
    flags: ['lstm', 'vjp', 'eps=0', 'k=1'],
    op: 'lstm.vjp',
    args: { k: 1, eps: 0, x: ten3(3, 2, 2, 120), h0: mat(2, 2, 121, 0.5), c0: mat(2, 2, 122, 0.5), params: lstmParams(2, 2, 123), dh: ten3(3, 2, 2, 124) },
  },
];

const bad: CaseTemplate[] = [
  {
    id: 'err.k0',
    comment: 'k = 0',
    clause: 'ATN-6.1',
    flags: ['bad-input'],
    op: 'atn.forward',
    args: { k: 0, eps: 1e-5, a: [[[1, 2]]] },
    error: { code: 'bad_argument', clause: 'ATN-6.1' },
  },
  {
    id: 'err.k-fraction',
    comment: 'k = 1.5',
    clause: 'ATN-6.1',
    flags: ['bad-input'],
    op: 'atn.forward',
    args: { k: 1.5, eps: 1e-5, a: [[[1, 2]]] },
    error: { code: 'bad_argument', clause: 'ATN-6.1' },
  },
  {
    id: 'err.k-string',
    comment: 'k = "2" (a string)',
    clause: 'ATN-6.1',
    flags: ['bad-input'],
    op: 'atn.forward',
    args: { k: '2', eps: 1e-5, a: [[[1, 2]]] },
    error: { code: 'bad_argument', clause: 'ATN-6.1' },
  },
  {
    id: 'err.eps-negative',
    comment: 'eps = -1e-5',
    clause: 'ATN-6.2',
    flags: ['bad-input'],
    op: 'atn.forward',
    args: { k: 1, eps: -1e-5, a: [[[1, 2]]] },
    error: { code: 'bad_argument', clause: 'ATN-6.2' },
  },
  {
    id: 'err.eps-nan',
    comment: 'eps = NaN',
    clause: 'ATN-6.2',
    flags: ['bad-input'],
    op: 'atn.forward',
    args: { k: 1, eps: NaN, a: [[[1, 2]]] },
    error: { code: 'bad_argument', clause: 'ATN-6.2' },
  },
  {
    id: 'err.a-empty',
    comment: 'a = [] (empty)',
    clause: 'ATN-6.3',
    flags: ['bad-input'],
    op: 'atn.forward',
    args: { k: 1, eps: 1e-5, a: [] },
    error: { code: 'bad_argument', clause: 'ATN-6.3' },
  },
  {
    id: 'err.a-ragged',
    comment: 'a ragged: rows of length 2 and 3',
    clause: 'ATN-6.3',
    flags: ['bad-input'],
    op: 'atn.forward',
    args: {
      k: 1,
      eps: 1e-5,
      a: [
        [
          [1, 2],
          [1, 2, 3],
        ],
      ],
    },
    error: { code: 'bad_argument', clause: 'ATN-6.3' },
  },
  {
    id: 'err.a-2d',
    comment: 'a given as [T][H] (a squeezed batch dimension)',
    clause: 'ATN-6.3',
    flags: ['bad-input'],
    op: 'atn.forward',
    args: {
      k: 1,
      eps: 1e-5,
      a: [
        [1, 2],
        [3, 4],
      ],
    },
    error: { code: 'bad_argument', clause: 'ATN-6.3' },
  },
  {
    id: 'err.a-missing',
    comment: 'a missing',
    clause: 'ATN-6.3',
    flags: ['bad-input'],
    op: 'atn.forward',
    args: { k: 1, eps: 1e-5 },
    error: { code: 'bad_argument', clause: 'ATN-6.3' },
  },
  {
    id: 'err.a-nan',
    comment: 'an entry of a is NaN',
    clause: 'ATN-6.4',
    flags: ['bad-input'],
    op: 'atn.forward',
    args: { k: 1, eps: 1e-5, a: [[[1, NaN]]] },
    error: { code: 'bad_argument', clause: 'ATN-6.4' },
  },
  {
    id: 'err.a-infinity',
    comment: 'an entry of a is Infinity',
    clause: 'ATN-6.4',
    flags: ['bad-input'],
    op: 'atn.forward',
    args: { k: 1, eps: 1e-5, a: [[[1, Infinity]]] },
    error: { code: 'bad_argument', clause: 'ATN-6.4' },
  },
  {
    id: 'err.gain-length',
    comment: 'gain of length 2 for H = 3',
    clause: 'ATN-6.5',
    flags: ['bad-input'],
    op: 'atn.forward',
    args: { k: 1, eps: 1e-5, a: [[[1, 2, 3]]], gain: [1, 1] },
    error: { code: 'bad_argument', clause: 'ATN-6.5' },
  },
  {
    id: 'err.degenerate',
    comment: 'constant window with eps = 0: var + eps = 0',
    clause: 'ATN-6.6',
    flags: ['degenerate', 'eps=0'],
    op: 'atn.forward',
    args: { k: 2, eps: 0, a: [[[2, 2]], [[2, 2]]] },
    error: { code: 'degenerate_window', clause: 'ATN-6.6' },
  },
  {
    id: 'err.degenerate-h1',
    comment: 'H=1, k=1, eps=0: every window is one entry',
    clause: 'ATN-6.6',
    flags: ['degenerate', 'eps=0', 'H=1', 'k=1'],
    op: 'atn.forward',
    args: { k: 1, eps: 0, a: [[[3]]] },
    error: { code: 'degenerate_window', clause: 'ATN-6.6' },
  },
  {
    id: 'err.degenerate-vjp',
    comment: 'atn.vjp on a constant window with eps = 0',
    clause: 'ATN-6.6',
    flags: ['degenerate', 'eps=0', 'vjp'],
    op: 'atn.vjp',
    args: { k: 1, eps: 0, a: [[[1, 1]]], dy: [[[1, 0]]] },
    error: { code: 'degenerate_window', clause: 'ATN-6.6' },
  },
  {
    id: 'err.degenerate-ln',
    comment: 'ln.forward of a constant row with eps = 0',
    clause: 'ATN-6.6',
    flags: ['degenerate', 'eps=0', 'ln'],
    op: 'ln.forward',
    args: {
      eps: 0,
      x: [
        [1, 2],
        [5, 5],
      ],
    },
    error: { code: 'degenerate_window', clause: 'ATN-6.6' },
  },
  {
    id: 'err.degenerate-after-rounding',
    comment: 'a = [1, 1 + 1e-10], eps = 0: both round to 1 in float32, so the window is constant',
    clause: 'ATN-6.6',
    flags: ['degenerate', 'eps=0', 'tiny-variance'],
    op: 'atn.forward',
    args: { k: 1, eps: 0, a: [[[1, 1 + 1e-10]]] },
    error: { code: 'degenerate_window', clause: 'ATN-6.6' },
    dtypes: ['float32'],
  },
  {
    id: 'err.dtype',
    comment: 'dtype "float16" is not a protocol dtype',
    clause: 'ATN-6.7',
    flags: ['unsupported'],
    op: 'atn.forward',
    args: { dtype: 'float16', k: 1, eps: 1e-5, a: [[[1, 2]]] },
    error: { code: 'unsupported_dtype', clause: 'ATN-6.7' },
    dtypes: ['float32'],
  },
  {
    id: 'err.lstm-shape',
    comment: 'w_xh with 4H-1 columns',
    clause: 'ATN-6.8',
    flags: ['bad-input', 'lstm'],
    op: 'lstm.forward',
    args: {
      k: 1,
      eps: 1e-5,
      x: [[[1, 2]]],
      h0: [[0]],
      c0: [[0]],
      params: {
        w_xh: [
          [1, 2, 3],
          [4, 5, 6],
        ],
        w_hh: [[1, 2, 3, 4]],
      },
    },
    error: { code: 'bad_argument', clause: 'ATN-6.8' },
  },
  {
    id: 'err.k-too-large',
    comment: 'k = 2^30 over the size limit',
    clause: 'ATN-6.9',
    flags: ['bad-input'],
    op: 'atn.forward',
    args: { k: 2 ** 30, eps: 1e-5, a: [[[1, 2]]] },
    error: { code: 'too_large', clause: 'ATN-6.9' },
  },
  {
    id: 'err.unknown-op',
    comment: 'an op no target serves',
    clause: 'ATN-8.5',
    flags: ['protocol'],
    op: 'atn.backward',
    args: { k: 1, eps: 1e-5, a: [[[1, 2]]] },
    error: { code: 'unknown_op', clause: 'ATN-8.5' },
    dtypes: ['float32'],
  },
];

export const CASE_TEMPLATES: CaseTemplate[] = [...valid, ...bad];
