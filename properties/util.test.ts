/**
 * The shared walks of util/tree.ts, on generated trees of the protocol's shape (arrays and plain objects of numbers):
 * a walk that dropped, reordered or mis-keyed a leaf would corrupt every expectation and tolerance that goes through it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dims, dimsText, leaves, leavesLike, mapTree, mapTreeAt, unflatten, zipTree } from '../util/tree';
import { lcgUint32, mulberry32 } from '../util/prng';
import { assertProperty } from './lib/seed';

const tree = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.double({ noNaN: true }),
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('y', 'da', 'grads', 'w_xh', '__proto__', 'b'), tie('node'), { maxKeys: 3 }),
  ),
})).node;

describe('util/tree', () => {
  it('unflatten(like, leaves(like)) rebuilds like, keys in their own order; mapTree of the identity copies it', async () => {
    await assertProperty(
      fc.property(tree, (v) => {
        // toEqual: values (-0 and 0 told apart) and keys; the JSON text: the keys' order. (The copies are ordinary
        // objects while fast-check's dictionaries have a null prototype, so toStrictEqual would fail on that alone.)
        for (const copy of [unflatten(v, leaves(v)), mapTree(v, (x) => x), zipTree(v, v, (x) => x)]) {
          expect(copy).toEqual(v);
          expect(JSON.stringify(copy)).toBe(JSON.stringify(v));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('leavesLike(like) lists the leaves of any value shaped like `like` as leaves does, and refuses another shape', async () => {
    await assertProperty(
      fc.property(tree, (v) => {
        const flat = leavesLike(v);
        expect(flat(v)).toEqual(leaves(v));
        // the same structure with other leaves (the use: repeated runs of one computation)
        const other = mapTree(v, (x) => -(x as number));
        expect(flat(other)).toEqual(leaves(other));
      }),
      { numRuns: 300 },
    );
    expect(() => leavesLike({ a: [1, 2] })({ a: [1] })).toThrow(/not shaped like/);
    expect(() => leavesLike([[1], [2]])([[1], 2])).toThrow(/not shaped like/);
  });

  it('leaves lists objects by sorted key; mapTreeAt names the output path and the index inside it', () => {
    const v = { y: [[1, 2]], grads: { w_xh: [3], b: 4 } };
    expect(leaves(v)).toEqual([4, 3, 1, 2]);
    const at: string[] = [];
    mapTreeAt(v, (_x, p) => at.push(`${p.output}[${p.index.join(',')}]`));
    expect(at).toEqual(['y[0,0]', 'y[0,1]', 'grads.w_xh[0]', 'grads.b[]']);
    expect(dims([[[1, 2, 3]], [[4, 5, 6]]])).toEqual([2, 1, 3]);
    expect(dimsText(5)).toBe('');
  });
});

describe('util/prng', () => {
  it('replays from the seed; mulberry32 is uniform in [0, 1); the LCG is the Numerical Recipes one the frozen data used', () => {
    const a = mulberry32(7),
      b = mulberry32(7);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05); // 1000 uniforms: sd of the mean 0.009
    const l = lcgUint32(1);
    expect([l(), l()]).toEqual([(1664525 + 1013904223) >>> 0, (Math.imul((1664525 + 1013904223) >>> 0, 1664525) + 1013904223) >>> 0]);
  });
});
