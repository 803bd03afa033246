/** Timing helpers of the bench: warm-up, then the median of several runs, each ending in a data read (async backends). */
import * as tf from '@tensorflow/tfjs';

/**
 * Backends whose kernels have finished when the op returns (the result lies in host or wasm memory): reading the data
 * there would time a copy of every output, which no peer's number (torch's included) contains.
 */
const SYNC_BACKENDS = new Set(['wasm', 'cpu', 'tensorflow']);

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Process CPU time in ms (user + system): beside wall time it shows how much a busy machine slowed a run. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface Timing {
  /** Median wall time of one run, ms. */
  wall: number;
  /** Median process CPU time of one run, ms. */
  cpu: number;
}

/**
 * One run of `step`: wall and CPU ms until its tensors are done (on an async backend: read, so that its queue has run);
 * then disposes them.
 */
async function once(step: () => tf.Tensor[]): Promise<Timing> {
  const c0 = cpuMs();
  const t0 = performance.now();
  const out = step();
  if (!SYNC_BACKENDS.has(tf.getBackend())) await Promise.all(out.map((t) => t.data()));
  const wall = performance.now() - t0;
  const cpu = cpuMs() - c0;
  for (const t of out) t.dispose();
  return { wall, cpu };
}

/**
 * Times several steps interleaved run by run (A B C, C B A, A B C, ...), so that a machine whose load changes during
 * the bench slows all of them alike and their ratios stay meaningful; the order alternates so that no step always
 * follows the same one (and pays for collecting its garbage). Returns each step's medians in ms.
 */
export async function timeInterleaved(steps: (() => tf.Tensor[])[], warmup: number, runs: number): Promise<Timing[]> {
  for (let i = 0; i < warmup; i++) for (const s of steps) await once(s);
  const ts: Timing[][] = steps.map(() => []);
  for (let i = 0; i < runs; i++)
    for (let n = 0; n < steps.length; n++) {
      const j = i % 2 ? steps.length - 1 - n : n;
      ts[j].push(await once(steps[j]));
    }
  return ts.map((t) => ({ wall: median(t.map((x) => x.wall)), cpu: median(t.map((x) => x.cpu)) }));
}
