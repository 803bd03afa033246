/**
 * The reference's contract (others code against it; the implementation lives in the modules beside this file):
 * its configuration, the expectation it gives a float target, the oracle choice (ATN-7.8).
 */
import type { Target } from '../protocol/target';
import { mapTree } from '../util/tree';

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

/**
 * ATN-7.9: where the fast oracle cannot round a want value to RN(exact), the doubles lo <= RN(exact) <= hi around it
 * and its midpoint's double (the value shown in want).
 */
export class Bracket {
  constructor(
    readonly mid: number,
    readonly lo: number,
    readonly hi: number,
  ) {}
}

/** An expectation some of whose values are only bracketed (ATN-7.9). */
export interface ExpectationBounds {
  /** want's structure: at each place a double <= RN(exact), and one >= it (equal to want where it is decided). */
  lo: Record<string, unknown>;
  hi: Record<string, unknown>;
  /** The same for tol (equal to tol everywhere unless tolerances were allowed to be bracketed). */
  tolLo: Record<string, unknown>;
  tolHi: Record<string, unknown>;
  /** The exact expectation (the BigNumber oracle, computed once, on first call). */
  exact: () => Expectation;
}

const BOUNDS = Symbol('atn.expectation.bounds');

/**
 * `e` with its Bracket leaves replaced by their midpoints, the brackets attached (non-enumerable: a copy, a
 * serialisation or a structure walk sees only want and tol; anything that is not compare() reads midpoints, which lie
 * within their brackets).
 */
export function withBounds(e: Expectation, exact: () => Expectation): Expectation {
  const pick = (v: Record<string, unknown>, f: (b: Bracket) => number) => mapTree(v, (x) => (x instanceof Bracket ? f(x) : x)) as Record<string, unknown>;
  const out: Expectation = { want: pick(e.want, (b) => b.mid), tol: pick(e.tol, (b) => b.mid) };
  const bounds: ExpectationBounds = {
    lo: pick(e.want, (b) => b.lo),
    hi: pick(e.want, (b) => b.hi),
    tolLo: pick(e.tol, (b) => b.lo),
    tolHi: pick(e.tol, (b) => b.hi),
    exact,
  };
  Object.defineProperty(out, BOUNDS, { value: bounds, enumerable: false });
  return out;
}

/** The brackets of an expectation answered with intervals (ATN-7.9), or undefined when every value is RN(exact). */
export function expectationBounds(e: Expectation): ExpectationBounds | undefined {
  return (e as unknown as Record<symbol, ExpectationBounds | undefined>)[BOUNDS];
}

export interface ExpectOptions {
  /**
   * ATN-7.9: which values the fast oracle may bracket instead of deferring to the exact one. 'want': the caller reads
   * want only through compare() and for its structure, and may read tol freely. 'all': the caller reads both only
   * through compare(). Default: none (every value RN(exact)).
   */
  intervals?: 'want' | 'all';
}

export interface Reference {
  readonly precision: number;
  /** The protocol v1 target (dtypes float32, float64, decimal). */
  target(): Target;
  /**
   * The expectation for raw protocol args (as a request would carry them) with dtype float32 or float64.
   * Throws the same AtnError the target would answer with (bad input, degenerate window).
   */
  expect(op: ReferenceOp, args: Record<string, unknown>, opts?: ExpectOptions): Expectation;
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
  /** Fast expectations with bracketed want values (ATN-7.9); a compare() they could not decide also counts in exact. */
  bracketed?: number;
}

/** ATN_ORACLE: "exact" forces the BigNumber oracle for every expectation; anything else (default "auto") allows the fast one. */
export function oracleMode(): 'exact' | 'auto' {
  const v = process.env.ATN_ORACLE;
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (v === 'exact') return 'exact';
  throw new RangeError(`ATN_ORACLE must be "exact" or "auto", got ${JSON.stringify(v)}`);
}
