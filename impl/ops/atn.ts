/**
 * The ATN op (ATN-1): y_t = g * (a_t - mu_t) / sqrt(var_t + eps) + b, statistics over the window of the last k steps
 * of the same sample. Differentiable in a, gain and bias.
 *
 * Host path (wasm, cpu, tensorflow): fused loops over the data (atn_host.ts, float64): per-step two-pass statistics,
 * window statistics by atn_window.ts (window-local, a cost independent of k), normalization; its gradient is the
 * closed form of ATN-4.1, attached with tf.customGrad. On wasm the per-entry loops run as a WebAssembly SIMD kernel
 * on the backend's heap (atn_wasm.ts, atn_kernel.wat; float32 on ordinary rows, ATN-7.6 (e)). Both run in tf.tidy
 * scopes named after ATN_KERNEL and ATN_GRAD (kernel_names.ts).
 * Webgpu path (the default on webgpu, which cannot read synchronously in Node): fused WGSL kernels (atn_webgpu.ts,
 * atn_wgsl.ts), three dispatches forward and four backward, the same closed form attached with tf.customGrad.
 * Device path (any backend; the default on webgl): atn_graph.ts, tfjs ops only, autodiff: the op-by-op baseline and
 * the tests' autodiff cross-check.
 */
import * as tf from '@tensorflow/tfjs';
import { badArgument } from '../../protocol/errors';
import { atnGraph } from './atn_graph';
import { atnBackwardHost, atnForwardHost, type HostDims, type HostTape } from './atn_host';
import { atnBackwardWasm, atnForwardWasm, wasmKernel } from './atn_wasm';
import { atnWebgpu } from './atn_webgpu';
import { ATN_GRAD, ATN_KERNEL } from './kernel_names';
import { heapAccess, heapOp, hostOp, saveShared } from './host_io';

export { ATN_KERNEL } from './kernel_names';

export interface AtnOptions {
  k: number;
  eps: number;
  gain?: tf.Tensor1D;
  bias?: tf.Tensor1D;
  /** a is [B,T,H] instead of [T,B,H]. */
  batchMajor?: boolean;
  /**
   * Force a path (tests, bench): 'host' needs synchronous reads, 'webgpu' the webgpu backend, 'device' is tfjs ops
   * with autodiff on any backend. Default: by backend (defaultPath).
   */
  path?: AtnPath;
}

export type AtnPath = 'host' | 'webgpu' | 'device';

/** Backends whose tensors cannot be read synchronously (in Node). */
const NO_SYNC_READ = new Set(['webgpu', 'webgl']);

/** The fused kernels where they exist (host loops; WGSL on webgpu), else tfjs ops. */
export function defaultPath(): AtnPath {
  const be = tf.getBackend();
  return be === 'webgpu' ? 'webgpu' : NO_SYNC_READ.has(be) ? 'device' : 'host';
}

/** Which loops the host path runs on the active backend: the wasm kernel where it loads, else atn_host.ts's JS. */
export function hostLoops(): 'wasm SIMD kernel' | 'JS loops' {
  const heap = heapAccess([]);
  return heap && wasmKernel(heap) ? 'wasm SIMD kernel' : 'JS loops';
}

export function checkAtnOptions(a: tf.Tensor, opts: AtnOptions): { T: number; B: number; H: number; eps32: number } {
  if (a.rank !== 3) throw badArgument('a', 'ATN-6.3', `expected a rank-3 tensor, got shape [${a.shape}]`);
  if (!Number.isInteger(opts.k) || opts.k < 1) throw badArgument('k', 'ATN-6.1', `must be a positive integer, got ${opts.k}`);
  if (!Number.isFinite(opts.eps) || opts.eps < 0) throw badArgument('eps', 'ATN-6.2', `must be finite and non-negative, got ${opts.eps}`);
  const [d0, d1, H] = a.shape as [number, number, number];
  const [T, B] = opts.batchMajor ? [d1, d0] : [d0, d1];
  for (const [name, v] of [
    ['gain', opts.gain],
    ['bias', opts.bias],
  ] as const)
    if (v && (v.rank !== 1 || v.shape[0] !== H)) throw badArgument(name, 'ATN-6.5', `expected shape [${H}], got [${v.shape}]`);
  return { T, B, H, eps32: Math.fround(opts.eps) };
}

/**
 * ATN of a [T,B,H] (time-major; [B,T,H] with batchMajor). eps is used as the float32 value it rounds to. A window with
 * var + eps = 0 throws AtnError degenerate_window (ATN-6.6) on the host path (the device path yields NaN there; the
 * protocol target checks the data itself).
 */
export function atn(a: tf.Tensor3D, opts: AtnOptions): tf.Tensor3D {
  const { T, B, H, eps32 } = checkAtnOptions(a, opts);
  return tf.tidy(ATN_KERNEL, () => {
    const gain = opts.gain ?? tf.ones([H]);
    const bias = opts.bias ?? tf.zeros([H]);
    const path = opts.path ?? defaultPath();
    if (path === 'device') return atnGraph(a, gain as tf.Tensor1D, bias as tf.Tensor1D, { k: opts.k, eps: eps32, batchMajor: opts.batchMajor });
    if (path === 'webgpu') return atnWebgpu(a, gain as tf.Tensor1D, bias as tf.Tensor1D, { T, B, H, k: opts.k, eps: eps32, batchMajor: !!opts.batchMajor });
    const f = tf.customGrad(((x: tf.Tensor3D, g: tf.Tensor1D, b: tf.Tensor1D, save: (ts: tf.Tensor[]) => void) =>
      atnHost(x, g, b, save, { T, B, H, k: opts.k, eps: eps32, batchMajor: !!opts.batchMajor })) as never) as unknown as (
      x: tf.Tensor3D,
      g: tf.Tensor1D,
      b: tf.Tensor1D,
    ) => tf.Tensor3D;
    return f(a, gain as tf.Tensor1D, bias as tf.Tensor1D);
  });
}

/**
 * The host path as one tfjs op: the fused loops read a's data where it lies and write y into the new tensor's own
 * storage (host_io.ts: no copies on wasm), through the wasm kernel where it loads, else the JS loops of atn_host.ts;
 * the closed-form gradient (ATN-4.1) is attached with tf.customGrad. The backward reads a again (saved through
 * customGrad's save, sharing a's storage on wasm (host_io.ts saveShared): an intermediate a is disposed before the
 * backprop otherwise) and dy the same way, and reuses the
 * forward's statistics (the tape).
 */
function atnHost(a: tf.Tensor3D, gain: tf.Tensor1D, bias: tf.Tensor1D, save: (ts: tf.Tensor[]) => void, dims: HostDims) {
  const g64 = Float64Array.from(gain.dataSync()),
    b64 = Float64Array.from(bias.dataSync());
  const heap = heapAccess([a]);
  const K = heap && wasmKernel(heap);
  if (!heap || !K) return atnHostJs(a, g64, b64, save, dims);
  // the wasm kernel (atn_wasm.ts)
  const {
    outs: [value],
    result: tape,
  } = heapOp([a], [a.shape], ([ap], [yp]) => atnForwardWasm(K, heap, ap, yp, g64, b64, dims));
  saveShared(save, [a]);
  const gradFunc = (dy: tf.Tensor3D, saved: tf.Tensor[]) =>
    tf.tidy(ATN_GRAD, () => {
      if (!heapAccess([saved[0], dy])) return backwardJs(tape, saved[0], dy);
      const {
        outs: [da],
        result: r,
      } = heapOp([saved[0], dy], [a.shape], ([ap, dyp], [dap]) => atnBackwardWasm(K, heap, tape, ap, dyp, dap));
      return [da, tf.tensor1d(Float32Array.from(r.dgain)), tf.tensor1d(Float32Array.from(r.dbias))];
    });
  return { value: value as tf.Tensor3D, gradFunc };
}

/** The host path with the JS loops of atn_host.ts (every backend that reads synchronously). */
function atnHostJs(a: tf.Tensor3D, g64: Float64Array, b64: Float64Array, save: (ts: tf.Tensor[]) => void, dims: HostDims) {
  const {
    outs: [value],
    result: tape,
  } = hostOp([a], [a.shape], ([x], [y]) => atnForwardHost(x, g64, b64, dims, y).tape);
  saveShared(save, [a]);
  const gradFunc = (dy: tf.Tensor3D, saved: tf.Tensor[]) => tf.tidy(ATN_GRAD, () => backwardJs(tape, saved[0], dy));
  return { value: value as tf.Tensor3D, gradFunc };
}

function backwardJs(tape: HostTape, a: tf.Tensor, dy: tf.Tensor): tf.Tensor[] {
  const H = tape.dims.H;
  const { outs } = hostOp([a, dy], [a.shape, [H], [H]], ([x, d], [da, dgain, dbias]) => {
    const r = atnBackwardHost(tape, x, d, da);
    dgain.set(r.dgain);
    dbias.set(r.dbias);
  });
  return outs;
}
