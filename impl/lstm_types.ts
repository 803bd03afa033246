/** The ATN-LSTM's parameter tensors and options, apart so that lstm.ts and lstm_graph.ts share them without a cycle. */
import type * as tf from '@tensorflow/tfjs';

export interface Affine<T extends tf.Tensor1D = tf.Tensor1D> {
  gain: T;
  bias: T;
}

/** Parameters as tensors (or variables), shapes as in the protocol (protocol/args.ts LstmParams). */
export interface LstmTensors<T2 extends tf.Tensor2D = tf.Tensor2D, T1 extends tf.Tensor1D = tf.Tensor1D> {
  w_xh: T2; // [I][4H]
  w_hh: T2; // [H][4H]
  b_x: T1; // [4H]
  b_h: T1; // [4H]
  atn_x: Affine<T1>; // [4H]
  atn_h: Affine<T1>; // [4H]
  atn_c: Affine<T1>; // [H]
}

export interface LstmOptions {
  k: number;
  eps: number;
  /**
   * 'host': the fused forward and hand-written BPTT of lstm_core.ts (reads tensors synchronously: wasm, cpu,
   * tensorflow); 'device': tfjs ops with autodiff (lstm_graph.ts; any backend, webgpu included); 'webgpu': the
   * recurrence as fused WGSL kernels, one launch forward and one for BPTT (lstm_webgpu.ts, lstm_wgsl.ts), ATN_x as the
   * op's fused kernels (atn_webgpu.ts). Default: by backend.
   */
  path?: 'host' | 'webgpu' | 'device';
}
