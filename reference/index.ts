/**
 * The reference (the oracle): ATN, LN and the ATN-LSTM in mathjs BigNumber arithmetic at a configurable precision.
 * CONTRACT (others code against it; the implementation lives in the modules beside this file).
 */
import type { Target } from '../protocol/target';

export interface ReferenceConfig {
  /** Significant decimal digits of the BigNumber arithmetic (default 64). */
  precision?: number;
}

export type ReferenceOp = 'atn.forward' | 'atn.vjp' | 'ln.forward' | 'lstm.forward' | 'lstm.vjp';

/**
 * What a float32 or float64 target must answer (ATN-7.1): `want` is the exact result of the formula on the inputs
 * rounded to the dtype, rounded to the nearest double; `tol` is the derived per-element bound (ATN-7.2..7.4). Both have
 * exactly the structure of the op's result ({y}, {y, da, dgain, dbias}, {h, c}, {h, c, grads: {...}}).
 */
export interface Expectation {
  want: Record<string, unknown>;
  tol: Record<string, unknown>;
}

export interface Reference {
  readonly precision: number;
  /** The protocol v1 target (dtypes float32, float64, decimal). */
  target(): Target;
  /**
   * The expectation for raw protocol args (as a request would carry them) with dtype float32 or float64.
   * Throws the same AtnError the target would answer with (bad input, degenerate window).
   */
  expect(op: ReferenceOp, args: Record<string, unknown>): Expectation;
}

export { createReference } from './reference';
