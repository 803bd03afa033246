/**
 * The campaign's own speed (ATN-7.8): the default `atn report` campaign on the built-in implementation, once with the
 * exact BigNumber oracle forced (ATN_ORACLE=exact) and once with the default (the double-double oracle where it
 * decides), at the same runs and seed, side by side in one process: checks/s, requests/s, wall and CPU time, the share
 * of expectations the fast oracle answered, and whether the verdicts are identical.
 */
import { createReference } from '../reference';
import { createImplTarget } from '../impl/target';
import type { Target } from '../protocol/target';
import { runCampaign } from '../properties/lib/campaign';
import type { CampaignResult } from '../properties/lib/types';
import { cpuMs } from './timing';

export interface CampaignSpeed {
  oracle: 'exact' | 'auto';
  wall_ms: number;
  cpu_ms: number;
  checks: number;
  requests: number;
  checks_per_s: number;
  requests_per_s: number;
  /** Expectations answered by each oracle. */
  fast: number;
  exact: number;
}

export interface CampaignBenchResult {
  runs: number;
  seed: number;
  exact: CampaignSpeed;
  auto: CampaignSpeed;
  /** exact wall / auto wall. */
  speedup: number;
  /** Every check's status is the same under both oracles. */
  same_verdicts: boolean;
}

/** Counts the requests a target answers. */
function counting(t: Target): { target: Target; count: () => number } {
  let n = 0;
  return {
    target: { ...t, handle: (req) => (n++, t.handle(req)), close: () => t.close() },
    count: () => n,
  };
}

async function once(oracle: 'exact' | 'auto', runs: number, seed: number, backend?: string): Promise<{ speed: CampaignSpeed; result: CampaignResult }> {
  const c = counting(await createImplTarget({ backend }));
  const reference = createReference({ oracle });
  const c0 = cpuMs();
  const t0 = performance.now();
  const result = await runCampaign({ target: c.target, targetSpec: 'impl', dtype: 'float32', runs, seed, reference });
  const wall = performance.now() - t0;
  const cpu = cpuMs() - c0;
  await c.target.close();
  const s = (x: number) => Math.round(x * 100) / 100;
  return {
    result,
    speed: {
      oracle,
      wall_ms: Math.round(wall),
      cpu_ms: Math.round(cpu),
      checks: result.checks.length,
      requests: c.count(),
      checks_per_s: s((result.checks.length / wall) * 1000),
      requests_per_s: s((c.count() / wall) * 1000),
      fast: reference.oracle?.fast ?? 0,
      exact: reference.oracle?.exact ?? 0,
    },
  };
}

/** Exact first, then the default: the later run profits from warm caches (tfjs kernels), so order against the fast path. */
export async function benchCampaign(runs: number, seed: number, backend?: string, log: (l: string) => void = () => {}): Promise<CampaignBenchResult> {
  log(`bench: campaign on impl, ${runs} runs per property, seed ${seed}: ATN_ORACLE=exact, then the default oracle`);
  const ex = await once('exact', runs, seed, backend);
  const au = await once('auto', runs, seed, backend);
  const same =
    ex.result.checks.length === au.result.checks.length &&
    ex.result.checks.every((c, i) => c.id === au.result.checks[i].id && c.status === au.result.checks[i].status);
  return { runs, seed, exact: ex.speed, auto: au.speed, speedup: Math.round((ex.speed.wall_ms / au.speed.wall_ms) * 100) / 100, same_verdicts: same };
}
