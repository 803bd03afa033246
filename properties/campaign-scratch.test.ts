import { it } from 'vitest';
import { createReference } from '../reference';
import { runCampaign } from './lib/campaign';
it('scratch', async () => {
  const ref = createReference();
  for (const dtype of ['float64', 'float32'] as const) {
    const res = await runCampaign({ target: ref.target(), targetSpec: 'reference', dtype, runs: Number(process.env.R ?? 10), reference: ref });
    for (const c of res.checks) console.log(dtype, c.id, c.status, c.runs, c.durationMs, c.reason ?? '', c.counterexample?.detail ?? '', c.errorRatios ? Math.max(0, ...c.errorRatios).toExponential(2) : '');
    console.log(dtype, res.summary, res.wallMs);
  }
}, 600000);
