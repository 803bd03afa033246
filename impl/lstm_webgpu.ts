/**
 * The ATN-LSTM layer on the webgpu backend with fused kernels (path 'webgpu'): x W_xh + b_x for every step in one
 * product, ATN_x over the sequence as the op's fused kernels (atn_webgpu.ts), then the recurrence as ONE launch forward
 * and ONE launch for its BPTT (lstm_wgsl.ts: a workgroup per sample runs all T steps), attached with tf.customGrad;
 * after the BPTT launch, dW_hh = h_{t-1}^T da^h as one product and the sums over samples and steps as reductions.
 * Autodiff carries dL/dp through ATN_x and x W_xh. Everything stays on the device (no reads back).
 *
 * Where the recurrence's buffers exceed what the device binds in one storage buffer, lstmGraph (op-by-op tfjs ops
 * with the same fused ATN_x) runs instead: the same layer, slower.
 */
import * as tf from '@tensorflow/tfjs';
import { atn } from './ops/atn';
import { kernelDefects, run, runner, uniformData } from './ops/atn_webgpu';
import { BWD, FWD, offsets, recBackwardProgram, recForwardProgram, type RecDims } from './lstm_wgsl';
import { inputPreactivations, lstmGraph, type LstmTaps } from './lstm_graph';
import type { LstmOptions, LstmTensors } from './lstm_types';

/** The largest storage buffer the active webgpu device binds (WebGPU's default limit where it does not say). */
function maxBinding(): number {
  const dev = (tf.backend() as unknown as { device?: { limits?: { maxStorageBufferBindingSize?: number } } }).device;
  return dev?.limits?.maxStorageBufferBindingSize ?? 128 * 2 ** 20;
}

/** Whether the fused recurrence fits the device for these sizes (both buffers bound whole, float32). */
export function recurrenceFits(d: RecDims): boolean {
  const floats = Math.max(offsets(FWD, d).size, offsets(BWD, d).size);
  return 4 * floats <= maxBinding() && floats < 2 ** 31; // and every index an i32
}

/** Layers each way ran since the module loaded (the tests read it: proof that the fused recurrence is what ran). */
export const recurrenceRuns = { fused: 0, opByOp: 0 };

const slice1 = (t: tf.Tensor, at: number, n: number) => tf.slice(t as tf.Tensor1D, [at], [n]);

export function lstmWebgpu(
  x: tf.Tensor3D,
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
  p: LstmTensors,
  opts: LstmOptions,
  taps?: LstmTaps,
): { h: tf.Tensor3D; c: tf.Tensor3D } {
  runner();
  const [T, B] = x.shape as [number, number, number];
  const H = h0.shape[1] as number;
  const G = 4 * H;
  const dm: RecDims = { T, B, H };
  if (!recurrenceFits(dm)) {
    recurrenceRuns.opByOp++;
    return lstmGraph(x, h0, c0, p, { ...opts, path: 'webgpu' }, taps);
  }
  recurrenceRuns.fused++;
  const u = uniformData({ T, B, H, k: opts.k, eps: Math.fround(opts.eps), batchMajor: false });
  const F = offsets(FWD, dm),
    Bw = offsets(BWD, dm);
  const n = T * B * H;
  const defects = kernelDefects();
  const rec = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [yx, hc0, whh, vec] = args as tf.Tensor[];
    const save = args[4] as tf.GradSaveFunc;
    const fw = run(recForwardProgram(dm, defects), [yx, hc0, whh, vec], u);
    save([fw, hc0, whh, vec]);
    const value = tf.reshape(slice1(fw, F.h, 2 * n), [2, T, B, H]);
    if (taps) taps.ah = tf.keep(tf.reshape(slice1(fw, F.ah, T * B * G), [T, B, G]) as tf.Tensor3D);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sfw, shc0, swhh, svec] = saved;
      const bw = run(recBackwardProgram(dm, defects), [dy, sfw, shc0, tf.transpose(swhh), svec], u);
      const dp = slice1(bw, Bw.dp, T * B * G);
      const dah = tf.reshape(slice1(bw, Bw.dah, T * B * G), [T * B, G]);
      const h0s = tf.reshape(slice1(shc0, 0, B * H), [B, H]);
      const hPrev = T === 1 ? h0s : tf.concat([h0s, tf.reshape(slice1(sfw, F.h, (T - 1) * B * H), [(T - 1) * B, H])], 0);
      const perSample = (at: number, w: number) => tf.sum(tf.reshape(slice1(bw, at, B * w), [B, w]), 0);
      // the order of VEC: b_h, ATN_h's gain and bias, ATN_c's gain and bias
      const dvec = tf.concat([tf.sum(dah, 0), perSample(Bw.dgh, G), tf.sum(tf.reshape(dp, [T * B, G]), 0), perSample(Bw.dgc, H), perSample(Bw.doc, H)]);
      return [tf.reshape(dp, [T, B, G]), tf.concat([slice1(bw, Bw.dh, B * H), slice1(bw, Bw.dc, B * H)]), tf.matMul(tf.transpose(hPrev), dah), dvec];
    };
    return { value, gradFunc };
  }) as never) as unknown as (...t: tf.Tensor[]) => tf.Tensor4D;
  return tf.tidy(() => {
    const ax = inputPreactivations(x, p);
    if (taps) taps.ax = tf.keep(ax);
    const yx = atn(ax, { k: opts.k, eps: opts.eps, gain: p.atn_x.gain, bias: p.atn_x.bias, path: 'webgpu' });
    const hc0 = tf.concat([tf.reshape(h0, [B * H]), tf.reshape(c0, [B * H])]);
    const vec = tf.concat([p.b_h, p.atn_h.gain, p.atn_h.bias, p.atn_c.gain, p.atn_c.bias]); // VEC's order
    const out = rec(yx, hc0, p.w_hh, vec);
    const [h, c] = tf.unstack(out) as tf.Tensor3D[];
    return { h, c };
  });
}
