/**
 * ATN-LSTM training-step bench: one step = forward + BPTT + one adam update over the whole sequence, at the paper's
 * Adding shape. LN-LSTM is the same layer with k = 1 (ATN-2.1), so the ratio measures what the window costs.
 */
import * as tf from '@tensorflow/tfjs';
import { AtnLstm } from '../impl/lstm';
import { defaultPath } from '../impl/ops/atn';
import { recurrenceFits } from '../impl/lstm_webgpu';
import { timeInterleaved } from './timing';

export interface LstmBenchShape {
  T: number;
  B: number;
  I: number;
  H: number;
  k: number;
}

export const LSTM_SHAPE: LstmBenchShape = { T: 100, B: 50, I: 2, H: 128, k: 25 };

export interface LstmBenchResult extends LstmBenchShape {
  ln_step_ms: number;
  atn_step_ms: number;
  atn_over_ln: number;
  atn_tokens_per_s: number;
  /** The same ATN-LSTM (k) as op-by-op tfjs ops with autodiff (impl/lstm_graph.ts, path 'device'): the baseline. */
  opbyop_atn_step_ms: number;
  opbyop_atn_tokens_per_s: number;
  /** Which code path each number is from. */
  paths: { ln: string; atn: string; opbyop_atn: string };
}

/** Process CPU ms per step (not in the JSON line: it shows in the table how much a busy machine slowed the run). */
export interface LstmCpu {
  ln_step_cpu_ms: number;
  atn_step_cpu_ms: number;
}

/** One training step of a fresh standard-initialised model with window k (returns the loss to read). */
function trainer(s: LstmBenchShape, k: number, x: tf.Tensor3D, path?: 'host' | 'webgpu' | 'device'): { step: () => tf.Tensor[]; dispose: () => void } {
  const model = new AtnLstm(s.I, s.H, { k, eps: 1e-5, path }, 1);
  const opt = tf.train.adam(1e-3);
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.apply(x).h)) as tf.Scalar, model.variables());
      opt.applyGradients(grads as never);
      return [value];
    });
  return { step, dispose: () => (opt.dispose(), model.dispose()) };
}

/** LN-LSTM (k = 1) and ATN-LSTM (k = s.k) training steps, timed interleaved (timing.ts). */
export async function benchLstm(s: LstmBenchShape, warmup: number, runs: number): Promise<LstmBenchResult & { cpu: LstmCpu }> {
  const x = tf.randomNormal([s.T, s.B, s.I], 0, 1, 'float32', 2) as tf.Tensor3D;
  const ln = trainer(s, 1, x),
    at = trainer(s, s.k, x),
    op = trainer(s, s.k, x, 'device');
  try {
    const [l, a] = await timeInterleaved([ln.step, at.step], warmup, runs);
    // the op-by-op baseline is slow on the CPU (hundreds of small kernels per step): a few runs of it suffice
    const [o] = await timeInterleaved([op.step], Math.min(warmup, 1), Math.min(runs, 3));
    const p = defaultPath();
    const hostPath =
      p === 'host'
        ? 'fused host loops (impl/lstm_core.ts)'
        : p === 'webgpu'
          ? recurrenceFits({ T: s.T, B: s.B, H: s.H })
            ? 'fused WGSL recurrence (impl/lstm_wgsl.ts: one launch forward, one for BPTT), ATN_x as the fused op'
            : 'tfjs ops (autodiff) with ATN_x as fused WGSL kernels (impl/lstm_graph.ts: too large for one storage buffer)'
          : 'op-by-op tfjs ops (autodiff)';
    return {
      cpu: { ln_step_cpu_ms: round(l.cpu), atn_step_cpu_ms: round(a.cpu) },
      ...s,
      ln_step_ms: round(l.wall),
      atn_step_ms: round(a.wall),
      atn_over_ln: round(a.wall / l.wall, 3),
      atn_tokens_per_s: Math.round((s.T * s.B) / (a.wall / 1000)),
      opbyop_atn_step_ms: round(o.wall),
      opbyop_atn_tokens_per_s: Math.round((s.T * s.B) / (o.wall / 1000)),
      paths: { ln: hostPath, atn: hostPath, opbyop_atn: 'op-by-op tfjs ops (autodiff, impl/lstm_graph.ts)' },
    };
  } finally {
    ln.dispose();
    at.dispose();
    op.dispose();
    x.dispose();
  }
}

export function round(x: number, d = 2): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
