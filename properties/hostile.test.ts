/**
 * Hostile ports (issue 14): fake ports (ports/fakes/hostile_proxy.js) in front of the real reference target, each
 * altering the answers as an attacker or a careless port author would. Each campaign must end within seconds in a
 * complete, schema-valid report whose verdict is honest: no forged pass, no lost report, nothing the port says taken
 * for the runner's words. Seeds are fixed (ATN default seed); each case prints nothing on success.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnPort } from '../protocol/port';
import { runCampaign } from './lib/campaign';
import { CHECKS } from './lib/checks';
import type { CampaignResult } from './lib/types';
import { readReport } from '../reports/json';
import { writeReport } from '../reports/write';
import { verdict } from '../reports/format';

const ROOT = resolve(__dirname, '..');
const INNER = 'node bin/atn.js serve --target reference';
const SEED = 7;

function checks(...ids: string[]) {
  return CHECKS.filter((c) => ids.includes(c.id));
}

/** A campaign of the given checks against the reference behind hostile_proxy MODE, written and read back. */
async function hostile(mode: string, ids: string[], timeoutMs = 5000): Promise<{ result: CampaignResult; read: CampaignResult; dir: string; ms: number }> {
  const t0 = Date.now();
  const port = await spawnPort(`node ports/fakes/hostile_proxy.js ${mode} -- ${INNER}`, { cwd: ROOT, timeoutMs, graceMs: 500 });
  try {
    const result = await runCampaign({ target: port, targetSpec: `port: hostile ${mode}`, dtype: 'float64', seed: SEED, runs: 2, checks: checks(...ids), shrinkMs: 300 });
    const dir = mkdtempSync(join(tmpdir(), `atn-hostile-${mode}-`));
    await writeReport(result, dir);
    return { result, read: readReport(join(dir, 'report.json')), dir, ms: Date.now() - t0 };
  } finally {
    await port.close();
  }
}

const AGREE = ['protocol.hello', 'atn.forward.agrees', 'atn.vjp.agrees', 'lstm.forward.agrees', 'lstm.vjp.agrees', 'T2.scaling'];

describe('hostile ports: no forged pass', () => {
  for (const mode of ['proto', 'proto-extra', 'tostring']) {
    it(`ATN-7.1 ${mode}: a result with forged keys fails every agreement check`, async () => {
      const { result, read } = await hostile(mode, AGREE);
      const graded = result.checks.filter((c) => c.id !== 'protocol.hello');
      expect(graded.length).toBe(AGREE.length - 1);
      for (const c of graded) expect(c.status, `${c.id}: ${c.reason ?? c.counterexample?.detail}`).toBe('fail');
      expect(verdict(read)).toBe('DOES NOT CONFORM');
      const details = graded.map((c) => c.counterexample!.detail).join('\n');
      if (mode === 'proto') expect(details).toMatch(/missing/);
      if (mode === 'proto-extra') expect(details).toMatch(/__proto__: unexpected key/);
      if (mode === 'tostring') expect(details).toMatch(/expected a number, got the string "toString"/);
      expect(details).not.toMatch(/function/);
    }, 60_000);
  }
});

describe('hostile ports: reports that survive any answer', () => {
  it('ATN-8.10 a result nested 100,000 deep: the check fails and the report is written, bounded', async () => {
    const { result, read, dir } = await hostile('deep', ['protocol.hello', 'atn.forward.agrees']);
    const c = result.checks.find((x) => x.id === 'atn.forward.agrees')!;
    expect(c.status).toBe('fail');
    expect(c.counterexample!.detail).toMatch(/dimensional|expected/);
    const res = read.checks.find((x) => x.id === 'atn.forward.agrees')!.counterexample!.responses![0] as { recorded?: { depth: number; sha256: string } };
    expect(res.recorded?.depth).toBeGreaterThan(100_000);
    expect(res.recorded?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(/nested deeper than 32 levels/);
  }, 60_000);

  it('ATN-8.10 results of 2,000,000 numbers: the report keeps a bounded sample, the shapes and a digest', async () => {
    const { read, dir } = await hostile('huge', ['protocol.hello', 'atn.forward.agrees']);
    const res = read.checks.find((x) => x.id === 'atn.forward.agrees')!.counterexample!.responses![0] as { recorded?: { leaves: number; shapes: Record<string, string> } };
    expect(res.recorded?.leaves).toBeGreaterThanOrEqual(2_000_000);
    expect(res.recorded?.shapes['result.y']).toBe('[2000000]');
    expect(readFileSync(join(dir, 'report.json'), 'utf8').length).toBeLessThan(2_000_000);
  }, 60_000);

  it('ATN-8.2 a port that answers broken envelopes: the counterexample holds the exact line sent; exit is a failure, not "could not run"', async () => {
    const { result, read } = await hostile('lenient', ['protocol.hello', 'errors.envelope']);
    const c = read.checks.find((x) => x.id === 'errors.envelope')!;
    expect(c.status).toBe('fail');
    const req = c.counterexample!.requests[0];
    expect(req.op).toBe('(raw)');
    expect(JSON.parse(req.raw!).op).toBe(42);
    expect(verdict(result)).toBe('DOES NOT CONFORM');
  }, 60_000);

  it('ATN-8.3 bare NaN tokens (json.dumps default): read at once, failed citing ATN-8.3 with the fix, no timeout', async () => {
    // A 60 s request limit: waiting for it would show in the time.
    const { result, ms } = await hostile('bare-nan', ['protocol.hello', 'atn.forward.agrees', 'lstm.forward.agrees'], 60_000);
    for (const id of ['atn.forward.agrees', 'lstm.forward.agrees']) {
      const c = result.checks.find((x) => x.id === id)!;
      expect(c.status).toBe('fail');
      expect(c.counterexample!.detail).toMatch(/bare NaN\/Infinity tokens.*ATN-8\.3.*"NaN"/);
    }
    expect(result.faults.filter((f) => f.kind === 'timeout')).toEqual([]);
    expect(ms).toBeLessThan(30_000);
  }, 60_000);
});

describe('hostile ports: could not run, said once and at once', () => {
  it('ATN-8.7 hello.dtypes a number: could not run, naming the field', async () => {
    const { read } = await hostile('bad-hello', AGREE);
    expect(verdict(read)).toBe('COULD NOT RUN');
    expect(read.stopped).toMatch(/hello\.dtypes must be an array of strings.*got 3/);
  }, 60_000);

  it('ATN-8.6 a port that fails every request with the same error (a module that cannot be built): could not run with its message', async () => {
    const { read, ms } = await hostile('all-internal', CHECKS.map((c) => c.id));
    expect(verdict(read)).toBe('COULD NOT RUN');
    expect(read.stopped).toMatch(/same error.*AttributeError: module 'atn' has no attribute 'ATNLayer'/);
    expect(ms).toBeLessThan(40_000);
  }, 60_000);
});
