/**
 * The ATN-LSTM layer on tfjs (ATN-3): one tf.customGrad over the whole recurrence, so that tf.grads, tf.variableGrads
 * and the tfjs optimizers train it; the forward pass and BPTT are the fused loops of lstm_core.ts with their matrix
 * products on the active backend. LN-LSTM is the same layer with k = 1 (ATN-2.1).
 */
import * as tf from '@tensorflow/tfjs';
import { badArgument } from '../protocol/errors';
import type { LstmGrads, Mat, Ten3, Vec } from '../protocol/types';
import type { Leaf, Leaf1, Leaf2, Leaf3, LstmArgs, LstmVjpArgs } from '../protocol/args';
import { coreBackward, coreForward, type CoreDims, type CoreOps, type CoreTape } from './lstm_core';
import { lstmGraph, type LstmTaps } from './lstm_graph';
import { lstmWebgpu } from './lstm_webgpu';
import { standardInit } from './lstm_init';
import { defaultPath } from './ops/atn';
import { checkDegenerate } from './ops/atn_window';

export { standardInit, orthogonal, tiledIdentity } from './lstm_init';
export { AtnLstmCell, lstmGraph, type LstmTaps } from './lstm_graph';

import type { LstmOptions, LstmTensors } from './lstm_types';
export type { Affine, LstmOptions, LstmTensors } from './lstm_types';

const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

function notInForward(): never {
  throw new Error('lstm: a backward product was asked for in the forward pass');
}

/** a^T d for a [m][p], d [m][q]: an explicit transpose on the backend, then a plain product. */
function productTN(a: Float32Array, m: number, p: number, d: Float32Array, q: number): Float32Array {
  let out: Float32Array | undefined;
  tf.tidy(() => {
    out = tf.matMul(tf.transpose(tf.tensor2d(a, [m, p])), tf.tensor2d(d, [m, q])).dataSync() as Float32Array;
  });
  return out!;
}

/** a [m][p] times b [p][q] on the backend; plain products only (no transpose flags: slow on wasm). */
function product(a: Float32Array, m: number, p: number, b: tf.Tensor2D | Float32Array, q: number): Float32Array {
  // The result leaves the scope through a variable: tf.tidy walks whatever its callback returns, element by element.
  let out: Float32Array | undefined;
  tf.tidy(() => {
    const bt = b instanceof Float32Array ? tf.tensor2d(b, [p, q]) : b;
    out = tf.matMul(tf.tensor2d(a, [m, p]), bt).dataSync() as Float32Array;
  });
  return out!;
}

function checkShapes(x: tf.Tensor, h0: tf.Tensor, c0: tf.Tensor, p: LstmTensors): { T: number; B: number; I: number; H: number } {
  if (x.rank !== 3) throw badArgument('x', 'ATN-6.3', `expected [T][B][I], got shape [${x.shape}]`);
  const [T, B, I] = x.shape as [number, number, number];
  if (h0.rank !== 2 || h0.shape[0] !== B) throw badArgument('h0', 'ATN-6.8', `expected [${B}][H], got shape [${h0.shape}]`);
  const H = h0.shape[1] as number;
  const G = 4 * H;
  const want: [string, tf.Tensor, number[]][] = [
    ['c0', c0, [B, H]],
    ['params.w_xh', p.w_xh, [I, G]],
    ['params.w_hh', p.w_hh, [H, G]],
    ['params.b_x', p.b_x, [G]],
    ['params.b_h', p.b_h, [G]],
    ['params.atn_x.gain', p.atn_x.gain, [G]],
    ['params.atn_x.bias', p.atn_x.bias, [G]],
    ['params.atn_h.gain', p.atn_h.gain, [G]],
    ['params.atn_h.bias', p.atn_h.bias, [G]],
    ['params.atn_c.gain', p.atn_c.gain, [H]],
    ['params.atn_c.bias', p.atn_c.bias, [H]],
  ];
  for (const [name, t, s] of want)
    if (t.shape.length !== s.length || t.shape.some((n, i) => n !== s[i])) throw badArgument(name, 'ATN-6.8', `expected shape [${s}], got [${t.shape}]`);
  return { T, B, I, H };
}

/**
 * The layer: h and c, each [T][B][H], differentiable in x, h0, c0 and every parameter. k >= 1, eps >= 0 (used as the
 * float32 value it rounds to). A degenerate window throws AtnError degenerate_window (ATN-6.6) on the host path (the
 * device path yields NaN there; `taps` then receives the ATN inputs for checking, see lstmForwardArrays).
 */
export function lstmLayer(
  x: tf.Tensor3D,
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
  p: LstmTensors,
  opts: LstmOptions,
  taps?: LstmTaps,
): { h: tf.Tensor3D; c: tf.Tensor3D } {
  const { T, B, I, H } = checkShapes(x, h0, c0, p);
  if (!Number.isInteger(opts.k) || opts.k < 1) throw badArgument('k', 'ATN-6.1', `must be a positive integer, got ${opts.k}`);
  if (!(opts.eps >= 0) || !Number.isFinite(opts.eps)) throw badArgument('eps', 'ATN-6.2', `must be finite and non-negative, got ${opts.eps}`);
  const path = opts.path ?? defaultPath();
  if (path === 'webgpu') return lstmWebgpu(x, h0, c0, p, opts, taps);
  if (path === 'device') return lstmGraph(x, h0, c0, p, opts, taps);
  const G = 4 * H;
  const dims: CoreDims = { T, B, I, H, k: opts.k, eps: Math.fround(opts.eps) };
  const layer = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [tx, th0, tc0, wxh, whh, bx, bh, gx, ox, gh, oh, gc, oc] = args as tf.Tensor[];
    const read = (t: tf.Tensor) => t.dataSync() as Float32Array;
    const wxhData = Float32Array.from(read(wxh)),
      whhData = Float32Array.from(read(whh));
    const v = {
      b_x: f64(read(bx)),
      b_h: f64(read(bh)),
      gx: f64(read(gx)),
      ox: f64(read(ox)),
      gh: f64(read(gh)),
      oh: f64(read(oh)),
      gc: f64(read(gc)),
      oc: f64(read(oc)),
    };
    const fwdOps: CoreOps = {
      xW: (a, rows) => product(a, rows, I, wxh as tf.Tensor2D, G),
      hW: (a, rows) => product(a, rows, H, whh as tf.Tensor2D, G),
      dWhT: notInForward,
      tn: notInForward,
      xGrads: notInForward,
    };
    const tape: CoreTape = coreForward(dims, v, fwdOps, Float32Array.from(read(tx)), wxhData, Float32Array.from(read(th0)), f64(read(tc0)));
    const out = new Float32Array(2 * T * B * H);
    out.set(tape.hAll.subarray(B * H), 0);
    out.set(tape.C, T * B * H);
    return {
      value: tf.tensor4d(out, [2, T, B, H]),
      gradFunc: (dy: tf.Tensor) => {
        const dyData = dy.dataSync() as Float32Array;
        const n = T * B * H;
        const whhT = tf.tensor2d(transpose(whhData, H, G), [G, H]);
        const wxhT = tf.tensor2d(transpose(wxhData, I, G), [G, I]);
        try {
          const ops: CoreOps = {
            ...fwdOps,
            dWhT: (a, rows) => product(a, rows, G, whhT, H),
            tn: (a, m, pp, dd, q) => productTN(a, m, pp, dd, q),
            xGrads: (dAx, xs, rows) => {
              // one upload of dAx for both products
              let dx: Float32Array | undefined, dW: Float32Array | undefined;
              tf.tidy(() => {
                const t = tf.tensor2d(dAx, [rows, G]);
                dx = tf.matMul(t, wxhT).dataSync() as Float32Array;
                dW = tf.matMul(tf.transpose(tf.tensor2d(xs, [rows, I])), t).dataSync() as Float32Array;
              });
              return { dx: dx!, dW: dW! };
            },
          };
          const g = coreBackward(tape, ops, dyData.subarray(0, n), dyData.subarray(n));
          const t1 = (a: ArrayLike<number>) => tf.tensor1d(Float32Array.from(a));
          return [
            tf.tensor3d(g.x, [T, B, I]),
            tf.tensor2d(g.h0, [B, H]),
            tf.tensor2d(Float32Array.from(g.c0), [B, H]),
            tf.tensor2d(g.w_xh, [I, G]),
            tf.tensor2d(g.w_hh, [H, G]),
            t1(g.b_x),
            t1(g.b_h),
            t1(g.gx),
            t1(g.ox),
            t1(g.gh),
            t1(g.oh),
            t1(g.gc),
            t1(g.oc),
          ];
        } finally {
          whhT.dispose();
          wxhT.dispose();
        }
      },
    };
  });
  return tf.tidy(() => {
    const out = layer(x, h0, c0, p.w_xh, p.w_hh, p.b_x, p.b_h, p.atn_x.gain, p.atn_x.bias, p.atn_h.gain, p.atn_h.bias, p.atn_c.gain, p.atn_c.bias);
    const [h, c] = tf.unstack(out) as tf.Tensor3D[];
    return { h, c };
  });
}

/** Parameter tensors from flat arrays (the shapes of LstmTensors). */
export function lstmTensors(a: ReturnType<typeof standardInit>, I: number, H: number, asVariables = false): LstmTensors {
  const G = 4 * H;
  const mk2 = (d: Float32Array, s: [number, number]) => (asVariables ? tf.variable(tf.tensor2d(d, s)) : tf.tensor2d(d, s)) as tf.Tensor2D;
  const mk1 = (d: Float32Array) => (asVariables ? tf.variable(tf.tensor1d(d)) : tf.tensor1d(d)) as tf.Tensor1D;
  return {
    w_xh: mk2(a.w_xh, [I, G]),
    w_hh: mk2(a.w_hh, [H, G]),
    b_x: mk1(a.b_x),
    b_h: mk1(a.b_h),
    atn_x: { gain: mk1(a.atn_x.gain), bias: mk1(a.atn_x.bias) },
    atn_h: { gain: mk1(a.atn_h.gain), bias: mk1(a.atn_h.bias) },
    atn_c: { gain: mk1(a.atn_c.gain), bias: mk1(a.atn_c.bias) },
  };
}

/** Every tensor of a parameter set, in a fixed order (w_xh, w_hh, b_x, b_h, atn_x, atn_h, atn_c gain/bias). */
export function lstmTensorList(p: LstmTensors): tf.Tensor[] {
  return [p.w_xh, p.w_hh, p.b_x, p.b_h, p.atn_x.gain, p.atn_x.bias, p.atn_h.gain, p.atn_h.bias, p.atn_c.gain, p.atn_c.bias];
}

/**
 * A trainable ATN-LSTM: standard initialisation (ATN-3.6), parameters as tf.Variables for tf.variableGrads and the
 * optimizers. k = 1 is the LN-LSTM baseline.
 */
export class AtnLstm {
  readonly params: LstmTensors<tf.Variable<tf.Rank.R2>, tf.Variable<tf.Rank.R1>>;
  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    readonly opts: LstmOptions,
    seed = 0,
  ) {
    this.params = lstmTensors(standardInit(inputSize, hiddenSize, seed), inputSize, hiddenSize, true) as AtnLstm['params'];
  }

  /** h, c for x [T][B][I]; h0, c0 default to zeros. */
  apply(x: tf.Tensor3D, h0?: tf.Tensor2D, c0?: tf.Tensor2D): { h: tf.Tensor3D; c: tf.Tensor3D } {
    const B = x.shape[1],
      H = this.hiddenSize;
    return tf.tidy(() => lstmLayer(x, h0 ?? tf.zeros([B, H]), c0 ?? tf.zeros([B, H]), this.params, this.opts));
  }

  variables(): tf.Variable[] {
    return lstmTensorList(this.params) as tf.Variable[];
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}

// ---- protocol arrays (the impl target's lstm.forward / lstm.vjp) ----

const num = (l: Leaf): number => (typeof l === 'number' ? l : Number(l));
const flat1 = (a: Leaf1) => Float32Array.from(a, num);
const flat2 = (a: Leaf2) => Float32Array.from(a.flat(), num);
const flat3 = (a: Leaf3) => Float32Array.from(a.flat(2), num);

function argTensors(args: LstmArgs): { x: tf.Tensor3D; h0: tf.Tensor2D; c0: tf.Tensor2D; p: LstmTensors } {
  const { T, B, I, H, params: q } = args;
  const G = 4 * H;
  return {
    x: tf.tensor3d(flat3(args.x), [T, B, I]),
    h0: tf.tensor2d(flat2(args.h0), [B, H]),
    c0: tf.tensor2d(flat2(args.c0), [B, H]),
    p: {
      w_xh: tf.tensor2d(flat2(q.w_xh), [I, G]),
      w_hh: tf.tensor2d(flat2(q.w_hh), [H, G]),
      b_x: tf.tensor1d(flat1(q.b_x)),
      b_h: tf.tensor1d(flat1(q.b_h)),
      atn_x: { gain: tf.tensor1d(flat1(q.atn_x.gain)), bias: tf.tensor1d(flat1(q.atn_x.bias)) },
      atn_h: { gain: tf.tensor1d(flat1(q.atn_h.gain)), bias: tf.tensor1d(flat1(q.atn_h.bias)) },
      atn_c: { gain: tf.tensor1d(flat1(q.atn_c.gain)), bias: tf.tensor1d(flat1(q.atn_c.bias)) },
    },
  };
}

/**
 * ATN-6.6 for the device path, which yields NaN instead of throwing: with eps = 0, a window of ATN_x, ATN_h or ATN_c
 * whose entries are all equal. The inputs of ATN_x and ATN_h come from the taps, those of ATN_c are c itself. Checked
 * in this order, so the window named is the first one the host path would have met (a degenerate window makes every
 * later entry NaN, and NaN entries never look constant).
 */
function checkTaps(taps: Float32Array[], c: Ten3, T: number, B: number, H: number, k: number, eps32: number): void {
  const [ax, ah] = taps;
  checkDegenerate(ax, T, B, 4 * H, k, eps32, 'ATN_x');
  checkDegenerate(ah, T, B, 4 * H, k, eps32, 'ATN_h');
  checkDegenerate(Float32Array.from(c.flat(2)), T, B, H, k, eps32, 'ATN_c');
}

/** Reads h, c (and the taps, when the device path filled them) without synchronous reads, and frees the tensors. */
async function readOutputs(h: tf.Tensor, c: tf.Tensor, taps: LstmTaps, more: tf.Tensor[] = []) {
  const tapList = taps.ax && taps.ah ? [taps.ax, taps.ah] : [];
  try {
    const [hv, cv, ...rest] = await Promise.all([h, c, ...more].map((t) => t.array()));
    const tv = (await Promise.all(tapList.map((t) => t.data()))) as Float32Array[];
    return { h: hv as Ten3, c: cv as Ten3, more: rest, taps: tv };
  } finally {
    tf.dispose([h, c, ...more, ...tapList]);
  }
}

/** lstm.forward on parsed arguments (float32): h and c as [T][B][H] arrays. `path` as in LstmOptions. */
export async function lstmForwardArrays(args: LstmArgs, path?: LstmOptions['path']): Promise<{ h: Ten3; c: Ten3 }> {
  const taps: LstmTaps = {};
  const eps = num(args.eps);
  const [h, c] = tf.tidy(() => {
    const { x, h0, c0, p } = argTensors(args);
    const r = lstmLayer(x, h0, c0, p, { k: args.k, eps, path }, taps);
    return [r.h, r.c];
  });
  const out = await readOutputs(h, c, taps);
  if (out.taps.length) checkTaps(out.taps, out.c, args.T, args.B, args.H, args.k, Math.fround(eps));
  return { h: out.h, c: out.c };
}

/** lstm.vjp on parsed arguments (float32): h, c and the gradient of sum(dh * h) with respect to every input. */
export async function lstmVjpArrays(args: LstmVjpArgs, path?: LstmOptions['path']): Promise<{ h: Ten3; c: Ten3; grads: LstmGrads }> {
  const taps: LstmTaps = {};
  const eps = num(args.eps);
  const [hv, cv, ...gt] = tf.tidy(() => {
    const { x, h0, c0, p } = argTensors(args);
    const { T, B, H } = args;
    const dh = tf.tensor3d(flat3(args.dh), [T, B, H]);
    const inputs = [x, h0, c0, ...lstmTensorList(p)];
    let hk: tf.Tensor3D | undefined, ck: tf.Tensor3D | undefined;
    const f = (...t: tf.Tensor[]) => {
      const [tx, th0, tc0, wxh, whh, bx, bh, gx, ox, gh, oh, gc, oc] = t;
      const r = lstmLayer(
        tx as tf.Tensor3D,
        th0 as tf.Tensor2D,
        tc0 as tf.Tensor2D,
        {
          w_xh: wxh as tf.Tensor2D,
          w_hh: whh as tf.Tensor2D,
          b_x: bx as tf.Tensor1D,
          b_h: bh as tf.Tensor1D,
          atn_x: { gain: gx as tf.Tensor1D, bias: ox as tf.Tensor1D },
          atn_h: { gain: gh as tf.Tensor1D, bias: oh as tf.Tensor1D },
          atn_c: { gain: gc as tf.Tensor1D, bias: oc as tf.Tensor1D },
        },
        { k: args.k, eps, path },
        taps,
      );
      hk = tf.keep(r.h);
      ck = tf.keep(r.c);
      return r.h;
    };
    const g = tf.grads(f)(inputs, dh);
    return [hk!, ck!, ...g];
  });
  const out = await readOutputs(hv, cv, taps, gt);
  if (out.taps.length) checkTaps(out.taps, out.c, args.T, args.B, args.H, args.k, Math.fround(eps));
  const g = out.more;
  const a1 = (i: number) => g[i] as Vec;
  const grads: LstmGrads = {
    x: g[0] as Ten3,
    h0: g[1] as Mat,
    c0: g[2] as Mat,
    w_xh: g[3] as Mat,
    w_hh: g[4] as Mat,
    b_x: a1(5),
    b_h: a1(6),
    atn_x: { gain: a1(7), bias: a1(8) },
    atn_h: { gain: a1(9), bias: a1(10) },
    atn_c: { gain: a1(11), bias: a1(12) },
  };
  return { h: out.h, c: out.c, grads };
}

/** The LN-LSTM baseline: the ATN-LSTM with k = 1 (ATN-2.1), same initialisation and training. */
export class LnLstm extends AtnLstm {
  constructor(inputSize: number, hiddenSize: number, eps = 1e-5, seed = 0) {
    super(inputSize, hiddenSize, { k: 1, eps }, seed);
  }
}
