/**
 * Agreement with the reference (ATN-7.1): each op's result equals the exact result on the dtype-rounded inputs within
 * the derived per-element tolerance, with exactly the op's structure. One check per op, plus one per hard regime of the
 * forward pass, so that a report names the regime a target breaks in.
 */
import type { ClauseId } from '../../../spec/clauses';
import {
  atnArgs,
  atnCase,
  atnHardCase,
  atnVjpArgs,
  generalCase,
  lnArgs,
  lnCase,
  lstmArgs,
  lstmCase,
  LSTM_TILES,
  SMALL,
  lstmVjpArgs,
  WIDE,
  WIDE_WINDOWS,
  withDh,
  withDy,
  type Limits,
  type Regime,
} from '../arbitraries';
import type { Check, CheckContext } from '../types';
import { agree, propertyCheck } from './framework';

/** LSTM cases cost the reference more: a third of the runs, at least 3. */
export const lstmRuns = (ctx: CheckContext) => Math.max(3, Math.ceil(ctx.runs / 3));

/**
 * Realistic sizes (shapes.ts: WIDE, WIDE_WINDOWS) cost the oracle tens of times a small case: a twentieth of the runs,
 * at least 2 (10 at the default 200).
 */
export const wideRuns = (ctx: CheckContext) => Math.max(2, Math.ceil(ctx.runs / 20));

/** General-regime values at realistic sizes; the values are not shrunk (each candidate costs a whole oracle call). */
const realistic = (ctx: CheckContext, lim: Limits) => generalCase(ctx.dtype, { limits: lim, long: undefined, shrinkValues: false });

function forwardRegime(id: string, clause: ClauseId, regime: Regime, title: string): Check {
  return propertyCheck({
    id,
    clause,
    title,
    ops: ['atn.forward'],
    kind: 'agreement',
    arb: (ctx) => atnCase(ctx.dtype, regime),
    run: (c, s, ctx) => agree(ctx, s, 'atn.forward', atnArgs(ctx.dtype, c)),
  });
}

export const AGREEMENT: Check[] = [
  forwardRegime(
    'atn.forward.agrees',
    'ATN-1.4',
    'general',
    'atn.forward equals the exact y_t = g*(a_t - mu_t)/sqrt(var_t + eps) + b over W_t (random shapes with T = 1, B = 1, H = 1 and k > T among them; default gain/bias)',
  ),
  forwardRegime('atn.forward.scale', 'ATN-7.2', 'scale', 'atn.forward is within tolerance for window scales 1e-30..1e30 (no overflow or underflow of squares)'),
  forwardRegime('atn.forward.mixed-magnitudes', 'ATN-7.2', 'mixed', 'atn.forward is within tolerance when magnitudes differ by up to 1e16 inside one window'),
  forwardRegime(
    'atn.forward.drift',
    'ATN-7.2',
    'drift',
    'atn.forward is within the window-local tolerance on sequences whose magnitude changes by many orders across time (no prefix sums differenced)',
  ),
  forwardRegime('atn.forward.large-mean', 'ATN-7.2', 'large-mean', 'atn.forward is within tolerance when |mean|/std is 1e4..1e6 (no E[x^2] - E[x]^2)'),
  forwardRegime(
    'atn.forward.near-eps',
    'ATN-1.4',
    'near-eps',
    'atn.forward adds eps inside the square root: windows with var_t within a factor 100 of eps in {1e-5, 1e-3}',
  ),
  forwardRegime(
    'atn.forward.subnormal',
    'ATN-7.2',
    'subnormal',
    'atn.forward is within tolerance on subnormal entries, alone and mixed with normal ones (eps = 0)',
  ),
  propertyCheck({
    id: 'atn.vjp.agrees',
    clause: 'ATN-4.1',
    title: 'atn.vjp returns y, da, dgain, dbias equal to the closed-form VJP within tolerance (ATN-4.1, ATN-4.2, ATN-7.3)',
    ops: ['atn.vjp'],
    kind: 'agreement',
    arb: (ctx) => withDy(ctx.dtype, atnCase(ctx.dtype, 'general')),
    run: (c, s, ctx) => agree(ctx, s, 'atn.vjp', atnVjpArgs(ctx.dtype, c)),
  }),
  propertyCheck({
    id: 'atn.vjp.hard',
    clause: 'ATN-7.3',
    title: 'atn.vjp is within the VJP tolerance in the hard regimes (scales, mixed magnitudes, drift, large mean, var near eps, subnormals)',
    ops: ['atn.vjp'],
    kind: 'agreement',
    arb: (ctx) => withDy(ctx.dtype, atnHardCase(ctx.dtype)),
    run: (c, s, ctx) => agree(ctx, s, 'atn.vjp', atnVjpArgs(ctx.dtype, c)),
  }),
  propertyCheck({
    id: 'atn.forward.wide',
    clause: 'ATN-1.3',
    title:
      'atn.forward equals the exact result at realistic widths, H = 257..512: beyond a 256-wide tile, so a reduction over part of the features or a partial last tile shows',
    ops: ['atn.forward'],
    kind: 'agreement',
    runs: wideRuns,
    arb: (ctx) => realistic(ctx, WIDE),
    run: (c, s, ctx) => agree(ctx, s, 'atn.forward', atnArgs(ctx.dtype, c)),
  }),
  propertyCheck({
    id: 'atn.vjp.wide',
    clause: 'ATN-4.1',
    title: 'atn.vjp equals the closed-form VJP at realistic widths, H = 257..512 (reductions of the backward pass across tiles)',
    ops: ['atn.vjp'],
    kind: 'agreement',
    runs: wideRuns,
    arb: (ctx) => withDy(ctx.dtype, realistic(ctx, WIDE), SMALL, false),
    run: (c, s, ctx) => agree(ctx, s, 'atn.vjp', atnVjpArgs(ctx.dtype, c)),
  }),
  propertyCheck({
    id: 'atn.forward.long-windows',
    clause: 'ATN-1.2',
    title: 'atn.forward equals the exact result on long sequences with long windows: T = 65..128, k up to 64 (and k > T)',
    ops: ['atn.forward'],
    kind: 'agreement',
    runs: wideRuns,
    arb: (ctx) => realistic(ctx, WIDE_WINDOWS),
    run: (c, s, ctx) => agree(ctx, s, 'atn.forward', atnArgs(ctx.dtype, c)),
  }),
  propertyCheck({
    id: 'ln.forward.agrees',
    clause: 'ATN-2.1',
    title: 'ln.forward equals layer normalization of x[B][H] (ATN with T = 1, k = 1) within tolerance',
    ops: ['ln.forward'],
    kind: 'agreement',
    arb: (ctx) => lnCase(ctx.dtype),
    run: (c, s, ctx) => agree(ctx, s, 'ln.forward', lnArgs(ctx.dtype, c)),
  }),
  propertyCheck({
    id: 'lstm.forward.agrees',
    clause: 'ATN-3.3',
    title: 'lstm.forward returns h, c of the ATN-LSTM (gates [f,i,o,g] from ATN_x + ATN_h, cell, ATN_c on the output) within the running-error tolerance',
    ops: ['lstm.forward'],
    kind: 'agreement',
    runs: lstmRuns,
    arb: (ctx) => lstmCase(ctx.dtype),
    run: (c, s, ctx) => agree(ctx, s, 'lstm.forward', lstmArgs(ctx.dtype, c)),
  }),
  propertyCheck({
    id: 'lstm.vjp.agrees',
    clause: 'ATN-4.3',
    title: 'lstm.vjp returns h, c and every parameter and input gradient of backpropagation through time within tolerance',
    ops: ['lstm.vjp'],
    kind: 'agreement',
    runs: lstmRuns,
    arb: (ctx) => withDh(ctx.dtype, lstmCase(ctx.dtype)),
    run: (c, s, ctx) => agree(ctx, s, 'lstm.vjp', lstmVjpArgs(ctx.dtype, c)),
  }),
  propertyCheck({
    id: 'lstm.forward.wide',
    clause: 'ATN-3.3',
    title:
      "lstm.forward within the ATN-7.4 tolerance past a 128-wide tile: 4H = 132..160 over T <= 3 (the gate columns of h W_hh and ATN_h's reductions span a full and a partial tile)",
    ops: ['lstm.forward'],
    kind: 'agreement',
    runs: wideRuns,
    arb: (ctx) => lstmCase(ctx.dtype, LSTM_TILES, { shrinkValues: false }),
    run: (c, s, ctx) => agree(ctx, s, 'lstm.forward', lstmArgs(ctx.dtype, c)),
  }),
];
