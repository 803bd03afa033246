/**
 * Argument validation shared by every target of ours (reference, impl, mutants): the same bad input gets the same
 * error, naming the argument and the clause it breaks (ATN-6). Leaves stay as they came (numbers, or decimal strings
 * with dtype "decimal") so that the reference can convert them exactly.
 */
import { AtnError, badArgument } from './errors';
import type { Dtype, LstmGrads } from './types';
import { LIMITS, workOf } from '../spec/limits';

export type Leaf = number | string;
export type Leaf1 = Leaf[];
export type Leaf2 = Leaf[][];
export type Leaf3 = Leaf[][][];

export interface AtnArgs {
  dtype: Dtype;
  k: number;
  eps: Leaf;
  a: Leaf3;
  gain: Leaf1;
  bias: Leaf1;
  T: number;
  B: number;
  H: number;
}
export interface AtnVjpArgs extends AtnArgs {
  dy: Leaf3;
}
export interface LnArgs {
  dtype: Dtype;
  eps: Leaf;
  x: Leaf2;
  gain: Leaf1;
  bias: Leaf1;
  B: number;
  H: number;
}
export interface AffineParams {
  gain: Leaf1;
  bias: Leaf1;
}
export interface LstmParams {
  w_xh: Leaf2; // [I][4H]
  w_hh: Leaf2; // [H][4H]
  b_x: Leaf1; // [4H]
  b_h: Leaf1; // [4H]
  atn_x: AffineParams; // [4H]
  atn_h: AffineParams; // [4H]
  atn_c: AffineParams; // [H]
}
export interface LstmArgs {
  dtype: Dtype;
  k: number;
  eps: Leaf;
  x: Leaf3; // [T][B][I]
  h0: Leaf2; // [B][H]
  c0: Leaf2; // [B][H]
  params: LstmParams;
  T: number;
  B: number;
  I: number;
  H: number;
}
export interface LstmVjpArgs extends LstmArgs {
  dh: Leaf3; // [T][B][H]
}

export interface ParseOptions {
  /** dtypes the target accepts; others get unsupported_dtype (ATN-6.7). */
  dtypes: readonly Dtype[];
  /** Element limit (defaults to LIMITS.maxElements). */
  maxElements?: number;
  /** Work limit (ATN-6.11, defaults to LIMITS.maxWork). */
  maxWork?: number;
}

/** ATN-6.11: refuses a request whose work (spec/limits.ts workOf) is over the limit, before any of it is done. */
function checkWork(units: number, formula: string, arg: string, opts: ParseOptions): void {
  const max = opts.maxWork ?? LIMITS.maxWork;
  if (units > max) throw new AtnError('too_large', 'ATN-6.11', `${arg}: the request's work ${formula} = ${units} exceeds the limit ${max} (ATN-6.11)`, arg);
}

const NON_FINITE_STRINGS = new Set(['NaN', 'Infinity', '-Infinity']);
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Counts leaves and refuses a request over the limit before any deep work (ATN-6.9). */
class Budget {
  n = 0;
  constructor(readonly max: number) {}
  take(count: number, arg: string): void {
    this.n += count;
    if (this.n > this.max) throw new AtnError('too_large', 'ATN-6.9', `${arg}: request holds more than ${this.max} numbers (ATN-6.9)`, arg);
  }
}

function leaf(v: unknown, dtype: Dtype, arg: string): Leaf {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw badArgument(arg, 'ATN-6.4', `entry is not finite: ${v}`);
    // ATN-6.10: finite as a double, but ±Infinity once rounded to the dtype (|v| >= 2^128 (1 - 2^-25)): not finite.
    if (dtype === 'float32' && !Number.isFinite(Math.fround(v)))
      throw badArgument(arg, 'ATN-6.4', `entry ${v} overflows float32 (it rounds to ${v > 0 ? '' : '-'}Infinity; ATN-6.10)`);
    return v;
  }
  if (typeof v === 'string') {
    if (NON_FINITE_STRINGS.has(v)) throw badArgument(arg, 'ATN-6.4', `entry is not finite: "${v}"`);
    if (dtype === 'decimal' && DECIMAL.test(v)) {
      if (v.length > LIMITS.maxDecimalDigits + 16) throw badArgument(arg, 'ATN-8.3', `decimal string longer than ${LIMITS.maxDecimalDigits} digits`);
      // ATN-6.10: the reference's decimals hold exponents to about ±9e15, and squares double them: a larger one would
      // be answered wrongly (0, NaN), so it is refused.
      const m = /[eE]([+-]?\d+)$/.exec(v);
      if (m && Math.abs(Number(m[1])) > LIMITS.maxDecimalExponent)
        throw badArgument(
          arg,
          'ATN-8.3',
          `decimal exponent ${m[1].length > 24 ? `${m[1].slice(0, 24)}…` : m[1]} is beyond ±${LIMITS.maxDecimalExponent} (ATN-6.10)`,
        );
      return v;
    }
    const why = dtype === 'decimal' ? 'is not a decimal number' : `is a string; with dtype ${dtype} entries are JSON numbers`;
    throw badArgument(arg, 'ATN-8.3', `entry ${JSON.stringify(v.slice(0, 40))} ${why}`);
  }
  throw badArgument(arg, 'ATN-8.3', `entry is ${describe(v)}, not a number`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

function vec(v: unknown, dtype: Dtype, arg: string, len: number | undefined, budget: Budget, lenClause: 'ATN-6.3' | 'ATN-6.5' | 'ATN-6.8' = 'ATN-6.3'): Leaf1 {
  if (!Array.isArray(v)) throw badArgument(arg, 'ATN-6.3', `expected an array, got ${describe(v)}`);
  if (v.length === 0) throw badArgument(arg, 'ATN-6.3', 'empty array');
  if (len !== undefined && v.length !== len) throw badArgument(arg, lenClause, `length ${v.length}, expected ${len}`);
  budget.take(v.length, arg);
  return v.map((x, i) => leaf(x, dtype, `${arg}[${i}]`));
}

function mat(
  v: unknown,
  dtype: Dtype,
  arg: string,
  rows: number | undefined,
  cols: number | undefined,
  budget: Budget,
  clause: 'ATN-6.3' | 'ATN-6.8' = 'ATN-6.3',
): Leaf2 {
  if (!Array.isArray(v)) throw badArgument(arg, 'ATN-6.3', `expected an array of arrays, got ${describe(v)}`);
  if (v.length === 0) throw badArgument(arg, 'ATN-6.3', 'empty array');
  if (rows !== undefined && v.length !== rows) throw badArgument(arg, clause, `has ${v.length} rows, expected ${rows}`);
  const first = v[0];
  const width = cols ?? (Array.isArray(first) ? first.length : undefined);
  return v.map((row, i) => {
    if (Array.isArray(row) && width !== undefined && row.length !== width && row.length > 0) {
      const why = cols !== undefined ? `expected ${cols}` : `${arg}[0] has ${width} (ragged array)`;
      throw badArgument(arg, cols !== undefined ? clause : 'ATN-6.3', `${arg}[${i}] has length ${row.length}, ${why}`);
    }
    return vec(row, dtype, `${arg}[${i}]`, width, budget);
  });
}

function ten3(v: unknown, dtype: Dtype, arg: string, dims: [number?, number?, number?], budget: Budget, clause: 'ATN-6.3' | 'ATN-6.8' = 'ATN-6.3'): Leaf3 {
  if (!Array.isArray(v)) throw badArgument(arg, 'ATN-6.3', `expected a [T][B][...] array, got ${describe(v)}`);
  if (v.length === 0) throw badArgument(arg, 'ATN-6.3', 'empty array');
  if (dims[0] !== undefined && v.length !== dims[0]) throw badArgument(arg, clause, `has ${v.length} time steps, expected ${dims[0]}`);
  const first = Array.isArray(v[0]) ? (v[0] as unknown[]) : undefined;
  const rows = dims[1] ?? first?.length;
  const cols = dims[2] ?? (first && Array.isArray(first[0]) ? (first[0] as unknown[]).length : undefined);
  return v.map((m, t) => {
    if (Array.isArray(m) && rows !== undefined && m.length !== rows && m.length > 0)
      throw badArgument(
        arg,
        dims[1] !== undefined ? clause : 'ATN-6.3',
        `${arg}[${t}] has ${m.length} rows, expected ${rows}${dims[1] === undefined ? ' (ragged array)' : ''}`,
      );
    return mat(m, dtype, `${arg}[${t}]`, rows, cols, budget, clause);
  });
}

function dtypeOf(args: Record<string, unknown>, opts: ParseOptions): Dtype {
  const d = args.dtype;
  if (typeof d !== 'string' || !opts.dtypes.includes(d as Dtype)) {
    const shown = d === undefined ? 'missing' : JSON.stringify(d);
    throw new AtnError('unsupported_dtype', 'ATN-6.7', `dtype: ${shown}; this target accepts ${opts.dtypes.join(', ')} (ATN-6.7)`, 'dtype');
  }
  return d as Dtype;
}

export function parseK(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw badArgument('k', 'ATN-6.1', `must be a positive integer, got ${JSON.stringify(v) ?? String(v)}`);
  if (v > LIMITS.maxK) throw new AtnError('too_large', 'ATN-6.9', `k: ${v} exceeds the limit ${LIMITS.maxK} (ATN-6.9)`, 'k');
  return v;
}

export function parseEps(v: unknown, dtype: Dtype): Leaf {
  if (v === undefined) throw badArgument('eps', 'ATN-6.2', 'missing');
  let e: Leaf;
  try {
    e = leaf(v, dtype, 'eps');
  } catch {
    throw badArgument('eps', 'ATN-6.2', `must be a finite non-negative number, got ${JSON.stringify(v) ?? String(v)}`);
  }
  const negative = typeof e === 'number' ? e < 0 : e.trim().startsWith('-') && /[1-9]/.test(e.split(/[eE]/)[0]);
  if (negative) throw badArgument('eps', 'ATN-6.2', `must be non-negative, got ${e}`);
  return e;
}

function ones(n: number): Leaf1 {
  return new Array<Leaf>(n).fill(1);
}
function zeros(n: number): Leaf1 {
  return new Array<Leaf>(n).fill(0);
}

/** gain and bias of one ATN; `arg` is their parent's path ("" at the top level, "params.atn_x" in the LSTM). */
function affine(v: unknown, dtype: Dtype, arg: string, n: number, budget: Budget, clause: 'ATN-6.5' | 'ATN-6.8'): AffineParams {
  if (v === undefined) return { gain: ones(n), bias: zeros(n) };
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw badArgument(arg, 'ATN-6.3', `expected {gain, bias}, got ${describe(v)}`);
  const o = v as Record<string, unknown>;
  const path = (name: string) => (arg ? `${arg}.${name}` : name);
  return {
    gain: o.gain === undefined ? ones(n) : vec(o.gain, dtype, path('gain'), n, budget, clause),
    bias: o.bias === undefined ? zeros(n) : vec(o.bias, dtype, path('bias'), n, budget, clause),
  };
}

export function parseAtnArgs(args: Record<string, unknown>, opts: ParseOptions): AtnArgs {
  const dtype = dtypeOf(args, opts);
  const k = parseK(args.k);
  const eps = parseEps(args.eps, dtype);
  const budget = new Budget(opts.maxElements ?? LIMITS.maxElements);
  if (args.a === undefined) throw badArgument('a', 'ATN-6.3', 'missing');
  const a = ten3(args.a, dtype, 'a', [], budget);
  const T = a.length,
    B = a[0].length,
    H = a[0][0].length;
  const { gain, bias } = affine({ gain: args.gain, bias: args.bias }, dtype, '', H, budget, 'ATN-6.5');
  checkWork(workOf('atn', { T, B, H, k }), `T·B·H·(min(k,T)+16) with T=${T}, B=${B}, H=${H}, k=${k}`, 'a', opts);
  return { dtype, k, eps, a, gain, bias, T, B, H };
}

export function parseAtnVjpArgs(args: Record<string, unknown>, opts: ParseOptions): AtnVjpArgs {
  const base = parseAtnArgs(args, opts);
  const budget = new Budget((opts.maxElements ?? LIMITS.maxElements) - base.T * base.B * base.H - 2 * base.H);
  if (args.dy === undefined) throw badArgument('dy', 'ATN-6.3', 'missing');
  const dy = ten3(args.dy, base.dtype, 'dy', [base.T, base.B, base.H], budget);
  return { ...base, dy };
}

export function parseLnArgs(args: Record<string, unknown>, opts: ParseOptions): LnArgs {
  const dtype = dtypeOf(args, opts);
  const eps = parseEps(args.eps, dtype);
  const budget = new Budget(opts.maxElements ?? LIMITS.maxElements);
  if (args.x === undefined) throw badArgument('x', 'ATN-6.3', 'missing');
  const x = mat(args.x, dtype, 'x', undefined, undefined, budget);
  const B = x.length,
    H = x[0].length;
  const { gain, bias } = affine({ gain: args.gain, bias: args.bias }, dtype, '', H, budget, 'ATN-6.5');
  checkWork(workOf('ln', { B, H }), `B·H·17 with B=${B}, H=${H}`, 'x', opts);
  return { dtype, eps, x, gain, bias, B, H };
}

export function parseLstmArgs(args: Record<string, unknown>, opts: ParseOptions): LstmArgs {
  const dtype = dtypeOf(args, opts);
  const k = parseK(args.k);
  const eps = parseEps(args.eps, dtype);
  const budget = new Budget(opts.maxElements ?? LIMITS.maxElements);
  for (const name of ['x', 'h0', 'c0', 'params']) if (args[name] === undefined) throw badArgument(name, 'ATN-6.3', 'missing');
  const x = ten3(args.x, dtype, 'x', [], budget);
  const T = x.length,
    B = x[0].length,
    I = x[0][0].length;
  const h0 = mat(args.h0, dtype, 'h0', B, undefined, budget, 'ATN-6.8');
  const H = h0[0].length;
  // Before the weights are read: T, B, I, H and k fix the work.
  checkWork(workOf('lstm', { T, B, I, H, k }), `T·B·(4H·(I+H)+9H·(min(k,T)+16)) with T=${T}, B=${B}, I=${I}, H=${H}, k=${k}`, 'x', opts);
  const c0 = mat(args.c0, dtype, 'c0', B, H, budget, 'ATN-6.8');
  const p = args.params;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) throw badArgument('params', 'ATN-6.3', `expected an object, got ${describe(p)}`);
  const o = p as Record<string, unknown>;
  for (const name of ['w_xh', 'w_hh']) if (o[name] === undefined) throw badArgument(`params.${name}`, 'ATN-6.3', 'missing');
  const params: LstmParams = {
    w_xh: mat(o.w_xh, dtype, 'params.w_xh', I, 4 * H, budget, 'ATN-6.8'),
    w_hh: mat(o.w_hh, dtype, 'params.w_hh', H, 4 * H, budget, 'ATN-6.8'),
    b_x: o.b_x === undefined ? zeros(4 * H) : vec(o.b_x, dtype, 'params.b_x', 4 * H, budget, 'ATN-6.8'),
    b_h: o.b_h === undefined ? zeros(4 * H) : vec(o.b_h, dtype, 'params.b_h', 4 * H, budget, 'ATN-6.8'),
    atn_x: affine(o.atn_x, dtype, 'params.atn_x', 4 * H, budget, 'ATN-6.8'),
    atn_h: affine(o.atn_h, dtype, 'params.atn_h', 4 * H, budget, 'ATN-6.8'),
    atn_c: affine(o.atn_c, dtype, 'params.atn_c', H, budget, 'ATN-6.8'),
  };
  return { dtype, k, eps, x, h0, c0, params, T, B, I, H };
}

export function parseLstmVjpArgs(args: Record<string, unknown>, opts: ParseOptions): LstmVjpArgs {
  const base = parseLstmArgs(args, opts);
  if (args.dh === undefined) throw badArgument('dh', 'ATN-6.3', 'missing');
  const dh = ten3(args.dh, base.dtype, 'dh', [base.T, base.B, base.H], new Budget(opts.maxElements ?? LIMITS.maxElements), 'ATN-6.8');
  return { ...base, dh };
}

/** The arrays of an lstm request (inputs and parameters) with leaves of type N: the shape its gradients have too. */
export type LstmArrays<N> = LstmGrads<N>;

/** Every array of an lstm request with each leaf mapped by f (exact conversion, dtype rounding, ...). */
export function mapLstmArrays<N>(args: LstmArgs, f: (l: Leaf) => N): LstmArrays<N> {
  const v1 = (a: Leaf1) => a.map(f);
  const v2 = (a: Leaf2) => a.map(v1);
  const aff = (x: AffineParams) => ({ gain: v1(x.gain), bias: v1(x.bias) });
  const p = args.params;
  return {
    x: args.x.map(v2),
    h0: v2(args.h0),
    c0: v2(args.c0),
    w_xh: v2(p.w_xh),
    w_hh: v2(p.w_hh),
    b_x: v1(p.b_x),
    b_h: v1(p.b_h),
    atn_x: aff(p.atn_x),
    atn_h: aff(p.atn_h),
    atn_c: aff(p.atn_c),
  };
}

/** The argument parser of each op of ATN-8.5 (hello has no arguments): one place that knows which parser an op uses. */
export const PARSERS: Readonly<
  Record<'atn.forward' | 'atn.vjp' | 'ln.forward' | 'lstm.forward' | 'lstm.vjp', (args: Record<string, unknown>, opts: ParseOptions) => unknown>
> = {
  'atn.forward': parseAtnArgs,
  'atn.vjp': parseAtnVjpArgs,
  'ln.forward': parseLnArgs,
  'lstm.forward': parseLstmArgs,
  'lstm.vjp': parseLstmVjpArgs,
};
