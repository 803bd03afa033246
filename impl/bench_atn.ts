/**
 * Quick timing of ATN forward+backward against LN (ATN-2.1: our LN is ATN with k = 1 on the same path) at one shape,
 * for several k: `node dist/impl/bench_atn.js [backend] [T B H] [reps]`. Interleaved repetitions and medians, because
 * a shared machine drifts; not a test (no timing is asserted anywhere).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend';
import { layerNorm } from './ln';
import { atn } from './ops/atn';

export interface AtnBenchRow {
  name: string;
  k?: number;
  fwdMs: number;
  fwdBwdMs: number;
  /** fwdBwdMs over LN's. */
  ratio: number;
}

export interface AtnBenchOptions {
  backend?: string;
  T?: number;
  B?: number;
  H?: number;
  ks?: number[];
  reps?: number;
  eps?: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchAtn(o: AtnBenchOptions = {}): Promise<{ backend: string; shape: number[]; rows: AtnBenchRow[] }> {
  const backend = await initBackend(o.backend);
  const T = o.T ?? 128, B = o.B ?? 32, H = o.H ?? 256, reps = o.reps ?? 15, eps = o.eps ?? 1e-5;
  const ks = o.ks ?? [1, 4, 16, 64, 128];
  const a = tf.randomNormal([T, B, H]) as tf.Tensor3D;
  const g = tf.randomNormal([H]) as tf.Tensor1D;
  const b = tf.randomNormal([H]) as tf.Tensor1D;
  const dy = tf.randomNormal([T, B, H]);
  type Case = { name: string; k?: number; fwd: () => tf.Tensor[]; both: () => tf.Tensor[] };
  const grads = (f: (x: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.Tensor) => () => tf.grads(f)([a, g, b], dy);
  const ln = (x: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => layerNorm(x, { eps, gain: gg as tf.Tensor1D, bias: bb as tf.Tensor1D });
  const cases: Case[] = [{ name: 'LN (ours)', fwd: () => [ln(a, g, b)], both: grads(ln) }];
  for (const k of ks) {
    const f = (x: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => atn(x as tf.Tensor3D, { k, eps, gain: gg as tf.Tensor1D, bias: bb as tf.Tensor1D });
    cases.push({ name: `ATN k=${k}`, k, fwd: () => [f(a, g, b)], both: grads(f) });
  }
  const naive = (x: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
    const m = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, m.mean), tf.sqrt(tf.add(m.variance, eps))), gg), bb);
  };
  cases.push({ name: 'LN (tf.moments, autodiff; not robust)', fwd: () => [naive(a, g, b)], both: grads(naive) });
  const time = (f: () => tf.Tensor[]) => {
    const t0 = performance.now();
    tf.tidy(() => {
      for (const t of f()) t.dataSync();
    });
    return performance.now() - t0;
  };
  const fwd: number[][] = cases.map(() => []);
  const both: number[][] = cases.map(() => []);
  for (let r = -2; r < reps; r++) {
    cases.forEach((c, i) => {
      const tf1 = time(c.fwd);
      const tf2 = time(c.both);
      if (r >= 0) {
        fwd[i].push(tf1);
        both[i].push(tf2);
      }
    });
  }
  tf.dispose([a, g, b, dy]);
  const lnBoth = median(both[0]);
  const rows = cases.map((c, i) => ({ name: c.name, k: c.k, fwdMs: median(fwd[i]), fwdBwdMs: median(both[i]), ratio: median(both[i]) / lnBoth }));
  return { backend, shape: [T, B, H], rows };
}

if (require.main === module) {
  const [backend, T, B, H, reps] = process.argv.slice(2);
  benchAtn({ backend: backend || undefined, T: T ? +T : undefined, B: B ? +B : undefined, H: H ? +H : undefined, reps: reps ? +reps : undefined }).then((r) => {
    process.stdout.write(`backend ${r.backend}, shape [${r.shape}] (T,B,H), medians\n`);
    for (const row of r.rows)
      process.stdout.write(`${row.name.padEnd(40)} fwd ${row.fwdMs.toFixed(1).padStart(7)} ms   fwd+bwd ${row.fwdBwdMs.toFixed(1).padStart(7)} ms   x LN ${row.ratio.toFixed(2)}\n`);
  });
}
