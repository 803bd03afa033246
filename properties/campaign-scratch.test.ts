import { it } from 'vitest';
import { createReference } from '../reference';
import { runCampaign } from './lib/campaign';
import { MUTANTS, createMutantTarget, createBaseTarget } from '../mutants';
it('scratch', async () => {
  const ref = createReference();
  const dtypes = (process.env.D ?? 'float64,float32').split(',') as ('float32'|'float64')[];
  const only = process.env.M;
  const list = [{ id: 'BASE' }, ...MUTANTS].filter((m) => !only || only.split(',').includes(m.id));
  for (const dtype of dtypes) for (const m of list) {
    const target = m.id === 'BASE' ? createBaseTarget() : createMutantTarget(m.id);
    const t0 = Date.now();
    const res = await runCampaign({ target, targetSpec: m.id, dtype, runs: Number(process.env.R ?? 10), reference: ref });
    const failed = res.checks.filter((c) => c.status !== 'pass');
    console.log(`${dtype} ${m.id}: ${res.summary.failed} failed, ${res.summary.errors} errors, ${Date.now() - t0} ms :: ${failed.map((c) => `${c.id}[${c.status}]`).join(' ')}`);
    if (process.env.V) for (const c of failed) console.log('   ', c.id, c.reason ?? '', '|', c.counterexample?.detail);
  }
}, 1200000);
