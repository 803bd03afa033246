/**
 * The catalogue: one mutant per realistic port mistake. A verification suite is only as good as the mistakes it
 * catches; `atn mutants` runs the default campaign against each of these and fails when one survives.
 * `separatedBy` says which inputs tell the mutant from the spec, so that a generator that misses it can be fixed.
 */
import type { Dtype } from '../protocol/types';
import type { ClauseId } from '../spec/clauses';
import type { Flag } from './flags';

export interface MutantInfo {
  id: string;
  description: string;
  clause: ClauseId;
  separatedBy: string;
  dtypes: Dtype[];
}

interface Entry extends MutantInfo {
  flag: Flag;
}

const D: Dtype[] = ['float32', 'float64'];

const m = (flag: Flag, clause: ClauseId, description: string, separatedBy: string): Entry => ({ id: flag, flag, clause, description, separatedBy, dtypes: D });

export const CATALOGUE: readonly Entry[] = [
  m('unbiased-variance', 'ATN-1.3', 'variance divided by N-1 (unbiased) instead of N', 'any window with N = n_t*H >= 2 and var not << eps; N = 1 gives NaN'),
  m('eps-outside-sqrt', 'ATN-1.4', 'scale is sigma + eps instead of sqrt(var + eps)', 'eps > 0 comparable to sigma (e.g. eps = 0.1, entries of order 1)'),
  m(
    'eps-dropped',
    'ATN-1.4',
    'eps ignored: scale is sqrt(var)',
    'no valid input with eps = 0 separates it; eps > 0 with window variance near eps (or a constant window: the mutant fails degenerate)',
  ),
  m('k-ignored', 'ATN-1.2', 'k ignored: plain per-step LN statistics', 'k >= 2, T >= 2, steps whose statistics differ'),
  m(
    'stats-per-feature',
    'ATN-1.3',
    'statistics per feature over the time window instead of pooled over window x features',
    'H >= 2 with features of different mean or spread',
  ),
  m('stats-across-batch', 'ATN-1.1', 'statistics pooled across the batch as well', 'B >= 2 with samples of different mean or spread'),
  m('window-k-plus-1', 'ATN-1.2', 'window of k+1 steps', 'T >= k+1 (the window at t = k+1 holds k+1 steps), steps whose statistics differ'),
  m('window-k-minus-1', 'ATN-1.2', 'window of k-1 steps (at least 1)', 'k >= 2, T >= 2, steps whose statistics differ'),
  m('warmup-zero-pad', 'ATN-1.6', 'warm-up windows padded with zeros to k steps', 'k >= 2, t < k, entries whose mean or spread is not that of zeros'),
  m('warmup-divide-by-k', 'ATN-1.6', 'warm-up sums divided by k*H instead of n_t*H', 'k >= 2, t < k, nonzero entries'),
  m(
    'state-leak',
    'ATN-1.7',
    "window state not reset between requests: the last request's final window is prepended",
    'two requests in a row with the same B and H, k >= 2 (the same request twice answers differently)',
  ),
  m('stats-lagged', 'ATN-1.2', 'streaming statistics updated after use: step t normalized with W_{t-1}', 'T >= 2 with steps whose statistics differ'),
  m(
    'ln-mean-window-var',
    'ATN-1.3',
    'mean over the current step only (LN mean), variance over the window around it',
    'k >= 2, T >= 2, steps of different mean',
  ),
  m(
    'f32-naive-variance',
    'ATN-7.2',
    'variance as E[x^2]-E[x]^2 in float32 arithmetic, no scaling',
    '|mean| >> std (cancellation, e.g. 1e4 + N(0,1)) or |a| near 1e19 (a^2 overflows float32)',
  ),
  m(
    'tiled-reduction-256',
    'ATN-1.3',
    'window statistics reduced over the first 256 features of each step only (one 256-wide tile, no loop over the next), every feature normalized by them',
    'H > 256 with features beyond the 256th of different mean or spread',
  ),
  m('gain-bias-swapped', 'ATN-1.5', 'gain and bias swapped', 'gain != bias'),
  m('affine-before-normalize', 'ATN-1.4', 'gain and bias applied to a before normalizing', 'non-trivial gain or bias (not all ones and zeros)'),
  m(
    'history-detached',
    'ATN-4.1',
    'atn.vjp: window entries other than a_t treated as constants (no gradient into history)',
    'atn.vjp with k >= 2, T >= 2, dy nonzero at later steps',
  ),
  m('vjp-mean-detached', 'ATN-4.1', 'atn.vjp: the mean treated as a constant (the -mean(g*dy) term missing)', 'atn.vjp with dy whose window mean is nonzero'),
  m('vjp-gain-forgotten', 'ATN-4.1', 'atn.vjp: da computed from dy instead of gain*dy', 'atn.vjp with gain != 1'),
  m(
    'lstm-gate-order-ifog',
    'ATN-3.3',
    'ATN-LSTM gates split in the order i,f,o,g',
    'lstm.forward with gate preactivations of f and i that differ (random weights)',
  ),
  m('lstm-no-cell-atn', 'ATN-3.5', 'ATN-LSTM without the cell-state ATN: h = sigmoid(o) tanh(c)', 'lstm.forward, any non-trivial case'),
  m(
    'lstm-shared-window',
    'ATN-3.2',
    'ATN-LSTM: one window shared by the two preactivation ATNs (statistics over a^x and a^h together)',
    'lstm.forward where a^x and a^h differ in mean or spread',
  ),
  m('lstm-c0-in-window', 'ATN-3.5', 'ATN-LSTM: c0 is a step of the cell-state window', 'lstm.forward with k >= 2 and c0 != c_1 statistics'),
  m(
    'lstm-window-reset-8',
    'ATN-3.2',
    'ATN-LSTM: the three ATN windows restart every 8 steps (chunked truncated BPTT carried into the windows)',
    'lstm.forward with T >= 10 and k >= 2 (a window of step 9 or later that reaches back across step 8)',
  ),
  m(
    'squeeze-singleton',
    'ATN-8.5',
    'batch or feature dimension squeezed away when B = 1 or H = 1 (returns [T][H] or [T][B])',
    'any request with B = 1 or H = 1',
  ),
];
