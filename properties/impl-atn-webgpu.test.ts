/**
 * The fused webgpu kernels of the ATN op (impl/ops/atn_wgsl.ts, atn_webgpu.ts): atn.forward meets ATN-7.2 and atn.vjp
 * ATN-7.3 against the reference on every float32 regime but subnormal inputs (WGSL may flush them: the webgpu target's
 * flush-to-zero level, ATN-9.6), at small and at realistic sizes (ATN-9.10: H beyond two 128-wide tiles, windows of up
 * to 64 steps), both layouts; and the checks bite on the kernels themselves: a reduction over the first tile only and a
 * window join without the rescaling are each caught. The same for the ATN-LSTM's fused recurrence (impl/lstm_wgsl.ts,
 * ATN-7.6 (g)): lstm.forward and lstm.vjp within ATN-7.4 on the campaign's LSTM cases and past one tile (4H = 132..160;
 * H = 129..140 at T = 1), both defects caught there too. Runs on a GPU or in software (Dawn's OpenGL ES backend on
 * llvmpipe); without an adapter the file is skipped with the reason, unless ATN_WEBGPU=1 (CI), which makes it fail.
 */
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReference, type Reference } from '../reference';
import { call, type Target } from '../protocol/target';
import { initBackend, releaseBackend } from '../impl/backend';
import { createImplTarget } from '../impl/target';
import { atn } from '../impl/ops/atn';
import { setKernelDefects } from '../impl/ops/atn_webgpu';
import type { KernelDefects } from '../impl/ops/atn_wgsl';
import { recurrenceRuns } from '../impl/lstm_webgpu';
import {
  atnCase,
  generalCase,
  LSTM_TILES,
  LSTM_WIDE_CELL,
  lstmArgs,
  lstmCase,
  lstmVjpArgs,
  WIDE,
  WIDE_WINDOWS,
  withDh,
  withDy,
  type AtnCase,
  type Limits,
  type LstmCase,
  type LstmLimits,
  type LstmVjpCase,
  type Regime,
} from './lib/arbitraries';
import { compare } from './lib/compare';
import { hasSubnormalValue } from './lib/regimes';
import { assertProperty, seedFromEnv } from './lib/seed';

const LIM: Limits = { maxT: 8, maxB: 3, maxH: 16, maxK: 8 };
const REGIMES: Regime[] = ['general', 'scale', 'mixed', 'drift', 'large-mean', 'near-eps'];
let ref: Reference;
let target: Target;
let why: string | undefined;

beforeAll(async () => {
  ref = createReference();
  try {
    await initBackend('webgpu');
    target = await createImplTarget({ backend: 'webgpu' });
  } catch (e) {
    if (process.env.ATN_WEBGPU === '1') throw e;
    why = `webgpu cannot start here (${(e as Error).message.split('\n')[0]}); set ATN_WEBGPU=1 to make this a failure`;
    process.stderr.write(`impl-atn-webgpu.test.ts: SKIP: ${why}\n`);
  }
});
afterAll(async () => {
  process.stderr.write(`impl-atn-webgpu.test.ts: ${setAside} cases with subnormal exact outputs set aside (ATN-9.6)\n`);
  setKernelDefects({});
  releaseBackend('webgpu');
  await initBackend('wasm');
});

const args = (c: AtnCase) => ({ dtype: 'float32', ...c, regime: undefined });
const cases = (lim: Limits) => fc.oneof(...REGIMES.map((r) => atnCase('float32', r, lim)));
const realistic = (lim: Limits) => generalCase('float32', { limits: lim, long: undefined, shrinkValues: false });

/**
 * The op's answer on webgpu against the reference: undefined when it agrees, 'ftz' when an exact output is subnormal
 * (hardware that flushes results cannot give it: set aside as ATN-9.6 does subnormal inputs; llvmpipe flushes), else
 * the comparison's detail.
 */
async function disagreement(op: 'atn.forward' | 'atn.vjp', c: AtnCase): Promise<string | undefined> {
  return disagreesOn(op, args(c), `${c.regime} T=${c.a.length} B=${c.a[0].length} H=${c.a[0][0].length} k=${c.k}`);
}
async function disagreesOn(op: Op, a: Record<string, unknown>, what: string): Promise<string | undefined> {
  const exp = ref.expect(op, a);
  if (hasSubnormalValue(exp.want, 'float32')) return 'ftz';
  const r = compare(await call(target, op, a), exp);
  return r.ok ? undefined : `${what}: ${r.detail}`;
}
type Op = 'atn.forward' | 'atn.vjp' | 'lstm.forward' | 'lstm.vjp';
let setAside = 0;
async function agrees(op: 'atn.forward' | 'atn.vjp', c: AtnCase): Promise<void> {
  await holds(await disagreement(op, c));
}
async function holds(d: string | undefined): Promise<void> {
  if (d === 'ftz') setAside++;
  fc.pre(d !== 'ftz');
  if (d) throw new Error(d);
}

/** Samples fixed cases (seed printed) and returns how many the defect makes disagree. */
async function caughtOn<C>(d: KernelDefects, op: Op, arb: fc.Arbitrary<C>, n: number, judge: (c: C) => Promise<string | undefined>): Promise<number> {
  const seed = seedFromEnv();
  const sample = fc.sample(arb, { seed, numRuns: n });
  let fails = 0;
  setKernelDefects(d);
  try {
    for (const c of sample) {
      const why = await judge(c);
      if (why !== undefined && why !== 'ftz') fails++;
    }
  } finally {
    setKernelDefects({});
  }
  process.stderr.write(`impl-atn-webgpu.test.ts: defect ${JSON.stringify(d)} on ${op}: ${fails}/${n} cases disagree (seed ${seed})\n`);
  return fails;
}
const caught = (d: KernelDefects, op: 'atn.forward' | 'atn.vjp', arb: fc.Arbitrary<AtnCase>, n: number) => caughtOn(d, op, arb, n, (c) => disagreement(op, c));

describe('fused webgpu ATN kernels', () => {
  it('ATN-7.2 atn.forward on webgpu agrees with the reference on every float32 regime (subnormal inputs aside)', async (ctx) => {
    if (why) return ctx.skip(why);
    await assertProperty(
      fc.asyncProperty(cases(LIM), (c) => agrees('atn.forward', c)),
      { numRuns: 24, checkId: 'webgpu.fused.forward' },
    );
  });

  it('ATN-7.3 atn.vjp on webgpu (the closed form of ATN-4.1, no autodiff spread limit) agrees with the reference', async (ctx) => {
    if (why) return ctx.skip(why);
    await assertProperty(
      fc.asyncProperty(withDy('float32', cases(LIM), LIM), (c) => agrees('atn.vjp', c)),
      { numRuns: 16, checkId: 'webgpu.fused.vjp' },
    );
  });

  it('ATN-9.10 realistic sizes: H = 257..512 (partial and multiple tiles) and windows of up to 64 steps over T = 65..128', async (ctx) => {
    if (why) return ctx.skip(why);
    for (const [name, lim] of [
      ['wide', WIDE],
      ['long-windows', WIDE_WINDOWS],
    ] as const) {
      await assertProperty(
        fc.asyncProperty(realistic(lim), (c) => agrees('atn.forward', c)),
        { numRuns: 3, checkId: `webgpu.fused.${name}.forward` },
      );
      await assertProperty(
        fc.asyncProperty(withDy('float32', realistic(lim), lim), (c) => agrees('atn.vjp', c)),
        { numRuns: 2, checkId: `webgpu.fused.${name}.vjp` },
      );
    }
  });

  it('ATN-1.4 batch-major input gives the time-major answers bit for bit (y and every gradient)', async (ctx) => {
    if (why) return ctx.skip(why);
    await assertProperty(
      fc.asyncProperty(withDy('float32', realistic({ maxT: 5, maxB: 3, maxH: 300 }), { maxT: 5, maxB: 3, maxH: 300 }), async (c) => {
        const outs = (bm: boolean) =>
          tf.tidy(() => {
            const tm = tf.tensor3d(c.a);
            const a = bm ? tf.transpose(tm, [1, 0, 2]) : tm;
            const dyT = tf.tensor3d(c.dy);
            const dy = bm ? tf.transpose(dyT, [1, 0, 2]) : dyT;
            const H = c.a[0][0].length;
            const g = tf.tensor1d(c.gain ?? new Array(H).fill(1));
            const b = tf.tensor1d(c.bias ?? new Array(H).fill(0));
            const f = (x: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
              atn(x as tf.Tensor3D, { k: c.k, eps: c.eps, gain: gg as tf.Tensor1D, bias: bb as tf.Tensor1D, batchMajor: bm, path: 'webgpu' });
            const y = f(a, g, b);
            const [da, dg, db] = tf.grads(f)([a, g, b], dy);
            return bm ? [tf.transpose(y, [1, 0, 2]), tf.transpose(da, [1, 0, 2]), dg, db] : [y, da, dg, db];
          });
        const [p, q] = [outs(false), outs(true)];
        const [pv, qv] = [await Promise.all(p.map((t) => t.data())), await Promise.all(q.map((t) => t.data()))];
        tf.dispose([...p, ...q]);
        pv.forEach((v, i) => expect(Array.from(qv[i]), ['y', 'da', 'dgain', 'dbias'][i]).toEqual(Array.from(v)));
      }),
      { numRuns: 4, checkId: 'webgpu.fused.layout' },
    );
  });

  it('ATN-1.4 beyond 65535 workgroups (2-D dispatch): each sample gets the answers it gets alone, bit for bit', async (ctx) => {
    if (why) return ctx.skip(why);
    // B*H = 4,224,000 entries > 65535 * 64 (the per-entry kernels) and 66,000 rows > 65535 (one workgroup per row):
    // both dispatches wrap into a second dimension. Rows are independent, so a sample's y and da must not change.
    const [T, B, H] = [1, 66000, 64];
    const a = tf.randomNormal([T, B, H], 1, 2, 'float32', 7) as tf.Tensor3D;
    const dy = tf.randomNormal([T, B, H], 0, 1, 'float32', 8) as tf.Tensor3D;
    const f = (x: tf.Tensor) => atn(x as tf.Tensor3D, { k: 2, eps: 1e-5, path: 'webgpu' });
    const y = f(a),
      da = tf.grad(f)(a, dy);
    const [yv, dav] = [await y.data(), await da.data()];
    for (const b of [0, 65534, 65535, 65536, B - 1]) {
      const one = tf.tidy(() => {
        const ab = tf.slice(a, [0, b, 0], [T, 1, H]);
        return [f(ab), tf.grad(f)(ab, tf.slice(dy, [0, b, 0], [T, 1, H]))];
      });
      const [ys, ds] = [await one[0].data(), await one[1].data()];
      tf.dispose(one);
      expect(Array.from(yv.subarray(b * H, (b + 1) * H)), `y of sample ${b}`).toEqual(Array.from(ys));
      expect(Array.from(dav.subarray(b * H, (b + 1) * H)), `da of sample ${b}`).toEqual(Array.from(ds));
    }
    tf.dispose([a, dy, y, da]);
  });

  it('the checks bite on the kernels: a row reduction over the first 128-feature tile only is caught at H > 128', async (ctx) => {
    if (why) return ctx.skip(why);
    const wide: Limits = { maxT: 3, maxB: 2, maxH: 300, minH: 129 };
    expect(await caught({ firstTileOnly: true }, 'atn.forward', realistic(wide), 4)).toBeGreaterThan(0);
    expect(await caught({ firstTileOnly: true }, 'atn.vjp', withDy('float32', realistic(wide), wide), 4)).toBeGreaterThan(0);
  });

  it('the checks bite on the kernels: a window join that drops the rescaling of the older steps is caught (ATN-7.2 scale regimes)', async (ctx) => {
    if (why) return ctx.skip(why);
    const lim: Limits = { maxT: 6, maxB: 2, maxH: 8, minT: 2, maxK: 4 };
    expect(await caught({ noRescale: true }, 'atn.forward', atnCase('float32', 'mixed', lim), 8)).toBeGreaterThan(0);
  });
});

/** The LSTM's answer on webgpu (the fused recurrence, counted) against the reference (ATN-7.4); 'ftz' as for the op
 * (the target is not asked then). */
async function lstmDisagreement(op: 'lstm.forward' | 'lstm.vjp', c: LstmCase | LstmVjpCase): Promise<string | undefined> {
  const a = op === 'lstm.forward' ? lstmArgs('float32', c) : lstmVjpArgs('float32', c as LstmVjpCase);
  const before = recurrenceRuns.fused;
  const d = await disagreesOn(op, a, `T=${c.x.length} B=${c.x[0].length} H=${c.h0[0].length} k=${c.k} eps=${c.eps}`);
  if (d !== 'ftz' && recurrenceRuns.fused === before)
    throw new Error(`${op}: the fused recurrence did not run (recurrenceRuns ${JSON.stringify(recurrenceRuns)})`);
  return d;
}
const lstmCases = (lim?: LstmLimits) => (lim ? lstmCase('float32', lim, { shrinkValues: false }) : lstmCase('float32'));
const lstmVjpCases = (lim?: LstmLimits) => withDh('float32', lstmCases(lim));

describe('fused webgpu ATN-LSTM recurrence (one launch forward, one for BPTT)', () => {
  it("ATN-7.4 lstm.forward and lstm.vjp on webgpu agree with the reference on the campaign's LSTM cases (eps = 0, H = 2, long sequences among them)", async (ctx) => {
    if (why) return ctx.skip(why);
    await assertProperty(
      fc.asyncProperty(lstmCases(), async (c) => holds(await lstmDisagreement('lstm.forward', c))),
      { numRuns: 24, checkId: 'webgpu.lstm.forward' },
    );
    await assertProperty(
      fc.asyncProperty(lstmVjpCases(), async (c) => holds(await lstmDisagreement('lstm.vjp', c))),
      { numRuns: 16, checkId: 'webgpu.lstm.vjp' },
    );
  });

  it('ATN-9.10 past one 128-wide tile: 4H = 132..160 over T <= 3 (forward and BPTT), and H = 129..140 (ATN_c too) at T = 1', async (ctx) => {
    if (why) return ctx.skip(why);
    await assertProperty(
      fc.asyncProperty(lstmCases(LSTM_TILES), async (c) => holds(await lstmDisagreement('lstm.forward', c))),
      { numRuns: 3, checkId: 'webgpu.lstm.tiles.forward' },
    );
    await assertProperty(
      fc.asyncProperty(lstmVjpCases(LSTM_TILES), async (c) => holds(await lstmDisagreement('lstm.vjp', c))),
      { numRuns: 2, checkId: 'webgpu.lstm.tiles.vjp' },
    );
    await assertProperty(
      fc.asyncProperty(lstmCases(LSTM_WIDE_CELL), async (c) => holds(await lstmDisagreement('lstm.forward', c))),
      { numRuns: 2, checkId: 'webgpu.lstm.wide-cell.forward' },
    );
    await assertProperty(
      fc.asyncProperty(lstmVjpCases(LSTM_WIDE_CELL), async (c) => holds(await lstmDisagreement('lstm.vjp', c))),
      { numRuns: 1, checkId: 'webgpu.lstm.wide-cell.vjp' },
    );
  });

  it('the checks bite on the recurrence: reductions over the first tile only, and a window join without the rescaling, are caught', async (ctx) => {
    if (why) return ctx.skip(why);
    const f = (c: LstmCase) => lstmDisagreement('lstm.forward', c);
    const v = (c: LstmVjpCase) => lstmDisagreement('lstm.vjp', c);
    expect(await caughtOn({ firstTileOnly: true }, 'lstm.forward', lstmCases(LSTM_TILES), 3, f)).toBeGreaterThan(0);
    expect(await caughtOn({ firstTileOnly: true }, 'lstm.vjp', lstmVjpCases(LSTM_TILES), 2, v)).toBeGreaterThan(0);
    expect(await caughtOn({ noRescale: true }, 'lstm.forward', lstmCases(), 8, f)).toBeGreaterThan(0);
  });
});
