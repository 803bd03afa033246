/**
 * The ATN-LSTM with tfjs ops only (the "device" path), gradients by autodiff:
 * - lstmGraph: the layer, ATN_x over the whole sequence with atn(), ATN_h and ATN_c with AtnStream. It runs where
 *   tensors cannot be read synchronously (webgpu in Node), where the fused host path (lstm_core.ts) cannot; the tests
 *   use it as an independent cross-check of the hand-written BPTT.
 * - AtnLstmCell: one time step at a time (all three ATNs streamed), for online use; reset() starts a new sequence.
 */
import * as tf from '@tensorflow/tfjs';
import { atn } from './ops/atn';
import { AtnStream } from './ops/atn_stream';
import { matMul } from './ops/matmul';
import type { LstmOptions, LstmTensors } from './lstm_types';

/**
 * The inputs of ATN_x and ATN_h ([T][B][4H], tf.keep'd: the caller disposes them), filled by lstmGraph and by
 * lstm_webgpu.ts's fused layer when asked for. Why: both yield NaN for a degenerate window, and a^h is only known
 * while computing; the caller reads these with the outputs and checks them (ATN-6.6). ATN_c's inputs are the c
 * output itself.
 */
export interface LstmTaps {
  ax?: tf.Tensor3D;
  ah?: tf.Tensor3D;
}

/** a^x = x W_xh + b_x for every step at once ([T][B][4H], ATN-3.1): one product over the whole sequence. */
export function inputPreactivations(x: tf.Tensor3D, p: LstmTensors): tf.Tensor3D {
  const [T, B, I] = x.shape;
  return tf.reshape(tf.add(matMul(tf.reshape(x, [T * B, I]) as tf.Tensor2D, p.w_xh), p.b_x), [T, B, p.w_xh.shape[1]]) as tf.Tensor3D;
}

/** Gates and state update of one step from the two normalized preactivations (ATN-3.3..3.5). */
function update(zx: tf.Tensor2D, zh: tf.Tensor2D, c: tf.Tensor2D, atnC: AtnStream): { h: tf.Tensor2D; c: tf.Tensor2D } {
  const [f, i, o, g] = tf.split(tf.add(zx, zh), 4, 1);
  const cn = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g))) as tf.Tensor2D;
  return { h: tf.mul(tf.sigmoid(o), tf.tanh(atnC.step(cn))) as tf.Tensor2D, c: cn };
}

export function lstmGraph(
  x: tf.Tensor3D,
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
  p: LstmTensors,
  opts: LstmOptions,
  taps?: LstmTaps,
): { h: tf.Tensor3D; c: tf.Tensor3D } {
  const [T, B] = x.shape as [number, number, number];
  const G = 4 * (h0.shape[1] as number);
  const sh = new AtnStream({ k: opts.k, eps: opts.eps, gain: p.atn_h.gain, bias: p.atn_h.bias });
  const sc = new AtnStream({ k: opts.k, eps: opts.eps, gain: p.atn_c.gain, bias: p.atn_c.bias });
  try {
    return tf.tidy(() => {
      const ax = inputPreactivations(x, p);
      const yx = atn(ax, { k: opts.k, eps: opts.eps, gain: p.atn_x.gain, bias: p.atn_x.bias, path: opts.path });
      let h: tf.Tensor2D = h0,
        c: tf.Tensor2D = c0;
      const hs: tf.Tensor2D[] = [],
        cs: tf.Tensor2D[] = [],
        ahs: tf.Tensor2D[] = [];
      for (let t = 0; t < T; t++) {
        // A slice, not tf.unstack: tfjs's Unpack gradient fails for a single output (T = 1).
        const yt = tf.reshape(tf.slice(yx, [t, 0, 0], [1, B, G]), [B, G]) as tf.Tensor2D;
        const ah = tf.add(matMul(h, p.w_hh), p.b_h) as tf.Tensor2D;
        ahs.push(ah);
        ({ h, c } = update(yt, sh.step(ah), c, sc));
        hs.push(h);
        cs.push(c);
      }
      if (taps) {
        taps.ax = tf.keep(ax);
        taps.ah = tf.keep(tf.stack(ahs) as tf.Tensor3D);
      }
      return { h: tf.stack(hs) as tf.Tensor3D, c: tf.stack(cs) as tf.Tensor3D };
    });
  } finally {
    sh.dispose();
    sc.dispose();
  }
}

/**
 * The ATN-LSTM one step at a time: step(x_t [B][I], h, c) -> {h, c}. The windows of a^x, a^h and c are the steps fed
 * since construction or reset() (ATN-1.7); differentiable by autodiff like AtnStream. Same results as the layer.
 */
export class AtnLstmCell {
  private readonly sx: AtnStream;
  private readonly sh: AtnStream;
  private readonly sc: AtnStream;

  constructor(
    readonly params: LstmTensors,
    readonly opts: LstmOptions,
  ) {
    this.sx = new AtnStream({ k: opts.k, eps: opts.eps, gain: params.atn_x.gain, bias: params.atn_x.bias });
    this.sh = new AtnStream({ k: opts.k, eps: opts.eps, gain: params.atn_h.gain, bias: params.atn_h.bias });
    this.sc = new AtnStream({ k: opts.k, eps: opts.eps, gain: params.atn_c.gain, bias: params.atn_c.bias });
  }

  step(x: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D): { h: tf.Tensor2D; c: tf.Tensor2D } {
    const p = this.params;
    return tf.tidy(() => {
      const zx = this.sx.step(tf.add(matMul(x, p.w_xh), p.b_x) as tf.Tensor2D);
      const zh = this.sh.step(tf.add(matMul(h, p.w_hh), p.b_h) as tf.Tensor2D);
      return update(zx, zh, c, this.sc);
    });
  }

  /** A new sequence: every window starts empty. */
  reset(): void {
    this.sx.reset();
    this.sh.reset();
    this.sc.reset();
  }

  dispose(): void {
    this.reset();
  }
}
