/**
 * ATN-LSTM inputs: short cases, edge cases (eps = 0, H = 2, one-step windows) and long sequences (up to T = 24, with
 * k << T, k close to T and k > T), where mistakes that show only after many steps live.
 */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import { pool, rounder, valuesShrinking } from './numbers';
import { kModes, size, type KMode } from './shapes';
import type { LstmCase, LstmParamsCase } from './types';

export interface LstmLimits {
  maxT: number;
  maxB: number;
  maxI: number;
  maxH: number;
  /** H at least this (default 1): the wide limits below. */
  minH?: number;
}
export const LSTM_SMALL: LstmLimits = { maxT: 4, maxB: 2, maxI: 3, maxH: 3 };
/**
 * Long sequences (a share of the LSTM runs): T from 9 to 24, with k << T (1..3), k close to T (T-2..T) and k > T
 * among them, so that mistakes which show only after several steps (windows restarted every 8 steps) are reached.
 * Small B, I, H keep the reference's cost (the ATN-7.4 bound costs O(H T) replica runs) reasonable.
 */
export const LSTM_LONG: LstmLimits = { maxT: 24, maxB: 1, maxI: 2, maxH: 2 };
/**
 * Sizes where GPU code that tiles by 128 invocations goes wrong (ATN-9.10), as far as the reference's work limit
 * (ATN-6.11) and the ATN-7.4 bound's cost allow: LSTM_TILES has 4H from 132 to 160 (a^h's columns and ATN_h's row
 * reductions span a full and a partial tile) over T up to 3; LSTM_WIDE_CELL has H from 129 to 140 (ATN_c's reductions
 * over the cell too) at T = 1, B = 1 (work T*B*(4H(I+H) + 9H(k+16)) <= 262144).
 */
export const LSTM_TILES: LstmLimits = { maxT: 3, maxB: 2, maxI: 2, maxH: 40, minH: 33 };
export const LSTM_WIDE_CELL: LstmLimits = { maxT: 1, maxB: 1, maxI: 2, maxH: 140, minH: 129 };

/**
 * The LSTM shape modes: short (the limits given), edge (eps = 0, H = 2 and one-step windows: every ATN_c window
 * holds N = 2 entries, whose exact Jacobian is 0 while a float implementation returns rounding noise there: the case
 * that defeated the first ATN-7.4 sensitivity measurement) and long (LSTM_LONG).
 */
type LstmMode = 'short' | 'edge' | 'long';
const lstmModes: fc.Arbitrary<LstmMode> = fc.oneof(
  { arbitrary: fc.constant('short' as const), weight: 5 },
  { arbitrary: fc.constant('edge' as const), weight: 2 },
  { arbitrary: fc.constant('long' as const), weight: 1 },
);

/** k for a long sequence: k << T, k close to T, or k > T. */
function longK(T: number, kMode: KMode, kPick: number): number {
  if (kMode === 'beyond') return T + 1 + (kPick % 3);
  return kMode === 'one' ? 1 + (kPick % 3) : Math.max(1, T - (kPick % 3));
}

export interface LstmOptions {
  /** eps values to draw from (default 1e-5, 1e-3 and 0). */
  eps?: fc.Arbitrary<number>;
  /** Never omit b_x, b_h and the ATN gains/biases (the T2/T3 scalings need them explicit). */
  explicit?: boolean;
  /** Only the limits given: no edge or long modes (checks whose own cost or design needs short cases). */
  shortOnly?: boolean;
  /**
   * false: shrinking changes the shape, not the value pool (wide limits: thousands of values, each shrink candidate a
   * whole oracle evaluation; with the pool shrinkable a failure at LSTM_TILES shrank for ten minutes). Default true.
   */
  shrinkValues?: boolean;
}

/**
 * ATN-LSTM inputs: small weights (|w| <= 0.6), gains around 1, inputs in [-2, 2]. eps = 0 forces H >= 2 (ATN_c over
 * one entry is degenerate) and h0 away from zero (ATN_h at t = 1 sees h0 W_hh + b_h).
 */
export function lstmCase(dtype: CampaignDtype, lim: LstmLimits = LSTM_SMALL, opts: LstmOptions = {}): fc.Arbitrary<LstmCase> {
  const all = opts.shortOnly || lim !== LSTM_SMALL ? [lim] : [lim, LSTM_LONG];
  const big = (f: (l: LstmLimits) => number) => Math.max(...all.map(f));
  const H4 = 4 * big((l) => l.maxH);
  const n =
    big((l) => l.maxT * l.maxB * l.maxI) + 2 * big((l) => l.maxB * l.maxH) + big((l) => l.maxI + l.maxH) * H4 + 2 * H4 + 2 * (2 * H4 + 2 * big((l) => l.maxH));
  const eps0 = opts.eps ?? fc.constantFrom(1e-5, 1e-3, 0);
  return fc
    .record({
      mode: opts.shortOnly || lim !== LSTM_SMALL ? fc.constant<LstmMode>('short') : lstmModes,
      T: size(lim.maxT),
      B: size(lim.maxB),
      I: size(lim.maxI),
      H: size(lim.maxH, lim.minH),
      longT: fc.integer({ min: 9, max: LSTM_LONG.maxT }),
      kMode: kModes,
      kPick: fc.nat({ max: 1000 }),
      eps: eps0,
      omit: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
      u: valuesShrinking(pool(n), opts.shrinkValues !== false),
    })
    .map(({ mode, T: T0, B: B0, I: I0, H: H1, longT, kMode, kPick, eps: eps1, omit, u }) => {
      const r = rounder(dtype);
      // edge: eps = 0 (unless the caller fixed eps), H = 2, one-step windows (k = 1, or T = 1).
      const edge = mode === 'edge';
      const long = mode === 'long';
      const epsR = r(edge && !opts.eps ? 0 : eps1);
      const T = long ? longT : T0;
      const B = long ? Math.min(B0, LSTM_LONG.maxB) : B0;
      const I = long ? Math.min(I0, LSTM_LONG.maxI) : I0;
      const H0 = edge ? 2 : long ? Math.min(H1, LSTM_LONG.maxH) : H1;
      const H = epsR === 0 ? Math.max(H0, 2) : H0;
      const k = long
        ? longK(T, kMode, kPick)
        : edge
          ? kPick % 2
            ? 1
            : T === 1
              ? 1 + (kPick % 3)
              : 1
          : kMode === 'one'
            ? 1
            : kMode === 'within'
              ? 1 + (kPick % T)
              : T + 1 + (kPick % 3);
      let at = 0;
      const take = (scale: number, shift = 0) => r(shift + scale * u[at++ % n]);
      const mat = (rows: number, cols: number, scale: number, shift = 0) =>
        Array.from({ length: rows }, () => Array.from({ length: cols }, () => take(scale, shift)));
      const vec = (len: number, scale: number, shift = 0) => Array.from({ length: len }, () => take(scale, shift));
      const x = Array.from({ length: T }, () => mat(B, I, 2));
      // h0 entries in +-[0.1, 0.5]: never all zero, so ATN_h's first window varies.
      const h0 = mat(B, H, 1).map((row) => row.map((v) => r((v < 0 ? -1 : 1) * (0.1 + 0.4 * Math.abs(v)))));
      const c0 = mat(B, H, 0.5);
      const params: LstmParamsCase = { w_xh: mat(I, 4 * H, 0.6), w_hh: mat(H, 4 * H, 0.6) };
      const explicit = opts.explicit === true;
      if (explicit || !omit[0]) params.b_x = vec(4 * H, 0.2);
      if (explicit || !omit[1]) params.b_h = vec(4 * H, 0.2);
      if (explicit || !omit[2]) params.atn_x = { gain: vec(4 * H, 0.5, 1), bias: vec(4 * H, 0.3) };
      if (explicit || !omit[3]) params.atn_h = { gain: vec(4 * H, 0.5, 1), bias: vec(4 * H, 0.3) };
      if (explicit || !omit[4]) params.atn_c = { gain: vec(H, 0.5, 1), bias: vec(H, 0.3) };
      return { k, eps: epsR, x, h0, c0, params };
    });
}
