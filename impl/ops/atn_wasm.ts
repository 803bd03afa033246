/**
 * The ATN op's host path on the wasm backend with its per-entry loops in WebAssembly SIMD (atn_kernel.wat): the
 * same steps as atn_host.ts (row statistics, window statistics, y; row sums, forward-looking window sums, da), all in
 * the kernel, which reads and writes the tensors on the backend's own heap (no copies). The O(rows) window arithmetic
 * (window statistics, rowVjp, forward-looking window sums, daTerms) is scalar float64 there, the same operations in
 * the same order as atn_window.ts and atn_host.ts, so the same bits (properties/impl-atn-kernel.test.ts compares
 * them); atn_window.ts still names a degenerate window (ATN-6.6) when the kernel reports one.
 *
 * Why a kernel at all: the JS loops run one float64 chain per row and, once the backend's heap has grown (it detaches
 * its ArrayBuffer), every typed-array access carries a detach check; the same arithmetic two lanes at a time costs a
 * fraction of that (issue 13.5: the op beside torch.nn.LayerNorm). Where the kernel cannot load (no SIMD, another
 * backend, data not on the heap) atn.ts uses atn_host.ts; ATN_HOST_KERNEL=js forces that (tests, bench).
 */
import { ATN_KERNEL_WASM_BASE64 } from './atn_kernel_wasm';
import { type HostDims, type HostTape } from './atn_host';
import { layoutOf, windowStats } from './atn_window';
import { wasmApi, type HeapAccess, type WasmMemory } from './host_io';

interface KernelExports {
  row_stats(a: number, R: number, H: number, mean: number, m2: number, fast: number): void;
  forward_y(a: number, y: number, R: number, H: number, g: number, b: number, g32: number, b32: number, mu: number, rs: number, ok: number): void;
  backward_sums(
    a: number,
    dy: number,
    R: number,
    H: number,
    g: number,
    g32: number,
    mu: number,
    rs: number,
    s1: number,
    s2: number,
    dg: number,
    db: number,
    dg32: number,
    db32: number,
    ok: number,
  ): number;
  backward_da(
    a: number,
    dy: number,
    da: number,
    R: number,
    H: number,
    g: number,
    g32: number,
    mean: number,
    rs: number,
    sv: number,
    kk: number,
    ok: number,
  ): void;
  window_stats(
    mean: number,
    m2: number,
    T: number,
    B: number,
    sT: number,
    sB: number,
    k: number,
    H: number,
    eps: number,
    mu: number,
    s: number,
    rs: number,
    n: number,
    pm: number,
    pq: number,
    sm: number,
    sq: number,
    pc: number,
    sc: number,
  ): number;
  window_sums(src: number, dst: number, T: number, B: number, sT: number, sB: number, k: number, pre: number, suf: number): void;
  row_vjp(s1: number, s2: number, mu: number, sd: number, n: number, u: number, v: number, q: number, R: number): void;
  da_terms(su: number, sv: number, sq: number, mean: number, kk: number, R: number): void;
  forward_ok(mean: number, m2: number, s: number, ok: number, R: number, H: number, affine: number, scale: number): number;
  da_ok(sv: number, kk: number, okIn: number, okOut: number, R: number, svMax: number, kMax: number): number;
}

/**
 * When a row may take the kernel's float32 arithmetic (ATN-7.6 (e) gives the error argument): every quantity the
 * float32 loops form stays far inside the normal float32 range, so each operation is off by at most u relative and
 * no underflow (an absolute error of the subnormal spacing, which a later product could magnify) matters next to
 * the tolerance. The limits are powers of two with wide margins, not fitted values.
 */
const FAST = {
  /** H at least this: rho_t = N_t + 4 >= 20, so the few roundings of the float32 loops stay well inside ATN-7.2/7.3. */
  minH: 16,
  /**
   * |g| at most this, |b| at most bias. (No lower bound: a tiny g*z or g*dy that underflows is off by half the
   * subnormal spacing, which the 4 lambda of ATN-7.2 and the lambda-sum of ATN-7.3 cover. The kernel's $sums_row32
   * tests dy: at most 2^40, and each row's largest |g dy| zero or at least 2^-60.)
   */
  affine: 2 ** 20,
  bias: 2 ** 60,
  /** The window's s within [1/scale, scale]; the row's entries at most scale; the row's RMS at least s/scale. */
  scale: 2 ** 40,
  /** The backward's sv: at most this, and zero or at least 1/this; kk at most kMax. */
  sv: 2 ** 60,
  kMax: 2 ** 80,
} as const;

/** Rows each arithmetic took since the module loaded (the tests read it: proof that the float32 rows are exercised). */
export const kernelRows = { forward32: 0, forward64: 0, backward32: 0, backward64: 0 };

/** Whether gain and bias allow the float32 rows at all (NaN fails every comparison, as intended). */
function affineOrdinary(gain: Float64Array, bias: Float64Array, H: number): boolean {
  if (H < FAST.minH) return false;
  for (let h = 0; h < H; h++) if (!(Math.abs(gain[h]) <= FAST.affine && Math.abs(bias[h]) <= FAST.bias)) return false;
  return true;
}

let compiled: object | null | undefined;
const instances = new WeakMap<WasmMemory, KernelExports>();

/** The kernel instantiated over `heap`'s memory; undefined where it cannot load (or ATN_HOST_KERNEL=js). */
export function wasmKernel(heap: HeapAccess): KernelExports | undefined {
  if (process.env.ATN_HOST_KERNEL === 'js') return undefined;
  if (!wasmApi) return undefined;
  if (compiled === undefined) {
    try {
      compiled = new wasmApi.Module(Buffer.from(ATN_KERNEL_WASM_BASE64, 'base64'));
    } catch {
      compiled = null; // no SIMD in this engine: the JS loops
    }
  }
  if (compiled === null) return undefined;
  let k = instances.get(heap.memory);
  if (!k) {
    k = new wasmApi.Instance(compiled, { env: { memory: heap.memory } }).exports as unknown as KernelExports;
    instances.set(heap.memory, k);
  }
  return k;
}

/**
 * Float64 scratch on the heap: `sizes` arrays allocated in one block; `body` gets their byte offsets and a function
 * returning a view of one (views are taken on demand: an allocation may grow the heap and detach older ones).
 */
function withScratch<R>(heap: HeapAccess, sizes: number[], body: (p: number[], view: (i: number) => Float64Array) => R): R {
  const total = sizes.reduce((s, n) => s + n, 0);
  const base = heap.malloc(8 * total + 8);
  const start = base + ((8 - (base % 8)) % 8);
  const ptrs: number[] = [];
  let off = start;
  for (const n of sizes) {
    ptrs.push(off);
    off += 8 * n;
  }
  try {
    return body(ptrs, (i) => new Float64Array(heap.memory.buffer, ptrs[i], sizes[i]));
  } finally {
    heap.free(base);
  }
}

/** What the wasm forward keeps beyond HostTape: 1/s and the forward's float32 test per row (gain and bias included). */
export interface WasmTape extends HostTape {
  /** 1/s per row. */
  rs: Float64Array;
  ok: Float64Array;
}

/** atnForwardHost on the heap: y at byte offset yp from a at ap. Throws ATN-6.6 errors (windowStats). */
export function atnForwardWasm(
  K: KernelExports,
  heap: HeapAccess,
  ap: number,
  yp: number,
  gain: Float64Array,
  bias: Float64Array,
  dims: HostDims,
  what = 'a',
): WasmTape {
  const { T, B, H, k, eps, batchMajor } = dims;
  const R = T * B;
  const H32 = Math.ceil(H / 2);
  const L = layoutOf(T, B, batchMajor);
  const sizes = [H, H, H32, H32, R, R, R, R, R, R, R, R, R, R, R, T, T];
  return withScratch(heap, sizes, ([g, b, g32, b32, mean, m2, mu, rs, okp, sd, n, pm, pq, sm, sq, pc, sc], view) => {
    view(0).set(gain);
    view(1).set(bias);
    new Float32Array(heap.memory.buffer, g32, H).set(gain);
    new Float32Array(heap.memory.buffer, b32, H).set(bias);
    K.row_stats(ap, R, H, mean, m2, H >= FAST.minH ? 1 : 0);
    const m = view(4).slice();
    // the window statistics in the kernel (the same bits as windowStats); windowStats itself names a degenerate window
    if (!K.window_stats(mean, m2, T, B, L.strideT, L.strideB, k, H, eps, mu, sd, rs, n, pm, pq, sm, sq, pc, sc)) {
      windowStats(L, k, H, eps, m, view(5).slice(), what);
      throw new Error('atn_wasm: the kernel found a degenerate window that windowStats does not (they must agree bit for bit)');
    }
    const W = { mu: view(6).slice(), s: view(9).slice(), n: view(10).slice() };
    const c = view(7).slice();
    // the forward's float32 test per row (the kernel's forward_ok): s within [1/scale, scale], the step's entries at
    // most scale (|m| + sqrt(M2) bounds them) and its RMS sqrt(m^2 + M2/H) at least s/scale (a lower bound on the
    // window's largest |a|, so K_t >= RMS/s)
    const n32 = K.forward_ok(mean, m2, sd, okp, R, H, affineOrdinary(gain, bias, H) ? 1 : 0, FAST.scale);
    kernelRows.forward32 += n32;
    kernelRows.forward64 += R - n32;
    K.forward_y(ap, yp, R, H, g, b, g32, b32, mu, rs, okp);
    return { dims, gain, mean: m, W, rs: c, ok: view(8).slice() };
  });
}

/** atnBackwardHost on the heap: da at byte offset dap from a at ap and dy at dyp. */
export function atnBackwardWasm(
  K: KernelExports,
  heap: HeapAccess,
  tape: WasmTape,
  ap: number,
  dyp: number,
  dap: number,
): { dgain: Float64Array; dbias: Float64Array } {
  const { dims, gain, mean, W } = tape;
  const { T, B, H } = dims;
  const R = T * B;
  const H32 = Math.ceil(H / 2);
  const L = layoutOf(T, B, dims.batchMajor);
  const sizes = [H, H, H, H32, H32, H32, R, R, R, R, R, R, R, R, R, R, R, R, R, R, R, R, R, R];
  return withScratch(heap, sizes, (p, view) => {
    const [g, dg, db, g32, dg32, db32, mu, rs, s1, s2, mn, sv, kk, ok1, ok2, sd, n, u, v, q, su, sq, pre, suf] = p;
    const f32 = (p: number) => new Float32Array(heap.memory.buffer, p, H);
    const zero = () => {
      view(1).fill(0);
      view(2).fill(0);
      f32(dg32).fill(0);
      f32(db32).fill(0);
    };
    view(0).set(gain);
    f32(g32).set(gain);
    zero();
    view(6).set(W.mu);
    view(7).set(tape.rs);
    // float32 rows where the forward found them ordinary; if dy is not (the kernel tests it on the way), all again
    // in float64
    view(13).set(tape.ok);
    if (!K.backward_sums(ap, dyp, R, H, g, g32, mu, rs, s1, s2, dg, db, dg32, db32, ok1)) {
      zero();
      view(13).fill(0);
      K.backward_sums(ap, dyp, R, H, g, g32, mu, rs, s1, s2, dg, db, dg32, db32, ok1);
    }
    // rowVjp, the forward-looking window sums and daTerms in the kernel (the same bits as atn_host.ts)
    view(15).set(W.s);
    view(16).set(W.n);
    view(10).set(mean);
    K.row_vjp(s1, s2, mu, sd, n, u, v, q, R);
    K.window_sums(u, su, T, B, L.strideT, L.strideB, dims.k, pre, suf);
    K.window_sums(v, sv, T, B, L.strideT, L.strideB, dims.k, pre, suf);
    K.window_sums(q, sq, T, B, L.strideT, L.strideB, dims.k, pre, suf);
    K.da_terms(su, sv, sq, mn, kk, R);
    // da's float32 rows: those of the sums whose sv and kk are in range
    const n32 = K.da_ok(sv, kk, ok1, ok2, R, FAST.sv, FAST.kMax);
    kernelRows.backward32 += n32;
    kernelRows.backward64 += R - n32;
    K.backward_da(ap, dyp, dap, R, H, g, g32, mn, rs, sv, kk, ok2);
    const dgain = view(1).slice(),
      dbias = view(2).slice();
    const d32 = f32(dg32),
      b32 = f32(db32);
    for (let h = 0; h < H; h++) {
      dgain[h] += d32[h];
      dbias[h] += b32[h];
    }
    return { dgain, dbias };
  });
}
