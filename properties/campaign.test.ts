/**
 * The campaign against the reference (it must pass every check, at both dtypes) and against deliberately broken
 * targets (the relevant check must fail, with a shrunk, replayable counterexample).
 */
import { describe, expect, it } from 'vitest';
import { createReference } from '../reference';
import { isEnvelope, targetFromHandlers, type Target } from '../protocol/target';
import { parseAtnArgs } from '../protocol/args';
import type { Envelope } from '../protocol/types';
import { DEFAULT_RUNS, runCampaign } from './lib/campaign';
import { CHECKS, checkById } from './lib/checks';
import { seedFromEnv, scaledRuns } from './lib/seed';
import type { Check, CampaignResult } from './lib/types';

const reference = createReference();
// The default campaign (DEFAULT_RUNS runs per property): what `atn report` runs.
const RUNS = scaledRuns(DEFAULT_RUNS);

function failures(r: CampaignResult): string {
  return r.checks
    .filter((c) => c.status !== 'pass')
    .map((c) => `${c.id} ${c.status}: ${c.reason ?? ''} ${c.counterexample?.detail ?? ''}`)
    .join('\n');
}

/** The reference target with its requests rewritten (a broken port in one line). */
function rewriting(rewrite: (req: Envelope) => Envelope): Target {
  const inner = reference.target();
  return { handle: (req) => inner.handle(isEnvelope(req) ? rewrite(req) : req), close: () => inner.close() };
}

const only = (...ids: string[]): Check[] => ids.map((id) => checkById(id) as Check);

describe('the campaign against the reference target', () => {
  for (const dtype of ['float64', 'float32'] as const)
    it(`ATN-7.1 the reference conforms at ${dtype}: every check passes`, async () => {
      const r = await runCampaign({ target: reference.target(), targetSpec: 'reference', dtype, runs: RUNS, reference });
      expect(failures(r)).toBe('');
      expect(r.summary).toMatchObject({ failed: 0, errors: 0, skipped: 0, conforms: true });
      expect(r.complete).toBe(true);
      expect(r.checks.map((c) => c.id)).toEqual(CHECKS.map((c) => c.id));
      expect(r.target.hello?.name).toBe('atn-kit-reference');
      expect(r.seed).toBe(seedFromEnv());
      expect(r.suite.version).toMatch(/^\d+\.\d+\.\d+/);
      // The report's plots have their data.
      const t2 = r.checks.find((c) => c.id === 'T2.scaling');
      expect(t2?.series?.invariance?.length).toBe(t2?.runs);
      const flow = r.checks.find((c) => c.id === 'atn.vjp.gradient-flow');
      expect(new Set(flow?.series?.gradientFlow?.map((p) => p.group))).toEqual(new Set(['k=1', 'k=2', 'k=4', 'k=8']));
      // Outside the window (lag >= k) the one-hot gradient is exactly zero for the reference.
      for (const p of flow?.series?.gradientFlow ?? []) if (p.x >= Number(p.group?.slice(2))) expect(p.y).toBe(0);
    });
});

describe('the campaign against broken targets', () => {
  it('ATN-1.4 a target that drops eps fails atn.forward.near-eps with a shrunk counterexample', async () => {
    const target = rewriting((req) => (req.op === 'atn.forward' ? { ...req, args: { ...req.args, eps: 0 } } : req));
    const r = await runCampaign({
      target,
      targetSpec: 'eps-dropped',
      dtype: 'float32',
      runs: RUNS,
      reference,
      checks: only('atn.forward.near-eps', 'T2.scaling'),
    });
    const [near] = r.checks;
    expect(near.status).toBe('fail');
    expect(near.reason).toMatch(/^replay: ATN_SEED=-?\d+ ATN_PATH=\S+ ATN_CHECK=atn\.forward\.near-eps$/);
    expect(near.path).toBeTruthy();
    const ce = near.counterexample;
    expect(ce?.requests).toHaveLength(1);
    expect(ce?.responses).toHaveLength(1);
    // Shrunk: a handful of entries at most (the smallest separating case is one step of one sample).
    const a = ce?.requests[0].args.a as number[][][];
    expect(a.flat(2).length).toBeLessThanOrEqual(4);
    expect(ce?.detail).toMatch(/atn\.forward: /);
    expect(r.summary.conforms).toBe(false);
  });

  it('ATN-5.8 a target that ignores k fails T8 on the known counterexample, and agreement, but not T6', async () => {
    const target = rewriting((req) => (req.op === 'atn.forward' ? { ...req, args: { ...req.args, k: 1 } } : req));
    const r = await runCampaign({
      target,
      targetSpec: 'k-ignored',
      dtype: 'float64',
      runs: RUNS,
      reference,
      checks: only('T8.per-step-shift', 'atn.forward.agrees', 'T6.locality'),
    });
    const byId = Object.fromEntries(r.checks.map((c) => [c.id, c]));
    expect(byId['T8.per-step-shift'].status).toBe('fail');
    expect(byId['T8.per-step-shift'].counterexample?.detail).toMatch(/behaves as if k = 1/);
    expect(byId['atn.forward.agrees'].status).toBe('fail');
    expect(byId['T6.locality'].status).toBe('pass');
  });

  it('ATN-1.7 a target that keeps the last step of the previous request in its window fails the state check', async () => {
    const inner = reference.target();
    const shape = (x: unknown[]) => JSON.stringify((x[0] as unknown[][]).map((r) => r.length));
    let last: unknown[] | undefined;
    const leaky: Target = {
      async handle(req) {
        if (!isEnvelope(req) || req.op !== 'atn.forward' || !Array.isArray(req.args.a)) return inner.handle(req);
        const a = req.args.a as unknown[];
        const prev = last;
        last = a;
        if (!prev || shape(prev) !== shape(a)) return inner.handle(req);
        // The previous request's last step stays in the window; its output step is dropped from the answer.
        const res = await inner.handle({ ...req, args: { ...req.args, a: [prev[prev.length - 1], ...a] } });
        if (res.ok) res.result = { y: (res.result.y as unknown[]).slice(1) };
        return res;
      },
      close: () => inner.close(),
    };
    const r = await runCampaign({ target: leaky, targetSpec: 'leak', dtype: 'float64', runs: RUNS, reference, checks: only('state.independent-sequences') });
    expect(r.checks[0].status).toBe('fail');
    expect(r.checks[0].counterexample?.detail).toMatch(/state leaks between requests/);
    expect(r.checks[0].counterexample?.requests).toHaveLength(4);
  });

  it('ATN-7.3 a target that differences prefix sums (error not local to the window) fails atn.forward.drift', async () => {
    // Statistics from running sums of a and a^2 over the whole sequence, in doubles: the cost is independent of k, but
    // a window of small entries after large ones is lost in the large sums.
    const hello = { name: 'prefix-sums', version: '0', protocol: 1 as const, ops: ['hello', 'atn.forward'], dtypes: ['float32' as const, 'float64' as const] };
    const target = targetFromHandlers(hello, {
      'atn.forward': (raw) => {
        const p = parseAtnArgs(raw, { dtypes: ['float32', 'float64'] });
        const r = p.dtype === 'float32' ? Math.fround : (x: number) => x;
        const num = (v: unknown) => r(Number(v));
        const eps = num(p.eps);
        const y = p.a.map((m) => m.map((row) => row.map(() => 0)));
        for (let b = 0; b < p.B; b++) {
          const s1 = [0],
            s2 = [0];
          for (let t = 0; t < p.T; t++) {
            const row = p.a[t][b].map(num);
            s1.push(s1[t] + row.reduce((x, v) => x + v, 0));
            s2.push(s2[t] + row.reduce((x, v) => x + v * v, 0));
            const lo = Math.max(0, t + 1 - p.k);
            const n = (t + 1 - lo) * p.H;
            const mu = (s1[t + 1] - s1[lo]) / n;
            const v = Math.max(0, (s2[t + 1] - s2[lo]) / n - mu * mu);
            for (let h = 0; h < p.H; h++) y[t][b][h] = r((num(p.gain[h]) * (row[h] - mu)) / Math.sqrt(v + eps) + num(p.bias[h]));
          }
        }
        return { y };
      },
    });
    const r = await runCampaign({ target, targetSpec: 'prefix-sums', dtype: 'float32', runs: RUNS, reference, checks: only('atn.forward.drift') });
    expect(r.checks[0].status).toBe('fail');
  });

  it('ATN-6.2 a target that accepts negative eps fails errors.eps naming the request', async () => {
    const target = rewriting((req) => (typeof req.args.eps === 'number' && req.args.eps < 0 ? { ...req, args: { ...req.args, eps: 0.5 } } : req));
    const r = await runCampaign({ target, targetSpec: 'lax', dtype: 'float64', runs: RUNS, reference, checks: only('errors.eps') });
    expect(r.checks[0].status).toBe('fail');
    expect(r.checks[0].counterexample?.detail).toMatch(/eps = -1.*answered ok, want error bad_argument \(ATN-6\.2\)/);
    expect(r.checks[0].counterexample?.requests).toHaveLength(1);
  });

  it('ATN-6.6 a target that answers a degenerate window with the wrong clause fails errors.degenerate-window', async () => {
    const inner = reference.target();
    const target: Target = {
      async handle(req) {
        const res = await inner.handle(req);
        if (!res.ok && res.error.code === 'degenerate_window') return { ...res, error: { ...res.error, clause: 'ATN-6.2' } };
        return res;
      },
      close: () => inner.close(),
    };
    const r = await runCampaign({ target, targetSpec: 'wrong-clause', dtype: 'float32', runs: RUNS, reference, checks: only('errors.degenerate-window') });
    expect(r.checks[0].status).toBe('fail');
    expect(r.checks[0].counterexample?.detail).toMatch(/right code degenerate_window but clause "ATN-6.2", want ATN-6.6/);
  });
});

describe('campaign mechanics', () => {
  it('ATN-8.7 a target without hello, or a stopped campaign, is reported as such', async () => {
    const dead: Target = {
      handle: async (req) => ({ id: req.id, ok: false, error: { code: 'internal', clause: 'ATN-8.6', message: 'down' } }),
      close: async () => {},
    };
    const r = await runCampaign({ target: dead, targetSpec: 'dead', dtype: 'float64', runs: 1, reference });
    expect(r.checks).toHaveLength(1);
    expect(r.checks[0]).toMatchObject({ id: 'protocol.hello', status: 'fail' });
    expect(r.summary.conforms).toBe(false);

    const ctl = new AbortController();
    const seen: string[] = [];
    const stopped = await runCampaign({
      target: reference.target(),
      targetSpec: 'reference',
      dtype: 'float64',
      runs: 2,
      reference,
      checks: only('protocol.hello', 'errors.k', 'atn.forward.agrees'),
      onCheckDone: (c, partial) => {
        seen.push(c.id);
        expect(partial.complete).toBe(false);
        ctl.abort();
      },
      signal: ctl.signal,
    });
    expect(seen).toEqual(['protocol.hello']);
    expect(stopped.complete).toBe(false);
    expect(stopped.summary.conforms).toBe(false);
    expect(stopped.checks.map((c) => c.id)).toEqual(['protocol.hello']);
  });

  it('ATN-6.7 checks are skipped, with the reason, when hello lacks the dtype or the op', async () => {
    const inner = reference.target();
    const target: Target = {
      async handle(req) {
        const res = await inner.handle(req);
        if (req.op === 'hello' && res.ok) return { ...res, result: { ...res.result, ops: ['hello', 'atn.forward'], dtypes: ['float32'] } };
        return res;
      },
      close: () => inner.close(),
    };
    const r = await runCampaign({
      target,
      targetSpec: 'partial',
      dtype: 'float32',
      runs: 2,
      reference,
      checks: only('atn.vjp.agrees', 'lstm.forward.agrees', 'errors.lstm-shapes', 'T7.prefix'),
    });
    expect(r.checks.map((c) => c.status)).toEqual(['skip', 'skip', 'skip', 'pass']);
    expect(r.checks[0].reason).toMatch(/does not list atn\.vjp/);
    const r64 = await runCampaign({ target, targetSpec: 'partial', dtype: 'float64', runs: 2, reference, checks: only('T7.prefix') });
    expect(r64.checks[0]).toMatchObject({ status: 'skip' });
    expect(r64.checks[0].reason).toMatch(/dtype float64/);
  });
});
