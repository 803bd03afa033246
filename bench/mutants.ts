/**
 * The mutant campaign's own speed (ATN-7.8, ATN-7.9): `atn mutants` — the default campaign against each catalogue
 * mutant and its diagnosis — once with the exact BigNumber oracle forced (ATN_ORACLE=exact) and once with the default,
 * at the same runs and seed, side by side in one process, one mutant at a time (no parallel jobs: wall time is then
 * the campaigns' own). Failing checks dominate here: each failure is shrunk, and every shrink candidate is an oracle
 * call. The runner is passed in (cli/ composes it), so this file stays below the command that owns the campaign.
 */
import { cpuMs } from './timing';

/** What the bench reads of one mutant's campaign (cli/mutant-campaign.ts MutantOutcome). */
export interface MutantRun {
  id: string;
  caught: boolean;
  by: string[];
  diagnosedAs?: { id: string };
}

export type MutantRunner = (id: string, oracle: 'exact' | 'auto', onOracle: (c: { fast: number; exact: number }) => void) => Promise<MutantRun>;

export interface MutantSpeed {
  oracle: 'exact' | 'auto';
  wall_ms: number;
  cpu_ms: number;
  /** Mutants caught (some check failed) and named by the diagnosis. */
  caught: number;
  diagnosed: number;
  /** Expectations answered by each oracle, summed over the mutants. */
  fast: number;
  exact: number;
}

export interface MutantBenchResult {
  seed: number;
  mutants: string[];
  exact: MutantSpeed;
  auto: MutantSpeed;
  /** exact wall / auto wall. */
  speedup: number;
  /** Every mutant caught by the same checks and diagnosed alike under both oracles. */
  same_verdicts: boolean;
  /** The mutants where they differ (empty when same_verdicts). */
  differing: string[];
}

async function once(ids: string[], oracle: 'exact' | 'auto', run: MutantRunner): Promise<{ speed: MutantSpeed; rows: MutantRun[]; wall: number }> {
  const rows: MutantRun[] = [];
  let fast = 0,
    exact = 0;
  const c0 = cpuMs();
  const t0 = performance.now();
  for (const id of ids)
    rows.push(
      await run(id, oracle, (c) => {
        fast += c.fast;
        exact += c.exact;
      }),
    );
  const wall = performance.now() - t0;
  const cpu = cpuMs() - c0;
  return {
    rows,
    wall,
    speed: {
      oracle,
      wall_ms: Math.round(wall),
      cpu_ms: Math.round(cpu),
      caught: rows.filter((r) => r.caught).length,
      diagnosed: rows.filter((r) => r.diagnosedAs?.id === r.id).length,
      fast,
      exact,
    },
  };
}

const verdict = (r: MutantRun) => JSON.stringify([r.caught, r.by, r.diagnosedAs?.id ?? null]);

/** Exact first, then the default, over the same mutants at the same seed (the campaign's default runs). */
export async function benchMutants(ids: string[], seed: number, run: MutantRunner, log: (l: string) => void = () => {}): Promise<MutantBenchResult> {
  log(`bench: atn mutants on ${ids.length} catalogue mutants, seed ${seed}, one at a time: ATN_ORACLE=exact, then the default oracle`);
  const ex = await once(ids, 'exact', run);
  const au = await once(ids, 'auto', run);
  const differing = ids.filter((_, i) => verdict(ex.rows[i]) !== verdict(au.rows[i]));
  return {
    seed,
    mutants: ids,
    exact: ex.speed,
    auto: au.speed,
    speedup: Math.round((ex.wall / au.wall) * 100) / 100,
    same_verdicts: differing.length === 0,
    differing,
  };
}
