/**
 * protocol/port.ts over real processes: the stdlib Python port (ports/python/atn_server.py) agrees with the reference
 * through spawnPort, and misbehaving fake ports (ports/fakes/fake_port.js) are survived: every fault is recorded with
 * a message that says what happened, the request gets an error response, and the target keeps answering.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortStartError, spawnPort, type PortTarget } from '../protocol/port';
import { call } from '../protocol/target';
import type { Response, UnknownOpRequest } from '../protocol/types';
import { createReference, type ReferenceOp } from '../reference';
import { CATALOGUE } from '../mutants/catalogue';
import { diagnose } from '../mutants';
import { failingCases } from '../reports/diagnosis';
import { runCampaign } from './lib/campaign';
import { compare } from './lib/compare';
import { hasPython } from './lib/python';
import { assertProperty } from './lib/seed';

const ROOT = path.resolve(__dirname, '..');
const PY = `python3 ${JSON.stringify(path.join(ROOT, 'ports/python/atn_server.py'))}`;
const FAKE = (mode: string, n = 1) => `node ${JSON.stringify(path.join(ROOT, 'ports/fakes/fake_port.js'))} ${mode} ${n}`;
const ref = createReference();

const PYTHON = hasPython('port.test.ts');

const num = (lo: number, hi: number) => fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
/** Grid values in [lo, hi] (no subnormals: the reference's LSTM bound is NaN on entries like 5e-324, a known gap). */
const grid = (lo: number, hi: number) => fc.integer({ min: 0, max: 1 << 20 }).map((i) => lo + ((hi - lo) * i) / (1 << 20));
const ten3 = (T: number, B: number, H: number, x: fc.Arbitrary<number>) =>
  fc.array(fc.array(fc.array(x, { minLength: H, maxLength: H }), { minLength: B, maxLength: B }), { minLength: T, maxLength: T });

/** Small ATN cases, with offsets and scales that punish naive float statistics (|mean| >> std, 1e-30, 1e30). */
const atnCase = fc
  .record({
    T: fc.integer({ min: 1, max: 4 }),
    B: fc.integer({ min: 1, max: 2 }),
    H: fc.integer({ min: 1, max: 3 }),
    k: fc.integer({ min: 1, max: 5 }),
    dtype: fc.constantFrom('float32', 'float64'),
    scale: fc.constantFrom(1, 1e-30, 1e30, 3.5),
    offset: fc.constantFrom(0, 0, 1e4),
    eps: fc.constantFrom(0, 1e-5, 0.1),
  })
  .chain((c) =>
    fc.record({
      c: fc.constant(c),
      a: ten3(
        c.T,
        c.B,
        c.H,
        num(-2, 2).map((v) => (v + c.offset) * c.scale),
      ),
      dy: ten3(c.T, c.B, c.H, num(-1, 1)),
      gain: fc.array(num(-2, 2), { minLength: c.H, maxLength: c.H }),
      bias: fc.array(num(-1, 1), { minLength: c.H, maxLength: c.H }),
    }),
  );

/** Sends one request to the port and compares with the reference's expectation (a reference error must match too). */
async function agrees(port: PortTarget, op: ReferenceOp, args: Record<string, unknown>): Promise<boolean> {
  let exp;
  try {
    exp = ref.expect(op, args);
  } catch (e) {
    const res = await port.handle({ id: 1, op, args });
    const code = (e as { code?: string }).code;
    if (res.ok || res.error.code !== code) throw new Error(`reference refused with ${code}, port answered ${JSON.stringify(res).slice(0, 300)}`, { cause: e });
    return true;
  }
  const got = await call(port, op, args);
  const r = compare(got, exp);
  if (!r.ok) throw new Error(`${op} ${JSON.stringify(args).slice(0, 400)}: ${r.detail}`);
  return true;
}

describe.skipIf(!PYTHON)('the Python port through spawnPort', () => {
  let port: PortTarget;
  beforeAll(async () => {
    port = await spawnPort(PY, { timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await port?.close();
  });

  it('ATN-8.7 hello names the port, its ops and dtypes (kept on the target)', async () => {
    expect(port.hello?.name).toBe('atn-kit-python');
    expect(port.hello?.ops).toEqual(expect.arrayContaining(['atn.forward', 'atn.vjp', 'ln.forward', 'lstm.forward']));
    expect(port.hello?.dtypes).toEqual(['float32', 'float64']);
  });

  it('ATN-7.2 atn.forward agrees with the reference within the derived tolerance', async () => {
    await assertProperty(
      fc.asyncProperty(atnCase, ({ c, a, gain, bias }) => agrees(port, 'atn.forward', { dtype: c.dtype, k: c.k, eps: c.eps, a, gain, bias })),
      { numRuns: 25, checkId: 'port.atn.forward' },
    );
  });

  it('ATN-7.3 atn.vjp (closed form) agrees with the reference', async () => {
    await assertProperty(
      fc.asyncProperty(atnCase, ({ c, a, dy, gain, bias }) => agrees(port, 'atn.vjp', { dtype: c.dtype, k: c.k, eps: c.eps, a, dy, gain, bias })),
      { numRuns: 15, checkId: 'port.atn.vjp' },
    );
  });

  it('ATN-2.1 ln.forward agrees with the reference', async () => {
    await assertProperty(
      fc.asyncProperty(atnCase, ({ c, a, gain, bias }) => agrees(port, 'ln.forward', { dtype: c.dtype, eps: c.eps, x: a[0], gain, bias })),
      { numRuns: 15, checkId: 'port.ln.forward' },
    );
  });

  it('ATN-7.4 lstm.forward agrees with the reference', async () => {
    const lstmCase = fc
      .record({
        T: fc.integer({ min: 1, max: 3 }),
        B: fc.integer({ min: 1, max: 2 }),
        I: fc.integer({ min: 1, max: 2 }),
        H: fc.integer({ min: 1, max: 2 }),
        k: fc.integer({ min: 1, max: 3 }),
        dtype: fc.constantFrom('float32', 'float64'),
      })
      .chain((c) =>
        fc.record({
          c: fc.constant(c),
          x: ten3(c.T, c.B, c.I, grid(-1, 1)),
          h0: ten3(1, c.B, c.H, grid(-1, 1)).map((v) => v[0]),
          c0: ten3(1, c.B, c.H, grid(-1, 1)).map((v) => v[0]),
          w_xh: ten3(1, c.I, 4 * c.H, grid(-1, 1)).map((v) => v[0]),
          w_hh: ten3(1, c.H, 4 * c.H, grid(-1, 1)).map((v) => v[0]),
          b: ten3(1, 4, 4 * c.H, grid(-0.5, 0.5)).map((v) => v[0]),
          g: ten3(1, 3, 4 * c.H, grid(0.5, 1.5)).map((v) => v[0]),
        }),
      );
    await assertProperty(
      fc.asyncProperty(lstmCase, ({ c, x, h0, c0, w_xh, w_hh, b, g }) =>
        agrees(port, 'lstm.forward', {
          dtype: c.dtype,
          k: c.k,
          eps: 1e-3,
          x,
          h0,
          c0,
          params: {
            w_xh,
            w_hh,
            b_x: b[0],
            b_h: b[1],
            atn_x: { gain: g[0], bias: b[2] },
            atn_h: { gain: g[1], bias: b[3] },
            atn_c: { gain: g[2].slice(0, c.H), bias: b[3].slice(0, c.H) },
          },
        }),
      ),
      { numRuns: 8, checkId: 'port.lstm.forward' },
    );
  });

  it('ATN-6.6 errors: the Python port refuses bad input with the codes, clauses and args of protocol/args.ts', async () => {
    const refTarget = ref.target();
    const a = [[[1, 2]], [[3, 5]]];
    const cases: Array<[string, Record<string, unknown>]> = [
      ['atn.forward', { dtype: 'float64', k: 0, eps: 0, a }],
      ['atn.forward', { dtype: 'float64', k: 1.5, eps: 0, a }],
      ['atn.forward', { dtype: 'float64', k: 2 ** 21, eps: 0, a }],
      ['atn.forward', { dtype: 'float64', k: 2, eps: -1e-9, a }],
      ['atn.forward', { dtype: 'float32', k: 2, eps: -1e-50, a }],
      ['atn.forward', { dtype: 'float64', k: 2, eps: 'NaN', a }],
      ['atn.forward', { dtype: 'float16', k: 2, eps: 0, a }],
      ['atn.forward', { dtype: 'float64', k: 2, eps: 0 }],
      ['atn.forward', { dtype: 'float64', k: 2, eps: 0, a: [] }],
      ['atn.forward', { dtype: 'float64', k: 2, eps: 0, a: [[[1, 2]], [[3]]] }],
      ['atn.forward', { dtype: 'float64', k: 2, eps: 0, a: [[[1, 'NaN']]] }],
      ['atn.forward', { dtype: 'float64', k: 2, eps: 0, a: [[[1, '2']]] }],
      ['atn.forward', { dtype: 'float64', k: 2, eps: 0, a: [[[1, null]]] }],
      ['atn.forward', { dtype: 'float64', k: 2, eps: 0, a, gain: [1, 2, 3] }],
      ['atn.forward', { dtype: 'float64', k: 2, eps: 0, a: [[[2, 2]]] }],
      ['atn.vjp', { dtype: 'float64', k: 2, eps: 0, a }],
      ['atn.vjp', { dtype: 'float64', k: 2, eps: 0, a, dy: [[[1, 2]]] }],
      ['ln.forward', { dtype: 'float64', eps: 0, x: [[1, 2], [3]] }],
      ['lstm.forward', { dtype: 'float64', k: 1, eps: 0, x: [[[1]]], h0: [[0]], c0: [[0, 1]], params: { w_xh: [[1, 1, 1, 1]], w_hh: [[1, 1, 1, 1]] } }],
      ['lstm.forward', { dtype: 'float64', k: 1, eps: 0, x: [[[1]]], h0: [[0]], c0: [[0]], params: { w_xh: [[1, 1, 1]], w_hh: [[1, 1, 1, 1]] } }],
      ['lstm.forward', { dtype: 'float64', k: 1, eps: 0, x: [[[1]]], h0: [[0]], c0: [[0]], params: { w_hh: [[1, 1, 1, 1]] } }],
      ['nope', {}],
    ];
    for (const [op, args] of cases) {
      const want = await refTarget.handle({ id: 'e', op, args });
      const got = await port.handle({ id: 'e', op, args });
      expect(want.ok, `${op} ${JSON.stringify(args)}`).toBe(false);
      expect(got.ok, `${op} ${JSON.stringify(args)}: ${JSON.stringify(got)}`).toBe(false);
      if (!want.ok && !got.ok) {
        expect({ code: got.error.code, clause: got.error.clause, arg: got.error.arg }, `${op} ${JSON.stringify(args)}: ${got.error.message}`).toEqual({
          code: want.error.code,
          clause: want.error.clause,
          arg: want.error.arg,
        });
      }
    }
    expect(port.faults).toEqual([]);
  });
});

describe.skipIf(!PYTHON)('mutants injected into the Python port', () => {
  it('ATN-1.7 every --mutant id is a catalogue id (mutants/catalogue.ts) and is refused when unknown', async () => {
    const ids = new Set(CATALOGUE.map((m) => m.id));
    const help = execFileSync('python3', [path.join(ROOT, 'ports/python/atn_server.py'), '--help'], { encoding: 'utf8' });
    const listed = help
      .split('\n')
      .slice(2)
      .map((l) => l.trim().split(/\s+/)[0])
      .filter(Boolean);
    expect(listed.length).toBeGreaterThanOrEqual(4);
    for (const id of listed) expect(ids.has(id), `${id} is not in the catalogue`).toBe(true);
    await expect(spawnPort(`${PY} --mutant no-such-mistake`, { startTimeoutMs: 20_000 })).rejects.toThrow(/--mutant needs one of/);
  });

  it('ATN-1.7 --mutant state-leak answers the same request differently the second time; the clean port does not', async () => {
    const args = { dtype: 'float64', k: 3, eps: 0, a: [[[1, 2]], [[3, 5]]] };
    for (const [cmd, leaks] of [
      [`${PY} --mutant state-leak`, true],
      [PY, false],
    ] as const) {
      const p = await spawnPort(cmd);
      try {
        const first = await call(p, 'atn.forward', args);
        const second = await call(p, 'atn.forward', args);
        expect(JSON.stringify(first) !== JSON.stringify(second)).toBe(leaks);
      } finally {
        await p.close();
      }
    }
  });

  it('ATN-1.3 --mutant unbiased-variance and eps-outside-sqrt and k-ignored fall outside the tolerance', async () => {
    const args = { dtype: 'float64', k: 2, eps: 0.1, a: [[[1, 2, 4]], [[3, 5, -1]]] };
    const exp = ref.expect('atn.forward', args);
    for (const id of ['unbiased-variance', 'eps-outside-sqrt', 'k-ignored']) {
      const p = await spawnPort(`${PY} --mutant ${id}`);
      try {
        expect(compare(await call(p, 'atn.forward', args), exp).ok, id).toBe(false);
      } finally {
        await p.close();
      }
    }
  });
});

describe.skipIf(!PYTHON)('a campaign through the Python port', () => {
  it('ATN-1.5 --mutant gain-bias-swapped: the campaign fails and the diagnosis names that mutant', async () => {
    const p = await spawnPort(`${PY} --mutant gain-bias-swapped`);
    try {
      const r = await runCampaign({ target: p, targetSpec: 'python --mutant gain-bias-swapped', dtype: 'float64', runs: 5 });
      expect(r.summary.conforms).toBe(false);
      expect(r.faults).toEqual([]);
      const cases = failingCases(r.checks);
      expect(diagnose(cases).best?.id).toBe('gain-bias-swapped');
    } finally {
      await p.close();
    }
  });
});

/** One fake port per test; `check` sees the target after the requests. */
async function withFake(mode: string, n: number, run: (p: PortTarget) => Promise<void>, timeoutMs = 1500, once = false): Promise<void> {
  const env = once ? { FAKE_ONCE: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'atn-fake-')), 'once') } : undefined;
  const p = await spawnPort(FAKE(mode, n), { timeoutMs, startTimeoutMs: 10_000, graceMs: 500, env });
  try {
    await run(p);
  } finally {
    await p.close();
  }
}

const req = (id: number, x = id): UnknownOpRequest => ({ id, op: 'echo', args: { x } });
const okN = (r: Response) => (r.ok ? (r.result as { n: number }).n : `error: ${r.error.message}`);

describe('faulty ports: recorded, answered, survived (protocol/port.ts)', () => {
  it('ATN-8.6 a port that crashes on request 2: crash fault with exit code and stderr; restarted for request 3', async () => {
    await withFake('crash', 2, async (p) => {
      expect(okN(await p.handle(req(1)))).toBe(1);
      const r2 = await p.handle(req(2));
      expect(r2).toMatchObject({ id: 2, ok: false, error: { code: 'internal', clause: 'ATN-8.6' } });
      expect(p.faults).toHaveLength(1);
      expect(p.faults[0]).toMatchObject({ kind: 'crash', request: req(2) });
      expect(p.faults[0].message).toMatch(/exited with code 3/);
      expect(p.faults[0].message).toMatch(/segmentation fault on request 2/);
      expect(okN(await p.handle(req(3)))).toBe(1); // a fresh process
    });
  });

  it('ATN-8.6 a port that hangs: timeout fault, error response, killed and restarted', async () => {
    await withFake(
      'hang',
      1,
      async (p) => {
        const r = await p.handle(req(1));
        expect(r).toMatchObject({ id: 1, ok: false, error: { code: 'internal', clause: 'ATN-8.6' } });
        if (!r.ok) expect(r.error.message).toMatch(/did not answer echo \(id 1\) within 500 ms/);
        expect(p.faults.map((f) => f.kind)).toEqual(['timeout']);
        expect(okN(await p.handle(req(2)))).toBe(1);
        expect(p.faults.map((f) => f.kind)).toEqual(['timeout']); // our kill is not a crash
      },
      500,
      true,
    );
  });

  it('ATN-8.1 a stray non-JSON line is recorded as garbage and the answer after it is used', async () => {
    await withFake('garbage', 1, async (p) => {
      expect(okN(await p.handle(req(1)))).toBe(1);
      expect(p.faults).toHaveLength(1);
      expect(p.faults[0].kind).toBe('garbage');
      expect(p.faults[0].message).toMatch(/not JSON.*debug: computing window statistics/);
      expect(okN(await p.handle(req(2)))).toBe(2);
    });
  });

  it('ATN-8.1 garbage instead of an answer: garbage then timeout, and the port keeps answering', async () => {
    await withFake(
      'garbage-only',
      1,
      async (p) => {
        expect((await p.handle(req(1))).ok).toBe(false);
        expect(p.faults.map((f) => f.kind)).toEqual(['garbage', 'timeout']);
        expect(okN(await p.handle(req(2)))).toBe(1);
      },
      500,
      true,
    );
  });

  it('ATN-8.2 an answer with the wrong id: wrong-id fault naming both ids; the next request is fine', async () => {
    await withFake('wrong-id', 2, async (p) => {
      expect(okN(await p.handle(req(1)))).toBe(1);
      const r = await p.handle(req(2));
      expect(r).toMatchObject({ id: 2, ok: false, error: { code: 'internal', clause: 'ATN-8.2' } });
      expect(p.faults).toHaveLength(1);
      expect(p.faults[0]).toMatchObject({ kind: 'wrong-id', request: req(2) });
      expect(p.faults[0].message).toMatch(/answered echo \(id 2\) with id 1002/);
      expect(okN(await p.handle(req(3)))).toBe(3);
    });
  });

  it('ATN-8.1 two answers to one request: the extra line is recorded (wrong-id) and does not answer the next request', async () => {
    await withFake('double', 1, async (p) => {
      expect(okN(await p.handle(req(1)))).toBe(1);
      await new Promise((r) => setTimeout(r, 100));
      const r2 = await p.handle(req(2));
      expect(r2).toMatchObject({ id: 2, ok: true });
      expect(okN(r2)).toBe(2);
      expect(p.faults.map((f) => f.kind)).toEqual(['wrong-id']);
      expect(p.faults[0].message).toMatch(/while no request was on the wire/);
    });
  });

  it('ATN-8.6 a port that dies between requests: crash recorded when it happens; restarted on the next request', async () => {
    await withFake('crash-idle', 1, async (p) => {
      expect(okN(await p.handle(req(1)))).toBe(1);
      await new Promise((r) => setTimeout(r, 400));
      expect(p.faults).toHaveLength(1);
      expect(p.faults[0].kind).toBe('crash');
      expect(p.faults[0].message).toMatch(/exited with code 4.*while no request was on the wire/s);
      expect(p.faults[0].message).toMatch(/background thread died/);
      expect(okN(await p.handle(req(2)))).toBe(1);
    });
  });

  it('ATN-6.9 an answer line over 64 MiB is dropped unread: garbage fault, error response, next request fine', async () => {
    await withFake(
      'huge',
      1,
      async (p) => {
        const r = await p.handle(req(1));
        expect(r).toMatchObject({ id: 1, ok: false, error: { code: 'internal', clause: 'ATN-6.9' } });
        expect(p.faults.map((f) => f.kind)).toEqual(['garbage']);
        expect(okN(await p.handle(req(2)))).toBe(2);
      },
      20_000,
    );
  });

  it('ATN-1.7 a port that leaks state answers the same request differently, with no protocol fault', async () => {
    await withFake('leak', 0, async (p) => {
      const a = await p.handle(req(7));
      const b = await p.handle(req(7));
      expect(okN(a)).not.toBe(okN(b));
      expect(p.faults).toEqual([]);
    });
  });

  it('ATN-8.1 a banner line before hello is recorded (garbage) and the port serves', async () => {
    await withFake('banner', 0, async (p) => {
      expect(p.hello?.name).toBe('fake-banner');
      expect(p.faults.map((f) => f.kind)).toEqual(['garbage']);
      expect(p.faults[0].message).toMatch(/while starting: "Loading fake port v0\.\.\."/);
      expect(okN(await p.handle(req(1)))).toBe(1);
    });
  });

  it('ATN-8.6 a port that dies at once: spawnPort rejects with PortStartError carrying the exit and stderr', async () => {
    const e = await spawnPort(FAKE('die-at-start'), { startTimeoutMs: 10_000 }).catch((x) => x);
    expect(e).toBeInstanceOf(PortStartError);
    expect(e.message).toMatch(/could not start port .*exited with code 1 before answering hello/s);
    expect(e.message).toMatch(/cannot load model weights/);
    expect(e.faults.map((f: { kind: string }) => f.kind)).toEqual(['start']);
    const e2 = await spawnPort('/no/such/binary --serve', { startTimeoutMs: 10_000 }).catch((x) => x);
    expect(e2).toBeInstanceOf(PortStartError);
    expect(e2.message).toMatch(/exited with code 127.*not found/s);
  });

  it('ATN-8.6 a port that never answers hello: spawnPort rejects after startTimeoutMs', async () => {
    const e = await spawnPort(FAKE('no-hello'), { startTimeoutMs: 500 }).catch((x) => x);
    expect(e).toBeInstanceOf(PortStartError);
    expect(e.message).toMatch(/did not answer hello within 500 ms/);
  });

  it('ATN-8.6 handle() never throws: unserialisable requests and requests after close get error responses', async () => {
    const p = await spawnPort(FAKE('ok'));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const r = await p.handle({ id: 1, op: 'echo', args: cyclic });
    expect(r).toMatchObject({ id: 1, ok: false, error: { code: 'internal' } });
    const nan = await p.handle({ id: 2, op: 'echo', args: { x: NaN, y: [Infinity] } });
    expect(nan.ok && (nan.result as { echo: unknown }).echo).toEqual({ x: NaN, y: [Infinity] }); // ATN-8.3 both ways
    await p.close();
    const after = await p.handle(req(3));
    expect(after).toMatchObject({ id: 3, ok: false });
  });

  it('ATN-8.6 a port that crashes on every request is restarted each time and every crash is recorded', async () => {
    // the fake answers hello, then crashes on request 1 of every life.
    await withFake('crash', 1, async (p) => {
      for (let i = 1; i <= 4; i++) expect((await p.handle(req(i))).ok).toBe(false);
      expect(p.faults.every((f) => f.kind === 'crash')).toBe(true);
      expect(p.faults).toHaveLength(4);
    });
  });

  it('ATN-8.1 close() ends the child process', async () => {
    const p = await spawnPort(FAKE('ok'));
    await p.handle(req(1));
    const pid = (p as unknown as { proc: { child: { pid: number } } }).proc.child.pid;
    await p.close();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
