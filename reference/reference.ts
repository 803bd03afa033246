/**
 * The reference target (ATN-8.7: hello 'atn-kit-reference') and its expectations (ATN-7.1): exact BigNumber results
 * on the dtype-rounded inputs; float64 answers are the nearest doubles, float32 answers the nearest float32 values,
 * decimal answers decimal strings at working precision (ATN-8.3, ATN-8.4).
 */
import { AtnError } from '../protocol/errors';
import { packageVersion } from '../util/package';
import { targetFromHandlers, type Target } from '../protocol/target';
import { DTYPES, PROTOCOL_VERSION, type Dtype, type Hello } from '../protocol/types';
import { parseAtnArgs, parseAtnVjpArgs, parseLnArgs, parseLstmArgs, parseLstmVjpArgs, type AtnVjpArgs, type ParseOptions } from '../protocol/args';
import { atnForward, atnInputs, bigs1, bigs2, bigs3 } from './atn';
import { atnVjp } from './atn-vjp';
import { bigToDecimalString, bigToDouble, bigToFloat32, leafToBig } from './convert';
import {
  Bracket,
  oracleMode,
  withBounds,
  type Expectation,
  type ExpectOptions,
  type OracleStats,
  type Reference,
  type ReferenceConfig,
  type ReferenceOp,
} from './contract';
import { lnForward } from './ln';
import { lstmExpect, lstmForward, lstmVjp } from './lstm';
import { ddCtx, Undecidable, type DD } from './dd';
import { createMathCtx, type Big, type MathCtx } from './math';
import { atnForwardTol, atnVjpTol, forwardTolRow, unitOf } from './tolerance';
import { Interval, intervalAtnTols, intervalForwardTolRows, intervalWindow } from './interval';
import { mapTree, type Tree } from '../util/tree';

/** Maps every Big of a nested result (arrays and plain objects; a Big is neither) through `fn`. */
export function mapBig<R>(v: unknown, fn: (x: Big) => R): Tree<R> {
  return mapTree(v, fn as (x: unknown) => R);
}

/** How a result number is answered for a dtype. */
export function outputOf(dtype: Dtype, precision: number): (x: Big) => number | string {
  if (dtype === 'float64') return bigToDouble;
  if (dtype === 'float32') return bigToFloat32;
  return (x) => bigToDecimalString(x, precision);
}

const OPTS: ParseOptions = { dtypes: DTYPES };

/** The exact results (Big) of one op on raw protocol args; shared by the target and expect(). */
function exact(m: MathCtx, op: ReferenceOp, args: Record<string, unknown>): { dtype: Dtype; result: Record<string, unknown> } {
  switch (op) {
    case 'atn.forward': {
      const p = parseAtnArgs(args, OPTS);
      return { dtype: p.dtype, result: { y: atnForward(m, atnInputs(m, p)).y } };
    }
    case 'atn.vjp': {
      const p = parseAtnVjpArgs(args, OPTS);
      const r = atnVjp(m, atnInputs(m, p), bigs3(m, p.dy, p.dtype));
      return { dtype: p.dtype, result: { y: r.y, da: r.da, dgain: r.dgain, dbias: r.dbias } };
    }
    case 'ln.forward': {
      const p = parseLnArgs(args, OPTS);
      const inp = { eps: leafToBig(m.Big, p.eps, p.dtype), x: bigs2(m, p.x, p.dtype), gain: bigs1(m, p.gain, p.dtype), bias: bigs1(m, p.bias, p.dtype) };
      return { dtype: p.dtype, result: { y: lnForward(m, inp).y } };
    }
    case 'lstm.forward': {
      const p = parseLstmArgs(args, OPTS);
      const r = lstmForward(m, p);
      return { dtype: p.dtype, result: { h: r.h, c: r.c } };
    }
    case 'lstm.vjp': {
      const p = parseLstmVjpArgs(args, OPTS);
      const r = lstmVjp(m, p);
      return { dtype: p.dtype, result: { h: r.h, c: r.c, grads: r.grads } };
    }
  }
}

const OPS: ReferenceOp[] = ['atn.forward', 'atn.vjp', 'ln.forward', 'lstm.forward', 'lstm.vjp'];

function notForDecimal(dtype: Dtype): void {
  if (dtype === 'decimal')
    throw new AtnError('unsupported_dtype', 'ATN-6.7', 'dtype: expectations exist for float32 and float64, not decimal (ATN-6.7)', 'dtype');
}

export function createReference(cfg: ReferenceConfig = {}): Reference {
  const precision = cfg.precision ?? 64;
  const m = createMathCtx(precision);
  const dd = ddCtx();

  /**
   * The expectation computed in context m. `round` turns each Big of want into a double: bigToDouble (RN, certified
   * or Undecidable on the fast path), or on the fast path with intervals a Bracket where RN cannot be decided
   * (ATN-7.9); `roundTol` likewise for the ATN and LN tolerances (those of the LSTM, ATN-7.4, are computed in doubles
   * on either path). `knownTol` (an exact tolerance already known) spares computing it again when only want must be.
   * `tolIntervals` (the fast path when tolerances may be bracketed): the ATN and LN tolerances in float64 intervals
   * (interval.ts) from the double-double statistics; roundTol then receives Intervals.
   */
  function expectIn(
    m: MathCtx,
    op: ReferenceOp,
    args: Record<string, unknown>,
    round: (x: Big) => number = bigToDouble,
    knownTol?: Record<string, unknown>,
    roundTol: (x: Big) => number = bigToDouble,
    tolIntervals = false,
  ): Expectation {
    const toWant = (v: unknown) => mapBig(v, round) as never;
    const toDouble = (v: unknown) => mapBig(v, roundTol) as never;
    if (op === 'lstm.forward' || op === 'lstm.vjp') {
      const p = op === 'lstm.forward' ? parseLstmArgs(args, OPTS) : parseLstmVjpArgs(args, OPTS);
      notForDecimal(p.dtype);
      return lstmExpect(m, p, op, round, knownTol);
    }
    if (op === 'ln.forward') {
      const p = parseLnArgs(args, OPTS);
      notForDecimal(p.dtype);
      const inp = { eps: leafToBig(m.Big, p.eps, p.dtype), x: bigs2(m, p.x, p.dtype), gain: bigs1(m, p.gain, p.dtype), bias: bigs1(m, p.bias, p.dtype) };
      const { y, stats } = lnForward(m, inp);
      const want = { y: toWant(y) }; // first: where the fast path defers, before any tolerance work (as lstmExpect)
      if (knownTol) return { want, tol: knownTol };
      const unit = unitOf(m, p.dtype);
      const ivRow = tolIntervals ? intervalForwardTolRows(p.dtype, inp.gain, inp.bias) : undefined;
      const tol = stats.map((st, b) => (ivRow ? ivRow(intervalWindow(st), y[b]) : forwardTolRow(m, unit, st, inp.gain, inp.bias, y[b])));
      return { want, tol: { y: toDouble(tol) } };
    }
    const p = op === 'atn.forward' ? parseAtnArgs(args, OPTS) : parseAtnVjpArgs(args, OPTS);
    notForDecimal(p.dtype);
    const x = atnInputs(m, p);
    const unit = unitOf(m, p.dtype);
    if (op === 'atn.forward') {
      const { y, stats } = atnForward(m, x);
      if (knownTol) return { want: { y: toWant(y) }, tol: knownTol };
      const tol = tolIntervals ? intervalAtnTols(p.dtype, x, y, stats).y : atnForwardTol(m, unit, x, y, stats);
      return { want: { y: toWant(y) }, tol: { y: toDouble(tol) } };
    }
    const dy = bigs3(m, (p as AtnVjpArgs).dy, p.dtype);
    const r = atnVjp(m, x, dy);
    const want = { y: toWant(r.y), da: toWant(r.da), dgain: toWant(r.dgain), dbias: toWant(r.dbias) };
    if (knownTol) return { want, tol: knownTol };
    const t = tolIntervals
      ? intervalAtnTols(p.dtype, x, r.y, r.stats, dy)
      : { y: atnForwardTol(m, unit, x, r.y, r.stats), ...atnVjpTol(m, unit, x, dy, r.stats) };
    return { want, tol: { y: toDouble(t.y), da: toDouble(t.da), dgain: toDouble(t.dgain), dbias: toDouble(t.dbias) } };
  }

  /**
   * ATN-7.8: the double-double evaluation first (reference/dd.ts); when any value of the expectation cannot be
   * certified to round to the same double as the exact result, the exact BigNumber evaluation. Either way the
   * expectation is the same numbers; `oracle` counts which path answered.
   *
   * ATN-7.9 (opts.intervals): a want value the fast path cannot round is answered by a bracket of doubles around
   * RN(exact) instead of the exact evaluation; the expectation then carries `bounds` and `exact()` (expectationBounds),
   * and compare() decides the verdict for every double of each bracket, or asks exact() when it cannot.
   */
  const oracle: OracleStats = { fast: 0, exact: 0, forced: (cfg.oracle ?? oracleMode()) === 'exact', undecided: {}, bracketed: 0 };
  function undecided(why: string): void {
    oracle.undecided[why] = (oracle.undecided[why] ?? 0) + 1;
  }
  function expect(op: ReferenceOp, args: Record<string, unknown>, opts: ExpectOptions = {}): Expectation {
    if (!oracle.forced) {
      try {
        let bracketedWant = false,
          bracketedTol = false;
        /** RN(exact) where decided, else (ATN-7.9) a bracket around it, noting which part had one. */
        const bracketing =
          (onBracket: () => void) =>
          (x: Big): number => {
            if ((x as unknown) instanceof Interval) {
              // a tolerance in float64 intervals: a bracket unless it is one double
              const { lo, hi } = x as unknown as Interval;
              if (lo === hi) return lo;
              onBracket();
              return new Bracket(Math.min(hi, Math.max(lo, (lo + hi) / 2)), lo, hi) as unknown as number;
            }
            const d = x as unknown as DD;
            try {
              return d.nearestDouble();
            } catch (e) {
              if (!(e instanceof Undecidable)) throw e;
              onBracket();
              return new Bracket(d.hi, ...d.bracket()) as unknown as number;
            }
          };
        const round = opts.intervals ? bracketing(() => (bracketedWant = true)) : bigToDouble;
        const roundTol = opts.intervals === 'all' ? bracketing(() => (bracketedTol = true)) : bigToDouble;
        const e = expectIn(dd, op, args, round, undefined, roundTol, opts.intervals === 'all');
        oracle.fast++;
        if (!bracketedWant && !bracketedTol) return e;
        oracle.bracketed = (oracle.bracketed ?? 0) + 1;
        let exactOne: Expectation | undefined;
        return withBounds(e, () => {
          if (!exactOne) {
            undecided(`${op}: a verdict the bracket of a value could not decide`);
            oracle.exact++;
            // A tolerance that was decided is RN(exact) already: only want is computed again then.
            exactOne = expectIn(m, op, args, bigToDouble, bracketedTol ? undefined : e.tol);
          }
          return exactOne;
        });
      } catch (e) {
        if (!(e instanceof Undecidable)) throw e; // bad input or a degenerate window: the same error as exact
        undecided(`${op}: ${e.message}`);
      }
    }
    oracle.exact++;
    return expectIn(m, op, args);
  }

  function target(): Target {
    const hello: Hello = {
      name: 'atn-kit-reference',
      version: packageVersion(),
      protocol: PROTOCOL_VERSION as 1,
      ops: ['hello', ...OPS],
      dtypes: [...DTYPES],
      description: `exact BigNumber reference (mathjs, ${precision} significant digits)`,
    };
    const handler = (op: ReferenceOp) => (args: Record<string, unknown>) => {
      const { dtype, result } = exact(m, op, args);
      return mapBig(result, outputOf(dtype, precision)) as Record<string, unknown>;
    };
    return targetFromHandlers(hello, Object.fromEntries(OPS.map((op) => [op, handler(op)])));
  }

  return { precision, target, expect, oracle };
}
