/**
 * A hand-made CampaignResult for tests and for looking at the renderers without running a campaign. Its failure
 * strings hold HTML/XML-special characters on purpose: a port names itself and words its errors as it likes.
 */
import type { CampaignResult, CheckResult } from '../properties/lib/types';
import { lcgUnit as lcg } from '../util/prng';

export const HOSTILE = `<script>alert("x")</script> & 'quotes' ]]> <!-- \u0001`;

function ratios(n: number, scale: number, seed: number): number[] {
  const r = lcg(seed);
  return Array.from({ length: n }, () => scale * 10 ** (-4 * r()));
}

export function sampleResult(): CampaignResult {
  const mGrid = Array.from({ length: 21 }, (_, i) => -100 + 10 * i);
  const t2: CheckResult = {
    id: 'T2.scaling',
    clause: 'ATN-5.2',
    title: 'ATN_eps(d*a) = ATN_{eps/d^2}(a) over d in 1e-30..1e30',
    status: 'pass',
    runs: 100,
    seed: 42,
    errorRatios: ratios(100, 0.3, 3),
    series: {
      invariance: [
        ...mGrid.map((m, i) => ({ x: m, y: i % 4 === 0 ? 0 : 0.002 * (1 + (i % 3)), group: 'eps = 0' })),
        ...mGrid.map((m, i) => ({ x: m, y: 0.05 * (1 + (i % 4)), group: 'eps > 0' })),
      ],
    },
    durationMs: 2100,
  };
  const flow: CheckResult = {
    id: 'atn.vjp.gradient-flow',
    clause: 'ATN-4.1',
    title: 'y_t sends gradient into every a_s of its window, and nowhere else',
    status: 'pass',
    runs: 50,
    seed: 42,
    series: {
      gradientFlow: [1, 2, 4, 8].flatMap((k) => Array.from({ length: 12 }, (_, lag) => ({ x: lag, y: lag < k ? 1 / (lag + 1) : 0, group: `k=${k}` }))),
    },
    durationMs: 900,
  };
  const fail: CheckResult = {
    id: 'atn.forward.agrees-with-reference',
    clause: 'ATN-7.2',
    title: 'atn.forward agrees with the reference within the derived tolerance',
    status: 'fail',
    runs: 200,
    seed: 42,
    path: '17:3:0',
    errorRatios: [...ratios(150, 0.5, 7), 3.1e3, 8.2e4, Infinity],
    counterexample: {
      requests: [
        {
          id: 17,
          op: 'atn.forward',
          args: {
            dtype: 'float32',
            k: 2,
            eps: 1e-5,
            a: [[[1e20, 1, 2.5]], [[-3, 1e-30, 4]], [[0.5, 0.25, Array.from({ length: 30 }, (_, i) => i)[3]]]],
            gain: [1, 2, 3],
            bias: [0, 0, 0],
          },
        },
      ],
      responses: [{ id: 17, ok: true, result: { y: [[[1, -1, 0]], [[NaN, 0.5, 0.5]], [[0, 0, 0]]], note: HOSTILE } }],
      detail: `y[1][0][0] = NaN, want -1.2247 ± 1.1e-6 (ratio Infinity) ${HOSTILE}`,
      worst: { output: 'y', index: [1, 0, 0], got: NaN, want: -1.224744871391589, tol: 1.1e-6, ratio: Infinity },
    },
    durationMs: 5400,
  };
  const err: CheckResult = {
    id: 'errors.degenerate-window',
    clause: 'ATN-6.6',
    title: 'a window with var + eps = 0 is refused with degenerate_window',
    status: 'fail',
    runs: 20,
    seed: 42,
    counterexample: {
      requests: [{ id: 3, op: 'atn.forward', args: { dtype: 'float32', k: 1, eps: 0, a: [[[2, 2]]] } }],
      responses: [{ id: 3, ok: false, error: { code: 'internal', clause: 'ATN-8.6', message: `division by zero ${HOSTILE}` } }],
      detail: `expected error degenerate_window (ATN-6.6), got internal: division by zero ${HOSTILE}`,
    },
    durationMs: 30,
  };
  const crashed: CheckResult = {
    id: 'lstm.forward.agrees-with-reference',
    clause: 'ATN-7.4',
    title: 'lstm.forward agrees with the reference',
    status: 'error',
    reason: `the target crashed: ${HOSTILE}`,
    runs: 0,
    seed: 42,
    durationMs: 12,
  };
  const skipped: CheckResult = {
    id: 'dtype.float64',
    clause: 'ATN-6.7',
    title: 'float64 requests',
    status: 'skip',
    reason: 'the target does not list float64 in hello.dtypes',
    runs: 0,
    seed: 42,
    durationMs: 0,
  };
  const ln: CheckResult = {
    id: 'ln.forward.agrees-with-reference',
    clause: 'ATN-2.1',
    title: 'ln.forward agrees with the reference',
    status: 'pass',
    runs: 200,
    seed: 42,
    errorRatios: ratios(200, 0.2, 11),
    durationMs: 800,
  };
  const checks = [fail, ln, t2, flow, err, crashed, skipped];
  return {
    schemaVersion: 1,
    suite: { name: 'atn-kit', version: '0.1.0', commit: 'abc1234' },
    target: {
      spec: `port:python3 evil.py --name '${HOSTILE}'`,
      hello: { name: `evil-port ${HOSTILE}`, version: '9.9', protocol: 1, ops: ['atn.forward', 'ln.forward'], dtypes: ['float32'], backend: 'numpy' },
      backend: 'numpy',
    },
    dtype: 'float32',
    seed: 42,
    runs: 200,
    machine: { platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'Test CPU @ 2.0GHz', node: 'v20.0.0', memoryGiB: 8 },
    startedAt: '2026-01-01T00:00:00.000Z',
    wallMs: 12345,
    complete: true,
    checks,
    faults: [
      { kind: 'crash', message: `process exited with code 1: Traceback ${HOSTILE}`, request: fail.counterexample!.requests[0], atMs: 1500 },
      { kind: 'garbage', message: `line is not JSON: ${HOSTILE}`, atMs: 2500 },
    ],
    diagnosis: {
      ranking: [
        { id: 'unbiased-variance', description: 'variance divided by N-1 instead of N', score: 0.93 },
        { id: 'no-warmup', description: `pads the window with zeros for t < k ${HOSTILE}`, score: 0.2 },
      ],
      best: { id: 'unbiased-variance', description: 'variance divided by N-1 instead of N', confidence: 0.93 },
    },
    summary: { passed: 3, failed: 2, skipped: 1, errors: 1, conforms: false },
  };
}
