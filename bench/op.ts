/**
 * ATN op bench: forward + backward of atn() (impl/ops/atn.ts) at several k against LN of the same shape (impl/ln.ts,
 * the implementation's own LN), against tfjs's plain LN (tf.moments + autodiff, op by op) and, where /usr/bin/python3
 * has torch, against torch.nn.LayerNorm single-threaded (bench/torch.ts), all in one run. atn_over_ln says what the
 * window costs; k128_over_k4 whether the cost depends on k; atn_over_torch_ln what ATN costs beside PyTorch's LN.
 */
import * as tf from '@tensorflow/tfjs';
import { layerNorm } from '../impl/ln';
import { atn, defaultPath, hostLoops } from '../impl/ops/atn';
import { round } from './lstm';
import { median, timeInterleaved } from './timing';
import { torchLnSession, type TorchLn } from './torch';

/** Which code path a number comes from. */
export type CodePath =
  | 'fused host loops (wasm SIMD kernel)'
  | 'fused host loops (JS loops)'
  | 'fused WGSL kernels (impl/ops/atn_wgsl.ts)'
  | 'op-by-op tfjs ops (autodiff)'
  | 'op-by-op tfjs ops (autodiff, impl/ops/atn_graph.ts)'
  | 'torch.nn.LayerNorm (1 thread)';

/** The code path of atn() (and of our LN) on the active backend. */
export function atnCodePath(): CodePath {
  const p = defaultPath();
  return p === 'host' ? `fused host loops (${hostLoops()})` : p === 'webgpu' ? 'fused WGSL kernels (impl/ops/atn_wgsl.ts)' : 'op-by-op tfjs ops (autodiff)';
}

export const OP_SHAPE: [number, number, number] = [128, 32, 256];
export const OP_KS = [1, 4, 16, 64, 128] as const;
/** Rounds of the ATN-beside-torch part (torch_ln, atn_alone_ms). */
export const OP_ROUNDS = 5;
/** The window of the op-by-op baseline (O(log k) joins of [T,B] tensors: a dispatch-bound chain on a GPU). */
export const OPBYOP_K = 16;

export interface OpBenchResult {
  shape: [number, number, number];
  ln_ms: number;
  atn_ms: Record<string, number>;
  atn_over_ln: Record<string, number>;
  k128_over_k4: number;
  /** tfjs's plain LN: tf.moments + autodiff (not robust to 1e+-30 or subnormal rows; a speed baseline only). */
  tfjs_ln_ms: number;
  atn_over_tfjs_ln: Record<string, number>;
  /**
   * torch.nn.LayerNorm fwd+bwd: ms is the median of its rounds (ms_rounds): one round of torch runs before each round
   * of atn_alone_ms and one after the last, by one python process that stays up (bench/torch.ts).
   */
  torch_ln: TorchLn & { ms_rounds?: number[] };
  /**
   * ATN fwd+bwd timed the way torch_ln.py times torch: each k alone, its warm-ups then its runs back to back on the
   * same tensors (the interleaved atn_ms run each k between the other variants, whose allocations evict the data
   * from the caches: a condition the torch numbers do not share). The median of its rounds.
   */
  atn_alone_ms: Record<string, number>;
  /**
   * ATN over torch.nn.LayerNorm fwd+bwd per k (absent without torch): per round, ATN's time over the mean of the torch
   * rounds just before and just after it; the median of those ratios.
   */
  atn_over_torch_ln?: Record<string, number>;
  /**
   * The same ATN (k = OPBYOP_K) as op-by-op tfjs ops with autodiff (path 'device'): what a port written with tfjs ops
   * costs, the baseline the fused paths are for. Timed alone, few runs (hundreds of small kernels per call).
   */
  opbyop_atn: { k: number; ms: number; fused_over_opbyop: number };
  paths: { atn: CodePath; ln: CodePath; tfjs_ln: CodePath; torch_ln: CodePath; opbyop_atn: CodePath };
}

/** tfjs's own LayerNorm written the plain way: tf.moments, then autodiff for the backward. */
function tfjsLayerNorm(x: tf.Tensor3D, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor3D {
  const m = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, m.mean), tf.sqrt(tf.add(m.variance, eps))), g), b);
}

/** One forward + backward (the VJP for a random dy) of `f` in a, gain, bias. */
function fwdBwd(
  f: (a: tf.Tensor3D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor3D,
  a: tf.Tensor3D,
  g: tf.Tensor1D,
  b: tf.Tensor1D,
  dy: tf.Tensor3D,
): () => tf.Tensor[] {
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
    const plain = fwdBwd((x, gg, bb) => tfjsLayerNorm(x, gg, bb, eps), a, g, b, dy);
    const atns = OP_KS.map((k) => fwdBwd((x, gg, bb) => atn(x, { k, eps, gain: gg, bias: bb }), a, g, b, dy));
    const [lnT, plainT, ...atnT] = await timeInterleaved([ln, plain, ...atns], warmup, runs);
    const opbyop = fwdBwd((x, gg, bb) => atn(x, { k: OPBYOP_K, eps, gain: gg, bias: bb, path: 'device' }), a, g, b, dy);
    const [opT] = await timeInterleaved([opbyop], Math.min(warmup, 1), Math.min(runs, 3));
    const lnMs = lnT.wall;
    const atnMs = atnT.map((t) => t.wall);
    // rounds: torch, every k alone, torch, every k alone, ..., torch
    const rounds = runs > 1 ? OP_ROUNDS : 1;
    const session = await torchLnSession(shape, Math.max(warmup, 2));
    const torchMs: number[] = [];
    const aloneRounds: number[][] = atns.map(() => []);
    try {
      for (let i = 0; i < rounds; i++) {
        if ('time' in session) torchMs.push(await session.time(Math.max(runs, 5)));
        for (const [j, step] of atns.entries()) aloneRounds[j].push((await timeInterleaved([step], warmup, runs))[0].wall);
      }
      if ('time' in session) torchMs.push(await session.time(Math.max(runs, 5)));
    } finally {
      if ('close' in session) session.close();
    }
    const torch_ln: OpBenchResult['torch_ln'] =
      'time' in session ? { torch: session.torch, threads: session.threads, ms: median(torchMs), ms_rounds: torchMs.map((x) => round(x)) } : session;
    const alone = aloneRounds.map(median);
    const atn_ms: Record<string, number> = {},
      atn_alone_ms: Record<string, number> = {},
      atn_over_ln: Record<string, number> = {},
      atn_over_tfjs_ln: Record<string, number> = {};
    const atn_over_torch_ln: Record<string, number> = {};
    OP_KS.forEach((k, i) => {
      atn_ms[k] = round(atnMs[i]);
      atn_alone_ms[k] = round(alone[i]);
      atn_over_ln[k] = round(atnMs[i] / lnMs, 3);
      atn_over_tfjs_ln[k] = round(atnMs[i] / plainT.wall, 3);
      if (torchMs.length) atn_over_torch_ln[k] = round(median(aloneRounds[i].map((x, r) => x / ((torchMs[r] + torchMs[r + 1]) / 2))), 3);
    });
    const path = atnCodePath();
    return {
      shape,
      ln_ms: round(lnMs),
      atn_ms,
      atn_alone_ms,
      atn_over_ln,
      k128_over_k4: round(atnMs[OP_KS.indexOf(128)] / atnMs[OP_KS.indexOf(4)], 3),
      tfjs_ln_ms: round(plainT.wall),
      atn_over_tfjs_ln,
      torch_ln: 'ms' in torch_ln ? { ...torch_ln, ms: round(torch_ln.ms) } : torch_ln,
      ...('ms' in torch_ln ? { atn_over_torch_ln } : {}),
      opbyop_atn: { k: OPBYOP_K, ms: round(opT.wall), fused_over_opbyop: round(atnMs[OP_KS.indexOf(OPBYOP_K)] / opT.wall, 3) },
      paths: {
        atn: path,
        ln: path,
        tfjs_ln: 'op-by-op tfjs ops (autodiff)',
        torch_ln: 'torch.nn.LayerNorm (1 thread)',
        opbyop_atn: 'op-by-op tfjs ops (autodiff, impl/ops/atn_graph.ts)',
      },
    };
  } finally {
    tf.dispose([a, dy, g, b]);
  }
}
