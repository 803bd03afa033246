/**
 * The ATN op on the webgpu backend as fused kernels (atn_wgsl.ts): three dispatches forward, four backward, the
 * closed-form gradient of ATN-4.1 attached with tf.customGrad, everything on the device (no reads back: webgpu in
 * Node cannot read synchronously). The tape is the step statistics and the window coefficients ([T*B, 4] and
 * [T*B, 8]), saved with a.
 */
import * as tf from '@tensorflow/tfjs';
import { badArgument } from '../../protocol/errors';
import { affineProgram, daProgram, daSumProgram, rowSumProgram, statsProgram, windowProgram, yProgram, type KernelDefects, type Program } from './atn_wgsl';
import { epsExponent } from './atn_tensor';
import { ATN_GRAD } from './kernel_names';

/** The part of tfjs-backend-webgpu's WebGPUBackend used here (a public method of the class). */
interface WebgpuRunner {
  runWebGPUProgram(program: Program, inputs: tf.TensorInfo[], dtype: 'float32', uniforms: { type: string; data: number[] }[]): tf.TensorInfo;
}

export interface AtnWebgpuDims {
  T: number;
  B: number;
  H: number;
  k: number;
  eps: number; // the float32 value
  batchMajor: boolean;
}

/** Defects for the suite's own tests (properties/impl-atn-webgpu.test.ts); empty otherwise. */
let defects: KernelDefects = {};
export function setKernelDefects(d: KernelDefects): void {
  defects = { ...d };
}
export function kernelDefects(): KernelDefects {
  return defects;
}

export function runner(): WebgpuRunner {
  if (tf.getBackend() !== 'webgpu') throw badArgument('path', 'ATN-7.5', `the fused webgpu kernels need the webgpu backend, active: ${tf.getBackend()}`);
  return tf.backend() as unknown as WebgpuRunner;
}

/** The uniforms of atn_wgsl.ts's UNIFORMS (the LSTM's kernels share them: impl/lstm_webgpu.ts). */
export function uniformData(d: AtnWebgpuDims): { type: string; data: number[] }[] {
  const int = (v: number) => ({ type: 'int32', data: [v] });
  return [
    int(d.T),
    int(d.B),
    int(d.H),
    int(Math.min(d.k, d.T)), // windows never hold more than T steps; k itself may exceed int32
    int(d.batchMajor ? 1 : 0),
    int(d.eps > 0 ? 1 : 0),
    int(d.eps > 0 ? epsExponent(d.eps) : 0),
    { type: 'float32', data: [d.eps] },
  ];
}

export type Uniforms = ReturnType<typeof uniformData>;

/** One program on the webgpu backend, its output as a tensor. */
export function run(p: Program, inputs: tf.Tensor[], u: Uniforms): tf.Tensor {
  const info = runner().runWebGPUProgram(p, inputs, 'float32', u);
  return tf.engine().makeTensorFromTensorInfo(info);
}

/** The forward's three dispatches: step statistics, window coefficients, y. */
function forward(a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, d: AtnWebgpuDims, u: Uniforms): { y: tf.Tensor; st: tf.Tensor; cf: tf.Tensor } {
  const rows = d.T * d.B;
  const st = run(statsProgram(rows, defects), [a], u);
  const cf = run(windowProgram(rows, defects), [st], u);
  const y = run(yProgram(a.shape, a.size), [a, g, b, st, cf], u);
  return { y, st, cf };
}

/** y = ATN(a) with fused kernels; a float32 [T,B,H] ([B,T,H] with batchMajor), gain and bias [H]. */
export function atnWebgpu(a: tf.Tensor3D, gain: tf.Tensor1D, bias: tf.Tensor1D, d: AtnWebgpuDims): tf.Tensor3D {
  runner();
  const u = uniformData(d);
  const f = tf.customGrad(((x: tf.Tensor3D, g: tf.Tensor1D, b: tf.Tensor1D, save: (ts: tf.Tensor[]) => void) => {
    const { y, st, cf } = forward(x, g, b, d, u);
    save([x, g, st, cf]);
    const gradFunc = (dy: tf.Tensor3D, saved: tf.Tensor[]) =>
      tf.tidy(ATN_GRAD, () => {
        const [xs, gs, sts, cfs] = saved;
        const rows = d.T * d.B;
        const rs = run(rowSumProgram(rows, defects), [xs, dy, gs, sts, cfs], u);
        const pq = run(daSumProgram(rows), [sts, cfs, rs], u);
        const da = run(daProgram(xs.shape, xs.size), [xs, dy, gs, sts, cfs, pq], u);
        const ab = run(affineProgram(d.H, defects), [xs, dy, sts, cfs], u);
        const [dgain, dbias] = tf.unstack(ab, 0);
        return [da, dgain, dbias];
      });
    return { value: y as tf.Tensor3D, gradFunc };
  }) as never) as unknown as (x: tf.Tensor3D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor3D;
  return f(a, gain, bias);
}
