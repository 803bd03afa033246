/**
 * The reference (the oracle): ATN, LN and the ATN-LSTM in mathjs BigNumber arithmetic at a configurable precision.
 * The contract is reference/contract.ts; the implementation lives in the modules beside it.
 */
export * from './contract';
export { createReference } from './reference';
