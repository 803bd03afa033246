/**
 * The reference's contract (others code against it; the implementation lives in the modules beside this file):
 * its configuration, the expectation it gives a float target, the oracle choice (ATN-7.8).
 */
import type { Target } from '../protocol/target';

export interface ReferenceConfig {
  /** Significant decimal digits of the BigNumber arithmetic (default 64). */
  precision?: number;
  /** "exact": every expectation from the BigNumber oracle; "auto" (default: ATN_ORACLE, else auto): the fast one when it decides (ATN-7.8). */
  oracle?: 'exact' | 'auto';
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
  /** Which oracle answered expect() so far (ATN-7.8); a campaign records the counts per check in report.json. */
  readonly oracle?: OracleStats;
}

/** Counts of expectations answered by the fast (double-double, ATN-7.7) and the exact (BigNumber) oracle. */
export interface OracleStats {
  fast: number;
  exact: number;
  /** ATN_ORACLE=exact: the fast path is never tried. */
  forced: boolean;
  /** Why the fast path could not decide, with counts ("atn.vjp: the error bound straddles a rounding boundary"). */
  undecided: Record<string, number>;
}

/** ATN_ORACLE: "exact" forces the BigNumber oracle for every expectation; anything else (default "auto") allows the fast one. */
export function oracleMode(): 'exact' | 'auto' {
  const v = process.env.ATN_ORACLE;
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (v === 'exact') return 'exact';
  throw new RangeError(`ATN_ORACLE must be "exact" or "auto", got ${JSON.stringify(v)}`);
}
