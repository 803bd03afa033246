/** atn bench [--backend NAME] [--quick] [--json-only]: benchmark the tfjs implementation; always exits 0 once it ran. */
import { onlyFlags, parseFlags, str } from '../flags';

export async function run(argv: string[]): Promise<number> {
  const p = parseFlags(argv, ['help', 'quick', 'json-only']);
  if (p.flags.help) {
    process.stdout.write(
      [
        'usage: atn bench [--backend wasm|cpu|webgpu|tensorflow] [--quick] [--json-only] [--campaign-runs N] [--seed S] [--mutants N]',
        '',
        'Times, on one backend, forward + backward of the ATN op at k = 1, 4, 16, 64, 128 against LN (shape [128,32,256]),',
        'and one training step (forward, BPTT, adam) of LN-LSTM and ATN-LSTM k=25 at T=100, B=50, I=2, H=128;',
        'then the default campaign on the impl twice, ATN_ORACLE=exact and the default oracle, at --campaign-runs N',
        '(default 50, --quick 10, 0 skips) and --seed S (default 1): checks/s, requests/s, speedup, same verdicts;',
        'then `atn mutants` twice likewise, one mutant at a time, on N catalogue mutants spread over the catalogue',
        '(--mutants N: default all, --quick 4, 0 skips) at the campaign seed (--seed, else ATN_SEED or the default):',
        'wall time, mutants caught and diagnosed, speedup, same verdicts (checks that caught each, and its diagnosis).',
        'Prints a table, then one JSON line: medians of 15 runs after 2 warm-up runs, the variants interleaved run by run.',
        'Targets are printed beside the numbers; the exit status is 0 whether they are met or not (a bench is not a test).',
        '',
      ].join('\n'),
    );
    return 0;
  }
  onlyFlags(p, ['backend', 'quick', 'json-only', 'help', 'campaign-runs', 'seed', 'mutants']);
  // tfjs loads only when the command runs (cli/main.ts loads commands lazily).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { initBackend } = require('../../impl/backend') as typeof import('../../impl/backend');
  const { runBench, formatTable } = require('../../bench') as typeof import('../../bench');
  let backend: string;
  try {
    backend = await initBackend(str(p, 'backend'));
  } catch (e) {
    process.stderr.write(`atn bench: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const log = (line: string) => process.stderr.write(line + '\n');
  const intFlag = (name: string): number | undefined => {
    const v = str(p, name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  let campaignRuns: number | undefined, seed: number | undefined, mutantCount: number | undefined;
  try {
    campaignRuns = intFlag('campaign-runs');
    seed = intFlag('seed');
    mutantCount = intFlag('mutants');
  } catch (e) {
    process.stderr.write(`atn bench: ${(e as Error).message}\n`);
    return 2;
  }
  const { MUTANTS } = require('../../mutants') as typeof import('../../mutants');
  const { runMutantCampaign } = require('../mutant-campaign') as typeof import('../mutant-campaign');
  const { seedFromEnv } = require('../../properties/lib/seed') as typeof import('../../properties/lib/seed');
  const all = MUTANTS.map((m) => m.id);
  const count = Math.min(all.length, mutantCount ?? (p.flags.quick ? 4 : all.length));
  const step = all.length / Math.max(count, 1); // spread over the catalogue (ATN forward, VJP, state, LSTM)
  const ids = Array.from({ length: count }, (_, i) => all[Math.floor(i * step)]);
  const mutantSeed = seed ?? seedFromEnv();
  const mutants = {
    ids,
    seed: mutantSeed,
    run: (id: string, oracle: 'exact' | 'auto', onOracle: (c: { fast: number; exact: number }) => void) =>
      runMutantCampaign(id, { seed: mutantSeed, oracle, onOracle }),
  };
  const { result, context } = await runBench(backend, { quick: !!p.flags.quick, log, campaignRuns, seed, mutants });
  if (!p.flags['json-only']) process.stdout.write(formatTable(result, context) + '\n');
  process.stdout.write(JSON.stringify(result) + '\n');
  return 0;
}
