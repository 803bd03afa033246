/**
 * The ATN-LSTM layer with tfjs ops only (the "device" path): ATN_x over the whole sequence with atn(), ATN_h and ATN_c
 * with AtnStream, gradients by autodiff. It runs where tensors cannot be read synchronously (webgpu in Node), where the
 * fused host path (lstm_core.ts) cannot; the tests use it as an independent cross-check of the hand-written BPTT.
 */
import * as tf from '@tensorflow/tfjs';
import { atn } from './ops/atn';
import { AtnStream } from './ops/atn_stream';
import { matMul } from './ops/matmul';
import type { LstmOptions, LstmTensors } from './lstm';

export function lstmGraph(x: tf.Tensor3D, h0: tf.Tensor2D, c0: tf.Tensor2D, p: LstmTensors, opts: LstmOptions): { h: tf.Tensor3D; c: tf.Tensor3D } {
  const [T, B, I] = x.shape as [number, number, number];
  const H = h0.shape[1] as number;
  const G = 4 * H;
  const sh = new AtnStream({ k: opts.k, eps: opts.eps, gain: p.atn_h.gain, bias: p.atn_h.bias });
  const sc = new AtnStream({ k: opts.k, eps: opts.eps, gain: p.atn_c.gain, bias: p.atn_c.bias });
  try {
    return tf.tidy(() => {
      const ax = tf.reshape(tf.add(matMul(tf.reshape(x, [T * B, I]) as tf.Tensor2D, p.w_xh), p.b_x), [T, B, G]) as tf.Tensor3D;
      const yx = tf.unstack(atn(ax, { k: opts.k, eps: opts.eps, gain: p.atn_x.gain, bias: p.atn_x.bias, path: opts.path }));
      let h: tf.Tensor2D = h0, c: tf.Tensor2D = c0;
      const hs: tf.Tensor2D[] = [], cs: tf.Tensor2D[] = [];
      for (let t = 0; t < T; t++) {
        const ah = tf.add(matMul(h, p.w_hh), p.b_h) as tf.Tensor2D;
        const [f, i, o, g] = tf.split(tf.add(yx[t], sh.step(ah)), 4, 1);
        c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
        h = tf.mul(tf.sigmoid(o), tf.tanh(sc.step(c)));
        hs.push(h);
        cs.push(c);
      }
      return { h: tf.stack(hs) as tf.Tensor3D, c: tf.stack(cs) as tf.Tensor3D };
    });
  } finally {
    sh.dispose();
    sc.dispose();
  }
}
