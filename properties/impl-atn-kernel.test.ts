/**
 * The ATN op's WebAssembly kernel on the wasm backend (impl/ops/atn_kernel.wat through atn_wasm.ts) against the
 * reference (ATN-7.2, 7.3). The kernel runs a row in float32 when the row is ordinary (atn_wasm.ts, FAST) and in
 * float64 otherwise; the campaign's cases are mostly narrow (H < 16) or extreme, so they reach the float32 rows
 * rarely. These properties generate H = 16..40 in every regime, count the rows each arithmetic took (kernelRows) and
 * require the float32 share to be real, and put cases on both sides of every limit of the test (data near 2^+-40,
 * g near 2^20, dy near 2^40, g*dy near 2^-60, H = 16, 17, and H mod 8 tails).
 */
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createReference, type Reference } from '../reference';
import { call, type Target } from '../protocol/target';
import { initBackend } from '../impl/backend';
import { kernelRows, wasmKernel } from '../impl/ops/atn_wasm';
import { heapAccess } from '../impl/ops/host_io';
import { rowVjp } from '../impl/ops/atn_host';
import { forwardWindowSums, layoutOf, windowStats } from '../impl/ops/atn_window';
import { createImplTarget } from '../impl/target';
import { atnCase, withDy, REGIMES, type Limits } from './lib/arbitraries';
import { agrees, fitsFloat32, forwardAgreement, implArgs, vjpAgreement } from './lib/impl-cases';
import { assertProperty } from './lib/seed';

const LIM: Limits = { maxT: 8, maxB: 3, maxH: 40, minH: 16, maxK: 8 };
let ref: Reference;
let target: Target;

beforeAll(async () => {
  await initBackend('wasm');
  target = await createImplTarget();
  ref = createReference();
});

const args = implArgs;

const snapshot = () => ({ ...kernelRows });
const share = (before: typeof kernelRows, key: 'forward' | 'backward') => {
  const n32 = kernelRows[`${key}32`] - before[`${key}32`],
    n64 = kernelRows[`${key}64`] - before[`${key}64`];
  return { n32, n64, share: n32 / Math.max(1, n32 + n64) };
};

describe('impl atn: the wasm kernel', () => {
  it('runs on the wasm backend (the properties below are about it)', () => {
    expect(tf.getBackend()).toBe('wasm');
  });

  it('impl/ops/atn_kernel_wasm.ts is the build of impl/ops/atn_kernel.wat (tools/build-wasm.mjs)', async () => {
    const { build } = await import('../tools/build-wasm.mjs');
    expect(readFileSync(new URL('../impl/ops/atn_kernel_wasm.ts', import.meta.url), 'utf8')).toBe(await build());
  });

  it('ATN-7.2 atn.forward agrees with the reference at H = 16..40 in every regime; the general regime takes float32 rows', async () => {
    for (const regime of REGIMES) {
      const before = snapshot();
      await assertProperty(forwardAgreement(target, ref, regime, LIM), { numRuns: 12, checkId: `impl-kernel.forward.${regime}` });
      const s = share(before, 'forward');
      console.log(`kernel forward rows, ${regime}: float32 ${s.n32}, float64 ${s.n64}`);
      // gain and bias are omitted in about one case in five and otherwise ordinary; the data are moderate
      if (regime === 'general') expect(s.share).toBeGreaterThan(0.5);
    }
  });

  it('ATN-7.3 atn.vjp agrees with the reference at H = 16..40 in every regime; the general regime takes float32 rows', async () => {
    for (const regime of REGIMES) {
      const before = snapshot();
      await assertProperty(vjpAgreement(target, ref, regime, LIM), { numRuns: 8, checkId: `impl-kernel.vjp.${regime}` });
      const s = share(before, 'backward');
      console.log(`kernel backward rows, ${regime}: float32 ${s.n32}, float64 ${s.n64}`);
      if (regime === 'general') expect(s.share).toBeGreaterThan(0.3);
    }
  });

  it('ATN-7.2, 7.3 on both sides of every limit of the float32 test (data, gain, dy, g*dy) and at H = 16, 17, 23', async () => {
    const before = snapshot();
    const edges = fc.record({
      c: withDy('float32', atnCase('float32', 'general', { ...LIM, maxH: 23 }), LIM),
      // powers of two across each limit: data 2^+-40, gain 2^20, dy 2^40, g*dy 2^-60
      aExp: fc.constantFrom(0, -42, -40, -38, 38, 40, 42),
      gExp: fc.constantFrom(0, 19, 20, 21),
      dyExp: fc.constantFrom(0, -62, -58, -80, 38, 40, 42),
    });
    await assertProperty(
      fc.asyncProperty(edges, async ({ c, aExp, gExp, dyExp }) => {
        const r = Math.fround;
        const H = c.a[0][0].length;
        const gain = (c.gain ?? Array.from({ length: H }, (_, h) => 1 - h / H)).map((g) => r(g * 2 ** gExp));
        const v = {
          ...args(c),
          a: c.a.map((m) => m.map((row) => row.map((x) => r(x * 2 ** aExp)))),
          gain,
          bias: c.bias,
          dy: c.dy.map((m) => m.map((row) => row.map((x) => r(x * 2 ** dyExp)))),
        };
        const fwd = { ...v, dy: undefined };
        agrees(await call(target, 'atn.forward', fwd), ref.expect('atn.forward', fwd), `a*2^${aExp}, g*2^${gExp}`);
        const exp = ref.expect('atn.vjp', v);
        fc.pre(fitsFloat32(exp.want));
        agrees(await call(target, 'atn.vjp', v), exp, `a*2^${aExp}, g*2^${gExp}, dy*2^${dyExp}`);
      }),
      { numRuns: 40, checkId: 'impl-kernel.limits' },
    );
    const f = share(before, 'forward'),
      b = share(before, 'backward');
    console.log(`kernel rows at the limits: forward float32 ${f.n32} / float64 ${f.n64}, backward float32 ${b.n32} / float64 ${b.n64}`);
    // both arithmetics were reached
    expect(f.n32).toBeGreaterThan(0);
    expect(f.n64).toBeGreaterThan(0);
    expect(b.n32).toBeGreaterThan(0);
    expect(b.n64).toBeGreaterThan(0);
  });

  it("the kernel's window arithmetic (window_stats, window_sums, row_vjp, da_terms) has the bits of atn_window.ts and atn_host.ts", async () => {
    const probe = tf.zeros([1]);
    const heap = heapAccess([probe])!;
    const K = wasmKernel(heap)!;
    probe.dispose();
    // per-row values over 2^+-100 (steps of very different magnitude in one window), zeros and exact repeats
    const value = fc.oneof(fc.constant(0), fc.double({ min: -(2 ** 100), max: 2 ** 100, noNaN: true }), fc.constantFrom(1, -3.5, 2 ** -60));
    const spread = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 2 ** 200, noNaN: true }));
    const dims = fc.record({
      T: fc.integer({ min: 1, max: 20 }),
      B: fc.integer({ min: 1, max: 5 }),
      H: fc.integer({ min: 1, max: 300 }),
      k: fc.integer({ min: 1, max: 24 }),
      bm: fc.boolean(),
      eps: fc.constantFrom(0, 1e-5),
    });
    const cases = dims.chain((d) => {
      const R = d.T * d.B;
      const col = (v: fc.Arbitrary<number>) => fc.array(v, { minLength: R, maxLength: R }).map((x) => Float64Array.from(x));
      return fc.record({ d: fc.constant(d), mean: col(value), m2: col(spread), s1: col(value), s2: col(value) });
    });
    await assertProperty(
      fc.property(cases, ({ d, mean, m2, s1, s2 }) => {
        const { T, B, H, k, eps } = d;
        const R = T * B;
        const L = layoutOf(T, B, d.bm);
        let want: ReturnType<typeof windowStats> | undefined;
        try {
          want = windowStats(L, k, H, eps, mean, m2);
        } catch {
          want = undefined; // a degenerate window: the kernel must say so
        }
        const n = 20;
        const base = heap.malloc(8 * (n * R + 2 * T) + 8);
        try {
          const p0 = base + ((8 - (base % 8)) % 8);
          const at = (i: number) => p0 + 8 * R * i;
          const view = (i: number) => new Float64Array(heap.memory.buffer, at(i), R);
          // NaN everywhere first: a read outside what a function was given shows
          new Float64Array(heap.memory.buffer, p0, n * R + 2 * T).fill(NaN);
          view(0).set(mean);
          view(1).set(m2);
          const fine = K.window_stats(
            at(0),
            at(1),
            T,
            B,
            L.strideT,
            L.strideB,
            k,
            H,
            eps,
            at(2),
            at(3),
            at(4),
            at(5),
            at(6),
            at(7),
            at(8),
            at(9),
            at(n),
            at(n) + 8 * T,
          );
          expect(fine).toBe(want ? 1 : 0);
          if (!want) return;
          const same = (got: Float64Array, exp: Float64Array) => expect(Array.from(got).map((x, i) => Object.is(x, exp[i]))).not.toContain(false);
          same(view(2), want.mu);
          same(view(3), want.s);
          same(
            view(4),
            want.s.map((x) => 1 / x),
          );
          same(view(5), want.n);
          // the backward's per-row terms from the same windows
          const u = new Float64Array(R),
            v = new Float64Array(R),
            q = new Float64Array(R);
          for (let r = 0; r < R; r++) rowVjp(u, v, q, want.mu, want.s, want.n, r, s1[r], s2[r]);
          view(10).set(s1);
          view(11).set(s2);
          K.row_vjp(at(10), at(11), at(2), at(3), at(5), at(12), at(13), at(14), R);
          same(view(12), u);
          same(view(13), v);
          same(view(14), q);
          const [Su, Sv, Sq] = forwardWindowSums(L, k, [u, v, q]);
          for (const [src, dst, exp] of [
            [12, 15, Su],
            [13, 16, Sv],
            [14, 17, Sq],
          ] as const) {
            K.window_sums(at(src), at(dst), T, B, L.strideT, L.strideB, k, at(6), at(7));
            same(view(dst), exp);
          }
          K.da_terms(at(15), at(16), at(17), at(0), at(18), R);
          same(
            view(18),
            Su.map((x, r) => x + mean[r] * Sv[r] - Sq[r]),
          );
        } finally {
          heap.free(base);
        }
      }),
      { numRuns: 300, checkId: 'impl-kernel.window-bits' },
    );
  });
});
