/**
 * The tfjs implementation's ATN, its gradient, AtnStream and LN against the reference (ATN-7.2, 7.3) and the
 * metamorphic relations on the implementation itself (ATN-7.5: two outputs equal in exact arithmetic differ by at most
 * the sum of their tolerances). In process, on the default backend (wasm, or env ATN_BACKEND).
 */
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createReference, type Reference } from '../reference';
import { call, type Target } from '../protocol/target';
import { initBackend } from '../impl/backend';
import { atn } from '../impl/ops/atn';
import { AUTODIFF_SPREAD, stepSpread } from '../impl/ops/atn_graph';
import { AtnStream } from '../impl/ops/atn_stream';
import { layerNorm } from '../impl/ln';
import { createImplTarget } from '../impl/target';
import { atnCase, withDy, REGIMES, type AtnCase, type Limits } from './lib/arbitraries';
import { compareOutputs } from './lib/compare';
import { agrees, fitsFloat32, forwardAgreement, implArgs, vjpAgreement } from './lib/impl-cases';
import { assertProperty } from './lib/seed';

const LIM: Limits = { maxT: 12, maxB: 4, maxH: 32, maxK: 16 };
let ref: Reference;
let target: Target;

beforeAll(async () => {
  await initBackend();
  target = await createImplTarget();
  ref = createReference();
});

const args = implArgs;

/** Shapes every run must meet: B = 1, H = 1 (eps > 0), T = 1, k > T, k = 1. */
const CORNERS: AtnCase[] = [
  { k: 1, eps: 1e-5, a: [[[0.5, -1.25, 3]]], regime: 'T=1,B=1' },
  { k: 3, eps: Math.fround(1e-3), a: [[[2]], [[-1]], [[7]]], regime: 'H=1' },
  {
    k: 9,
    eps: 0,
    a: [
      [
        [1, 2],
        [3, 5],
      ],
      [
        [-1, 0],
        [4, 4.5],
      ],
    ],
    regime: 'k>T',
  },
  { k: 2, eps: 0, a: [[[1e30, -1e30, 2e30]], [[1e-30, 3e-30, -2e-30]], [[1e30, 1e30, 3e30]]].map((m) => m.map((r) => r.map(Math.fround))), regime: 'drift' },
  { k: 2, eps: 0, a: [[[2 ** -149, 3 * 2 ** -149, 0]], [[-(2 ** -140), 2 ** -149, 5 * 2 ** -149]]], regime: 'subnormal' },
  { k: 4, eps: Math.fround(1e-5), a: [[[1000.25, 1000.5, 1000.75]], [[1000, 1000.5, 1001]]], regime: 'large-mean' },
  { k: 2, eps: Math.fround(1e-5), a: [[[3, 3, 3]], [[3, 3, 3]]], regime: 'constant window, eps > 0' },
  { k: 1, eps: Math.fround(1e-3), a: [[[2 ** -140, 0, -(2 ** -141)]]], regime: 'tiny var, eps dominates' },
];

describe('impl atn against the reference', () => {
  it('ATN-7.2 atn.forward agrees with the reference (float32) on corner shapes: B=1, H=1, T=1, k>T, 1e+-30, subnormal', async () => {
    for (const c of CORNERS) agrees(await call(target, 'atn.forward', args(c)), ref.expect('atn.forward', args(c)), c.regime);
  });

  it('ATN-7.2 atn.forward agrees with the reference (float32) over generated shapes and every regime', async () => {
    for (const regime of REGIMES) {
      await assertProperty(forwardAgreement(target, ref, regime, LIM), { numRuns: 10, checkId: `impl-atn.forward.${regime}` });
    }
  });

  it('ATN-7.3 atn.vjp (closed-form gradient) agrees with the reference (float32) over generated cases', async () => {
    for (const regime of REGIMES) {
      await assertProperty(vjpAgreement(target, ref, regime, LIM), { numRuns: 7, checkId: `impl-atn.vjp.${regime}` });
    }
  });

  it('ATN-7.3 atn.vjp agrees on the corner shapes', async () => {
    for (const c of CORNERS) {
      // dy small where the window std is subnormal: da ~ dy/s must fit in float32 (~1e44 would not)
      const scale = c.regime === 'subnormal' ? 2 ** -40 : 1;
      const dy = c.a.map((m) => m.map((r) => r.map((_, i) => Math.fround((0.75 - 0.5 * i) * scale))));
      const v = { ...args(c), dy };
      agrees(await call(target, 'atn.vjp', v), ref.expect('atn.vjp', v), c.regime);
    }
  });

  it('ATN-2.1 ln.forward agrees with the reference (float32)', async () => {
    await assertProperty(
      fc.asyncProperty(atnCase('float32', 'general', { ...LIM, maxT: 1 }), fc.constantFrom(1e-5, 1e-3), async (c, eps) => {
        const v = { dtype: 'float32', eps: Math.fround(eps), x: c.a[0], gain: c.gain, bias: c.bias };
        agrees(await call(target, 'ln.forward', v), ref.expect('ln.forward', v), 'ln');
      }),
      { numRuns: 15, checkId: 'impl-ln.forward' },
    );
  });

  it('ATN-6.6 a degenerate window (eps = 0, all entries equal) is the error degenerate_window', async () => {
    const res = await target.handle({ id: 1, op: 'atn.forward', args: { dtype: 'float32', k: 2, eps: 0, a: [[[1, 2]], [[5, 5]], [[5, 5]]] } });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error).toMatchObject({ code: 'degenerate_window', clause: 'ATN-6.6' });
    // the same data with eps > 0 is fine
    const ok = await target.handle({ id: 2, op: 'atn.forward', args: { dtype: 'float32', k: 2, eps: 1e-5, a: [[[1, 2]], [[5, 5]], [[5, 5]]] } });
    expect(ok.ok).toBe(true);
    // and the op itself throws the same error on the host path
    expect(() => tf.tidy(() => atn(tf.tensor3d([[[5, 5]], [[5, 5]]]), { k: 2, eps: 0 }))).toThrow(/ATN-6\.6/);
  });

  it('ATN-6.7 float64 is refused with unsupported_dtype', async () => {
    const res = await target.handle({ id: 1, op: 'atn.forward', args: { dtype: 'float64', k: 1, eps: 0, a: [[[1, 2]]] } });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error).toMatchObject({ code: 'unsupported_dtype', clause: 'ATN-6.7' });
  });

  it('ATN-8.6 the target frees its tensors: memory is flat across requests, errors included', async () => {
    const v = { dtype: 'float32', k: 2, eps: 1e-5, a: [[[1, 2, 3]], [[4, 0, 1]]], dy: [[[1, 0, -1]], [[0.5, 0.5, 2]]] };
    await call(target, 'atn.vjp', v); // warm-up (lazy kernels, constants)
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await call(target, 'atn.forward', v);
      await call(target, 'atn.vjp', v);
      await call(target, 'ln.forward', { dtype: 'float32', eps: 1e-5, x: v.a[0] });
      await target.handle({ id: 1, op: 'atn.forward', args: { ...v, eps: 0, a: [[[3, 3]], [[3, 3]]] } });
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('ATN-8.7 hello names atn-kit-tfjs, the backend and float32', async () => {
    const h = await call<Record<string, unknown>>(target, 'hello', {});
    expect(h).toMatchObject({ name: 'atn-kit-tfjs', protocol: 1, dtypes: ['float32'] });
    expect(typeof h.backend).toBe('string');
    expect(h.ops).toEqual(expect.arrayContaining(['atn.forward', 'atn.vjp', 'ln.forward', 'lstm.forward', 'lstm.vjp']));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Metamorphic relations on the implementation (ATN-7.5)

/** y of the impl on a case, computed by `f`, compared with the op's y within the sum of both tolerances. */
function within(first: unknown, second: unknown, tol1: unknown, tol2: unknown, what: string): void {
  const r = compareOutputs(first, second, tol1, tol2);
  if (!r.ok) throw new Error(`${what}: ${r.detail}`);
}

const hard = (lim: Limits) => fc.oneof(...REGIMES.map((r) => atnCase('float32', r, lim)));

describe('impl atn: metamorphic relations and the streaming form', () => {
  it('ATN-1.7 AtnStream step by step equals the sequence op (within the sum of tolerances)', async () => {
    await assertProperty(
      fc.asyncProperty(hard(LIM), async (c) => {
        const exp = ref.expect('atn.forward', args(c));
        const seq = await call<{ y: number[][][] }>(target, 'atn.forward', args(c));
        const H = c.a[0][0].length;
        const y = tf.tidy(() => {
          const s = new AtnStream({ k: c.k, eps: c.eps, gain: c.gain ? tf.tensor1d(c.gain) : undefined, bias: c.bias ? tf.tensor1d(c.bias) : undefined });
          const out = c.a.map((step) => s.step(tf.tensor2d(step, [step.length, H])).arraySync());
          s.dispose();
          return out;
        });
        agrees({ y }, exp, `stream (${c.regime})`);
        within({ y }, seq, exp.tol, exp.tol, `stream vs sequence (${c.regime})`);
      }),
      { numRuns: 30, checkId: 'impl-atn.stream' },
    );
  });

  it('ATN-1.7 AtnStream reset() starts a new sequence; state is freed', () => {
    const before = tf.memory().numTensors;
    const s = new AtnStream({ k: 3, eps: 1e-5 });
    const a = [[[1, 2, 4]], [[0, -1, 3]], [[2, 2, 5]], [[7, 1, 0]]];
    const run = () => tf.tidy(() => a.map((m) => s.step(tf.tensor2d(m)).arraySync()));
    const y1 = run();
    s.reset();
    const y2 = run();
    expect(y2).toEqual(y1);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("ATN-4.2 AtnStream trains under tf.variableGrads: dgain and dbias equal the sequence op's", () => {
    const [T, B, H, k] = [5, 2, 6, 3];
    const a = tf.randomNormal([T, B, H], 0, 1, 'float32', 7) as tf.Tensor3D;
    const dy = tf.randomNormal([T, B, H], 0, 1, 'float32', 8);
    const g = tf.variable(tf.linspace(0.5, 1.5, H) as tf.Tensor1D);
    const b = tf.variable(tf.linspace(-0.2, 0.3, H) as tf.Tensor1D);
    const loss = (stream: boolean) => () => {
      let y: tf.Tensor;
      if (stream) {
        const s = new AtnStream({ k, eps: 1e-5, gain: g as tf.Tensor1D, bias: b as tf.Tensor1D });
        y = tf.stack(Array.from({ length: T }, (_, t) => s.step(tf.reshape(tf.slice(a, [t, 0, 0], [1, B, H]), [B, H]) as tf.Tensor2D)));
        s.dispose();
      } else y = atn(a, { k, eps: 1e-5, gain: g as tf.Tensor1D, bias: b as tf.Tensor1D });
      return tf.sum(tf.mul(y, dy)) as tf.Scalar;
    };
    const read = (r: { grads: tf.NamedTensorMap }) => [r.grads[g.name].arraySync() as number[], r.grads[b.name].arraySync() as number[]];
    const [gs, bs] = tf.tidy(() => read(tf.variableGrads(loss(true))));
    const [go, bo] = tf.tidy(() => read(tf.variableGrads(loss(false))));
    for (let h = 0; h < H; h++) {
      expect(Math.abs(gs[h] - go[h])).toBeLessThan(1e-5 * (1 + Math.abs(go[h])));
      expect(Math.abs(bs[h] - bo[h])).toBeLessThan(1e-5 * (1 + Math.abs(bo[h])));
    }
    tf.dispose([a, dy, g, b]);
  });

  it('ATN-4.1 the closed-form gradient equals autodiff (through the ops of AtnStream and of the device path)', async () => {
    await assertProperty(
      fc.asyncProperty(withDy('float32', hard(LIM), LIM), async (c) => {
        const exp = ref.expect('atn.vjp', args(c));
        fc.pre(fitsFloat32(exp.want));
        // Known limit of the autodiff paths (not of the closed form): in a window whose steps differ in magnitude by
        // more than ~2^60, the gradient through the rescaling of the small steps underflows in float32.
        fc.pre(stepSpread(c.a, c.k) < AUTODIFF_SPREAD);
        const got = await call<Record<string, unknown>>(target, 'atn.vjp', args(c));
        const [T, B, H] = [c.a.length, c.a[0].length, c.a[0][0].length];
        const gain = c.gain ?? new Array(H).fill(1),
          bias = c.bias ?? new Array(H).fill(0);
        // autodiff through the stream, unrolled over time
        const viaStream = tf.tidy(() => {
          const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
            const s = new AtnStream({ k: c.k, eps: c.eps, gain: g as tf.Tensor1D, bias: b as tf.Tensor1D });
            // slices, not tf.unstack: tfjs's Unpack gradient fails for a single output (T = 1)
            const ys = Array.from({ length: T }, (_, t) => s.step(tf.reshape(tf.slice(a, [t, 0, 0], [1, B, H]), [B, H]) as tf.Tensor2D));
            s.dispose();
            return tf.stack(ys);
          };
          const { value, grads } = tf.valueAndGrads(f)([tf.tensor3d(c.a), tf.tensor1d(gain), tf.tensor1d(bias)], tf.tensor3d(c.dy));
          return { y: value.arraySync(), da: grads[0].arraySync(), dgain: grads[1].arraySync(), dbias: grads[2].arraySync() };
        });
        const viaGraph = tf.tidy(() => {
          const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
            atn(a as tf.Tensor3D, { k: c.k, eps: c.eps, gain: g as tf.Tensor1D, bias: b as tf.Tensor1D, path: 'device' });
          const { value, grads } = tf.valueAndGrads(f)([tf.tensor3d(c.a), tf.tensor1d(gain), tf.tensor1d(bias)], tf.tensor3d(c.dy));
          return { y: value.arraySync(), da: grads[0].arraySync(), dgain: grads[1].arraySync(), dbias: grads[2].arraySync() };
        });
        const da = viaGraph.da as number[][][];
        expect([da.length, da[0].length, da[0][0].length]).toEqual([T, B, H]);
        within(got, viaStream, exp.tol, exp.tol, `custom vs autodiff(stream) (${c.regime})`);
        within(got, viaGraph, exp.tol, exp.tol, `custom vs autodiff(device path) (${c.regime})`);
      }),
      { numRuns: 24, checkId: 'impl-atn.grad-vs-autodiff' },
    );
  });

  it('ATN-4.1 the host op keeps its input for the backward without a copy: the caller may dispose it, nothing leaks, tfjs keeps its Identity', () => {
    const identity = tf.getKernel('Identity', tf.getBackend());
    const [T, B, H] = [6, 3, 20];
    const x = tf.tensor3d(
      Array.from({ length: T * B * H }, (_, i) => Math.sin(i * 1.7) * 3),
      [T, B, H],
    );
    const dy = tf.tensor3d(
      Array.from({ length: T * B * H }, (_, i) => Math.cos(i * 0.3)),
      [T, B, H],
    );
    const grads = (disposeInput: boolean) => {
      const f = (v: tf.Tensor) => {
        const a = tf.mul(v, 2) as tf.Tensor3D;
        const y = atn(a, { k: 4, eps: 1e-5 });
        if (disposeInput) a.dispose(); // the op's input is gone before the backward pass runs
        return y;
      };
      const { value, grad } = tf.valueAndGrad(f)(x, dy);
      const out = [Array.from(value.dataSync()), Array.from(grad.dataSync())];
      tf.dispose([value, grad]);
      return out;
    };
    const kept = grads(false);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) expect(grads(true)).toEqual(kept);
    expect(tf.memory().numTensors).toBe(before);
    atn(x, { k: 4, eps: 1e-5 }).dispose(); // no tape: nothing saved
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.getKernel('Identity', tf.getBackend())).toBe(identity);
    tf.dispose([x, dy]);
  });

  it('ATN-1.1 batchMajor [B,T,H] gives the time-major result transposed, forward and gradient, on both paths', async () => {
    await assertProperty(
      fc.asyncProperty(withDy('float32', hard(LIM), LIM), fc.constantFrom<'host' | 'device'>('host', 'device'), async (c, path) => {
        const H = c.a[0][0].length;
        const gain = tf.tensor1d(c.gain ?? new Array(H).fill(1)),
          bias = tf.tensor1d(c.bias ?? new Array(H).fill(0));
        const run = (batchMajor: boolean) =>
          tf.tidy(() => {
            const tr = (x: tf.Tensor) => (batchMajor ? tf.transpose(x, [1, 0, 2]) : x);
            const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
              tr(atn(tr(a) as tf.Tensor3D, { k: c.k, eps: c.eps, gain: g as tf.Tensor1D, bias: b as tf.Tensor1D, batchMajor, path }));
            const { value, grads } = tf.valueAndGrads(f)([tf.tensor3d(c.a), gain, bias], tf.tensor3d(c.dy));
            return [value, ...grads].map((t) => t.arraySync());
          });
        const [bm, tm] = [run(true), run(false)];
        tf.dispose([gain, bias]);
        // y and da are computed row by row the same way: equal; dgain and dbias sum the rows in another order
        expect(bm.slice(0, 2)).toEqual(tm.slice(0, 2));
        const t = ref.expect('atn.vjp', args(c)).tol as { dgain: unknown; dbias: unknown };
        const tol = { dgain: t.dgain, dbias: t.dbias };
        within({ dgain: bm[2], dbias: bm[3] }, { dgain: tm[2], dbias: tm[3] }, tol, tol, `batchMajor sums (${path})`);
      }),
      { numRuns: 12, checkId: 'impl-atn.batch-major' },
    );
  });

  it('ATN-5.1 T1 on the impl: atn.forward with k = 1 equals ln.forward step by step', async () => {
    await assertProperty(
      // k = 1, and (inside the arbitrary) no eps = 0 with H = 1: a one-entry window is degenerate (the generators
      // already force H >= 2 with eps = 0).
      fc.asyncProperty(
        hard({ ...LIM, maxK: 1 })
          .map((c0) => ({ ...c0, k: 1 }))
          .filter((c) => !(c.eps === 0 && c.a[0][0].length < 2)),
        async (c) => {
          const exp = ref.expect('atn.forward', args(c));
          const y = (await call<{ y: number[][][] }>(target, 'atn.forward', args(c))).y;
          for (let t = 0; t < c.a.length; t++) {
            const v = { dtype: 'float32', eps: c.eps, x: c.a[t], gain: c.gain, bias: c.bias };
            const ln = await call<{ y: number[][] }>(target, 'ln.forward', v);
            const e = ref.expect('ln.forward', v);
            within({ y: y[t] }, ln, { y: (exp.tol as { y: unknown[] }).y[t] }, e.tol, `T1 at t=${t} (${c.regime})`);
          }
        },
      ),
      { numRuns: 12, checkId: 'impl-atn.T1' },
    );
  });

  // (m, eps) with eps/d^2 exact and nonzero in float32 too, inside the arbitrary (with these ranges every pair is).
  const exactEpsScaling = fc.tuple(fc.integer({ min: -40, max: 40 }), fc.constantFrom(1e-5, 1e-3, 0.25)).filter(([m, eps]) => {
    const e = Math.fround(eps) / (2 ** m) ** 2;
    return Math.fround(e) === e && e !== 0;
  });
  it('ATN-5.2 T2 on the impl: ATN_eps(d*a) = ATN_{eps/d^2}(a) for d = 2^m', async () => {
    await assertProperty(
      fc.asyncProperty(atnCase('float32', 'general', LIM), exactEpsScaling, async (c0, [m, eps]) => {
        const d = 2 ** m;
        const epsA = Math.fround(eps);
        const c = { ...c0, eps: epsA / (d * d) };
        const scaled = { ...c, eps: epsA, a: c.a.map((x) => x.map((r) => r.map((v) => v * d))) };
        const e1 = ref.expect('atn.forward', args(c));
        const e2 = ref.expect('atn.forward', args(scaled));
        const y1 = await call(target, 'atn.forward', args(c));
        const y2 = await call(target, 'atn.forward', args(scaled));
        within(y1, y2, e1.tol, e2.tol, `T2 d=2^${m}`);
      }),
      { numRuns: 20, checkId: 'impl-atn.T2' },
    );
  });

  it('ATN-2.1 k = 1 equals tfjs-layers LayerNormalization (within the sum of tolerances, general inputs)', async () => {
    await assertProperty(
      fc.asyncProperty(atnCase('float32', 'general', { ...LIM, maxT: 1 }), fc.constantFrom(1e-5, 1e-3), async (c, eps) => {
        const x = c.a[0];
        const H = x[0].length;
        const gain = c.gain ?? new Array(H).fill(1),
          bias = c.bias ?? new Array(H).fill(0);
        const v = { dtype: 'float32', eps: Math.fround(eps), x, gain, bias };
        const e = ref.expect('ln.forward', v);
        const ours = tf.tidy(() => layerNorm(tf.tensor2d(x), { eps: v.eps, gain: tf.tensor1d(gain), bias: tf.tensor1d(bias) }).arraySync());
        const theirs = tf.tidy(() => {
          const layer = tf.layers.layerNormalization({ axis: -1, epsilon: v.eps });
          layer.build([x.length, H]);
          layer.setWeights([tf.tensor1d(gain), tf.tensor1d(bias)]);
          const y = (layer.apply(tf.tensor2d(x)) as tf.Tensor).arraySync();
          for (const w of layer.weights) w.dispose(); // (Layer.dispose refuses a layer applied eagerly only)
          return y;
        });
        within({ y: ours }, { y: theirs }, e.tol, e.tol, 'ours vs tf.layers.layerNormalization');
      }),
      { numRuns: 10, checkId: 'impl-ln.layers' },
    );
  });
});
