/**
 * ATN-7.2/7.3 on an implementation the tolerances were NOT derived from: ports/independent/atn_welford.js, an ATN
 * written the way a framework user writes it (one-pass Welford variance as torch.var(x, dim) computes it, no scaling,
 * the VJP by autodiff in torch's order), at float32 (Math.fround on every operation) and float64. A correct port
 * must never fail outside the extended range (ATN-9.2: unscaled, it may overflow and underflow there, and must be
 * told so as one extended-range problem); the same port with a real VJP mistake must fail the core level.
 * Seeds are fixed and printed in the test names (replay: ATN_SEED=<seed>).
 */
import { describe, expect, it } from 'vitest';
import { targetFromFunctions } from '../api';
import { diagnoseFailures } from '../reports/diagnosis';
import { runCampaign } from './lib/campaign';
import { checkById } from './lib/checks';
import type { CampaignDtype, Check } from './lib/types';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const welford = require('../ports/independent/atn_welford.js');

const CHECKS: Check[] = [
  'atn.forward.agrees',
  'atn.forward.scale',
  'atn.forward.mixed-magnitudes',
  'atn.forward.drift',
  'atn.forward.large-mean',
  'atn.forward.near-eps',
  'atn.forward.subnormal',
  'atn.vjp.agrees',
  'atn.vjp.hard',
  'T4.vjp-sums-to-zero',
].map((id) => checkById(id)!);
const SEEDS = [3, 11];
const DTYPES: CampaignDtype[] = ['float32', 'float64'];

async function campaign(vjp: unknown, dtype: CampaignDtype, seed: number) {
  const target = targetFromFunctions({ forward: welford.forward, vjp } as never, { dtype, name: 'welford' });
  return runCampaign({ target, targetSpec: 'js:atn_welford', dtype, seed, runs: 15, problems: true, shrinkMs: 500, checks: CHECKS });
}

describe('ATN-7.2, ATN-7.3 on an independent one-pass (Welford) ATN with autodiff VJP', () => {
  for (const dtype of DTYPES)
    for (const seed of SEEDS)
      it(`${dtype}, seed ${seed}: no failure outside the extended range (ATN-9.2)`, async () => {
        const r = await campaign(welford.vjp, dtype, seed);
        const failed = r.checks.filter((c) => c.status !== 'pass' && c.status !== 'skip').map((c) => `${c.id}: ${c.counterexample?.detail ?? c.reason}`);
        // Every failure (if any) is the unscaled variance's, confined to the extended range, and nothing fails outside it.
        for (const p of r.problems ?? []) expect(p.regime.id, `${p.summary} (${p.checks.join(', ')}): ${p.evidence}`).toBe('extended-range');
        if (failed.length) expect(r.outside?.failed ?? failed, failed.join('\n')).toEqual([]);
        expect(r.checks.filter((c) => c.status === 'error').map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
      }, 240_000);

  it('float64, seed 3: the same port with the mean left out of its VJP fails the core level and is named vjp-mean-detached (ATN-9.7)', async () => {
    const target = targetFromFunctions({ forward: welford.forward, vjp: welford.vjpOf({ detachMean: true }) } as never, {
      dtype: 'float64',
      name: 'welford-mean-detached',
    });
    const r = await runCampaign({ target, targetSpec: 'js:atn_welford', dtype: 'float64', seed: 3, runs: 15, problems: true, shrinkMs: 500, checks: CHECKS });
    expect(r.checks.find((c) => c.id === 'atn.vjp.agrees')!.status).toBe('fail');
    expect(r.levels?.core).toBe('fail');
    // ATN-9.7: named by the diagnosis, although written independently of the catalogue's vjp-mean-detached.
    const d = await diagnoseFailures(r.checks, { target, ops: r.target.hello!.ops, dtype: 'float64' }, r.problems);
    expect(d?.best?.id, JSON.stringify(d?.ranking.slice(0, 3))).toBe('vjp-mean-detached');
  }, 240_000);
});
