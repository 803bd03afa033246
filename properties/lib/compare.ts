/**
 * The comparison rule of ATN-7.1: a target's number `got` agrees with `want` when got === want (equal infinities
 * included) or |got - want| <= tol; NaN never agrees. The result must have exactly the structure and shapes of the
 * expectation: a missing or extra key, a squeezed or extra dimension, a string where a number belongs, each fails with
 * a detail naming the place. ratio = |got - want| / tol (Infinity for a structural failure or NaN; 0 for got === want).
 * At dtype float32 the correctly rounded float32 result also agrees (got === fround(want)): an exact result just above
 * the largest float32 rounds to Infinity, which is all a float32 target can answer, while want (a double) is finite.
 */
import { own } from '../../protocol/codec';
import { dims, mapTree, mapTreeAt, zipTree } from '../../util/tree';
import { expectationBounds, type Expectation } from '../../reference';
import type { Worst } from './types';

/**
 * A tolerance that is not a finite number >= 0 (Infinity, NaN, negative, missing) where the answer is not exactly the
 * expected value: the suite cannot judge this element. It is the harness's failure, never a pass (an Infinity
 * tolerance would admit any answer) and never the target's fault: propertyCheck reports it as a harness error.
 */
export class ToleranceError extends Error {}

export interface CompareResult {
  ok: boolean;
  /** The element with the largest ratio (the structural failure, when there is one). */
  worst: Worst;
  /** The ratio of every compared element, in walk order. */
  ratios: number[];
  /** One line: the worst element, or the structural failure. */
  detail: string;
}

/** Formats a path and index as `y[2][0][1]` or `grads.atn_x.gain[3]`. */
export function placeName(output: string, index: number[]): string {
  return output + index.map((i) => `[${i}]`).join('');
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e6 ? String(Number(x.toPrecision(9))) : x.toExponential(6);
}

export function describeWorst(w: Worst): string {
  return `${placeName(w.output, w.index)} = ${fmt(w.got)}, want ${fmt(w.want)} +- ${fmt(w.tol)} (ratio ${w.ratio === Infinity ? 'Infinity' : w.ratio.toPrecision(3)})`;
}

/** The brackets' subtrees at one place of want: [lo, hi, tolLo, tolHi] (ATN-7.9). */
type Sub = [unknown, unknown, unknown, unknown];
function subOf(b: Sub | undefined, key: string): Sub | undefined {
  return b && [own(b[0], key), own(b[1], key), own(b[2], key), own(b[3], key)];
}

class Walker {
  /**
   * structureOnly: check shapes and leaf types, compare no values (structureProblem). keep: the ratio a shrink
   * candidate must reach to stay failing (ATN-9.7), when compare() is asked only to keep or drop one.
   */
  constructor(
    private readonly float32 = false,
    private readonly structureOnly = false,
    private readonly keep?: number,
  ) {}
  ratios: number[] = [];
  worst: Worst | undefined;
  structural: string | undefined;
  structuralWorst: Worst | undefined;

  fail(output: string, index: number[], why: string, got = NaN, want = NaN): void {
    if (this.structural === undefined) {
      this.structural = `${placeName(output, index) || 'result'}: ${why}`;
      this.structuralWorst = { output, index, got, want, tol: 0, ratio: Infinity };
    }
  }

  /** Some bracketed value does not pass for every double of its bracket: only the exact expectation can judge it. */
  undecided = false;
  /** Some compared value was bracketed (ATN-7.9). */
  bracketed = false;

  leaf(got: unknown, want: number, tol: number, output: string, index: number[], b?: Sub): void {
    if (typeof got !== 'number') {
      this.fail(output, index, `expected a number, got ${shape(got)}`, NaN, want);
      return;
    }
    if (this.structureOnly) return;
    if (b) {
      const num = (x: unknown, d: number) => (typeof x === 'number' ? x : d);
      const lo = num(b[0], want),
        hi = num(b[1], want),
        tlo = num(b[2], tol),
        thi = num(b[3], tol);
      if (lo !== want || hi !== want || tlo !== tol || thi !== tol) {
        this.bracketed = true;
        if (!this.passesForBracket(got, lo, hi, tlo, thi)) {
          const range = this.keep === undefined ? undefined : this.failsForBracket(got, lo, hi, tlo, thi);
          if (!range || (range[0] < this.keep! && this.keep! <= range[1])) {
            this.undecided = true;
            return; // the exact expectation judges it
          }
          // A shrink candidate's failure, on the same side of 1 and of keep for every double of the bracket: its
          // ratio is reported as the range's lower end, so ok and ratio >= keep are the exact oracle's (ATN-7.9).
          this.pushRatio(range[0], output, index, got, want, tol);
          return;
        }
      }
    }
    let ratio: number;
    if (!Number.isNaN(got) && got === want)
      ratio = 0; // exact agreement needs no tolerance
    else if (!(tol >= 0 && Number.isFinite(tol)))
      throw new ToleranceError(
        `${placeName(output, index) || 'result'}: the derived tolerance is ${fmt(tol)}, not a finite number >= 0 (a harness error: no bound could be derived for this case)`,
      );
    else if (Number.isNaN(got) || Number.isNaN(want)) ratio = Infinity;
    else {
      ratio = tol > 0 ? Math.abs(got - want) / tol : Infinity; // Infinity for an overflowed output or tol 0
      // The correctly rounded float32 answer is never wrong (it is Infinity just above the float32 range).
      if (this.float32 && got === Math.fround(want)) ratio = Math.min(ratio, 1);
    }
    this.pushRatio(ratio, output, index, got, want, tol);
  }

  private pushRatio(ratio: number, output: string, index: number[], got: number, want: number, tol: number): void {
    this.ratios.push(ratio);
    if (!this.worst || ratio > this.worst.ratio) this.worst = { output, index: index.slice(), got, want, tol, ratio };
  }

  /**
   * ATN-7.9, while shrinking: when the rule above FAILS for every double w in [lo, hi] and tolerance in [tlo, thi],
   * the range [rlo, rhi] that holds the ratio of each (the exact one included); else undefined. got outside [lo, hi]
   * makes |got - w| rounded monotone over the bracket, so its smallest value is at the nearer end and its largest at
   * the farther; rounding is monotone, so rlo = RN(dmin / thi) and rhi = RN(dmax / tlo) bound every RN(d / t). Every
   * pair fails when rlo > 1 and (float32) no w rounds to got: fround is monotone, so got lies outside
   * [fround(lo), fround(hi)].
   */
  private failsForBracket(got: number, lo: number, hi: number, tlo: number, thi: number): [number, number] | undefined {
    if (!(tlo >= 0 && tlo <= thi && Number.isFinite(thi) && lo <= hi)) return undefined;
    if (Number.isNaN(got)) return [Infinity, Infinity];
    if (got >= lo && got <= hi) return undefined;
    if (this.float32 && got >= Math.fround(lo) && got <= Math.fround(hi)) return undefined;
    const dmin = Math.min(Math.abs(got - lo), Math.abs(got - hi)),
      dmax = Math.max(Math.abs(got - lo), Math.abs(got - hi));
    const rlo = thi > 0 ? dmin / thi : Infinity,
      rhi = tlo > 0 ? dmax / tlo : Infinity;
    return rlo > 1 ? [rlo, rhi] : undefined;
  }

  /**
   * ATN-7.9: whether the rule above passes for every double w in [lo, hi] and tolerance in [tlo, thi] (RN(exact) of
   * each is one of them). |got - w| rounded is monotone in w on either side of got, so its largest value over the
   * bracket is at an end, and the ratio falls as the tolerance grows: every pair passes when both ends' plain ratios
   * at tlo are <= 1, or (float32) when every w rounds to got. Anything else is undecided; a failure need not be
   * decided here, since compare() judges every failure that involves a bracket on the exact expectation.
   */
  private passesForBracket(got: number, lo: number, hi: number, tlo: number, thi: number): boolean {
    if (!(tlo >= 0 && Number.isFinite(thi))) return false;
    const plain = (w: number) => (Number.isNaN(got) ? Infinity : tlo > 0 ? Math.abs(got - w) / tlo : got === w ? 0 : Infinity);
    if (plain(lo) <= 1 && plain(hi) <= 1) return true;
    return this.float32 && Math.fround(lo) === got && Math.fround(hi) === got;
  }

  /** want and tol have the same structure (the reference makes both); got is what the target answered. */
  walk(got: unknown, want: unknown, tol: unknown, output: string, index: number[], b?: Sub): void {
    if (typeof want === 'number') {
      this.leaf(got, want, typeof tol === 'number' ? tol : NaN, output, index, b);
      return;
    }
    if (Array.isArray(want)) {
      if (!Array.isArray(got)) {
        this.fail(output, index, `expected an array of length ${want.length}, got ${shape(got)} (a squeezed or missing dimension)`);
        return;
      }
      const dg = dims(got, Infinity).length,
        dw = dims(want, Infinity).length;
      if (dg !== dw) {
        this.fail(output, index, `${dg}-dimensional, expected ${dw}-dimensional (${dg < dw ? 'a dimension is missing, e.g. squeezed' : 'an extra dimension'})`);
        return;
      }
      if (got.length !== want.length) {
        this.fail(output, index, `length ${got.length}, expected ${want.length}`);
        return;
      }
      const t = Array.isArray(tol) ? tol : [];
      for (let i = 0; i < want.length; i++) {
        index.push(i);
        this.walk(got[i], want[i], own(t, String(i)), output, index, subOf(b, String(i)));
        index.pop();
      }
      return;
    }
    if (want !== null && typeof want === 'object') {
      if (got === null || typeof got !== 'object' || Array.isArray(got)) {
        this.fail(output, index, `expected an object with keys ${Object.keys(want).join(', ')}, got ${shape(got)}`);
        return;
      }
      const g = got as Record<string, unknown>;
      const w = want as Record<string, unknown>;
      // Own keys only (Object.hasOwn, never `in`): an inherited "toString" or a prototype set through "__proto__" is
      // not part of a result, so a forged key can neither stand in for a missing one nor hide an extra one.
      for (const key of Object.keys(w)) {
        const sub = output ? `${output}.${key}` : key;
        if (!Object.hasOwn(g, key)) {
          this.fail(sub, [], 'missing');
          continue;
        }
        this.walk(g[key], w[key], own(tol, key), sub, [], subOf(b, key));
      }
      for (const key of Object.keys(g))
        if (!Object.hasOwn(w, key)) this.fail(output ? `${output}.${key}` : key, [], "unexpected key (the result must have exactly the op's structure)");
      return;
    }
    this.fail(output, index, `the expectation holds ${shape(want)} (a harness bug)`);
  }
}

function shape(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 30))}`;
  return `a ${typeof v}${typeof v === 'number' ? ` (${v})` : ''}`;
}

export interface CompareOptions {
  /** The campaign dtype: float32 also accepts the correctly rounded float32 result. */
  dtype?: 'float32' | 'float64';
  /**
   * While shrinking (ATN-9.7), the ratio a candidate must reach to count as failing: the result is then asked only
   * whether it is ok and whether its largest ratio reaches keep, and a failure the brackets decide on both is not
   * re-judged on the exact expectation (ATN-7.9). Its ratios and worst element are then the bracket's, not exact.
   */
  keep?: number;
}

export function compare(got: unknown, exp: Expectation, opts: CompareOptions = {}): CompareResult {
  const b = expectationBounds(exp);
  const w = new Walker(opts.dtype === 'float32', false, b ? opts.keep : undefined);
  w.walk(got, exp.want, exp.tol, '', [], b && [b.lo, b.hi, b.tolLo, b.tolHi]);
  // ATN-7.9: a verdict some bracket could not decide, and any failure that involved a bracketed value (so that its
  // counterexample shows the exact want and ratios), are judged on the exact expectation; a shrink candidate's
  // failure (keep) only when the brackets could not decide it.
  const reJudge = w.undecided || (opts.keep === undefined && w.bracketed && (w.structural !== undefined || !w.ratios.every((r) => r <= 1)));
  if (b && reJudge) return compare(got, b.exact(), { ...opts, keep: undefined });
  if (w.structural !== undefined) {
    const worst = w.structuralWorst as Worst;
    return { ok: false, worst, ratios: [...w.ratios, Infinity], detail: w.structural };
  }
  const worst = w.worst ?? { output: '', index: [], got: 0, want: 0, tol: 0, ratio: 0 };
  const ok = w.ratios.every((r) => r <= 1);
  return { ok, worst, ratios: w.ratios, detail: describeWorst(worst) };
}

/** The largest of a comparison's ratios (0 when nothing was compared). */
export function maxRatio(ratios: number[]): number {
  let m = 0;
  for (const r of ratios) if (!(r <= m)) m = Number.isNaN(r) ? Infinity : r;
  return m;
}

/**
 * ATN-7.5: two outputs of one target that are equal in exact arithmetic may differ by the sum of their tolerances.
 * `second` is compared against `first` as if `first` were the want.
 */
export function compareOutputs(first: unknown, second: unknown, tolFirst: unknown, tolSecond: unknown): CompareResult {
  return compare(second, { want: first as Record<string, unknown>, tol: addTol(tolFirst, tolSecond) as Record<string, unknown> });
}

/** The first structural difference between a result and an expectation's want (missing key, wrong shape), if any. */
export function structureProblem(got: unknown, want: unknown): string | undefined {
  const w = new Walker(false, true);
  w.walk(got, want, undefined, '', []);
  return w.structural;
}

/** Elementwise a + b over two tolerance structures of the same shape (ATN-7.5: metamorphic pairs). */
export function addTol(a: unknown, b: unknown): unknown {
  return zipTree(a, b, (x, y) => (typeof x === 'number' ? x + (typeof y === 'number' ? y : 0) : x));
}

/** Elementwise scaling of a numeric structure (exact for powers of two within range); the structure is kept. */
export function scaleTree<T>(a: T, f: number): T {
  return mapTree(a, (x) => (typeof x === 'number' ? x * f : x)) as T;
}

/** A copy of a nested numeric structure with the leaves where keep(path, index) is false set to 0 (the structure kept). */
export function maskTree<T>(a: T, keep: (output: string, index: number[]) => boolean): T {
  return mapTreeAt(a, (x, at) => (typeof x === 'number' && !keep(at.output, at.index) ? 0 : x)) as T;
}
