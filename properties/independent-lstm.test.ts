/**
 * ATN-7.4 on implementations the tolerance was NOT built from (its own replica is reference/lstm-float.ts): two
 * ATN-LSTMs written from spec/atn.md alone, run through the campaign's own lstm.forward / lstm.vjp agreement checks
 * on a few fixed seeds per dtype. A correct implementation must never fail them (no false alarm); the same
 * implementations with a real mistake (windows restarted every 8 steps) must fail them, and the tape one with the
 * GPU mistake of statistics over a step's first 128 features only must pass the small shapes and fail
 * lstm.forward.wide.
 * - ports/independent/atn_lstm_tape.js: plain JS, scalar-tape autodiff, pairwise sums, Math.fround on every
 *   operation at float32 (always run);
 * - ports/independent/atn_lstm_spec.py: PyTorch (autograd, torch's reductions), served by ports/torch/serve.py;
 *   needs torch importable by /usr/bin/python3, else skipped with that reason.
 * The larger offline sweep (many seeds, both dtypes) uses the same checks; its numbers are in
 * reference/lstm-tolerance.md.
 */
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnPort, type PortTarget } from '../protocol/port';
import type { Hello } from '../protocol/types';
import { createReference, type Reference } from '../reference';
import { floatInputs, lstmExpect, unitRoundoff } from '../reference/lstm';
import { lstmFloat } from '../reference/lstm-float';
import { createMathCtx } from '../reference/math';
import { parseLstmVjpArgs } from '../protocol/args';
import { lstmCase, lstmVjpArgs, withDh } from './lib/arbitraries';
import { runCampaign } from './lib/campaign';
import { AGREEMENT } from './lib/checks/agreement';
import { propertyCheck } from './lib/checks/framework';
import { compare, ToleranceError } from './lib/compare';
import { TORCH_SKIP_REASON, torchVersion } from './lib/python';
import type { CampaignDtype } from './lib/types';
import { diagnoseFailures } from '../reports/diagnosis';

const ROOT = path.resolve(__dirname, '..');
const TAPE = `node ${JSON.stringify(path.join(ROOT, 'ports/independent/atn_lstm_tape.js'))}`;
const torchCmd = (cls: string) =>
  `/usr/bin/python3 ${JSON.stringify(path.join(ROOT, 'ports/torch/serve.py'))} --module ${JSON.stringify(path.join(ROOT, 'ports/independent/atn_lstm_spec.py'))} --class ${cls} --convention lstm`;
/** lstm.forward.agrees, lstm.vjp.agrees and lstm.forward.wide (ATN-9.10: 4H past a 128-wide tile). */
const LSTM_CHECKS = AGREEMENT.filter((c) => c.id.startsWith('lstm.'));
const SEEDS = [2, 17];
const DTYPES: CampaignDtype[] = ['float32', 'float64'];
const exact = createReference();
/** The reference, memoized: every implementation sees the same generated cases for a seed and dtype. */
const memo = new Map<string, ReturnType<Reference['expect']>>();
const reference: Reference = {
  ...exact,
  expect(op, args) {
    const key = op + JSON.stringify(args);
    let e = memo.get(key);
    if (!e) memo.set(key, (e = exact.expect(op, args)));
    return e;
  },
};

const TORCH = !!torchVersion('independent-lstm.test.ts');
const SKIP_REASON = TORCH_SKIP_REASON;

const ports: PortTarget[] = [];
afterAll(async () => {
  for (const p of ports) await p.close();
});

async function statuses(command: string, dtype: CampaignDtype, seed: number): Promise<string[]> {
  const target = await spawnPort(command);
  ports.push(target);
  const r = await runCampaign({ target, dtype, seed, checks: LSTM_CHECKS, reference, targetSpec: command, shrinkMs: 200 });
  return r.checks.map((c) => `${c.id} ${c.status}${c.status === 'pass' ? '' : `: ${c.reason ?? ''} ${c.counterexample?.detail ?? ''}`}`);
}

const implementations = [
  { name: 'plain-JS tape ATN-LSTM', correct: TAPE, chunked: `${TAPE} --mutant chunk8`, run: true },
  { name: 'PyTorch ATN-LSTM from the spec', correct: torchCmd('ATNLSTMSpec'), chunked: torchCmd('ATNLSTMChunk8'), run: TORCH },
];

for (const impl of implementations)
  describe.skipIf(!impl.run)(`${impl.name}${impl.run ? '' : ` (SKIPPED: ${SKIP_REASON})`}`, () => {
    for (const dtype of DTYPES)
      it(`ATN-7.4 ${dtype}: a correct independent implementation passes lstm.forward/lstm.vjp agreement on seeds ${SEEDS.join(', ')}`, async () => {
        for (const seed of SEEDS) {
          const got = await statuses(impl.correct, dtype, seed);
          expect(got, `seed ${seed}`).toEqual(LSTM_CHECKS.map((c) => `${c.id} pass`));
        }
      }, 300_000);
    it(`ATN-3.2 the same implementation with its windows restarted every 8 steps fails lstm.forward agreement (float64, seed ${SEEDS[0]}); ATN-9.5/9.7: no regime is blamed and the diagnosis names the mistake`, async () => {
      const target = await spawnPort(impl.chunked);
      ports.push(target);
      const r = await runCampaign({
        target,
        dtype: 'float64',
        seed: SEEDS[0],
        checks: LSTM_CHECKS,
        reference,
        targetSpec: impl.chunked,
        shrinkMs: 200,
        problems: true,
      });
      expect(r.checks[0].status, r.checks[0].counterexample?.detail).toBe('fail');
      // The long sequences that show the mistake are often generated with B = 1: a counterexample moved to B = 2 still
      // fails, so "fails only when B = 1 or H = 1" would be false.
      expect((r.problems ?? []).map((p) => p.regime.id)).not.toContain('singleton');
      const d = await diagnoseFailures(r.checks, { target, ops: target.hello!.ops, dtype: 'float64' }, r.problems);
      expect(d?.best?.id, JSON.stringify(d?.ranking.slice(0, 3))).toBe('lstm-window-reset-8');
    }, 300_000);
  });

describe('ATN-9.10 a mistake that only realistic widths show, in an implementation from other hands', () => {
  it(`the plain-JS tape ATN-LSTM with statistics over each step's first 128 features passes the small-shape checks and fails lstm.forward.wide (float32, seed ${SEEDS[0]})`, async () => {
    const got = await statuses(`${TAPE} --mutant tile128`, 'float32', SEEDS[0]);
    expect(got.slice(0, 2)).toEqual(['lstm.forward.agrees pass', 'lstm.vjp.agrees pass']);
    expect(got[2]).toMatch(/^lstm\.forward\.wide fail/);
  }, 300_000);
});

describe('ATN-7.4 the zero-Jacobian windows (eps = 0, H = 2, one-step windows)', () => {
  const m = createMathCtx(64);
  it('the float32 and float64 replicas stay within the bound on the edge cases (ATN_c over N = 2 entries)', () => {
    for (const dtype of DTYPES) {
      const cases = fc.sample(withDh(dtype, lstmCase(dtype, undefined, { eps: fc.constant(0) })), { numRuns: 16, seed: 7 });
      let edge = 0;
      for (const c of cases) {
        const args = lstmVjpArgs(dtype, c);
        const p = parseLstmVjpArgs(args, { dtypes: [dtype] });
        if (p.H === 2 && Math.min(p.k, p.T) === 1) edge++;
        const exp = lstmExpect(m, p, 'lstm.vjp');
        const r = dtype === 'float32' ? Math.fround : (v: number) => v;
        const out = lstmFloat(floatInputs(p), r);
        const cmp = compare({ h: out.h, c: out.c, grads: out.grads }, exp, { dtype });
        expect(cmp.ok, `${dtype} T=${p.T} H=${p.H} k=${p.k}: ${cmp.detail}`).toBe(true);
      }
      expect(edge, 'edge cases among the generated ones').toBeGreaterThan(3);
    }
    expect(unitRoundoff('float32').u).toBe(2 ** -24);
  });
});

describe('ATN-7.1 a tolerance that is not finite is a harness error, never a pass', () => {
  it('compare throws ToleranceError for Infinity, NaN, a negative or a missing tolerance (unless the answer is exact)', () => {
    for (const tol of [Infinity, NaN, -1, undefined])
      expect(() => compare({ y: [1.5] }, { want: { y: [1] }, tol: { y: [tol as number] } })).toThrow(ToleranceError);
    expect(compare({ y: [1] }, { want: { y: [1] }, tol: { y: [Infinity] } }).ok).toBe(true);
    expect(compare({ y: [1.5] }, { want: { y: [1] }, tol: { y: [0.25] } }).ok).toBe(false);
  });
  it('a check whose expectation carries an Infinity tolerance reports status error (harness), not pass', async () => {
    const check = propertyCheck({
      id: 'test.infinite-tol',
      clause: 'ATN-7.1',
      title: 'infinite tolerance',
      ops: ['lstm.forward'],
      kind: 'agreement',
      arb: () => fc.constant(0),
      run: async () => {
        const cmp = compare({ y: [123] }, { want: { y: [1] }, tol: { y: [Infinity] } });
        return { ok: cmp.ok, detail: cmp.detail };
      },
    });
    const target = reference.target();
    const hello: Hello = { name: 'x', version: '1', protocol: 1, ops: ['hello', 'lstm.forward'], dtypes: ['float64'] };
    const r = await check.run({ target, hello, dtype: 'float64', reference, seed: 1, runs: 3 });
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/harness: .*tolerance is Infinity/);
  });
});
