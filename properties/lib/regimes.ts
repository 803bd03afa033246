/**
 * Regimes (ATN-9.5): predicates over one request that name an input domain a failure may be confined to. The problems
 * analysis sets a regime aside (every generated case that would send such a request is discarded) and re-runs a
 * failing check to see whether the target fails outside it. Each predicate reads the request defensively: an errors
 * check sends malformed arrays on purpose.
 */
import type { Level } from './types';

export interface RegimeDef {
  id: string;
  /** The regime in words, as in "fails only when B = 1 or H = 1". */
  text: string;
  /** A failure confined to it counts at this level (ATN-9.3). */
  level: Level;
  holds(op: string, args: Record<string, unknown>): boolean;
  /**
   * The same case moved out of the regime with its exact answer per sample unchanged, when such a move exists: a
   * target that still fails on it does not fail "only in the regime", whatever a re-run finds (the generator may
   * make the failing shapes, long sequences say, mostly inside the regime).
   */
  leave?(op: string, args: Record<string, unknown>): Record<string, unknown> | undefined;
}

type Args = Record<string, unknown>;

/** Length of an array, or undefined. */
const len = (v: unknown): number | undefined => (Array.isArray(v) ? v.length : undefined);

/** B and H of a request: atn ops a[T][B][H], ln x[B][H], lstm h0[B][H] (hidden width H). */
export function batchAndWidth(op: string, args: Args): { B?: number; H?: number } {
  if (op === 'ln.forward') {
    const x = args.x;
    return { B: len(x), H: Array.isArray(x) ? len(x[0]) : undefined };
  }
  if (op.startsWith('lstm.')) {
    const h0 = args.h0;
    return { B: len(h0), H: Array.isArray(h0) ? len(h0[0]) : undefined };
  }
  const a = args.a;
  const a0 = Array.isArray(a) ? a[0] : undefined;
  return { B: len(a0), H: Array.isArray(a0) ? len(a0[0]) : undefined };
}

function* numbers(v: unknown): Generator<number> {
  if (typeof v === 'number') yield v;
  else if (Array.isArray(v)) for (const x of v) yield* numbers(x);
}

/** Core magnitudes (ATN-9.1): nonzero entries between 1e-6 and 1e6. */
export const CORE_MIN = 1e-6;
export const CORE_MAX = 1e6;

/** The arrays whose magnitudes decide the regime: the normalized data, not gains or cotangents. */
const DATA_KEYS = ['a', 'x', 'h0', 'c0'];

export function outsideCoreMagnitudes(args: Args): boolean {
  for (const key of DATA_KEYS)
    for (const v of numbers(args[key])) {
      const m = Math.abs(v);
      if (m !== 0 && Number.isFinite(m) && (m < CORE_MIN || m > CORE_MAX)) return true;
    }
  return false;
}

/** Some entry is subnormal in the request's dtype (float32 below 2^-126, float64 below 2^-1022). */
export function hasSubnormal(args: Args): boolean {
  const min = args.dtype === 'float64' ? 2 ** -1022 : 2 ** -126;
  for (const key of DATA_KEYS) for (const v of numbers(args[key])) if (v !== 0 && Math.abs(v) < min) return true;
  return false;
}

/** Relative spread under which an eps = 0 window is near-degenerate (ATN-9.4): its variance is a rounding-level residue. */
export const NEAR_DEGENERATE = 1e-6;

/**
 * eps = 0 and some window W_t of some sample whose entries differ, but by at most NEAR_DEGENERATE of their magnitude:
 * an unscaled or one-pass variance rounds to 0 there. atn ops over a[T][B][H] with k, ln.forward over x[B][H].
 */
export function nearDegenerateWindow(op: string, args: Args): boolean {
  if (args.eps !== 0) return false;
  const rows: number[][][] = []; // per step: [B][H]
  let k = 1;
  if (op === 'ln.forward' && Array.isArray(args.x)) rows.push(args.x as number[][]);
  else if ((op === 'atn.forward' || op === 'atn.vjp') && Array.isArray(args.a) && typeof args.k === 'number') {
    rows.push(...(args.a as number[][][]));
    k = args.k;
  } else return false;
  const B = Array.isArray(rows[0]) ? rows[0].length : 0;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < rows.length; t++) {
      let lo = Infinity,
        hi = -Infinity,
        big = 0;
      for (let s = Math.max(0, t - k + 1); s <= t; s++) {
        const row = rows[s]?.[b];
        if (!Array.isArray(row)) return false;
        for (const v of row) {
          if (typeof v !== 'number') return false;
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
          big = Math.max(big, Math.abs(v));
        }
      }
      if (hi > lo && hi - lo <= NEAR_DEGENERATE * big) return true;
    }
  return false;
}

/** The arrays with a batch axis, and where it is: [T][B][.] (axis 1) or [B][.] (axis 0), per op (ATN-8.4). */
const BATCH_AXES: Record<string, Record<string, 0 | 1>> = {
  'atn.forward': { a: 1 },
  'atn.vjp': { a: 1, dy: 1 },
  'ln.forward': { x: 0 },
  'lstm.forward': { x: 1, h0: 0, c0: 0 },
  'lstm.vjp': { x: 1, h0: 0, c0: 0, dh: 1 },
};

/**
 * B = 1 made B = 2 by repeating the one sample: samples are independent (ATN-1.1), so each keeps its exact answer. No
 * move for H = 1 (another width is another problem) or for an op without a batch axis.
 */
function secondSample(op: string, args: Args): Args | undefined {
  const axes = BATCH_AXES[op];
  const { B, H } = batchAndWidth(op, args);
  if (!axes || B !== 1 || H === 1) return undefined;
  const out: Args = { ...args };
  for (const [key, axis] of Object.entries(axes)) {
    const v = args[key];
    if (v === undefined) continue;
    if (!Array.isArray(v)) return undefined;
    if (axis === 0) out[key] = v.length === 1 ? [v[0], v[0]] : undefined;
    else out[key] = v.every((row) => Array.isArray(row) && row.length === 1) ? v.map((row: unknown[]) => [row[0], row[0]]) : undefined;
    if (out[key] === undefined) return undefined;
  }
  return out;
}

export const SINGLETON: RegimeDef = {
  id: 'singleton',
  text: 'B = 1 or H = 1',
  level: 'core',
  holds: (op, args) => {
    const { B, H } = batchAndWidth(op, args);
    return B === 1 || H === 1;
  },
  leave: secondSample,
};

export const EXTENDED_RANGE: RegimeDef = {
  id: 'extended-range',
  text: `the extended range (entries outside ${CORE_MIN}..${CORE_MAX}: 1e±30, subnormals, mixed magnitudes; eps = 0 near-degenerate windows)`,
  level: 'extended',
  holds: (op, args) => outsideCoreMagnitudes(args) || nearDegenerateWindow(op, args),
};

export const K_ONE: RegimeDef = {
  id: 'k1',
  text: 'k = 1 (and ln.forward, which is ATN with k = 1)',
  level: 'core',
  holds: (op, args) => op === 'ln.forward' || args.k === 1,
};

/**
 * Some value of an expectation (want: arrays inside objects) is subnormal in the dtype: hardware that flushes results
 * to zero cannot give it, so --ftz sets such cases aside too (ATN-9.6).
 */
export function hasSubnormalValue(v: unknown, dtype: unknown): boolean {
  const min = dtype === 'float64' ? 2 ** -1022 : 2 ** -126;
  const walk = (x: unknown): boolean =>
    typeof x === 'number' ? x !== 0 && Math.abs(x) < min : Array.isArray(x) ? x.some(walk) : !!x && typeof x === 'object' && Object.values(x).some(walk);
  return walk(v);
}

/** --ftz (ATN-9.6): subnormal inputs are set aside for every check. */
export const SUBNORMAL: RegimeDef = {
  id: 'subnormal',
  text: 'subnormal entries',
  level: 'extended',
  holds: (_op, args) => hasSubnormal(args),
};

/** The regimes the analysis tries, in this order when as many failures share two of them. */
export const REGIMES: RegimeDef[] = [SINGLETON, EXTENDED_RANGE, K_ONE];
