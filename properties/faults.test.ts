/**
 * A fault inside every check (issue 10 item 2, issue 14): one campaign of every check against the reference behind
 * ports/fakes/flaky_proxy.js, with one fault injected at a request inside each check — a crash, a stall, a garbage
 * line before the answer, or the answer written twice — at a position drawn from the seed among that check's requests
 * (counted in a clean in-process run with the same seed: the requests before a fault are the same in both runs).
 * The report must be complete and honest: a check whose answer was lost fails as "no answer from the target" with
 * the fault recorded against its request; a check whose answer survived (garbage, double) keeps its clean verdict with
 * the fault recorded; no check is lost. One fault kind per check, in turn, keeps the cost to one campaign (one run
 * per property) over every check of the campaign.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnPort } from '../protocol/port';
import type { Target } from '../protocol/target';
import type { Request } from '../protocol/types';
import { createReference } from '../reference';
import { readReport } from '../reports/json';
import { writeReport } from '../reports/write';
import { verdict } from '../reports/format';
import { runCampaign } from './lib/campaign';
import { CHECKS } from './lib/checks';

const ROOT = resolve(__dirname, '..');
const SEED = 1414;
const KINDS = ['crash', 'stall', 'garbage', 'double'] as const;
/** Every check of the campaign: a fault can land anywhere. */
const SELECTION = CHECKS.map((c) => c.id);
type Kind = (typeof KINDS)[number];

/** A target that tells which check each request belongs to (the campaign announces a check before it runs it). */
function perCheck(inner: Target, edit: (check: string, n: number, req: Request) => Request): { target: Target; onProgress: (p: { check: string }) => void } {
  let current = '';
  const n = new Map<string, number>();
  return {
    onProgress: (p) => (current = p.check),
    target: {
      handle: (req: Request) => {
        if (!current) return inner.handle(req); // the campaign's own hello, before the first check
        const i = (n.get(current) ?? 0) + 1;
        n.set(current, i);
        return inner.handle(edit(current, i, req));
      },
      close: () => inner.close(),
      // the port's fault log, which the campaign copies into the report
      get faults() {
        return (inner as { faults?: unknown }).faults;
      },
    } as Target,
  };
}

/** A deterministic draw in 1..count from the seed and the check's place (a small integer hash, printed with the seed). */
function position(seed: number, index: number, count: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  return 1 + (h % count);
}

describe('a fault inside every check', () => {
  it("ATN-8.11 crash, stall, garbage or a double answer at a seeded request of each check: a complete report, each lost answer failed as the port's, nothing lost", async () => {
    // 1. Clean run, in process: how many requests each check sends, and its verdict.
    const counts = new Map<string, number>();
    const clean = perCheck(createReference().target(), (check, i, req) => (counts.set(check, i), req));
    const base = {
      targetSpec: 'reference behind flaky_proxy',
      dtype: 'float64' as const,
      seed: SEED,
      runs: 1,
      checks: CHECKS.filter((c) => SELECTION.includes(c.id)),
      shrinkMs: 300,
    };
    const cleanResult = await runCampaign({ ...base, target: clean.target, onProgress: clean.onProgress });
    const cleanStatus = new Map(cleanResult.checks.map((c) => [c.id, c.status]));

    // 2. The same campaign through the proxy, one fault per check.
    const plan = new Map<string, { kind: Kind; at: number; id?: Request['id'] }>();
    [...counts.keys()].forEach((check, i) => plan.set(check, { kind: KINDS[i % KINDS.length], at: position(SEED, i, counts.get(check)!) }));
    const t0 = Date.now();
    const port = await spawnPort('node ports/fakes/flaky_proxy.js -- node bin/atn.js serve --target reference', { cwd: ROOT, timeoutMs: 1500, graceMs: 300 });
    const faulty = perCheck(port, (check, i, req) => {
      const p = plan.get(check);
      if (!p || p.at !== i) return req;
      p.id = req.id;
      return { ...req, inject: p.kind } as Request;
    });
    let result;
    try {
      result = await runCampaign({ ...base, target: faulty.target, onProgress: faulty.onProgress });
    } finally {
      await port.close();
    }
    const ms = Date.now() - t0;
    const dir = mkdtempSync(join(tmpdir(), 'atn-faults-'));
    await writeReport(result, dir);
    const read = readReport(join(dir, 'report.json'));
    console.log(`faults.test.ts: seed ${SEED}, ${plan.size} checks with a fault, ${result.faults.length} faults recorded, ${ms} ms`);

    // Complete: every check of the clean run is in the report, and the campaign was not stopped.
    expect(read.complete).toBe(true);
    expect(read.stopped).toBeUndefined();
    expect(read.checks.map((c) => c.id)).toEqual(cleanResult.checks.map((c) => c.id));
    expect(verdict(read)).toBe('DOES NOT CONFORM'); // the lost answers are failures of the port
    expect(plan.size).toBe(SELECTION.length); // every selected check sends requests, so every one got a fault

    const byId = new Map(read.checks.map((c) => [c.id, c]));
    for (const [check, p] of plan) {
      const what = `${check}: ${p.kind} at its request ${p.at} of ${counts.get(check)}`;
      expect(p.id, `${what}: never sent (the runs differ before the fault)`).toBeDefined();
      const c = byId.get(check)!;
      const mine = read.faults.filter((f) => f.request?.id === p.id);
      if (p.kind === 'crash' || p.kind === 'stall') {
        expect(
          mine.map((f) => f.kind),
          what,
        ).toContain(p.kind === 'crash' ? 'crash' : 'timeout');
        expect(c.status, what).toBe('fail');
        const text = `${c.reason ?? ''} ${c.counterexample?.detail ?? ''} ${c.counterexample?.first?.detail ?? ''}`;
        // graded as the lost answer, or (a fault that does not repeat) as a failure that passed when re-run: never a pass
        expect(text, what).toMatch(/no answer from the target|failed during the search but passed when re-run/);
      } else if (p.kind === 'garbage') {
        expect(
          mine.map((f) => f.kind),
          what,
        ).toContain('garbage');
        expect(c.status, what).toBe(cleanStatus.get(check));
      } else {
        // the second copy is read while no request is on the wire (or as the next request's answer): a wrong-id fault
        const answered = typeof p.id === 'string' || typeof p.id === 'number' ? p.id : null; // a broken id is answered null
        const shown = JSON.stringify(`"id":${JSON.stringify(answered)}`).slice(1, -1); // the fault quotes the line as a JSON string
        expect(
          read.faults.some((f) => f.kind === 'wrong-id' && f.message.includes(shown)),
          what,
        ).toBe(true);
        expect(c.status, what).toBe(cleanStatus.get(check));
      }
    }
  }, 240_000);
});
