/**
 * Robustness of whole campaigns (issue: "a conformance tool must never be the thing that breaks, and never lose what
 * it found"): faults injected into a real target behind a port are recorded and the campaign finishes; a run killed
 * half-way leaves a readable report. These run the built CLI (dist/, built by `npm test` before vitest).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');
const ATN = join(ROOT, 'bin', 'atn.js');

function readReport(dir: string): { complete: boolean; checks: Array<{ id: string; status: string }>; faults: Array<{ kind: string; message: string }> } {
  return JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
}

describe('campaign robustness', () => {
  it('ATN-8.6 a port that crashes, hangs and prints garbage mid-campaign: each fault recorded with its message, the campaign finishes', () => {
    const out = mkdtempSync(join(tmpdir(), 'atn-flaky-'));
    const state = mkdtempSync(join(tmpdir(), 'atn-flaky-state-'));
    const port = `node ports/fakes/flaky_proxy.js --crash 5 --hang 40 --garbage 80 --state ${state} -- node bin/atn.js serve --target reference`;
    const r = spawnSync('node', [ATN, 'report', '--port', port, '--runs', '5', '--dtype', 'float64', '--out', out, '--json'], {
      cwd: ROOT,
      env: { ...process.env, ATN_PORT_TIMEOUT_MS: '3000' },
      encoding: 'utf8',
      timeout: 100_000,
    });
    // 0 or 1: a fault during a check may fail that check, but the campaign ran (2 would be "could not run").
    expect([0, 1], r.stderr).toContain(r.status);
    const rep = readReport(out);
    expect(rep.complete).toBe(true);
    expect(rep.checks.length).toBeGreaterThanOrEqual(30);
    const kinds = rep.faults.map((f) => f.kind);
    expect(kinds).toEqual(expect.arrayContaining(['crash', 'timeout', 'garbage']));
    expect(rep.faults.find((f) => f.kind === 'crash')!.message).toMatch(/exited with code 3.*injected crash/s);
    expect(rep.faults.find((f) => f.kind === 'timeout')!.message).toMatch(/within 3000 ms/);
    expect(rep.faults.find((f) => f.kind === 'garbage')!.message).toMatch(/injected garbage/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/injected crash/);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`ATN-8.6 a campaign killed half-way by ${signal} leaves a readable report of what it had (complete = false)`, async () => {
      const out = mkdtempSync(join(tmpdir(), `atn-${signal}-`));
      // The BigNumber reference at float64 with many runs takes minutes: long enough to be interrupted mid-way.
      const child = spawn('node', [ATN, 'report', '--target', 'reference', '--dtype', 'float64', '--runs', '400', '--out', out], {
        cwd: ROOT,
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      const t0 = Date.now();
      // Wait for the first partial write (after the first checks), then interrupt.
      while (!existsSync(join(out, 'report.json')) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(join(out, 'report.json'))).toBe(true);
      child.kill(signal);
      const code = await exited;
      expect([1, 2]).toContain(code);
      const rep = readReport(out);
      expect(rep.complete).toBe(false);
      expect(rep.checks.length).toBeGreaterThan(0);
      expect(rep.checks.length).toBeLessThan(37);
      for (const f of ['report.md', 'report.html', 'junit.xml']) expect(existsSync(join(out, f))).toBe(true);
      expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/[Pp]artial/);
    });
  }
});
