/**
 * The JS API (api/index.ts, issue 11): plain-JS ATN functions, written here independently of the suite's (two-pass
 * window statistics in doubles, one loop per sample), checked in-process; the functions only see valid arguments; a
 * wrong one fails with the report's first problem and the mutant it behaves like.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { checkAtn, expectConforms, firstProblem, type AtnParams } from '../api';

/** ATN over a [T][B][H] sequence (ATN-1), straightforwardly; unbiased = true is the classic mistake (ATN-1.3). */
function atnJs(a: number[][][], { k, eps, gain, bias }: AtnParams, unbiased = false): number[][][] {
  return a.map((step, t) =>
    step.map((row, b) => {
      const win: number[] = [];
      for (let s = Math.max(0, t - k + 1); s <= t; s++) win.push(...a[s][b]);
      const mu = win.reduce((x, y) => x + y, 0) / win.length;
      const v = win.reduce((x, y) => x + (y - mu) ** 2, 0) / (unbiased ? win.length - 1 : win.length);
      return row.map((x, h) => (gain[h] * (x - mu)) / Math.sqrt(v + eps) + bias[h]);
    }),
  );
}

const CHECKS = [
  'atn.forward.agrees',
  'errors.k',
  'errors.eps',
  'errors.shape',
  'errors.degenerate-window',
  'T4.shift-invariance',
  'T7.prefix',
  'T8.per-step-shift',
];

describe('checkAtn', () => {
  it('a correct plain-JS forward passes the selected checks; it only ever sees valid arguments', async () => {
    const seen: string[] = [];
    const result = await checkAtn(
      {
        forward: (a, p) => {
          const H = a[0][0].length;
          const valid =
            Number.isInteger(p.k) &&
            p.k >= 1 &&
            p.eps >= 0 &&
            Number.isFinite(p.eps) &&
            p.gain.length === H &&
            p.bias.length === H &&
            a.every((m) => m.length === a[0].length && m.every((r) => r.length === H && r.every(Number.isFinite)));
          if (!valid) seen.push(JSON.stringify({ a, p }).slice(0, 200));
          return atnJs(a, p);
        },
      },
      { dtype: 'float64', runs: 10, only: CHECKS, diagnose: false },
    );
    expect(seen).toEqual([]);
    expect(result.checks.map((c) => c.id).sort()).toEqual([...CHECKS].sort());
    expect(firstProblem(result)).toBeUndefined();
    expect(() => expectConforms(result)).not.toThrow();
  }, 120_000);

  it('a wrong forward (unbiased variance) fails with the first problem and the mutant it behaves like', async () => {
    const result = await checkAtn({ forward: (a, p) => atnJs(a, p, true) }, { dtype: 'float64', runs: 10, only: ['atn.forward.agrees'] });
    expect(result.summary.failed).toBe(1);
    expect(() => expectConforms(result)).toThrow(/atn\.forward\.agrees: .*behaves like: unbiased-variance/s);
  }, 120_000);

  it('declared capabilities (eps fixed) are honoured: the function never sees another eps', async () => {
    const eps: number[] = [];
    const result = await checkAtn(
      { forward: (a, p) => (eps.push(p.eps), atnJs(a, p)) },
      { dtype: 'float32', runs: 10, eps: [1e-5], only: ['atn.forward.agrees', 'T2.scaling'], diagnose: false },
    );
    expect(new Set(eps)).toEqual(new Set([Math.fround(1e-5)]));
    expect(result.checks.find((c) => c.id === 'T2.scaling')?.status).toBe('skip');
  }, 120_000);

  it('a tfjs forward returning a tf.Tensor (tf.moments over each window slice) passes the selected checks at float32', async () => {
    const forward = (a: number[][][], { k, eps, gain, bias }: AtnParams): tf.Tensor =>
      tf.tidy(() => {
        const x = tf.tensor3d(a);
        const ys = a.map((_, t) => {
          const t0 = Math.max(0, t - k + 1);
          const { mean, variance } = tf.moments(x.slice([t0, 0, 0], [t - t0 + 1, -1, -1]), [0, 2], true);
          return x.slice([t, 0, 0], [1, -1, -1]).sub(mean).div(variance.add(eps).sqrt()).mul(tf.tensor1d(gain)).add(tf.tensor1d(bias));
        });
        return tf.concat(ys, 0);
      });
    const result = await checkAtn({ forward }, { dtype: 'float32', runs: 10, only: CHECKS, diagnose: false });
    expect(firstProblem(result)).toBeUndefined();
    expect(result.summary.passed).toBe(CHECKS.length);
  }, 120_000);
});
