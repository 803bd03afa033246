/**
 * ATN-LSTM VJP (ATN-4.3) by backpropagation through time, float64, over the forward trace of lstm.ts, with the same
 * flags. Step t, going backwards: dh_t is complete (upstream + from a^h_{t+1}); through h = sig(o) tanh(ATN_c(c)) into
 * window t of ATN_c (which sends gradient into c_s, s <= t); then dc_t is complete; through the gates into window t of
 * ATN_x and ATN_h; then da^x_t and da^h_t are complete (every window that holds step t has been seen) and flow into x_t,
 * h_{t-1} and the weights.
 */
import type { LstmVjpArgs } from '../protocol/args';
import { atnStepVjp, type AtnAcc, type AtnSeq } from './atn-core';
import type { Flags } from './flags';
import type { LstmTrace } from './lstm';

export interface LstmGradsF64 {
  x: number[][][];
  h0: Float64Array;
  c0: Float64Array;
  w_xh: number[][];
  w_hh: number[][];
  b_x: Float64Array;
  b_h: Float64Array;
  atn_x: { gain: Float64Array; bias: Float64Array };
  atn_h: { gain: Float64Array; bias: Float64Array };
  atn_c: { gain: Float64Array; bias: Float64Array };
}

const accFor = (seq: AtnSeq): AtnAcc => ({
  da: new Float64Array(seq.steps.length * seq.B * seq.W),
  dgain: new Float64Array(seq.W),
  dbias: new Float64Array(seq.W),
});

export function lstmVjp(
  args: LstmVjpArgs,
  tr: LstmTrace,
  hs: Float64Array[],
  cs: Float64Array[],
  flags: Flags,
  num: (l: number | string) => number,
): LstmGradsF64 {
  const { T, B, I, H } = args;
  const G = 4 * H;
  const [F, In, O, Gg] = tr.cols;
  const dhUp = args.dh.map((m) => Float64Array.from(m.flat(), num));
  const { gx, btx, gh, bth, gc, btc } = tr.gains;
  const gxh = tr.shared ? [...gx, ...gh] : gx;
  const bxh = tr.shared ? [...btx, ...bth] : btx;
  const accX = accFor(tr.sx);
  const accH = accFor(tr.sh);
  const accC = accFor(tr.sc);
  const g: LstmGradsF64 = {
    x: Array.from({ length: T }, () => Array.from({ length: B }, () => new Array<number>(I).fill(0))),
    h0: new Float64Array(B * H),
    c0: new Float64Array(B * H),
    w_xh: Array.from({ length: I }, () => new Array<number>(G).fill(0)),
    w_hh: Array.from({ length: H }, () => new Array<number>(G).fill(0)),
    b_x: new Float64Array(G),
    b_h: new Float64Array(G),
    atn_x: { gain: new Float64Array(G), bias: new Float64Array(G) },
    atn_h: { gain: new Float64Array(G), bias: new Float64Array(G) },
    atn_c: { gain: new Float64Array(H), bias: new Float64Array(H) },
  };
  const noCellAtn = flags.has('lstm-no-cell-atn');
  // dc carried from step t+1 through c_{t+1} = sig(f) c_t + ...
  let dcNext = new Float64Array(B * H);
  let dhNext = new Float64Array(B * H); // from a^h_{t+1} = h_t W_hh + b_h
  for (let t = T - 1; t >= 0; t--) {
    const dh = dhUp[t].map((v, j) => v + dhNext[j]);
    const so = tr.so[t],
      tn = tr.tnc[t];
    const dnc = dh.map((v, j) => v * so[j] * (1 - tn[j] * tn[j]));
    const dc = new Float64Array(B * H);
    if (noCellAtn) dc.set(dnc);
    else atnStepVjp(tr.sc, t, gc, btc, flags, dnc, accC);
    // Every window holding c_t (t .. t+k-1) has been seen: its gradient in accC is complete.
    const off = t * B * H;
    for (let j = 0; j < B * H; j++) dc[j] += (noCellAtn ? 0 : accC.da[off + j]) + dcNext[j];
    const cPrev = t > 0 ? cs[t - 1] : tr.c0;
    const dgates = new Float64Array(B * G);
    const dcPrev = new Float64Array(B * H);
    for (let b = 0; b < B; b++)
      for (let i = 0; i < H; i++) {
        const j = b * H + i;
        const f = tr.sf[t][j],
          ii = tr.si[t][j],
          o = so[j],
          gg = tr.tg[t][j];
        dgates[b * G + F + i] = dc[j] * cPrev[j] * f * (1 - f);
        dgates[b * G + In + i] = dc[j] * gg * ii * (1 - ii);
        dgates[b * G + Gg + i] = dc[j] * ii * (1 - gg * gg);
        dgates[b * G + O + i] = dh[j] * tn[j] * o * (1 - o);
        dcPrev[j] = dc[j] * f;
      }
    // gates = ATN_x(a^x_t) + ATN_h(a^h_t): the same gradient into both windows.
    let daxT: Float64Array;
    let dahT: Float64Array;
    if (tr.shared) {
      const both = new Float64Array(B * 2 * G);
      for (let b = 0; b < B; b++) {
        both.set(dgates.subarray(b * G, (b + 1) * G), b * 2 * G);
        both.set(dgates.subarray(b * G, (b + 1) * G), b * 2 * G + G);
      }
      atnStepVjp(tr.sx, t, gxh, bxh, flags, both, accX);
      const row = accX.da.subarray(t * B * 2 * G, (t + 1) * B * 2 * G);
      daxT = new Float64Array(B * G);
      dahT = new Float64Array(B * G);
      for (let b = 0; b < B; b++) {
        daxT.set(row.subarray(b * 2 * G, b * 2 * G + G), b * G);
        dahT.set(row.subarray(b * 2 * G + G, (b + 1) * 2 * G), b * G);
      }
    } else {
      atnStepVjp(tr.sx, t, gx, btx, flags, dgates, accX);
      atnStepVjp(tr.sh, t, gh, bth, flags, dgates, accH);
      daxT = accX.da.subarray(t * B * G, (t + 1) * B * G);
      dahT = accH.da.subarray(t * B * G, (t + 1) * B * G);
    }
    const hPrev = t > 0 ? hs[t - 1] : tr.h0;
    const dhPrev = new Float64Array(B * H);
    for (let b = 0; b < B; b++)
      for (let j = 0; j < G; j++) {
        const vx = daxT[b * G + j];
        const vh = dahT[b * G + j];
        g.b_x[j] += vx;
        g.b_h[j] += vh;
        for (let m = 0; m < I; m++) {
          g.x[t][b][m] += vx * tr.wxh[m][j];
          g.w_xh[m][j] += tr.x[t][b][m] * vx;
        }
        for (let m = 0; m < H; m++) {
          dhPrev[b * H + m] += vh * tr.whh[m][j];
          g.w_hh[m][j] += hPrev[b * H + m] * vh;
        }
      }
    dhNext = dhPrev;
    dcNext = dcPrev;
  }
  g.h0.set(dhNext);
  g.c0.set(dcNext);
  if (tr.shared) {
    g.atn_x = { gain: accX.dgain.slice(0, G), bias: accX.dbias.slice(0, G) };
    g.atn_h = { gain: accX.dgain.slice(G), bias: accX.dbias.slice(G) };
  } else {
    g.atn_x = { gain: accX.dgain, bias: accX.dbias };
    g.atn_h = { gain: accH.dgain, bias: accH.dbias };
  }
  g.atn_c = { gain: accC.dgain, bias: accC.dbias };
  return g;
}
