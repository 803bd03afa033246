/**
 * The arithmetic context of the reference: one mathjs instance per precision (factory style, never the global
 * instance) and the few BigNumber helpers the ops need.
 *
 * Speed: the ops call the decimal.js methods directly (x.plus(y), x.times(y)); mathjs's typed dispatch (math.add) is
 * several times slower per element and the reference is all elements.
 *
 * Exactness of inputs: a decimal.js value is NOT rounded to the precision when it is constructed, only the results of
 * operations are. `big(x)` of a double therefore holds the double's exact value (up to 767 significant digits, see
 * convert.ts) whatever the precision; every operation on it then rounds once, to `precision` digits.
 */
// eslint-disable-next-line @typescript-eslint/ban-ts-comment -- @ts-expect-error would fail under module esnext (typecheck), where this is no error
// @ts-ignore TS1479 under module node16: mathjs's types live in a "type": "module" package, but mathjs also ships a
// CommonJS build (exports.require), which is what the emitted require('mathjs') loads.
import { all, create, type MathJsInstance } from 'mathjs';
import type { Big, BigCtor } from './big';
import { doubleToBig } from './convert';

export type { Big, BigCtor };

export interface MathCtx {
  /** Significant decimal digits of every operation's result. */
  readonly precision: number;
  /** The mathjs instance (number: 'BigNumber'); prefer the Big methods in loops. */
  readonly math: MathJsInstance;
  /** Its BigNumber constructor: `new m.Big('1.5')`; values are not rounded on construction. */
  readonly Big: BigCtor;
  readonly zero: Big;
  readonly one: Big;
  readonly two: Big;
  /** A number (converted EXACTLY, not via String), a decimal string, or a Big (copied) as a Big of this context. */
  big(x: number | string | Big): Big;
  sum(xs: readonly Big[]): Big;
  /** Largest element (xs non-empty). */
  max(xs: readonly Big[]): Big;
  sqrt(x: Big): Big;
  abs(x: Big): Big;
  exp(x: Big): Big;
  tanh(x: Big): Big;
  /** 1/(1+exp(-x)), written to avoid overflow of exp for large |x|. */
  sigmoid(x: Big): Big;
}

const cache = new Map<number, MathCtx>();

/** The context at `precision` significant digits (memoised: contexts are immutable). */
export function createMathCtx(precision = 64): MathCtx {
  if (!Number.isInteger(precision) || precision < 16 || precision > 4096) throw new RangeError(`precision must be an integer in 16..4096, got ${precision}`);
  const hit = cache.get(precision);
  if (hit) return hit;
  const math = create(all, { number: 'BigNumber', precision }) as MathJsInstance;
  const Big = (math as unknown as { BigNumber: BigCtor }).BigNumber;
  // Round half to even inside the working precision too (decimal.js defaults to half-up): unbiased, like IEEE.
  Big.set({ rounding: 6 });
  const zero = new Big(0);
  const one = new Big(1);
  const ctx: MathCtx = {
    precision,
    math,
    Big,
    zero,
    one,
    two: new Big(2),
    big: (x) => (typeof x === 'number' ? doubleToBig(Big, x) : new Big(x)),
    sum: (xs) => xs.reduce((s, x) => s.plus(x), zero),
    max: (xs) => xs.reduce((m, x) => (x.gt(m) ? x : m)),
    sqrt: (x) => x.sqrt(),
    abs: (x) => x.abs(),
    exp: (x) => x.exp(),
    tanh: (x) => x.tanh(),
    sigmoid: (x) => (x.isNeg() ? x.exp().div(one.plus(x.exp())) : one.div(one.plus(x.neg().exp()))),
  };
  cache.set(precision, ctx);
  return ctx;
}
