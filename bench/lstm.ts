/**
 * ATN-LSTM training-step bench: one step = forward + BPTT + one adam update over the whole sequence, at the paper's
 * Adding shape. LN-LSTM is the same layer with k = 1 (ATN-2.1), so the ratio measures what the window costs.
 */
import * as tf from '@tensorflow/tfjs';
import { AtnLstm } from '../impl/lstm';
import { timeMedian } from './timing';

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
}

/** Median ms of one training step of an LSTM with window k. */
export async function lstmStepMs(s: LstmBenchShape, k: number, warmup: number, runs: number): Promise<number> {
  const model = new AtnLstm(s.I, s.H, { k, eps: 1e-5 }, 1);
  const x = tf.randomNormal([s.T, s.B, s.I], 0, 1, 'float32', 2) as tf.Tensor3D;
  const opt = tf.train.adam(1e-3);
  try {
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.apply(x).h)) as tf.Scalar, model.variables());
        opt.applyGradients(grads as never);
        return [value];
      });
    return await timeMedian(step, warmup, runs);
  } finally {
    opt.dispose();
    x.dispose();
    model.dispose();
  }
}

export async function benchLstm(s: LstmBenchShape, warmup: number, runs: number, rounds = 3): Promise<LstmBenchResult> {
  // Rounds interleave the two models so that a busy machine slows both alike; the best round of each counts.
  const ln: number[] = [], at: number[] = [];
  for (let r = 0; r < rounds; r++) {
    ln.push(await lstmStepMs(s, 1, warmup, runs));
    at.push(await lstmStepMs(s, s.k, warmup, runs));
  }
  const ln_step_ms = Math.min(...ln), atn_step_ms = Math.min(...at);
  return {
    ...s,
    ln_step_ms: round(ln_step_ms),
    atn_step_ms: round(atn_step_ms),
    atn_over_ln: round(atn_step_ms / ln_step_ms, 3),
    atn_tokens_per_s: Math.round((s.T * s.B) / (atn_step_ms / 1000)),
  };
}

export function round(x: number, d = 2): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
