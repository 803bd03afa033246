/**
 * Every bad input gets its error code, clause and argument from the reference target (ATN-6, ATN-8.3, ATN-8.5), and
 * expect() throws the same error (reference/contract.ts).
 */
import { describe, expect, it } from 'vitest';
import type { ErrorBody } from '../protocol/types';
import { createReference } from '../reference/reference';
import type { ReferenceOp } from '../reference/index';
import { packageVersion } from '../util/package';

const ref = createReference();
const target = ref.target();

const good = { dtype: 'float64', k: 2, eps: 1e-5, a: [[[1, 2, 3]], [[4, 5, 6]]], gain: [1, 1, 1], bias: [0, 0, 0] };
const goodVjp = { ...good, dy: [[[1, 0, 0]], [[0, 1, 0]]] };

interface Case {
  name: string;
  op: ReferenceOp;
  args: Record<string, unknown>;
  code: string;
  clause: string;
  arg?: string;
  message?: RegExp;
}

const CASES: Case[] = [
  { name: 'k = 0', op: 'atn.forward', args: { ...good, k: 0 }, code: 'bad_argument', clause: 'ATN-6.1', arg: 'k' },
  { name: 'k = 1.5', op: 'atn.forward', args: { ...good, k: 1.5 }, code: 'bad_argument', clause: 'ATN-6.1', arg: 'k' },
  { name: 'k = "3"', op: 'atn.vjp', args: { ...goodVjp, k: '3' }, code: 'bad_argument', clause: 'ATN-6.1', arg: 'k' },
  { name: 'eps = -1', op: 'atn.forward', args: { ...good, eps: -1 }, code: 'bad_argument', clause: 'ATN-6.2', arg: 'eps' },
  { name: 'eps = NaN', op: 'atn.forward', args: { ...good, eps: NaN }, code: 'bad_argument', clause: 'ATN-6.2', arg: 'eps' },
  { name: 'eps = "NaN"', op: 'ln.forward', args: { dtype: 'float64', eps: 'NaN', x: [[1, 2]] }, code: 'bad_argument', clause: 'ATN-6.2', arg: 'eps' },
  { name: 'ragged a', op: 'atn.forward', args: { ...good, a: [[[1, 2, 3]], [[4, 5]]] }, code: 'bad_argument', clause: 'ATN-6.3' },
  { name: 'empty a', op: 'atn.forward', args: { ...good, a: [] }, code: 'bad_argument', clause: 'ATN-6.3', arg: 'a' },
  { name: 'missing a', op: 'atn.forward', args: { ...good, a: undefined }, code: 'bad_argument', clause: 'ATN-6.3', arg: 'a' },
  { name: 'dy of the wrong shape', op: 'atn.vjp', args: { ...goodVjp, dy: [[[1, 0, 0]]] }, code: 'bad_argument', clause: 'ATN-6.3', arg: 'dy' },
  {
    name: 'Infinity entry',
    op: 'atn.forward',
    args: { ...good, a: [[[1, Infinity, 3]], [[4, 5, 6]]] },
    code: 'bad_argument',
    clause: 'ATN-6.4',
    arg: 'a[0][0][1]',
  },
  {
    name: '"-Infinity" string entry (decimal)',
    op: 'atn.forward',
    args: { ...good, dtype: 'decimal', a: [[['1', '-Infinity', '3']], [[4, 5, 6]]] },
    code: 'bad_argument',
    clause: 'ATN-6.4',
    arg: 'a[0][0][1]',
  },
  { name: 'NaN in dy', op: 'atn.vjp', args: { ...goodVjp, dy: [[[1, 0, 0]], [[0, NaN, 0]]] }, code: 'bad_argument', clause: 'ATN-6.4', arg: 'dy[1][0][1]' },
  { name: 'gain of wrong length', op: 'atn.forward', args: { ...good, gain: [1, 1] }, code: 'bad_argument', clause: 'ATN-6.5', arg: 'gain' },
  {
    name: 'bias of wrong length',
    op: 'ln.forward',
    args: { dtype: 'float32', eps: 0.1, x: [[1, 2]], bias: [0, 0, 0] },
    code: 'bad_argument',
    clause: 'ATN-6.5',
    arg: 'bias',
  },
  {
    name: 'degenerate window (constant window, eps = 0)',
    op: 'atn.forward',
    args: {
      ...good,
      eps: 0,
      k: 1,
      a: [
        [
          [1, 2, 3],
          [1, 2, 3],
        ],
        [
          [4, 5, 6],
          [7, 7, 7],
        ],
      ],
    },
    code: 'degenerate_window',
    clause: 'ATN-6.6',
    arg: 'a',
    message: /t=1, sample b=1/,
  },
  {
    name: 'degenerate window in warm-up (H = 1, eps = 0)',
    op: 'atn.vjp',
    args: { dtype: 'float32', k: 3, eps: 0, a: [[[2]], [[3]]], dy: [[[1]], [[1]]] },
    code: 'degenerate_window',
    clause: 'ATN-6.6',
    message: /t=0, sample b=0/,
  },
  {
    name: 'degenerate LN row',
    op: 'ln.forward',
    args: {
      dtype: 'float64',
      eps: 0,
      x: [
        [1, 2],
        [5, 5],
      ],
    },
    code: 'degenerate_window',
    clause: 'ATN-6.6',
    arg: 'x',
    message: /b=1/,
  },
  { name: 'unsupported dtype', op: 'atn.forward', args: { ...good, dtype: 'float16' }, code: 'unsupported_dtype', clause: 'ATN-6.7', arg: 'dtype' },
  { name: 'missing dtype', op: 'ln.forward', args: { eps: 0.1, x: [[1, 2]] }, code: 'unsupported_dtype', clause: 'ATN-6.7', arg: 'dtype' },
  {
    name: 'decimal string with dtype float64',
    op: 'atn.forward',
    args: { ...good, a: [[['1', 2, 3]], [[4, 5, 6]]] },
    code: 'bad_argument',
    clause: 'ATN-8.3',
    arg: 'a[0][0][0]',
  },
  {
    name: 'not a decimal string',
    op: 'atn.forward',
    args: { ...good, dtype: 'decimal', a: [[['1x', 2, 3]], [[4, 5, 6]]] },
    code: 'bad_argument',
    clause: 'ATN-8.3',
    arg: 'a[0][0][0]',
  },
  { name: 'k over the limit', op: 'atn.forward', args: { ...good, k: 2 ** 21 }, code: 'too_large', clause: 'ATN-6.9', arg: 'k' },
];

async function answer(op: string, args: Record<string, unknown>): Promise<ErrorBody> {
  const res = await target.handle({ id: 7, op, args });
  expect(res.id).toBe(7);
  if (res.ok) throw new Error(`expected an error, got ${JSON.stringify(res.result).slice(0, 200)}`);
  return res.error;
}

describe('reference errors', () => {
  for (const c of CASES) {
    it(`${c.clause} ${c.name}: ${c.code}${c.arg ? ` (arg ${c.arg})` : ''}, from the target and from expect()`, async () => {
      const err = await answer(c.op, c.args);
      expect(err.code).toBe(c.code);
      expect(err.clause).toBe(c.clause);
      if (c.arg !== undefined) expect(err.arg).toBe(c.arg);
      if (err.arg !== undefined) expect(err.message).toContain(err.arg.split('[')[0]);
      if (c.message) expect(err.message).toMatch(c.message);
      let thrown: unknown;
      try {
        ref.expect(c.op, c.args);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toMatchObject({ code: c.code, clause: c.clause });
    });
  }

  it('ATN-8.5 unknown op: unknown_op, and the target keeps serving (ATN-8.6)', async () => {
    const err = await answer('atn.backward', good);
    expect(err).toMatchObject({ code: 'unknown_op', clause: 'ATN-8.5' });
    const ok = await target.handle({ id: 8, op: 'atn.forward', args: good });
    expect(ok.ok).toBe(true);
  });

  it('ATN-7.1 expect() is for float dtypes: decimal gets unsupported_dtype', () => {
    expect(() => ref.expect('atn.forward', { ...good, dtype: 'decimal' })).toThrow(/decimal/);
  });

  it('ATN-8.7 hello names the reference, its version, protocol 1, every op and the three dtypes', async () => {
    const res = await target.handle({ id: 1, op: 'hello', args: {} });
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.result).toMatchObject({ name: 'atn-kit-reference', protocol: 1, dtypes: ['float32', 'float64', 'decimal'] });
    expect(res.result.version).toBe(packageVersion());
    expect([...(res.result.ops as string[])].sort()).toEqual(['atn.forward', 'atn.vjp', 'hello', 'ln.forward', 'lstm.forward', 'lstm.vjp']);
  });
});
