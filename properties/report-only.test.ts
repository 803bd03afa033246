/**
 * `atn report --only` (issue 11): a selection of checks by id or clause, recorded in report.json, never a conformance
 * claim; the replay line of a failure names its check with --only and, run as printed, fails that check again.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selectChecks } from '../cli/commands/report';
import { UsageError } from '../cli/flags';
import { CHECKS } from './lib/checks';
import type { CampaignResult } from './lib/types';

const ROOT = resolve(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'atn-only-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function atn(args: string[]): { code: number; stdout: string } {
  try {
    return { code: 0, stdout: execFileSync('node', [join(ROOT, 'bin/atn.js'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const x = e as { status: number; stdout: string };
    return { code: x.status, stdout: x.stdout };
  }
}

describe('selectChecks', () => {
  it('selects by check id and by clause, in campaign order, and refuses unknown names', () => {
    expect(selectChecks(undefined)).toBeUndefined();
    expect(selectChecks('T2.scaling,atn.forward.agrees')!.map((c) => c.id)).toEqual(['atn.forward.agrees', 'T2.scaling']);
    const byClause = selectChecks('ATN-6.2')!;
    expect(byClause.length).toBeGreaterThan(0);
    expect(byClause.every((c) => c.clause === 'ATN-6.2')).toBe(true);
    expect(byClause.length).toBe(CHECKS.filter((c) => c.clause === 'ATN-6.2').length);
    expect(() => selectChecks('atn.forward.nope')).toThrow(UsageError);
    expect(() => selectChecks(',')).toThrow(UsageError);
  });
});

describe('atn report --only', () => {
  it('runs one check of a failing target, records the selection, and its replay line finds the failure again', () => {
    const out1 = join(dir, 'a');
    const r = atn(['report', '--target', 'mutant:k-ignored', '--dtype', 'float64', '--runs', '20', '--only', 'atn.forward.agrees', '--out', out1]);
    expect(r.code).toBe(1);
    const rep = JSON.parse(readFileSync(join(out1, 'report.json'), 'utf8')) as CampaignResult;
    expect(rep.only).toEqual(['atn.forward.agrees']);
    expect(rep.checks.map((c) => c.id)).toEqual(['atn.forward.agrees']);
    expect(rep.checks[0].status).toBe('fail');
    expect(rep.summary.conforms).toBe(false);
    const md = readFileSync(join(out1, 'report.md'), 'utf8');
    const line = md.split('\n').find((l) => l.includes('npx atn report') && /--only '?atn\.forward\.agrees'?$/.test(l) && !l.includes('ATN_PATH'));
    expect(line, md).toBeDefined();
    // Run the printed replay (npx atn -> node bin/atn.js), only with another --out.
    const argv = line!
      .replace(/^.*npx atn /, '')
      .split(' ')
      .map((x) => x.replace(/^'(.*)'$/, '$1'));
    const out2 = join(dir, 'b');
    expect(atn([...argv, '--out', out2]).code).toBe(1);
    const again = JSON.parse(readFileSync(join(out2, 'report.json'), 'utf8')) as CampaignResult;
    // The same check fails again from the same seed (the shrunk case itself depends on the 5 s shrink budget, so on load).
    expect(again.checks.map((c) => [c.id, c.status, c.seed])).toEqual([['atn.forward.agrees', 'fail', rep.checks[0].seed]]);
  }, 120_000);

  it('a passing selection exits 0 and says it is not a conformance claim', () => {
    const out = join(dir, 'c');
    const r = atn(['report', '--target', 'reference', '--dtype', 'float64', '--runs', '5', '--only', 'ATN-6.2,T2.scaling', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('INCOMPLETE: only the checks selected with --only ran');
    expect(r.stdout).not.toContain('CONFORMS (');
  }, 120_000);
});
