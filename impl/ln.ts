/**
 * Layer normalization (ATN-2.1): ATN with k = 1 over the last axis, so LN and ATN share one numerically careful path
 * (per-row scaling by a power of two, two-pass statistics, closed-form gradient) and T1 (ATN-5.1) holds by construction
 * of the code as well as by the mathematics.
 */
import * as tf from '@tensorflow/tfjs';
import { atn, type AtnOptions } from './ops/atn';

export interface LnOptions {
  eps: number;
  gain?: tf.Tensor1D;
  bias?: tf.Tensor1D;
  path?: AtnOptions['path'];
}

/** LN of x over its last axis (any rank >= 1); differentiable in x, gain and bias. */
export function layerNorm<T extends tf.Tensor>(x: T, opts: LnOptions): T {
  // A rank-3 x goes in as it is: at k = 1 every row is its own window, whatever the first two axes mean. (Under a
  // gradient tape tfjs's Reshape saves its input, a copy of x on wasm: two reshapes cost more than the op's own loops.)
  if (x.rank === 3) return atn(x as unknown as tf.Tensor3D, { k: 1, eps: opts.eps, gain: opts.gain, bias: opts.bias, path: opts.path }) as unknown as T;
  return tf.tidy(() => {
    const H = x.shape[x.rank - 1] as number;
    const rows = x.size / H;
    const y = atn(tf.reshape(x, [1, rows, H]), { k: 1, eps: opts.eps, gain: opts.gain, bias: opts.bias, path: opts.path });
    return tf.reshape(y, x.shape) as T;
  });
}
