/** `atn mutants` end to end (in process, one job): the JSON line, the exit status, a bad --only. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../cli/commands/mutants';
import { UsageError } from '../cli/flags';

describe('atn mutants', () => {
  afterEach(() => vi.restoreAllMocks());

  it('ATN-3.5 --only lstm-no-cell-atn --json: caught by lstm.forward.agrees, the base conforms, exit 0', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const code = await run(['--only', 'lstm-no-cell-atn', '--json', '--jobs', '1', '--runs', '5']);
    const r = JSON.parse(out.join('').trim());
    expect(r).toMatchObject({ caught: 1, total: 1, base: { conforms: true } });
    expect(r.mutants[0]).toMatchObject({ id: 'lstm-no-cell-atn', caught: true });
    expect(r.mutants[0].by).toContain('lstm.forward.agrees');
    expect(code).toBe(0);
  });

  it('ATN-8.7 an unknown --only id is a usage error listing the ids', async () => {
    await expect(run(['--only', 'nope'])).rejects.toThrow(UsageError);
    await expect(run(['--only', 'nope'])).rejects.toThrow(/squeeze-singleton/);
  });
});
