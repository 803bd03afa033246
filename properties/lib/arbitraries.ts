/**
 * Generators of ATN, LN and ATN-LSTM inputs, small pieces composed into bigger ones, the fast-check way: numbers
 * (numbers.ts) and shapes (shapes.ts) apart, one ATN regime per file with its documented constraints (general,
 * scale + mixed, drift, large-mean, near-eps, subnormal; dispatched by name in atn.ts), LN (ln.ts), the ATN-LSTM
 * (lstm.ts), the VJP cotangents (vjp.ts), exact grids for the shift theorems (grid.ts) and exact power-of-two
 * scalings for the scale theorems (scaling.ts); args.ts turns cases into request args.
 *
 * This file, beside the folder rather than an index.ts inside it, is what `.../arbitraries` imports resolve to: it
 * also replaces the compiled dist/properties/lib/arbitraries.js of the single-file version in existing builds (Node
 * would pick that stale file before a folder's index.js).
 */
export * from './arbitraries/args';
export * from './arbitraries/atn';
export { affine, epsGeneral } from './arbitraries/base';
export * from './arbitraries/drift';
export * from './arbitraries/general';
export * from './arbitraries/grid';
export * from './arbitraries/large-mean';
export * from './arbitraries/ln';
export * from './arbitraries/lstm';
export * from './arbitraries/near-eps';
export * from './arbitraries/numbers';
export * from './arbitraries/scale';
export * from './arbitraries/scaling';
export * from './arbitraries/shapes';
export * from './arbitraries/subnormal';
/** The [T][B][H] builders live in util/tree.ts (one copy for every folder); re-exported for the checks. */
export { build3, flat3, map3 } from '../../util/tree';
export * from './arbitraries/types';
export * from './arbitraries/vjp';
