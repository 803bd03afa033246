/**
 * Generators of ATN, LN and ATN-LSTM inputs, small pieces composed into bigger ones, the fast-check way: numbers
 * (numbers.ts) and shapes (shapes.ts) apart, one ATN regime per file with its documented constraints (general,
 * scale + mixed, drift, large-mean, near-eps, subnormal; dispatched by name in atn.ts), LN (ln.ts), the ATN-LSTM
 * (lstm.ts), the VJP cotangents (vjp.ts), exact grids for the shift theorems (grid.ts) and exact power-of-two
 * scalings for the scale theorems (scaling.ts); args.ts turns cases into request args.
 */
export * from './args';
export * from './atn';
export { affine, epsGeneral } from './base';
export * from './drift';
export * from './general';
export * from './grid';
export * from './large-mean';
export * from './ln';
export * from './lstm';
export * from './near-eps';
export * from './numbers';
export * from './scale';
export * from './scaling';
export * from './shapes';
export * from './subnormal';
export * from './tree';
export * from './types';
export * from './vjp';
