/**
 * ATN-7.8: the oracle choice never changes a verdict. Campaigns against every catalogue mutant, the base, and the
 * Python port with several of its --mutant variants (an independent implementation, another language and summation
 * order) run twice at the same seed and runs: with ATN_ORACLE=exact (BigNumbers only) and with the default (the fast
 * double-double oracle where it decides). Every check's status, failing counterexample (requests, detail, worst) and
 * replay path must be identical, and the default run must actually have used the fast oracle. (Problem grouping is
 * off: its re-runs are the same checks again, and they made this file the slowest of the suite.)
 */
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createReference } from '../reference';
import { createBaseTarget, createMutantTarget, MUTANTS } from '../mutants';
import { spawnPort } from '../protocol/port';
import type { Target } from '../protocol/target';
import { runCampaign } from './lib/campaign';
import type { CampaignResult, Counterexample } from './lib/types';

const SEED = 4242;
const RUNS = 2;
console.log(`oracle-campaign: seed ${SEED}, runs ${RUNS}`);

function verdicts(r: CampaignResult) {
  return r.checks.map((c) => ({ id: c.id, status: c.status }));
}

/**
 * Shrinking stops at a time budget (shrinkMs), so the faster oracle may shrink further: the two shrink paths must be
 * one a prefix of the other (the same sequence of shrink steps, every one decided the same way), and equal paths must
 * give identical counterexamples (requests, detail, worst element).
 */
function sameFailures(ex: CampaignResult, auto: CampaignResult): void {
  ex.checks.forEach((c, i) => {
    const a = auto.checks[i];
    if (c.status !== 'fail') return;
    const p = c.path ?? '',
      q = a.path ?? '';
    expect(p.startsWith(q) || q.startsWith(p), `${c.id}: shrink paths diverge\n exact ${p}\n auto  ${q}`).toBe(true);
    if (p === q) expect(withoutIds(a.counterexample), c.id).toEqual(withoutIds(c.counterexample));
    else diverged++;
  });
}
let diverged = 0;

/**
 * A counterexample without its request ids: ids count the requests sent to the target over the whole campaign
 * (framework.ts), so they differ whenever an earlier check's time-bounded shrinking went further in one run.
 */
function withoutIds(cx: Counterexample | undefined) {
  const strip = <R extends { id?: unknown }>(xs: (R | undefined)[] | undefined) => xs?.map((r) => r && { ...r, id: undefined });
  if (!cx) return cx;
  const first = cx.first && { ...cx.first, requests: strip(cx.first.requests), responses: strip(cx.first.responses) };
  return { ...cx, requests: strip(cx.requests), responses: strip(cx.responses), first };
}

const totals = { fast: 0, exact: 0 };
async function both(make: () => Promise<Target> | Target, spec: string, dtype: 'float32' | 'float64' = 'float32') {
  const out: CampaignResult[] = [];
  for (const oracle of ['exact', 'auto'] as const) {
    const target = await make();
    out.push(
      await runCampaign({ target, targetSpec: spec, dtype, seed: SEED, runs: RUNS, reference: createReference({ oracle }), shrinkMs: 1000, problems: false }),
    );
    await target.close();
  }
  const [ex, auto] = out;
  expect(verdicts(auto)).toEqual(verdicts(ex));
  sameFailures(ex, auto);
  const fast = auto.checks.reduce((s, c) => s + (c.oracle?.fast ?? 0), 0);
  const exact = auto.checks.reduce((s, c) => s + (c.oracle?.exact ?? 0), 0);
  expect(ex.checks.every((c) => !c.oracle || (c.oracle.fast === 0 && c.oracle.forced))).toBe(true);
  expect(fast).toBeGreaterThan(exact);
  totals.fast += fast;
  totals.exact += exact;
  return auto;
}

afterAll(() =>
  console.log(`oracle-campaign: fast ${totals.fast}, exact fallbacks ${totals.exact}; failing checks shrunk further by the fast run (budget) ${diverged}`),
);

describe('the oracle choice never changes a verdict (ATN-7.8)', () => {
  it('base (float32 and float64)', async () => {
    expect((await both(createBaseTarget, 'mutant base')).summary.failed).toBe(0);
    expect((await both(createBaseTarget, 'mutant base', 'float64')).summary.failed).toBe(0);
  }, 600_000);
  // A spread of the catalogue (ATN forward, VJP, LN, state, LSTM forward and gradient mistakes); `npm run bench`
  // runs the whole catalogue side by side.
  const SOME = ['eps-outside-sqrt', 'vjp-gain-forgotten', 'state-leak', 'lstm-gate-order-ifog'];
  for (const m of MUTANTS.filter((x) => SOME.includes(x.id)))
    it(`mutant:${m.id}`, async () => {
      await both(() => createMutantTarget(m.id), `mutant:${m.id}`);
    }, 600_000);
  const server = path.join(__dirname, '..', 'ports', 'python', 'atn_server.py');
  for (const variant of ['', 'k-ignored'])
    it(`python port ${variant ? `--mutant ${variant}` : '(correct)'}`, async () => {
      const r = await both(() => spawnPort(`python3 ${server}${variant ? ` --mutant ${variant}` : ''}`, { timeoutMs: 60_000 }), `port ${variant}`);
      expect(r.summary.failed > 0).toBe(variant !== '');
    }, 600_000);
});
