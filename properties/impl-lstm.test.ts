/**
 * The tfjs ATN-LSTM (impl/lstm*.ts) against the reference (ATN-7.4), its theorems T2/T3 on the implementation
 * (ATN-7.5: two outputs may differ by the sum of their tolerances), the standard initialisation, and training.
 * Shapes stay small: the reference computes in BigNumber.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../impl/backend';
import {
  AtnLstm,
  AtnLstmCell,
  lstmForwardArrays,
  lstmLayer,
  lstmTensorList,
  lstmTensors,
  lstmVjpArrays,
  orthogonal,
  standardInit,
  tiledIdentity,
} from '../impl/lstm';
import { exp as fastExp, sigmoid as fastSigmoid, tanh as fastTanh } from '../impl/lstm_math';
import { matMul } from '../impl/ops/matmul';
import { createReference, type Reference } from '../reference';
import { parseLstmArgs, parseLstmVjpArgs } from '../protocol/args';
import { AtnError } from '../protocol/errors';
import { compare, compareOutputs, scaleTree } from './lib/compare';
import { assertProperty } from './lib/seed';
import { mulberry32 } from '../util/prng';

const PARSE = { dtypes: ['float32' as const] };

interface Case {
  T: number;
  B: number;
  I: number;
  H: number;
  k: number;
  eps: number;
  seed: number;
}

/** Entries in [-1, 1), exact in float32, from the one seeded generator. */
function rng(seed: number): () => number {
  const next = mulberry32(seed);
  return () => Math.fround(next() * 2 - 1);
}

function lstmArgs(c: Case, withDh = false): Record<string, unknown> {
  const r = rng(c.seed);
  const G = 4 * c.H;
  const v = (n: number, sc = 1, off = 0) => Array.from({ length: n }, () => Math.fround(off + sc * r()));
  const m = (a: number, b: number, sc = 1) => Array.from({ length: a }, () => v(b, sc));
  const t3 = (a: number, b: number, w: number) => Array.from({ length: a }, () => m(b, w));
  const args: Record<string, unknown> = {
    dtype: 'float32',
    k: c.k,
    eps: c.eps,
    x: t3(c.T, c.B, c.I),
    h0: m(c.B, c.H),
    c0: m(c.B, c.H),
    params: {
      w_xh: m(c.I, G),
      w_hh: m(c.H, G, 0.7),
      b_x: v(G, 0.3),
      b_h: v(G, 0.3),
      atn_x: { gain: v(G, 0.5, 1), bias: v(G, 0.3) },
      atn_h: { gain: v(G, 0.5, 1), bias: v(G, 0.3) },
      atn_c: { gain: v(c.H, 0.5, 1), bias: v(c.H, 0.3) },
    },
  };
  if (withDh) args.dh = t3(c.T, c.B, c.H);
  return args;
}

const caseArb = fc.record({
  T: fc.integer({ min: 1, max: 12 }),
  B: fc.integer({ min: 1, max: 4 }),
  I: fc.integer({ min: 1, max: 4 }),
  H: fc.integer({ min: 1, max: 8 }),
  k: fc.integer({ min: 1, max: 16 }),
  eps: fc.constantFrom(0, 1e-5, 1e-3),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

/** The reference's expectation, or null after checking that the impl refuses a degenerate window the same way. */
async function expectOrDegenerate(ref: Reference, op: 'lstm.forward' | 'lstm.vjp', args: Record<string, unknown>, run: () => Promise<unknown>) {
  try {
    return ref.expect(op, args);
  } catch (e) {
    if (!(e instanceof AtnError) || e.code !== 'degenerate_window') throw e;
    let code: string | undefined;
    try {
      await run();
    } catch (f) {
      code = f instanceof AtnError ? f.code : String(f);
    }
    expect(code, `reference: ${e.message}`).toBe('degenerate_window');
    return null;
  }
}

let ref: Reference;
beforeAll(async () => {
  await initBackend('wasm');
  ref = createReference();
});

describe('impl ATN-LSTM against the reference', () => {
  it('ATN-3.1..3.5 lstm.forward agrees with the reference within ATN-7.4 (T 1..12, B 1..4, I 1..4, H 1..8, k 1..16)', async () => {
    await assertProperty(
      fc.asyncProperty(caseArb, async (c) => {
        const args = lstmArgs(c);
        const run = () => lstmForwardArrays(parseLstmArgs(args, PARSE));
        const exp = await expectOrDegenerate(ref, 'lstm.forward', args, run);
        if (!exp) return true;
        const r = compare(await run(), exp);
        if (!r.ok) throw new Error(`${JSON.stringify(c)}: ${r.detail}`);
        return true;
      }),
      { numRuns: 14 },
    );
  });

  it('ATN-4.3 lstm.vjp (BPTT) agrees with the reference within ATN-7.4', async () => {
    await assertProperty(
      fc.asyncProperty(caseArb, async (c) => {
        const args = lstmArgs(c, true);
        const run = () => lstmVjpArrays(parseLstmVjpArgs(args, PARSE));
        const exp = await expectOrDegenerate(ref, 'lstm.vjp', args, run);
        if (!exp) return true;
        const r = compare(await run(), exp);
        if (!r.ok) throw new Error(`${JSON.stringify(c)}: ${r.detail}`);
        return true;
      }),
      { numRuns: 14 },
    );
  });

  it('ATN-6.6 a degenerate window (eps = 0, h0 = 0, b_h = 0: a^h_1 is constant) is refused naming the clause, on both paths', async () => {
    const args = lstmArgs({ T: 3, B: 2, I: 2, H: 3, k: 2, eps: 0, seed: 5 });
    args.h0 = [
      [0, 0, 0],
      [0, 0, 0],
    ];
    (args.params as Record<string, unknown>).b_h = new Array(12).fill(0);
    for (const path of ['host', 'device'] as const) {
      await expect(lstmForwardArrays(parseLstmArgs(args, PARSE), path)).rejects.toThrow(/ATN_h.*ATN-6\.6/);
      await expect(
        lstmVjpArrays(parseLstmVjpArgs({ ...args, dh: lstmArgs({ T: 3, B: 2, I: 2, H: 3, k: 2, eps: 0, seed: 5 }, true).dh }, PARSE), path),
      ).rejects.toThrow(/ATN_h.*ATN-6\.6/);
    }
    // x = 0 and b_x = 0: a^x is constant (ATN_x, checkable from the inputs).
    const ax = lstmArgs({ T: 2, B: 1, I: 2, H: 2, k: 1, eps: 0, seed: 6 });
    ax.x = [[[0, 0]], [[0, 0]]];
    (ax.params as Record<string, unknown>).b_x = new Array(8).fill(0);
    for (const path of ['host', 'device'] as const) await expect(lstmForwardArrays(parseLstmArgs(ax, PARSE), path)).rejects.toThrow(/ATN_x.*ATN-6\.6/);
  });
});

describe('impl ATN-LSTM theorems (ATN-7.5: outputs differ by at most the sum of their tolerances)', () => {
  const scaled = (args: Record<string, unknown>, d: number) => {
    const p = args.params as { w_xh: number[][]; b_x: number[] };
    return { ...args, params: { ...p, w_xh: p.w_xh.map((row) => row.map((w) => w * d)), b_x: p.b_x.map((b) => b * d) } };
  };
  const small = fc.record({
    T: fc.integer({ min: 1, max: 6 }),
    B: fc.integer({ min: 1, max: 3 }),
    I: fc.integer({ min: 1, max: 3 }),
    H: fc.integer({ min: 2, max: 5 }),
    k: fc.integer({ min: 1, max: 8 }),
    eps: fc.constant(0),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  });
  const m = fc.integer({ min: -20, max: 20 }).filter((x) => x !== 0);

  it('ATN-5.2 T2: scaling (W_xh, b_x) by d = 2^m leaves h and c unchanged (eps = 0)', async () => {
    await assertProperty(
      fc.asyncProperty(small, m, async (c, e) => {
        const d = 2 ** e;
        const a1 = lstmArgs(c),
          a2 = scaled(a1, d);
        const x1 = await expectOrDegenerate(ref, 'lstm.forward', a1, () => lstmForwardArrays(parseLstmArgs(a1, PARSE)));
        if (!x1) return true;
        const x2 = ref.expect('lstm.forward', a2);
        const r = compareOutputs(await lstmForwardArrays(parseLstmArgs(a1, PARSE)), await lstmForwardArrays(parseLstmArgs(a2, PARSE)), x1.tol, x2.tol);
        if (!r.ok) throw new Error(`${JSON.stringify(c)} d=2^${e}: ${r.detail}`);
        return true;
      }),
      { numRuns: 8 },
    );
  });

  it('ATN-5.3 T3: gradients in W_xh and b_x at d*W are 1/d times those at W (eps = 0)', async () => {
    await assertProperty(
      fc.asyncProperty(small, m, async (c, e) => {
        const d = 2 ** e;
        const a1 = lstmArgs(c, true),
          a2 = scaled(a1, d);
        const x1 = await expectOrDegenerate(ref, 'lstm.vjp', a1, () => lstmVjpArrays(parseLstmVjpArgs(a1, PARSE)));
        if (!x1) return true;
        const x2 = ref.expect('lstm.vjp', a2);
        const g1 = (await lstmVjpArrays(parseLstmVjpArgs(a1, PARSE))).grads;
        const g2 = (await lstmVjpArrays(parseLstmVjpArgs(a2, PARSE))).grads;
        const t1 = x1.tol as { grads: Record<string, unknown> },
          t2 = x2.tol as { grads: Record<string, unknown> };
        for (const name of ['w_xh', 'b_x'] as const) {
          // d * g(d W) against g(W); the tolerance of the scaled output scales with it.
          const r = compareOutputs(scaleTree(g2[name], d), g1[name], scaleTree(t2.grads[name], d), t1.grads[name]);
          if (!r.ok) throw new Error(`${JSON.stringify(c)} d=2^${e} ${name}: ${r.detail}`);
        }
        return true;
      }),
      { numRuns: 6 },
    );
  });
});

describe('impl ATN-LSTM paths, initialisation and training', () => {
  it('ATN-4.3 the fused BPTT (host path) agrees with tfjs autodiff through ops (device path) and the reference', async () => {
    for (const c of [
      { T: 7, B: 2, I: 3, H: 4, k: 3, eps: 1e-5, seed: 11 },
      { T: 5, B: 3, I: 2, H: 5, k: 1, eps: 1e-3, seed: 12 },
      { T: 9, B: 1, I: 1, H: 3, k: 16, eps: 0, seed: 13 },
      { T: 4, B: 2, I: 10, H: 3, k: 2, eps: 1e-5, seed: 14 }, // I > 8: the x-side products run on the backend
      { T: 1, B: 2, I: 2, H: 3, k: 2, eps: 1e-5, seed: 15 }, // T = 1: the device path slices instead of tf.unstack
    ]) {
      const args = lstmArgs(c, true);
      const exp = ref.expect('lstm.vjp', args);
      const p = parseLstmVjpArgs(args, PARSE);
      const host = await lstmVjpArrays(p);
      const device = await lstmVjpArrays(p, 'device');
      const r = compareOutputs(host, device, exp.tol, exp.tol);
      expect(r.ok, `${JSON.stringify(c)}: ${r.detail}`).toBe(true);
      const h = compare(host, exp);
      expect(h.ok, `${JSON.stringify(c)} host vs reference: ${h.detail}`).toBe(true);
    }
  });

  it("ATN-7.5 the step-by-step cell (AtnLstmCell) gives the layer's h and c; reset() starts a new sequence (ATN-1.7)", async () => {
    const c = { T: 6, B: 2, I: 3, H: 4, k: 3, eps: 1e-5, seed: 31 };
    const args = parseLstmArgs(lstmArgs(c), PARSE);
    const exp = ref.expect('lstm.forward', lstmArgs(c));
    const layer = await lstmForwardArrays(args);
    tf.tidy(() => {
      const p = args.params;
      const t2 = (a: (number | string)[][]) => tf.tensor2d(a as number[][]);
      const t1 = (a: (number | string)[]) => tf.tensor1d(a as number[]);
      const params = {
        w_xh: t2(p.w_xh),
        w_hh: t2(p.w_hh),
        b_x: t1(p.b_x),
        b_h: t1(p.b_h),
        atn_x: { gain: t1(p.atn_x.gain), bias: t1(p.atn_x.bias) },
        atn_h: { gain: t1(p.atn_h.gain), bias: t1(p.atn_h.bias) },
        atn_c: { gain: t1(p.atn_c.gain), bias: t1(p.atn_c.bias) },
      };
      const cell = new AtnLstmCell(params, { k: c.k, eps: c.eps });
      for (let pass = 0; pass < 2; pass++) {
        let h = t2(args.h0),
          cc = t2(args.c0);
        const hs: number[][][] = [],
          cs: number[][][] = [];
        for (let t = 0; t < c.T; t++) {
          ({ h, c: cc } = cell.step(t2(args.x[t]), h, cc));
          hs.push(h.arraySync());
          cs.push(cc.arraySync());
        }
        const r = compareOutputs(layer, { h: hs, c: cs }, exp.tol, exp.tol);
        expect(r.ok, `pass ${pass}: ${r.detail}`).toBe(true);
        cell.reset();
      }
      cell.dispose();
    });
  });

  it('ATN-3.6 standard initialisation: orthogonal W_xh, W_hh = [I I I I], zero biases, gains 1', () => {
    for (const [I, H] of [
      [2, 8],
      [40, 4],
      [3, 3],
    ]) {
      const a = standardInit(I, H, 7);
      const G = 4 * H;
      const W = a.w_xh;
      const [n, len, rowsOrth] = I <= G ? [I, G, true] : [G, I, false];
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let dot = 0;
          for (let l = 0; l < len; l++) dot += rowsOrth ? W[i * G + l] * W[j * G + l] : W[l * G + i] * W[l * G + j];
          expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-5);
        }
      expect(Array.from(a.w_hh)).toEqual(Array.from(tiledIdentity(H)));
      for (let i = 0; i < H; i++) for (let g = 0; g < 4; g++) expect(a.w_hh[i * G + g * H + i]).toBe(1);
      expect(a.b_x.every((x) => x === 0) && a.b_h.every((x) => x === 0)).toBe(true);
      for (const aff of [a.atn_x, a.atn_h, a.atn_c]) expect(aff.gain.every((x) => x === 1) && aff.bias.every((x) => x === 0)).toBe(true);
    }
    expect(Array.from(orthogonal(2, 8, 1))).toEqual(Array.from(orthogonal(2, 8, 1)));
  });

  it('ATN-4.3 trainable: tf.variableGrads + adam steps reduce a loss (ATN-LSTM k=3 and LN-LSTM k=1)', () => {
    for (const k of [3, 1]) {
      const model = new AtnLstm(2, 6, { k, eps: 1e-5 }, 3);
      const x = tf.randomNormal([8, 4, 2], 0, 1, 'float32', 9) as tf.Tensor3D;
      const target = tf.randomUniform([8, 4, 6], -0.5, 0.5, 'float32', 10);
      const opt = tf.train.adam(0.02);
      const loss = () => tf.mean(tf.square(tf.sub(model.apply(x).h, target))) as tf.Scalar;
      const first = tf.tidy(() => loss().dataSync()[0]);
      for (let i = 0; i < 15; i++)
        tf.tidy(() => {
          const { grads } = tf.variableGrads(loss, model.variables());
          opt.applyGradients(grads as never);
        });
      const last = tf.tidy(() => loss().dataSync()[0]);
      expect(last).toBeLessThan(first * 0.9);
      opt.dispose();
      tf.dispose([x, target]);
      model.dispose();
    }
  });

  it('ATN-4.3 tensors are released: a forward and a gradient leave no tensor behind (both paths)', async () => {
    const c = { T: 4, B: 2, I: 2, H: 3, k: 2, eps: 0, seed: 21 };
    const args = parseLstmVjpArgs(lstmArgs(c, true), PARSE);
    await lstmVjpArrays(args);
    const before = tf.memory().numTensors;
    for (const path of ['host', 'device'] as const) {
      await lstmVjpArrays(args, path);
      await lstmForwardArrays(args, path);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('ATN-4.3 matMul with explicit transposes has the gradient of tf.matMul', () => {
    tf.tidy(() => {
      const a = tf.randomNormal([5, 7], 0, 1, 'float32', 1) as tf.Tensor2D;
      const b = tf.randomNormal([7, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
      const dy = tf.randomNormal([5, 3], 0, 1, 'float32', 3) as tf.Tensor2D;
      const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => matMul(x as tf.Tensor2D, y as tf.Tensor2D))([a, b], dy);
      const theirs = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D))([a, b], dy);
      for (let i = 0; i < 2; i++) {
        const d = tf.max(tf.abs(tf.sub(ours[i], theirs[i]))).dataSync()[0];
        expect(d).toBeLessThan(1e-5);
      }
      expect(() => matMul(a, a)).toThrow(/do not multiply/);
    });
  });

  it("ATN-7.4 the fused loops' exp, sigmoid, tanh agree with Math.* far below float32 resolution", () => {
    const xs = [
      -1e308,
      -800,
      -745.2,
      -700,
      -699.99,
      -50,
      -1,
      -1e-9,
      -0,
      0,
      5e-324,
      1e-9,
      0.5,
      1,
      20,
      88.7,
      699.99,
      700,
      709.7,
      710,
      1e308,
      Infinity,
      -Infinity,
    ];
    const r = rng(99);
    for (let i = 0; i < 2000; i++) xs.push(40 * r(), 1400 * r());
    for (const x of xs) {
      const rel = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), 1e-300));
      expect(rel(fastExp(x), Math.exp(x)), `exp(${x})`).toBeLessThan(1e-13);
      expect(rel(fastSigmoid(x), 1 / (1 + Math.exp(-x))), `sigmoid(${x})`).toBeLessThan(1e-13);
      expect(Math.abs(fastTanh(x) - Math.tanh(x)), `tanh(${x})`).toBeLessThan(1e-15);
    }
    expect(fastExp(NaN)).toBeNaN();
  });

  it('ATN-6.8 lstmLayer refuses parameters of the wrong shape naming them', () => {
    tf.tidy(() => {
      const p = lstmTensors(standardInit(2, 3), 2, 3);
      const bad = { ...p, w_hh: tf.zeros([3, 11]) as tf.Tensor2D };
      const x = tf.zeros([2, 1, 2]) as tf.Tensor3D,
        h = tf.zeros([1, 3]) as tf.Tensor2D;
      expect(() => lstmLayer(x, h, h, bad, { k: 1, eps: 1e-5 })).toThrow(/params\.w_hh.*ATN-6\.8/);
      expect(lstmTensorList(p)).toHaveLength(10);
    });
  });
});
