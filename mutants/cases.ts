/**
 * One hand-made separating case per mutant: requests on which the mutant's answer (last request) differs from the
 * spec by more than the ATN-7 tolerance. Earlier requests in a list prepare state (the leak mutant needs a request
 * before). Used by properties/mutants.test.ts and as the battery on which diagnose() must tell the mutants apart.
 */
import type { Args } from '../protocol/ops';
import type { OpName, Request } from '../protocol/types';
import { lcgUint32 } from '../util/prng';
import { build3 } from '../util/tree';

/** Deterministic values on a coarse grid (exact in float32), so the cases read the same on every machine. */
function grid(n: number, seed: number, scale = 1, offset = 0): number[] {
  const next = lcgUint32(seed);
  return Array.from({ length: n }, () => offset + ((((next() >>> 8) % 257) - 128) / 64) * scale);
}

function ten3(T: number, B: number, H: number, vals: number[]): number[][][] {
  return build3(T, B, H, (_t, _b, _h, i) => vals[i]);
}

function mat(R: number, C: number, vals: number[]): number[][] {
  return Array.from({ length: R }, (_, r) => vals.slice(r * C, (r + 1) * C));
}

const T = 4,
  B = 2,
  H = 3;
/** Two samples of different level and spread, steps of different statistics. */
const A = ten3(
  T,
  B,
  H,
  grid(T * B * H, 7).map((v, j) => v * (1 + (((j / H) | 0) % 3)) + (j % (B * H) < H ? 2 : -1)),
);
const GAIN = [1.5, -0.5, 2];
const BIAS = [0.25, 0.75, -0.5];
const DY = ten3(T, B, H, grid(T * B * H, 11));

export function atnForwardArgs(over: Partial<Args<'atn.forward'>> = {}): Args<'atn.forward'> {
  return { dtype: 'float32', k: 2, eps: 0.01, a: A, gain: GAIN, bias: BIAS, ...over };
}
export function atnVjpArgs(over: Partial<Args<'atn.vjp'>> = {}): Args<'atn.vjp'> {
  return { ...atnForwardArgs(), dy: DY, ...over };
}

const LT = 3,
  LB = 2,
  LI = 2,
  LH = 2;
export function lstmForwardArgs(over: Partial<Args<'lstm.forward'>> = {}): Args<'lstm.forward'> {
  return {
    dtype: 'float32',
    k: 2,
    eps: 0.001,
    x: ten3(LT, LB, LI, grid(LT * LB * LI, 3)),
    h0: mat(LB, LH, grid(LB * LH, 5, 0.25)),
    c0: mat(LB, LH, grid(LB * LH, 9, 0.5)),
    params: {
      w_xh: mat(LI, 4 * LH, grid(LI * 4 * LH, 13, 0.5)),
      w_hh: mat(LH, 4 * LH, grid(LH * 4 * LH, 17, 0.5)),
      b_x: grid(4 * LH, 19, 0.25),
      b_h: grid(4 * LH, 23, 0.25, 1),
    },
    ...over,
  };
}

/** A valid request by construction: its args have the op's type (protocol/ops.ts). */
const req = <Op extends OpName>(id: number, op: Op, args: Args<Op>): Request<Op> => ({ id, op, args });

/** f32 cancellation: |mean| = 1e4 >> std ~ 1; E[x^2] = 1e8 holds ~3 significant bits of the variance in float32. */
const LARGE_MEAN = ten3(T, B, H, grid(T * B * H, 29, 1, 1e4));

/** One step, 300 features: the last 44 (beyond a 256-wide tile) of another level and spread than the first 256. */
const WIDE_H = 300;
const WIDE_A = ten3(
  2,
  1,
  WIDE_H,
  grid(2 * WIDE_H, 31).map((v, j) => (j % WIDE_H >= 256 ? 3 * v + 2 : v)),
);

export const SEPARATING: Record<string, Request[]> = {
  'unbiased-variance': [req(1, 'atn.forward', atnForwardArgs())],
  'eps-outside-sqrt': [req(1, 'atn.forward', atnForwardArgs({ eps: 0.5 }))],
  'eps-dropped': [req(1, 'atn.forward', atnForwardArgs({ eps: 1 }))],
  'k-ignored': [req(1, 'atn.forward', atnForwardArgs())],
  'stats-per-feature': [req(1, 'atn.forward', atnForwardArgs())],
  'stats-across-batch': [req(1, 'atn.forward', atnForwardArgs())],
  'window-k-plus-1': [req(1, 'atn.forward', atnForwardArgs())],
  'window-k-minus-1': [req(1, 'atn.forward', atnForwardArgs({ k: 3 }))],
  'warmup-zero-pad': [req(1, 'atn.forward', atnForwardArgs({ k: 3 }))],
  'warmup-divide-by-k': [req(1, 'atn.forward', atnForwardArgs({ k: 3 }))],
  'state-leak': [req(1, 'atn.forward', atnForwardArgs({ k: 3 })), req(2, 'atn.forward', atnForwardArgs({ k: 3 }))],
  'stats-lagged': [req(1, 'atn.forward', atnForwardArgs())],
  'ln-mean-window-var': [req(1, 'atn.forward', atnForwardArgs())],
  'f32-naive-variance': [req(1, 'atn.forward', atnForwardArgs({ a: LARGE_MEAN }))],
  'tiled-reduction-256': [req(1, 'atn.forward', atnForwardArgs({ a: WIDE_A, gain: grid(WIDE_H, 37, 0.25, 1), bias: grid(WIDE_H, 41, 0.25) }))],
  'gain-bias-swapped': [req(1, 'atn.forward', atnForwardArgs())],
  'affine-before-normalize': [req(1, 'atn.forward', atnForwardArgs())],
  'history-detached': [req(1, 'atn.vjp', atnVjpArgs())],
  'vjp-mean-detached': [req(1, 'atn.vjp', atnVjpArgs())],
  'vjp-gain-forgotten': [req(1, 'atn.vjp', atnVjpArgs())],
  'lstm-gate-order-ifog': [req(1, 'lstm.forward', lstmForwardArgs())],
  'lstm-no-cell-atn': [req(1, 'lstm.forward', lstmForwardArgs())],
  'lstm-shared-window': [req(1, 'lstm.forward', lstmForwardArgs())],
  'lstm-c0-in-window': [req(1, 'lstm.forward', lstmForwardArgs())],
  'lstm-window-reset-8': [req(1, 'lstm.forward', lstmForwardArgs({ k: 4, x: ten3(12, LB, LI, grid(12 * LB * LI, 29)) }))],
  'squeeze-singleton': [req(1, 'atn.forward', atnForwardArgs({ a: A.map((m) => [m[0]]) }))],
};

/** Every separating request, in catalogue order, ids renumbered: the battery diagnose() must resolve. */
export function battery(): Request[] {
  let id = 0;
  return Object.values(SEPARATING).flatMap((rs) => rs.map((r) => ({ ...r, id: ++id })));
}
