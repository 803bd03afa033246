/**
 * Our PyTorch ATN (ports/torch/atn_torch.py) served by the adapter ports/torch/serve.py, through protocol/port.ts:
 * both conventions (sequence, stateful step), both dtypes, the ATN-LSTM, against the reference. Needs PyTorch importable
 * by /usr/bin/python3 (Debian: apt-get install python3-torch); without it the tests are skipped with that reason.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnPort, type PortTarget } from '../protocol/port';
import { call } from '../protocol/target';
import { createReference, type ReferenceOp } from '../reference';
import { compare } from './lib/compare';
import { TORCH_SKIP_REASON, torchVersion } from './lib/python';
import { assertProperty } from './lib/seed';

const ROOT = path.resolve(__dirname, '..');
const SERVE = path.join(ROOT, 'ports/torch/serve.py');
const MODULE = path.join(ROOT, 'ports/torch/atn_torch.py');
const serveCmd = (extra: string) => `/usr/bin/python3 ${JSON.stringify(SERVE)} ${extra}`;
const ref = createReference();

const TORCH = torchVersion('port-torch.test.ts');
const SKIP_REASON = TORCH_SKIP_REASON;

const num = (lo: number, hi: number) => fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
/** Grid values in [lo, hi] (no subnormals: the reference's LSTM bound is NaN on entries like 5e-324, a known gap). */
const grid = (lo: number, hi: number) => fc.integer({ min: 0, max: 1 << 20 }).map((i) => lo + ((hi - lo) * i) / (1 << 20));
const ten3 = (T: number, B: number, H: number, x: fc.Arbitrary<number>) =>
  fc.array(fc.array(fc.array(x, { minLength: H, maxLength: H }), { minLength: B, maxLength: B }), { minLength: T, maxLength: T });

const atnCase = (dtype: 'float32' | 'float64') =>
  fc
    .record({
      T: fc.integer({ min: 1, max: 4 }),
      B: fc.integer({ min: 1, max: 2 }),
      H: fc.integer({ min: 1, max: 3 }),
      k: fc.integer({ min: 1, max: 4 }),
      scale: fc.constantFrom(1, 1e-20, 1e20),
      offset: fc.constantFrom(0, 1e3),
      eps: fc.constantFrom(1e-5, 0.1),
    })
    .chain((c) =>
      fc.record({
        args: fc.record({
          dtype: fc.constant(dtype),
          k: fc.constant(c.k),
          eps: fc.constant(c.eps),
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
      }),
    );

async function agrees(port: PortTarget, op: ReferenceOp, args: Record<string, unknown>): Promise<boolean> {
  const exp = ref.expect(op, args);
  const r = compare(await call(port, op, args), exp);
  if (!r.ok) throw new Error(`${op} ${JSON.stringify(args).slice(0, 300)}: ${r.detail}`);
  return true;
}

describe.skipIf(!TORCH)(`PyTorch ATN through serve.py (torch ${TORCH ?? 'missing'})`, () => {
  const conventions = [
    ['sequence', `--module ${JSON.stringify(MODULE)} --class ATN --convention sequence`],
    ['step', `--module ${JSON.stringify(MODULE)} --class ATNStep --convention step --reset reset`],
  ] as const;
  const ports: Record<string, PortTarget> = {};
  beforeAll(async () => {
    for (const [name, extra] of conventions) ports[name] = await spawnPort(serveCmd(extra), { timeoutMs: 60_000 });
  });
  afterAll(async () => {
    for (const p of Object.values(ports)) await p.close();
  });

  for (const [conv] of conventions)
    for (const dtype of ['float32', 'float64'] as const) {
      it(`ATN-7.2 ${conv} convention, ${dtype}: atn.forward and ln.forward agree with the reference`, async () => {
        const p = ports[conv];
        await assertProperty(
          fc.asyncProperty(atnCase(dtype), async ({ args }) => {
            const { dy: _dy, ...fwd } = args;
            await agrees(p, 'atn.forward', fwd);
            return agrees(p, 'ln.forward', { dtype, eps: args.eps, x: args.a[0], gain: args.gain, bias: args.bias });
          }),
          { numRuns: 10, checkId: `torch.${conv}.${dtype}.forward` },
        );
        expect(p.hello?.dtypes).toEqual(['float32', 'float64']);
      });

      it(`ATN-7.3 ${conv} convention, ${dtype}: atn.vjp by autograd agrees with the reference`, async () => {
        const p = ports[conv];
        await assertProperty(
          fc.asyncProperty(atnCase(dtype), ({ args }) => agrees(p, 'atn.vjp', args)),
          {
            numRuns: 8,
            checkId: `torch.${conv}.${dtype}.vjp`,
          },
        );
      });
    }

  it('ATN-6.6 serve.py refuses a constant window with eps = 0 before the module answers NaN', async () => {
    const r = await ports.sequence.handle({ id: 1, op: 'atn.forward', args: { dtype: 'float64', k: 2, eps: 0, a: [[[3, 3]], [[3, 3]]] } });
    expect(r).toMatchObject({ ok: false, error: { code: 'degenerate_window', clause: 'ATN-6.6', arg: 'a' } });
  });

  it('ATN-7.4 the torch ATN-LSTM (lstm convention) agrees with the reference, forward and BPTT by autograd', async () => {
    const p = await spawnPort(serveCmd(`--module ${JSON.stringify(MODULE)} --class ATNLSTM --convention lstm`), { timeoutMs: 60_000 });
    try {
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
            dh: ten3(c.T, c.B, c.H, grid(-1, 1)),
            s: ten3(2, c.B, c.H, grid(-1, 1)),
            w_xh: ten3(1, c.I, 4 * c.H, grid(-1, 1)).map((v) => v[0]),
            w_hh: ten3(1, c.H, 4 * c.H, grid(-1, 1)).map((v) => v[0]),
            b: ten3(1, 4, 4 * c.H, grid(-0.5, 0.5)).map((v) => v[0]),
            g: ten3(1, 3, 4 * c.H, grid(0.5, 1.5)).map((v) => v[0]),
          }),
        );
      await assertProperty(
        fc.asyncProperty(lstmCase, async ({ c, x, dh, s, w_xh, w_hh, b, g }) => {
          const args = {
            dtype: c.dtype,
            k: c.k,
            eps: 1e-2,
            x,
            h0: s[0],
            c0: s[1],
            params: {
              w_xh,
              w_hh,
              b_x: b[0],
              b_h: b[1],
              atn_x: { gain: g[0], bias: b[2] },
              atn_h: { gain: g[1], bias: b[3] },
              atn_c: { gain: g[2].slice(0, c.H), bias: b[3].slice(0, c.H) },
            },
          };
          await agrees(p, 'lstm.forward', args);
          return agrees(p, 'lstm.vjp', { ...args, dh });
        }),
        { numRuns: 6, checkId: 'torch.lstm' },
      );
    } finally {
      await p.close();
    }
  });

  it('ATN-1.7 a step module served without --reset leaks its window into the next request (a finding, not hidden)', async () => {
    const p = await spawnPort(serveCmd(`--module ${JSON.stringify(MODULE)} --class ATNStep --convention step`));
    try {
      const args = { dtype: 'float64', k: 3, eps: 0, a: [[[1, 2]], [[3, 5]]] };
      const exp = ref.expect('atn.forward', args);
      expect(compare(await call(p, 'atn.forward', args), exp).ok).toBe(true); // first sequence: empty window
      expect(compare(await call(p, 'atn.forward', args), exp).ok).toBe(false); // the module kept the last steps
    } finally {
      await p.close();
    }
  });

  it('ATN-8.5 what the module returns is not reshaped: a squeezing module fails on shape, and its VJP is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atn-torch-'));
    const file = path.join(dir, 'squeezer.py');
    fs.writeFileSync(
      file,
      [
        'import sys',
        `sys.path.insert(0, ${JSON.stringify(path.dirname(MODULE))})`,
        'from atn_torch import ATN',
        '',
        'class Squeezer(ATN):',
        '    def forward(self, a):',
        '        return super().forward(a).squeeze()',
        '',
      ].join('\n'),
    );
    const p = await spawnPort(serveCmd(`--module ${JSON.stringify(file)} --class Squeezer --convention sequence --features-arg features --k-arg k`));
    try {
      const args = { dtype: 'float64', k: 2, eps: 0.1, a: [[[1, 2]], [[3, 5]], [[0, 7]]] };
      const r = compare(await call(p, 'atn.forward', args), ref.expect('atn.forward', args));
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/squeezed|length 2, expected 1/);
      const v = await p.handle({ id: 2, op: 'atn.vjp', args: { ...args, dy: args.a } });
      expect(v).toMatchObject({ ok: false, error: { code: 'internal', clause: 'ATN-8.5' } });
      if (!v.ok) expect(v.error.message).toMatch(/shape \[3, 2\], expected \[3, 1, 2\]/);
    } finally {
      await p.close();
    }
  });
});

// Without Debian's python3-torch (importable by /usr/bin/python3 only) these tests cannot run: instead of vanishing,
// they show up as one skipped test whose name gives the reason (a new machine without torch still runs the rest).
// In CI they always run: .ci/run installs python3-torch and sets ATN_REQUIRE_TORCH=1, under which a missing torch
// fails this file (properties/lib/python.ts) rather than reaching this skip.
if (!TORCH)
  describe('PyTorch ATN through serve.py', () => {
    it.skip(`ATN-8.7 skipped: ${SKIP_REASON}`, () => {});
  });
