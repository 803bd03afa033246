/**
 * The ATN-LSTM of the reference (ATN-3), exact in BigNumber, with its gradients by hand-written backpropagation
 * through time (ATN-4.3) and its derived tolerances (ATN-7.4, reference/lstm-tolerance.md).
 *
 * Per sample b (samples never mix), 0-based steps t = 0..T-1:
 *   ax_t = x_t W_xh + b_x, ah_t = h_{t-1} W_hh + b_h                           (ATN-3.1)
 *   pre_t = ATN_x(ax)_t + ATN_h(ah)_t, each over its OWN window of past preactivations (ATN-3.2)
 *   [f, i, o, g] = pre_t split into blocks of H, in that order                  (ATN-3.3)
 *   c_t = σ(f) c_{t-1} + σ(i) tanh(g)                                          (ATN-3.4)
 *   h_t = σ(o) tanh(ATN_c(c)_t), ATN_c over the window of cell states c_0..c_t  (ATN-3.5)
 * h0 and c0 (the states before step 0) are inputs only: they are in no window.
 */
import { AtnError } from '../protocol/errors';
import type { LstmGrads } from '../protocol/types';
import { mapLstmArrays, type LstmArgs, type LstmArrays, type LstmVjpArgs } from '../protocol/args';
import { bigToDouble, leafToBig } from './convert';
import type { Expectation } from './contract';
import { atnForwardStep, atnVjpStep, lstmWindow, type WinStats } from './lstm-atn';
import { lstmTolerance } from './lstm-bounds';
import type { LstmFloatIn } from './lstm-float';
import type { Big, MathCtx } from './math';
import { floatUnit } from './tolerance';
import { mapTree } from '../util/tree';

export interface LstmExact {
  h: Big[][][]; // [T][B][H]
  c: Big[][][]; // [T][B][H]
}
export interface AffineBig {
  gain: Big[];
  bias: Big[];
}
/** The gradients with the structure of the protocol's LstmGrads, exact. */
export type LstmGradsBig = LstmGrads<Big>;
export interface LstmVjpExact extends LstmExact {
  grads: LstmGradsBig;
}

/** The inputs as Bigs (dtype-rounded exactly, ATN-7.1). */
export type LstmInputs = LstmArrays<Big> & { k: number; eps: Big; T: number; B: number; I: number; H: number };

/** Everything one sample's forward pass keeps for the backward pass and the bounds, indexed by step. */
export interface SampleForward {
  ax: Big[][];
  ah: Big[][];
  stX: WinStats[];
  stH: WinStats[];
  stC: WinStats[];
  pre: Big[][];
  sf: Big[][];
  si: Big[][];
  so: Big[][];
  tg: Big[][];
  c: Big[][];
  nc: Big[][];
  tnc: Big[][];
  h: Big[][];
}

export function lstmInputs(m: MathCtx, args: LstmArgs): LstmInputs {
  const d = args.dtype;
  const { k, T, B, I, H } = args;
  return { k, T, B, I, H, eps: leafToBig(m.Big, args.eps, d), ...mapLstmArrays(args, (l) => leafToBig(m.Big, l, d)) };
}

/** v W + bias (v of length rows(W)). */
function affine(m: MathCtx, v: readonly Big[], W: readonly Big[][], bias: readonly Big[]): Big[] {
  return bias.map((b0, n) => {
    let s = m.zero;
    for (let r = 0; r < v.length; r++) s = s.plus(v[r].times(W[r][n]));
    return s.plus(b0);
  });
}

export function forwardSample(m: MathCtx, inp: LstmInputs, b: number): SampleForward {
  const { k, eps, H } = inp;
  const f: SampleForward = { ax: [], ah: [], stX: [], stH: [], stC: [], pre: [], sf: [], si: [], so: [], tg: [], c: [], nc: [], tnc: [], h: [] };
  let hprev = inp.h0[b];
  let cprev = inp.c0[b];
  for (let t = 0; t < inp.T; t++) {
    f.ax.push(affine(m, inp.x[t][b], inp.w_xh, inp.b_x));
    f.ah.push(affine(m, hprev, inp.w_hh, inp.b_h));
    f.stX.push(lstmWindow(m, f.ax, t, k, eps, 'params.atn_x', b));
    f.stH.push(lstmWindow(m, f.ah, t, k, eps, 'params.atn_h', b));
    const nx = atnForwardStep(f.stX[t], inp.atn_x.gain, inp.atn_x.bias);
    const nh = atnForwardStep(f.stH[t], inp.atn_h.gain, inp.atn_h.bias);
    const pre = nx.map((v, n) => v.plus(nh[n]));
    f.pre.push(pre);
    const sf = pre.slice(0, H).map(m.sigmoid);
    const si = pre.slice(H, 2 * H).map(m.sigmoid);
    const so = pre.slice(2 * H, 3 * H).map(m.sigmoid);
    const tg = pre.slice(3 * H, 4 * H).map(m.tanh);
    const cp = cprev;
    const c = sf.map((fj, j) => fj.times(cp[j]).plus(si[j].times(tg[j])));
    f.sf.push(sf);
    f.si.push(si);
    f.so.push(so);
    f.tg.push(tg);
    f.c.push(c);
    f.stC.push(lstmWindow(m, f.c, t, k, eps, 'params.atn_c', b));
    const nc = atnForwardStep(f.stC[t], inp.atn_c.gain, inp.atn_c.bias);
    const tnc = nc.map(m.tanh);
    const h = so.map((oj, j) => oj.times(tnc[j]));
    f.nc.push(nc);
    f.tnc.push(tnc);
    f.h.push(h);
    hprev = h;
    cprev = c;
  }
  return f;
}

/** [T][B][H] from per-sample [T][H]. */
function byTime<V>(perSample: V[][][], T: number): V[][][] {
  return Array.from({ length: T }, (_, t) => perSample.map((s) => s[t]));
}

/** h and c as [T][B][H] from each sample's forward pass. */
function statesByTime<V>(fw: { h: V[][]; c: V[][] }[], T: number): { h: V[][][]; c: V[][][] } {
  return {
    h: byTime(
      fw.map((f) => f.h),
      T,
    ),
    c: byTime(
      fw.map((f) => f.c),
      T,
    ),
  };
}

export function lstmForward(m: MathCtx, args: LstmArgs): LstmExact {
  const inp = lstmInputs(m, args);
  const fw = Array.from({ length: inp.B }, (_, b) => forwardSample(m, inp, b));
  return statesByTime(fw, inp.T);
}

const zeros = (m: MathCtx, n: number): Big[] => Array.from({ length: n }, () => m.zero);
const zeros2 = (m: MathCtx, r: number, c: number): Big[][] => Array.from({ length: r }, () => zeros(m, c));

function zeroGrads(m: MathCtx, inp: LstmInputs): LstmGradsBig {
  const { T, B, I, H } = inp;
  const aff = (n: number): AffineBig => ({ gain: zeros(m, n), bias: zeros(m, n) });
  return {
    x: Array.from({ length: T }, () => zeros2(m, B, I)),
    h0: zeros2(m, B, H),
    c0: zeros2(m, B, H),
    w_xh: zeros2(m, I, 4 * H),
    w_hh: zeros2(m, H, 4 * H),
    b_x: zeros(m, 4 * H),
    b_h: zeros(m, 4 * H),
    atn_x: aff(4 * H),
    atn_h: aff(4 * H),
    atn_c: aff(H),
  };
}

/** BPTT for one sample, adding into g (parameter gradients sum over samples; x, h0, c0 rows are this sample's). */
export function backwardSample(m: MathCtx, inp: LstmInputs, f: SampleForward, dh: Big[][], b: number, g: LstmGradsBig): void {
  const { T, H } = inp;
  const dAx = zeros2(m, T, 4 * H);
  const dAh = zeros2(m, T, 4 * H);
  const dC = zeros2(m, T, H);
  let dHrec = zeros(m, H); // dL/dh_t through ah_{t+1}
  for (let t = T - 1; t >= 0; t--) {
    const dH = dh[t].map((d, j) => d.plus(dHrec[j]));
    const so = f.so[t];
    const tnc = f.tnc[t];
    const dso = dH.map((d, j) => d.times(tnc[j]));
    const dnc = dH.map((d, j) => d.times(so[j]).times(m.one.minus(tnc[j].times(tnc[j]))));
    // ATN_c window t sends gradient into c_{t0..t}; dC[t] is complete after it (later windows and c_{t+1} came first).
    atnVjpStep(m, f.stC[t], inp.atn_c.gain, dnc, dC, g.atn_c.gain, g.atn_c.bias);
    const dCt = dC[t];
    const cprev = t > 0 ? f.c[t - 1] : inp.c0[b];
    const [sf, si, tg] = [f.sf[t], f.si[t], f.tg[t]];
    const dfc = dCt.map((d, j) => d.times(sf[j]));
    if (t > 0) dC[t - 1] = dC[t - 1].map((v, j) => v.plus(dfc[j]));
    else g.c0[b] = dfc;
    const sig = (s: Big) => s.times(m.one.minus(s));
    const dpre = [
      ...dCt.map((d, j) => d.times(cprev[j]).times(sig(sf[j]))),
      ...dCt.map((d, j) => d.times(tg[j]).times(sig(si[j]))),
      ...dso.map((d, j) => d.times(sig(so[j]))),
      ...dCt.map((d, j) => d.times(si[j]).times(m.one.minus(tg[j].times(tg[j])))),
    ];
    atnVjpStep(m, f.stX[t], inp.atn_x.gain, dpre, dAx, g.atn_x.gain, g.atn_x.bias);
    atnVjpStep(m, f.stH[t], inp.atn_h.gain, dpre, dAh, g.atn_h.gain, g.atn_h.bias);
    // dAh[t], dAx[t] are complete now (windows t..t+k-1 are done).
    const hprev = t > 0 ? f.h[t - 1] : inp.h0[b];
    const xt = inp.x[t][b];
    const back = (d: Big[], W: Big[][]) => W.map((row) => row.reduce((s, w, n) => s.plus(w.times(d[n])), m.zero));
    const dhp = back(dAh[t], inp.w_hh);
    if (t > 0) dHrec = dhp;
    else g.h0[b] = dhp;
    g.x[t][b] = back(dAx[t], inp.w_xh);
    for (let n = 0; n < 4 * H; n++) {
      for (let r = 0; r < H; r++) g.w_hh[r][n] = g.w_hh[r][n].plus(hprev[r].times(dAh[t][n]));
      for (let r = 0; r < inp.I; r++) g.w_xh[r][n] = g.w_xh[r][n].plus(xt[r].times(dAx[t][n]));
      g.b_h[n] = g.b_h[n].plus(dAh[t][n]);
      g.b_x[n] = g.b_x[n].plus(dAx[t][n]);
    }
  }
}

/** h, c and the gradients of Σ dh ⊙ h w.r.t. every input (ATN-4.3), exact. */
export function lstmVjp(m: MathCtx, args: LstmVjpArgs): LstmVjpExact {
  const inp = lstmInputs(m, args);
  const fw = Array.from({ length: inp.B }, (_, b) => forwardSample(m, inp, b));
  const dh = args.dh.map((r) => r.map((v) => v.map((l) => leafToBig(m.Big, l, args.dtype))));
  const grads = zeroGrads(m, inp);
  fw.forEach((f, b) =>
    backwardSample(
      m,
      inp,
      f,
      dh.map((r) => r[b]),
      b,
      grads,
    ),
  );
  return { ...statesByTime(fw, inp.T), grads };
}

/** The exact gradients rounded to doubles, in the protocol's structure. */
export function gradsToDouble(g: LstmGradsBig, round: (x: Big) => number = bigToDouble): LstmGrads {
  const d = (v: unknown) => mapTree(v, (x) => round(x as Big)) as never;
  const aff = (a: AffineBig) => ({ gain: d(a.gain), bias: d(a.bias) });
  return {
    x: d(g.x),
    h0: d(g.h0),
    c0: d(g.c0),
    w_xh: d(g.w_xh),
    w_hh: d(g.w_hh),
    b_x: d(g.b_x),
    b_h: d(g.b_h),
    atn_x: aff(g.atn_x),
    atn_h: aff(g.atn_h),
    atn_c: aff(g.atn_c),
  };
}

/** Unit roundoff and smallest subnormal of a dtype (ATN-7). */
export function unitRoundoff(dtype: string): { u: number; lam: number } {
  if (dtype === 'float32' || dtype === 'float64') return floatUnit(dtype);
  throw new AtnError('unsupported_dtype', 'ATN-6.7', `dtype: expectations exist for float32 and float64, not ${dtype} (ATN-6.7)`, 'dtype');
}

/** The dtype-rounded inputs as doubles (exact: they are doubles or float32 values), for the tolerance analysis. */
export function floatInputs(args: LstmArgs | LstmVjpArgs): LstmFloatIn {
  const r = args.dtype === 'float32' ? Math.fround : (v: number) => v;
  const dh = (args as LstmVjpArgs).dh;
  return {
    k: args.k,
    eps: r(Number(args.eps)),
    ...mapLstmArrays(args, (l) => r(Number(l))),
    dh: dh ? dh.map((m) => m.map((row) => row.map((l) => r(Number(l))))) : undefined,
  };
}

/**
 * What a float32/float64 target must answer for lstm.forward ({h, c}) or lstm.vjp ({h, c, grads}) (ATN-7.1, ATN-7.4):
 * want = the exact result rounded to double, tol = the bound of reference/lstm-tolerance.md.
 */
export function lstmExpect(
  m: MathCtx,
  args: LstmArgs | LstmVjpArgs,
  op: 'lstm.forward' | 'lstm.vjp',
  round: (x: Big) => number = bigToDouble,
  knownTol?: Record<string, unknown>,
): Expectation {
  const { u, lam } = unitRoundoff(args.dtype);
  const d = (v: Big[][][]) => v.map((a) => a.map((b) => b.map((x) => round(x))));
  // want before tol: rounding the result is where the fast oracle finds it cannot decide (ATN-7.8), and the
  // tolerance, the same numbers on either path, is then computed once (on the exact path), not twice.
  if (op === 'lstm.forward') {
    const out = lstmForward(m, args);
    const want = { h: d(out.h), c: d(out.c) };
    if (knownTol) return { want, tol: knownTol };
    const tol = lstmTolerance({ ...floatInputs(args), dh: undefined }, u, lam);
    return { want, tol: { h: tol.h, c: tol.c } };
  }
  const out = lstmVjp(m, args as LstmVjpArgs);
  const want = { h: d(out.h), c: d(out.c), grads: gradsToDouble(out.grads, round) };
  if (knownTol) return { want, tol: knownTol };
  const tol = lstmTolerance(floatInputs(args), u, lam);
  return { want, tol: { h: tol.h, c: tol.c, grads: tol.grads! } };
}
