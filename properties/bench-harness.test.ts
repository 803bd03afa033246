/**
 * The bench's harnesses: not timing tests (nothing here asserts a speed), tests that they answer. The PyTorch baseline
 * (bench/torch.ts, bench/torch_ln.py): one python process times rounds of torch.nn.LayerNorm on request, and without
 * torch, or without that python, the bench is told so with the reason instead of failing. The mutant-campaign part
 * (bench/mutants.ts): both oracles run every mutant given, and a mutant judged differently is named.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { torchLnSession } from '../bench/torch';
import { benchMutants, type MutantRunner } from '../bench/mutants';
import { TORCH_SKIP_REASON, torchVersion } from './lib/python';

const TORCH = torchVersion('bench-harness.test.ts');

describe('bench: the torch.nn.LayerNorm baseline', () => {
  it('says "absent", with the reason, where the python is missing, exits at once or has no torch', async () => {
    expect(await torchLnSession([2, 2, 8], 1, '/nonexistent/python3')).toEqual({ absent: '/nonexistent/python3 not found' });
    const silent = await torchLnSession([2, 2, 8], 1, '/bin/false');
    expect('absent' in silent && silent.absent).toMatch(/^\/bin\/false failed/);
    // a python without torch: torch_ln.py's own answer is passed on
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atn-bench-'));
    const fake = path.join(dir, 'python3');
    fs.writeFileSync(fake, '#!/bin/sh\necho \'{"absent": "torch cannot be imported"}\'\n', { mode: 0o755 });
    expect(await torchLnSession([2, 2, 8], 1, fake)).toEqual({ absent: 'torch cannot be imported' });
  });

  // Without Debian's python3-torch this one cannot run and shows as skipped, the reason in its name; in CI it always
  // runs (.ci/run installs python3-torch and sets ATN_REQUIRE_TORCH=1, under which torchVersion fails the file instead).
  it.skipIf(!TORCH)(`times rounds on request in one process (needs torch: ${TORCH ? TORCH : TORCH_SKIP_REASON})`, async () => {
    const s = await torchLnSession([4, 2, 16], 1);
    if (!('time' in s)) throw new Error(`torch present but the session failed: ${s.absent}`);
    try {
      expect(s.torch).toBe(TORCH);
      expect(s.threads).toBe(1);
      for (let i = 0; i < 2; i++) {
        const ms = await s.time(3);
        expect(Number.isFinite(ms) && ms > 0).toBe(true);
      }
    } finally {
      s.close();
    }
  });
});

describe('bench: atn mutants under both oracles', () => {
  it('runs each mutant under exact, then the default, sums the oracle counts, and names a mutant judged differently', async () => {
    const calls: string[] = [];
    const run: MutantRunner = async (id, oracle, onOracle) => {
      calls.push(`${oracle}:${id}`);
      await new Promise((r) => setTimeout(r, 2));
      onOracle({ fast: oracle === 'auto' ? 3 : 0, exact: oracle === 'auto' ? 1 : 4 });
      const caught = !(id === 'b' && oracle === 'auto');
      return { id, caught, by: caught ? ['atn.forward.agrees'] : [], diagnosedAs: caught ? { id } : undefined };
    };
    const r = await benchMutants(['a', 'b'], 7, run);
    expect(calls).toEqual(['exact:a', 'exact:b', 'auto:a', 'auto:b']);
    expect(r).toMatchObject({ seed: 7, mutants: ['a', 'b'], same_verdicts: false, differing: ['b'] });
    expect(r.exact).toMatchObject({ oracle: 'exact', caught: 2, diagnosed: 2, fast: 0, exact: 8 });
    expect(r.auto).toMatchObject({ oracle: 'auto', caught: 1, diagnosed: 1, fast: 6, exact: 2 });
    expect(Number.isFinite(r.speedup)).toBe(true);
  });
});
