/**
 * ATN op bench: forward + backward of atn() (impl/ops/atn.ts) at several k against LN of the same shape (impl/ln.ts,
 * the implementation's own LN). atn_over_ln says what the window costs; k128_over_k4 whether the cost depends on k.
 */
import * as tf from '@tensorflow/tfjs';
import { layerNorm } from '../impl/ln';
import { atn } from '../impl/ops/atn';
import { round } from './lstm';
import { timeInterleaved } from './timing';

export const OP_SHAPE: [number, number, number] = [128, 32, 256];
export const OP_KS = [1, 4, 16, 64, 128] as const;

export interface OpBenchResult {
  shape: [number, number, number];
  ln_ms: number;
  atn_ms: Record<string, number>;
  atn_over_ln: Record<string, number>;
  k128_over_k4: number;
}

/** One forward + backward (the VJP for a random dy) of `f` in a, gain, bias. */
function fwdBwd(f: (a: tf.Tensor3D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor3D, a: tf.Tensor3D, g: tf.Tensor1D, b: tf.Tensor1D, dy: tf.Tensor3D): () => tf.Tensor[] {
  const vg = tf.valueAndGrads((x: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => f(x as tf.Tensor3D, gg as tf.Tensor1D, bb as tf.Tensor1D));
  return () => {
    const { value, grads } = vg([a, g, b], dy);
    return [value, ...grads];
  };
}

export async function benchOp(shape: [number, number, number], warmup: number, runs: number): Promise<OpBenchResult> {
  const H = shape[2];
  const a = tf.randomNormal(shape, 0, 1, 'float32', 3) as tf.Tensor3D;
  const dy = tf.randomNormal(shape, 0, 1, 'float32', 4) as tf.Tensor3D;
  const g = tf.randomNormal([H], 1, 0.1, 'float32', 5) as tf.Tensor1D;
  const b = tf.randomNormal([H], 0, 0.1, 'float32', 6) as tf.Tensor1D;
  const eps = 1e-5;
  try {
    const ln = fwdBwd((x, gg, bb) => layerNorm(x, { eps, gain: gg, bias: bb }), a, g, b, dy);
    const atns = OP_KS.map((k) => fwdBwd((x, gg, bb) => atn(x, { k, eps, gain: gg, bias: bb }), a, g, b, dy));
    const [lnT, ...atnT] = await timeInterleaved([ln, ...atns], warmup, runs);
    const lnMs = lnT.wall;
    const atnMs = atnT.map((t) => t.wall);
    const atn_ms: Record<string, number> = {}, atn_over_ln: Record<string, number> = {};
    OP_KS.forEach((k, i) => {
      atn_ms[k] = round(atnMs[i]);
      atn_over_ln[k] = round(atnMs[i] / lnMs, 3);
    });
    return { shape, ln_ms: round(lnMs), atn_ms, atn_over_ln, k128_over_k4: round(atnMs[OP_KS.indexOf(128)] / atnMs[OP_KS.indexOf(4)], 3) };
  } finally {
    tf.dispose([a, dy, g, b]);
  }
}
