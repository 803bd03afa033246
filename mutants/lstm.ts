/**
 * ATN-LSTM forward (ATN-3) in plain JS, float64 arithmetic, with the ATN-LSTM mistakes of flags.ts switchable. The
 * three ATNs run in streaming form (atnStep over the steps computed so far): a^h_t needs h_{t-1} first.
 */
import type { LstmArgs } from '../protocol/args';
import { atnStep, type AtnSeq } from './atn-core';
import type { Flags } from './flags';

export interface LstmWindows {
  /** Constant steps before step 0 of each ATN's sequence (leaked state): a^x, a^h, c (or a^x|a^h shared). */
  x: Float64Array[];
  h: Float64Array[];
  c: Float64Array[];
}

export interface LstmOut {
  h: Float64Array[]; // T steps of B*H
  c: Float64Array[];
  /** The sequences each ATN saw, for the next request of a leaking target. */
  seqs: LstmWindows;
  /** What the backward pass (lstm-vjp.ts) needs. */
  trace: LstmTrace;
}

export interface LstmTrace {
  x: number[][][];
  wxh: number[][];
  whh: number[][];
  h0: Float64Array;
  c0: Float64Array;
  gains: { gx: number[]; btx: number[]; gh: number[]; bth: number[]; gc: number[]; btc: number[] };
  /** The ATN sequences: a^x (or a^x|a^h when shared), a^h, c. */
  sx: AtnSeq;
  sh: AtnSeq;
  sc: AtnSeq;
  shared: boolean;
  /** Gate column offsets [F, In, O, G]. */
  cols: [number, number, number, number];
  /** Per step, B*H each: sigmoid(f), sigmoid(i), sigmoid(o), tanh(g), tanh(ATN_c(c)). */
  sf: Float64Array[];
  si: Float64Array[];
  so: Float64Array[];
  tg: Float64Array[];
  tnc: Float64Array[];
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

export function lstmForward(args: LstmArgs, flags: Flags, num: (leaf: number | string) => number, leaked?: LstmWindows): LstmOut {
  const { T, B, I, H, k } = args;
  const G = 4 * H;
  const eps = num(args.eps);
  const f32 = args.dtype === 'float32';
  const p = args.params;
  const wxh = p.w_xh.map((r) => r.map(num));
  const whh = p.w_hh.map((r) => r.map(num));
  const bx = p.b_x.map(num);
  const bh = p.b_h.map(num);
  const gx = p.atn_x.gain.map(num),
    btx = p.atn_x.bias.map(num);
  const gh = p.atn_h.gain.map(num),
    bth = p.atn_h.bias.map(num);
  const gc = p.atn_c.gain.map(num),
    btc = p.atn_c.bias.map(num);
  const shared = flags.has('lstm-shared-window');
  const chunk = flags.has('lstm-window-reset-8') ? 8 : undefined;
  const seq = (W: number, prefix: Float64Array[]): AtnSeq => ({ steps: [], prefix, B, W, k, eps, f32, chunk });
  const sx = seq(shared ? 2 * G : G, leaked?.x ?? []);
  const sh = seq(G, leaked?.h ?? []);
  const c0 = Float64Array.from(args.c0.flat().map(num));
  const cPrefix = flags.has('lstm-c0-in-window') ? [c0] : (leaked?.c ?? []);
  const sc = seq(H, cPrefix);
  const gxh = shared ? [...gx, ...gh] : gx;
  const bxh = shared ? [...btx, ...bth] : btx;

  let h = Float64Array.from(args.h0.flat().map(num));
  let c = c0;
  const hs: Float64Array[] = [];
  const cs: Float64Array[] = [];
  // Gate column offsets: [f, i, o, g] (ATN-3.3); the ifog mistake reads i and f from each other's columns.
  const cols: [number, number, number, number] = flags.has('lstm-gate-order-ifog') ? [H, 0, 2 * H, 3 * H] : [0, H, 2 * H, 3 * H];
  const [F, In, O, Gg] = cols;
  const xs = args.x.map((m) => m.map((r) => r.map(num)));
  const sf: Float64Array[] = [],
    si: Float64Array[] = [],
    so: Float64Array[] = [],
    tg: Float64Array[] = [],
    tnc: Float64Array[] = [];
  for (let t = 0; t < T; t++) {
    const ax = new Float64Array(B * G);
    const ah = new Float64Array(B * G);
    for (let b = 0; b < B; b++)
      for (let j = 0; j < G; j++) {
        let vx = bx[j];
        for (let m = 0; m < I; m++) vx += xs[t][b][m] * wxh[m][j];
        let vh = bh[j];
        for (let m = 0; m < H; m++) vh += h[b * H + m] * whh[m][j];
        ax[b * G + j] = vx;
        ah[b * G + j] = vh;
      }
    let nx: Float64Array;
    let nh: Float64Array;
    if (shared) {
      const both = new Float64Array(B * 2 * G);
      for (let b = 0; b < B; b++) {
        both.set(ax.subarray(b * G, (b + 1) * G), b * 2 * G);
        both.set(ah.subarray(b * G, (b + 1) * G), b * 2 * G + G);
      }
      sx.steps.push(both);
      const y = atnStep(sx, t, gxh, bxh, flags);
      nx = new Float64Array(B * G);
      nh = new Float64Array(B * G);
      for (let b = 0; b < B; b++) {
        nx.set(y.subarray(b * 2 * G, b * 2 * G + G), b * G);
        nh.set(y.subarray(b * 2 * G + G, (b + 1) * 2 * G), b * G);
      }
    } else {
      sx.steps.push(ax);
      sh.steps.push(ah);
      nx = atnStep(sx, t, gx, btx, flags);
      nh = atnStep(sh, t, gh, bth, flags);
    }
    const cNew = new Float64Array(B * H);
    const o = new Float64Array(B * H);
    const [f1, i1, g1] = [new Float64Array(B * H), new Float64Array(B * H), new Float64Array(B * H)];
    for (let b = 0; b < B; b++)
      for (let i = 0; i < H; i++) {
        const gate = (off: number) => nx[b * G + off + i] + nh[b * G + off + i];
        const j = b * H + i;
        f1[j] = sigmoid(gate(F));
        i1[j] = sigmoid(gate(In));
        g1[j] = Math.tanh(gate(Gg));
        cNew[j] = f1[j] * c[j] + i1[j] * g1[j];
        o[j] = sigmoid(gate(O));
      }
    sf.push(f1);
    si.push(i1);
    so.push(o);
    tg.push(g1);
    sc.steps.push(cNew);
    const nc = flags.has('lstm-no-cell-atn') ? cNew : atnStep(sc, t, gc, btc, flags);
    const hNew = new Float64Array(B * H);
    const tn = nc.map(Math.tanh);
    tnc.push(tn);
    for (let j = 0; j < B * H; j++) hNew[j] = o[j] * tn[j];
    hs.push(hNew);
    cs.push(cNew);
    h = hNew;
    c = cNew;
  }
  const h0 = Float64Array.from(args.h0.flat().map(num));
  return {
    h: hs,
    c: cs,
    seqs: { x: [...sx.prefix, ...sx.steps], h: [...sh.prefix, ...sh.steps], c: [...sc.prefix, ...sc.steps] },
    trace: { x: xs, wxh, whh, h0, c0, gains: { gx, btx, gh, bth, gc, btc }, sx, sh, sc, shared, cols, sf, si, so, tg, tnc },
  };
}
