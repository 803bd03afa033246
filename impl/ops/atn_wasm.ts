/**
 * The ATN op's host path on the wasm backend with its per-entry loops in WebAssembly SIMD (atn_kernel.wat): the
 * same steps as atn_host.ts (row statistics, window statistics, y; row sums, forward-looking window sums, da) with the
 * O(rows) window arithmetic left in TypeScript (atn_window.ts, shared with atn_host.ts) and only the O(rows * H) loops
 * in the kernel, which reads and writes the tensors on the backend's own heap (no copies).
 *
 * Why a kernel at all: the JS loops run one float64 chain per row and, once the backend's heap has grown (it detaches
 * its ArrayBuffer), every typed-array access carries a detach check; the same arithmetic two lanes at a time costs a
 * fraction of that (issue 13.5: the op beside torch.nn.LayerNorm). Where the kernel cannot load (no SIMD, another
 * backend, data not on the heap) atn.ts uses atn_host.ts; ATN_HOST_KERNEL=js forces that (tests, bench).
 */
import { ATN_KERNEL_WASM_BASE64 } from './atn_kernel_wasm';
import { daTerms, rowVjp, type HostDims, type HostTape } from './atn_host';
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

/**
 * Per row (1 or 0): the forward's float32 test. s = the window's sd; the row's entries are at most |m| + sqrt(M2) and
 * their RMS is sqrt(m^2 + M2/H) (a lower bound on the window's largest |a|, so K_t >= RMS/s).
 */
function forwardOrdinary(ok: Float64Array, affine: boolean, H: number, mean: Float64Array, m2: Float64Array, s: Float64Array): number {
  let n = 0;
  for (let r = 0; r < ok.length; r++) {
    const m = mean[r],
      q = m2[r],
      sd = s[r];
    ok[r] =
      affine && sd >= 1 / FAST.scale && sd <= FAST.scale && Math.abs(m) + Math.sqrt(q) <= FAST.scale && Math.sqrt(m * m + q / H) * FAST.scale >= sd ? 1 : 0;
    n += ok[r];
  }
  return n;
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

/** What the wasm forward keeps beyond HostTape: the forward's per-row float32 test and whether gain/bias passed. */
export interface WasmTape extends HostTape {
  /** 1/s per row. */
  rs: Float64Array;
  ok: Float64Array;
  affine: boolean;
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
  return withScratch(heap, [H, H, H32, H32, R, R, R, R, R], ([g, b, g32, b32, mean, m2, mu, rs, okp], view) => {
    view(0).set(gain);
    view(1).set(bias);
    new Float32Array(heap.memory.buffer, g32, H).set(gain);
    new Float32Array(heap.memory.buffer, b32, H).set(bias);
    K.row_stats(ap, R, H, mean, m2, H >= FAST.minH ? 1 : 0);
    const m = view(4).slice(),
      q = view(5).slice();
    const W = windowStats(layoutOf(T, B, batchMajor), k, H, eps, m, q, undefined, undefined, what);
    view(6).set(W.mu);
    const c = new Float64Array(R);
    for (let r = 0; r < R; r++) c[r] = 1 / W.s[r];
    view(7).set(c);
    const affine = affineOrdinary(gain, bias, H);
    const ok = new Float64Array(R);
    const n32 = forwardOrdinary(ok, affine, H, m, q, W.s);
    kernelRows.forward32 += n32;
    kernelRows.forward64 += R - n32;
    view(8).set(ok);
    K.forward_y(ap, yp, R, H, g, b, g32, b32, mu, rs, okp);
    return { dims, gain, mean: m, W, rs: c, ok, affine };
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
  const sizes = [H, H, H, H32, H32, H32, R, R, R, R, R, R, R, R, R];
  return withScratch(heap, sizes, ([g, dg, db, g32, dg32, db32, mu, rs, s1, s2, mn, sv, kk, ok1, ok2], view) => {
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
    const S1 = view(8).slice(),
      S2 = view(9).slice();
    const u = new Float64Array(R),
      v = new Float64Array(R),
      q = new Float64Array(R);
    for (let r = 0; r < R; r++) rowVjp(u, v, q, W.mu, W.s, W.n, r, S1[r], S2[r]);
    const { sv: Sv, kk: kv } = daTerms(tape, u, v, q);
    view(10).set(mean);
    view(11).set(Sv);
    const okDa = view(13).slice();
    let n32 = 0;
    for (let r = 0; r < R; r++) {
      const a = Math.abs(Sv[r]);
      if (okDa[r] && !(a <= FAST.sv && (a === 0 || a >= 1 / FAST.sv) && Math.abs(kv[r]) <= FAST.kMax)) okDa[r] = 0;
      n32 += okDa[r];
    }
    kernelRows.backward32 += n32;
    kernelRows.backward64 += R - n32;
    view(12).set(kv);
    view(14).set(okDa);
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
