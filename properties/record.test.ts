/** protocol/record.ts and protocol/codec.ts on hostile values: bounded, iterative, own keys only. */
import { describe, expect, it } from 'vitest';
import { decodeNumbers, encodeNumbers, jsonChunks } from '../protocol/codec';
import { boundValue, digestOf, recordRequest, recordResponse } from '../protocol/record';
import { quoteBareNonFinite } from '../protocol/port';
import { compare } from './lib/compare';

function deep(n: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = [v];
  return v;
}

describe('codec: own properties, no recursion', () => {
  it('ATN-8.3 "__proto__" stays an own key; "toString" is a string, not a function', () => {
    const parsed = JSON.parse('{"__proto__": {"y": [1]}, "z": ["toString", "constructor", "NaN"]}');
    const d = decodeNumbers(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
    expect(Object.hasOwn(d, '__proto__')).toBe(true);
    expect((d as { y?: unknown }).y).toBeUndefined();
    expect(d.z).toEqual(['toString', 'constructor', NaN]);
    expect(Object.hasOwn(encodeNumbers(parsed) as object, '__proto__')).toBe(true);
  });

  it('ATN-8.10 values nested 200,000 deep are decoded, encoded and serialised without a stack overflow', () => {
    const v = deep(200_000);
    expect(() => decodeNumbers(v)).not.toThrow();
    const text = [...jsonChunks(v)].join('');
    expect(text.length).toBe(400_001);
    expect(digestOf(v)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('jsonChunks writes what JSON.stringify writes (non-finite as on the wire)', () => {
    const v = { a: [1, -0, 1e-300, NaN, -Infinity, 'x"\n', null, undefined, true], b: { c: undefined, d: {} }, e: [] };
    expect([...jsonChunks(v, 3)].join('')).toBe(JSON.stringify(encodeNumbers(v)));
  });
});

describe('compare: a forged result never passes', () => {
  const exp = { want: { y: [1, 2] }, tol: { y: [0.1, 0.1] } };
  const forged: Array<[string, string]> = [
    ['{"__proto__": {"y": [1, 2]}}', 'y: missing'],
    ['{"y": [1, 2], "__proto__": {}}', '__proto__: unexpected key'],
    ['{"y": ["toString", 2]}', 'expected a number, got the string "toString"'],
    ['{"y": [1, 2], "constructor": 1}', 'constructor: unexpected key'],
    ['{"constructor": {"y": [1, 2]}}', 'y: missing'],
    ['{"y": {"0": 1, "1": 2, "length": 2}}', 'expected an array'],
  ];
  for (const [json, why] of forged)
    it(`ATN-7.1 ${json}`, () => {
      const r = compare(decodeNumbers(JSON.parse(json)), exp);
      expect(r.ok).toBe(false);
      expect(r.detail).toContain(why);
    });
  it('ATN-7.1 the right answer passes (the forged cases fail for their forgery)', () => {
    expect(compare(decodeNumbers(JSON.parse('{"y": [1, 2]}')), exp).ok).toBe(true);
  });
  it('ATN-7.1 a tolerance inherited from the prototype is not a tolerance', () => {
    // No own tolerance: a harness error (thrown, ATN-7.1's non-finite-tolerance rule) or a failure, never a pass.
    let ok: boolean;
    try {
      ok = compare({ y: [1.05] }, { want: { y: [1] }, tol: JSON.parse('{"__proto__": {"y": [1]}}') }).ok;
    } catch (e) {
      expect(String(e)).toMatch(/tolerance is NaN/);
      ok = false;
    }
    expect(ok).toBe(false);
  });
});

describe('record: bounded copies', () => {
  it('ATN-8.10 a huge answer is cut to a sample, with its shape, size and digest; re-recording changes nothing', () => {
    const y = Array.from({ length: 300 }, () => Array.from({ length: 300 }, () => 0.5));
    const res = { id: 1, ok: true as const, result: { y } };
    const rec = recordResponse(res)!;
    expect(rec.recorded).toMatchObject({
      truncated: true,
      leaves: 90_000 + 2 /* and id, ok */,
      shapes: { 'result.y': '[300][300]' },
      sha256: digestOf({ ok: true, result: { y } }),
    });
    // The digest is the answer's, not the envelope's: the same answer under another id (another run) hashes alike.
    expect(recordResponse({ ...res, id: 7 })!.recorded!.sha256).toBe(rec.recorded!.sha256);
    expect(JSON.stringify(rec).length).toBeLessThan(100_000);
    expect(recordResponse(rec)).toEqual(rec);
    expect(boundValue(rec).truncated).toBe(false);
  });
  it('a small answer is kept whole', () => {
    const res = { id: 1, ok: true as const, result: { y: [[[1, 2]]] } };
    expect(recordResponse(res)).toEqual(res);
  });
  it('ATN-8.2 a broken envelope is recorded as the exact line sent', () => {
    const r = recordRequest({ id: 3, op: 42 as unknown as string, args: [] as unknown as Record<string, unknown> });
    expect(r).toEqual({ id: 3, op: '(raw)', args: {}, raw: '{"id":3,"op":42,"args":[]}' });
    const ok = { id: 4, op: 'atn.forward', args: { k: 1 } };
    expect(recordRequest(ok)).toBe(ok);
  });
});

describe('bare non-finite tokens (ATN-8.3)', () => {
  it('are quoted outside strings only', () => {
    expect(quoteBareNonFinite('{"id":1,"ok":true,"result":{"y":[NaN,-Infinity,Infinity,1]}}')).toBe(
      '{"id":1,"ok":true,"result":{"y":["NaN","-Infinity","Infinity",1]}}',
    );
    expect(quoteBareNonFinite('{"m":"NaN Infinity \\" NaN"}')).toBeUndefined();
    expect(quoteBareNonFinite('{"y":[NaNx]}')).toBeUndefined();
  });
});

describe('cycles', () => {
  it('a cyclic value throws (as JSON.stringify does) instead of looping; a shared one is copied', () => {
    const c: Record<string, unknown> = {};
    c.self = c;
    expect(() => encodeNumbers(c)).toThrow(/cyclic/);
    expect(() => [...jsonChunks(c)]).toThrow(/cyclic/);
    const shared = [1, NaN];
    expect(encodeNumbers({ a: shared, b: shared })).toEqual({ a: [1, 'NaN'], b: [1, 'NaN'] });
    expect([...jsonChunks({ a: shared, b: shared })].join('')).toBe('{"a":[1,"NaN"],"b":[1,"NaN"]}');
  });
});
