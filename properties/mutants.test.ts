/**
 * The mutant catalogue: every mutant is separated from the spec by its hand-made case (beyond the reference's
 * tolerance), the base agrees with the reference, and diagnose() names each mutant from its own answers and names
 * nothing for the base.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Response } from '../protocol/types';
import { createReference, type ReferenceOp } from '../reference';
import { battery, SEPARATING } from '../mutants/cases';
import { BASE_ID, createBaseTarget, createMachine, createMutantTarget, diagnose, MUTANTS } from '../mutants';
import { compare } from './lib/compare';
import { atnArgs, atnCase, atnVjpArgs, lnArgs, lnCase, lstmArgs, lstmCase, lstmVjpArgs, REGIMES, withDh, withDy } from './lib/arbitraries';
import { assertProperty } from './lib/seed';

const ref = createReference();

/** The last answer of a machine fed the case's requests in order. */
function lastAnswer(id: string | undefined, reqs: (typeof SEPARATING)[string]): Response {
  const m = createMachine(id);
  let r: Response | undefined;
  for (const q of reqs) r = m.answer(q);
  return r!;
}

function agreesWithReference(op: string, args: Record<string, unknown>, r: Response): { ok: boolean; detail: string } {
  if (!r.ok) return { ok: false, detail: `error ${r.error.code}: ${r.error.message}` };
  const c = compare(r.result, ref.expect(op as ReferenceOp, args));
  return { ok: c.ok, detail: c.detail };
}

describe('mutant catalogue', () => {
  it('ATN-8.7 every catalogue mutant has a separating case, a clause and a one-line description', () => {
    expect(MUTANTS.length).toBeGreaterThanOrEqual(18);
    for (const m of MUTANTS) {
      expect(SEPARATING[m.id], m.id).toBeDefined();
      expect(m.description).not.toMatch(/\n/);
      expect(m.clause).toMatch(/^ATN-\d\.\d$/);
      expect(m.dtypes).toEqual(['float32', 'float64']);
    }
  });

  it('ATN-8.7 hello names mutant:ID; an unknown id throws listing the ids', async () => {
    const res = await createMutantTarget('k-ignored').handle({ id: 1, op: 'hello', args: {} });
    expect(res.ok && res.result.name).toBe('mutant:k-ignored');
    expect(() => createMutantTarget('no-such')).toThrow(/unbiased-variance.*squeeze-singleton/);
  });

  for (const m of MUTANTS) {
    it(`${m.clause} ${m.id}: differs from the reference beyond tolerance on its separating case; the base agrees`, () => {
      const reqs = SEPARATING[m.id];
      const last = reqs[reqs.length - 1];
      const mutant = agreesWithReference(last.op, last.args, lastAnswer(m.id, reqs));
      expect(mutant.ok, `${m.id} agrees with the reference: ${mutant.detail}`).toBe(false);
      const base = agreesWithReference(last.op, last.args, lastAnswer(undefined, reqs));
      expect(base.ok, `base: ${base.detail}`).toBe(true);
    });
  }

  it('ATN-1.7 state-leak answers the same request differently the second time; the base does not', async () => {
    const [q] = SEPARATING['state-leak'];
    for (const [t, differs] of [
      [createMutantTarget('state-leak'), true],
      [createBaseTarget(), false],
    ] as const) {
      const first = await t.handle(q);
      const second = await t.handle(q);
      expect(JSON.stringify(first) !== JSON.stringify(second)).toBe(differs);
    }
  });
});

describe('diagnose', () => {
  const requests = battery();
  const casesOf = (id: string | undefined) => {
    const m = createMachine(id);
    return requests.map((request) => ({ request, response: m.answer(request) }));
  };

  for (const m of MUTANTS)
    it(`${m.clause} ${m.id}: diagnose names it from its own answers on the separating battery`, () => {
      const d = diagnose(casesOf(m.id));
      expect(d.best?.id, JSON.stringify(d.ranking.slice(0, 3))).toBe(m.id);
      expect(d.best!.confidence).toBeGreaterThan(0.5);
      expect(d.ranking).toHaveLength(MUTANTS.length + 1);
    });

  it('ATN-7.1 diagnose names no mutant for the base (it ranks "no mistake" first)', () => {
    const d = diagnose(casesOf(undefined));
    expect(d.best).toBeUndefined();
    expect(d.ranking[0].id).toBe(BASE_ID);
  });

  it('ATN-8.6 diagnose: error answers match errors of the same code; missing answers are ignored', () => {
    const bad = { id: 1, op: 'atn.forward', args: { dtype: 'float32', k: 2, eps: 0, a: [[[1, 1]], [[1, 1]]] } };
    const d = diagnose([
      { request: bad, response: createMachine().answer(bad) },
      { request: requests[0], response: undefined },
    ]);
    expect(d.best).toBeUndefined();
    expect(d.ranking[0]).toMatchObject({ id: BASE_ID, score: 1 });
  });
});

describe('base against the reference (generated cases)', () => {
  // The base must conform: it is the "no mistake" row of diagnose and the control of `atn mutants`.
  for (const dtype of ['float32', 'float64'] as const) {
    it(`ATN-7.2 base atn.forward and ln.forward agree with the reference in every regime (${dtype})`, async () => {
      const base = createMachine();
      const check = (op: ReferenceOp, args: Record<string, unknown>) => {
        const r = base.answer({ id: 1, op, args });
        let exp;
        try {
          exp = ref.expect(op, args);
        } catch (e) {
          return !r.ok && r.error.code === (e as { code?: string }).code;
        }
        const c = agreesWithReference(op, args, r);
        if (!c.ok) throw new Error(`${op} ${dtype}: ${c.detail}`);
        return exp !== undefined;
      };
      await assertProperty(
        fc.property(
          fc.constantFrom(...REGIMES).chain((reg) => atnCase(dtype, reg)),
          (c) => check('atn.forward', atnArgs(dtype, c)),
        ),
        { numRuns: 40, checkId: 'mutants.base.atn' },
      );
      await assertProperty(
        fc.property(lnCase(dtype), (c) => check('ln.forward', lnArgs(dtype, c))),
        { numRuns: 20, checkId: 'mutants.base.ln' },
      );
    });

    it(`ATN-7.3 base atn.vjp agrees with the reference (${dtype})`, async () => {
      const base = createMachine();
      await assertProperty(
        fc.property(
          withDy(
            dtype,
            fc.constantFrom(...REGIMES).chain((reg) => atnCase(dtype, reg)),
          ),
          (c) => {
            const args = atnVjpArgs(dtype, c);
            const r = base.answer({ id: 1, op: 'atn.vjp', args });
            let exp;
            try {
              exp = ref.expect('atn.vjp', args);
            } catch (e) {
              return !r.ok && r.error.code === (e as { code?: string }).code;
            }
            expect(r.ok).toBe(true);
            // ATN-7.1: at float32 the correctly rounded answer agrees even where it overflows to Infinity.
            const cmp = compare(r.ok ? r.result : {}, exp, { dtype });
            if (!cmp.ok) throw new Error(cmp.detail);
          },
        ),
        { numRuns: 30, checkId: 'mutants.base.vjp' },
      );
    });

    it(`ATN-7.4 base lstm.forward agrees with the reference (${dtype})`, async () => {
      const base = createMachine();
      await assertProperty(
        fc.property(lstmCase(dtype), (c) => {
          const args = lstmArgs(dtype, c);
          const r = base.answer({ id: 1, op: 'lstm.forward', args });
          const cmp = agreesWithReference('lstm.forward', args, r);
          if (!cmp.ok) throw new Error(cmp.detail);
        }),
        { numRuns: 10, checkId: 'mutants.base.lstm' },
      );
    });

    it(`ATN-4.3 base lstm.vjp (BPTT) agrees with the reference (${dtype})`, async () => {
      const base = createMachine();
      await assertProperty(
        fc.property(withDh(dtype, lstmCase(dtype)), (c) => {
          const args = lstmVjpArgs(dtype, c);
          const cmp = agreesWithReference('lstm.vjp', args, base.answer({ id: 1, op: 'lstm.vjp', args }));
          if (!cmp.ok) throw new Error(cmp.detail);
        }),
        { numRuns: 6, checkId: 'mutants.base.lstm-vjp' },
      );
    });
  }
});
