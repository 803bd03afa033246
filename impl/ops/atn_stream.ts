/**
 * ATN step by step (ATN-1, ATN-1.7): feed a_t [B,H], get y_t [B,H]. The state is the per-step statistics (scaled mean
 * and M2 per sample, atn_tensor.ts) of the last k steps, held as tensors so that tf.grad / tf.variableGrads
 * differentiate through every window entry, across steps, by autodiff. No synchronous reads: it runs on every backend.
 *
 * Why a two-stack queue: the window is the join of "front" suffix aggregates (built once per k steps from the items
 * pushed since) and the "back" aggregate of the items pushed since then. Each step costs O(1) joins amortized (one
 * push, one query, and 1/k of a rebuild of k joins) whatever k is, and every aggregate holds only entries still in
 * the window (window-local: no subtraction of a departed step, which would not be, ATN-7.3).
 *
 * Memory: state tensors are tf.keep'd (so a step may run inside tf.tidy) and are released when they leave the window,
 * on reset() and on dispose(). Degenerate windows (var + eps = 0 with eps = 0) give NaN here; the protocol target
 * checks its data first.
 */
import * as tf from '@tensorflow/tfjs';
import { badArgument } from '../../protocol/errors';
import { joinT, normalizeT, stepStatsT, type StatsT } from './atn_tensor';

export interface AtnStreamOptions {
  k: number;
  eps: number;
  gain?: tf.Tensor1D;
  bias?: tf.Tensor1D;
}

interface Agg extends StatsT {
  steps: number;
}

export class AtnStream {
  readonly k: number;
  readonly eps: number;
  private gain?: tf.Tensor1D;
  private bias?: tf.Tensor1D;
  /** Suffix aggregates, oldest first; front[head] covers the oldest step in the window up to the rebuild point. */
  private front: Agg[] = [];
  private head = 0;
  /** Items pushed since the last rebuild, and their aggregate. */
  private back: Agg[] = [];
  private backAgg: Agg | null = null;
  private owned = new Set<tf.Tensor>();
  private t = 0;

  constructor(opts: AtnStreamOptions) {
    if (!Number.isInteger(opts.k) || opts.k < 1) throw badArgument('k', 'ATN-6.1', `must be a positive integer, got ${opts.k}`);
    if (!Number.isFinite(opts.eps) || opts.eps < 0) throw badArgument('eps', 'ATN-6.2', `must be finite and non-negative, got ${opts.eps}`);
    this.k = opts.k;
    this.eps = Math.fround(opts.eps);
    this.gain = opts.gain;
    this.bias = opts.bias;
  }

  /** Steps fed since construction or the last reset(). */
  get steps(): number {
    return this.t;
  }

  /** y_t for a_t [B,H]; the window is the last min(k, t+1) steps fed. */
  step(a: tf.Tensor2D): tf.Tensor2D {
    if (a.rank !== 2) throw badArgument('a', 'ATN-6.3', `a step must be [B,H], got shape [${a.shape}]`);
    const [B, H] = a.shape;
    const prev = this.back[0] ?? this.front[this.head];
    if (prev && prev.m.shape[0] !== B) throw badArgument('a', 'ATN-6.3', `batch changed from ${prev.m.shape[0]} to ${B} without reset()`);
    return tf.tidy(() => {
      const s = stepStatsT(a);
      const item = this.own({ e: s.e, m: s.m, s1: s.s1, q: s.q, steps: 1 });
      this.back.push(item);
      this.backAgg = this.backAgg ? this.own(this.join(this.backAgg, item, H), this.backAgg === this.back[0] ? undefined : this.backAgg) : item;
      this.t++;
      if (this.front.length - this.head + this.back.length > this.k) {
        if (this.head === this.front.length) this.rebuild(H);
        this.release(this.front[this.head]);
        this.head++;
      }
      const f = this.front[this.head];
      const W = f ? (this.backAgg ? this.join(f, this.backAgg, H) : f) : (this.backAgg as Agg);
      const gain = this.gain ?? tf.ones([H]);
      const bias = this.bias ?? tf.zeros([H]);
      return normalizeT(s.d, s.e, s.m, W, W.steps * H, this.eps, gain, bias) as tf.Tensor2D;
    });
  }

  /** Forget every step (a new sequence, ATN-1.7). */
  reset(): void {
    for (const t of this.owned) t.dispose();
    this.owned.clear();
    this.front = [];
    this.back = [];
    this.backAgg = null;
    this.head = 0;
    this.t = 0;
  }

  dispose(): void {
    this.reset();
  }

  private join(A: Agg, B: Agg, H: number): Agg {
    return { ...joinT(A, B, A.steps * H, B.steps * H), steps: A.steps + B.steps };
  }

  /** Moves the items pushed since the last rebuild to the front as suffix aggregates (k joins per k steps). */
  private rebuild(H: number): void {
    const items = this.back;
    const agg = this.backAgg;
    const front: Agg[] = new Array(items.length);
    front[items.length - 1] = items[items.length - 1];
    for (let i = items.length - 2; i >= 0; i--) {
      front[i] = this.own(this.join(items[i], front[i + 1], H));
      this.release(items[i]);
    }
    if (agg && agg !== items[0] && agg !== items[items.length - 1]) this.release(agg);
    this.front = front;
    this.head = 0;
    this.back = [];
    this.backAgg = null;
  }

  /** Keeps an aggregate's tensors beyond the current tidy scope; optionally releases the one it replaces. */
  private own(a: Agg, replaces?: Agg): Agg {
    for (const t of [a.e, a.m, a.s1, a.q]) {
      if (!this.owned.has(t)) {
        tf.keep(t);
        this.owned.add(t);
      }
    }
    if (replaces) this.release(replaces);
    return a;
  }

  private release(a: Agg): void {
    for (const t of [a.e, a.m, a.s1, a.q]) {
      if (this.owned.delete(t)) t.dispose();
    }
  }
}
