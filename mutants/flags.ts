/**
 * The port mistakes the plain-JS implementation (mutants/base.ts) can make. Each flag is one realistic mistake; a
 * target carries at most one (a mutant), and no flag is the correct implementation (the base). The descriptions, the
 * clauses they break and the inputs that separate them from the spec live in catalogue.ts.
 */
export const FLAGS = [
  // statistics
  'unbiased-variance',
  'eps-outside-sqrt',
  'eps-dropped',
  'k-ignored',
  'stats-per-feature',
  'stats-across-batch',
  'window-k-plus-1',
  'window-k-minus-1',
  'warmup-zero-pad',
  'warmup-divide-by-k',
  'state-leak',
  'stats-lagged',
  'ln-mean-window-var',
  'f32-naive-variance',
  'tiled-reduction-256',
  // affine
  'gain-bias-swapped',
  'affine-before-normalize',
  // gradients
  'history-detached',
  'vjp-mean-detached',
  'vjp-gain-forgotten',
  // ATN-LSTM
  'lstm-gate-order-ifog',
  'lstm-no-cell-atn',
  'lstm-shared-window',
  'lstm-c0-in-window',
  'lstm-window-reset-8',
  // shapes
  'squeeze-singleton',
] as const;

export type Flag = (typeof FLAGS)[number];
export type Flags = ReadonlySet<Flag>;

export const NO_FLAGS: Flags = new Set<Flag>();
