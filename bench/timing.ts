/** Timing helpers of the bench: warm-up, then the median of several runs, each ending in a data read (async backends). */
import type * as tf from '@tensorflow/tfjs';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `step` warmup times, then `runs` times; returns the median wall time in ms. `step` returns tensors to read. */
export async function timeMedian(step: () => tf.Tensor[], warmup: number, runs: number): Promise<number> {
  const once = async () => {
    const t0 = performance.now();
    const out = step();
    await Promise.all(out.map((t) => t.data()));
    const dt = performance.now() - t0;
    for (const t of out) t.dispose();
    return dt;
  };
  for (let i = 0; i < warmup; i++) await once();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) ts.push(await once());
  return median(ts);
}
