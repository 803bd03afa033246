/**
 * The tfjs implementation as a protocol v1 target (ATN-8): hello, atn.forward, atn.vjp, ln.forward, lstm.forward,
 * lstm.vjp at dtype float32 (float64 is refused with unsupported_dtype, ATN-6.7). Inputs are validated by the shared
 * protocol/args.ts, rounded to float32 (ATN-7.1) and computed on the active tfjs backend; every request runs in tf.tidy
 * (the server runs long).
 */
import * as tf from '@tensorflow/tfjs';
import { parseAtnArgs, parseAtnVjpArgs, parseLnArgs, parseLstmArgs, parseLstmVjpArgs, type AtnArgs, type Leaf } from '../protocol/args';
import { targetFromHandlers, type Target } from '../protocol/target';
import type { Dtype, Hello, Mat, Ten3, Vec } from '../protocol/types';
import { packageVersion } from '../util/package';
import { initBackend } from './backend';
import { layerNorm } from './ln';
import { lstmForwardArrays, lstmVjpArrays } from './lstm';
import { atn } from './ops/atn';
import { checkDegenerate } from './ops/atn_window';

export const IMPL_NAME = 'atn-kit-tfjs';
export const IMPL_DTYPES: Dtype[] = ['float32'];
const PARSE = { dtypes: IMPL_DTYPES };

const num = (l: Leaf): number => (typeof l === 'number' ? l : Number(l));

/** Nested leaves to a flat float32 array (rounding each entry to float32, ATN-7.1). */
function f32(a: unknown[]): Float32Array {
  return Float32Array.from((a as unknown[]).flat(2) as Leaf[], num);
}

function nest3(v: ArrayLike<number>, T: number, B: number, H: number): Ten3 {
  const out: Ten3 = new Array(T);
  for (let t = 0; t < T; t++) {
    const m: Mat = (out[t] = new Array(B));
    for (let b = 0; b < B; b++) m[b] = Array.from(subarray(v, (t * B + b) * H, H));
  }
  return out;
}
function nest2(v: ArrayLike<number>, B: number, H: number): Mat {
  const out: Mat = new Array(B);
  for (let b = 0; b < B; b++) out[b] = Array.from(subarray(v, b * H, H));
  return out;
}
function subarray(v: ArrayLike<number>, start: number, n: number): ArrayLike<number> {
  return (v as Float32Array).subarray ? (v as Float32Array).subarray(start, start + n) : Array.prototype.slice.call(v, start, start + n);
}
const vec = (v: ArrayLike<number>): Vec => Array.from(v);

/** Reads tensors asynchronously (webgpu cannot read synchronously in Node) and frees them. */
async function read(ts: tf.Tensor[]): Promise<Float32Array[]> {
  try {
    return (await Promise.all(ts.map((t) => t.data()))) as Float32Array[];
  } finally {
    tf.dispose(ts);
  }
}

/** The float32 sequence and eps of an atn request; a degenerate window is refused before any work (ATN-6.6). */
function atnInputs(p: AtnArgs): { a: Float32Array; eps: number } {
  const a = f32(p.a);
  const eps = Math.fround(num(p.eps));
  checkDegenerate(a, p.T, p.B, p.H, p.k, eps, 'a');
  return { a, eps };
}

export interface ImplTargetOptions {
  backend?: string;
}

export async function createImplTarget(opts: ImplTargetOptions = {}): Promise<Target> {
  const backend = await initBackend(opts.backend);
  const hello: Hello = {
    name: IMPL_NAME,
    version: packageVersion(),
    protocol: 1,
    ops: ['hello', 'atn.forward', 'atn.vjp', 'ln.forward', 'lstm.forward', 'lstm.vjp'],
    dtypes: IMPL_DTYPES,
    backend,
    description: `ATN, LN and ATN-LSTM on tfjs ${tf.version.tfjs} (${backend} backend), float32`,
  };
  return targetFromHandlers(hello, {
    'atn.forward': async (args) => {
      const p = parseAtnArgs(args, PARSE);
      const { T, B, H, k } = p;
      const { a, eps } = atnInputs(p);
      const [y] = await read(tf.tidy(() => [atn(tf.tensor3d(a, [T, B, H]), { k, eps, gain: tf.tensor1d(f32(p.gain)), bias: tf.tensor1d(f32(p.bias)) })]));
      return { y: nest3(y, T, B, H) };
    },
    'atn.vjp': async (args) => {
      const p = parseAtnVjpArgs(args, PARSE);
      const { T, B, H, k } = p;
      const { a, eps } = atnInputs(p);
      const out = await read(
        tf.tidy(() => {
          const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => atn(x as tf.Tensor3D, { k, eps, gain: g as tf.Tensor1D, bias: b as tf.Tensor1D });
          const { value, grads } = tf.valueAndGrads(f)(
            [tf.tensor3d(a, [T, B, H]), tf.tensor1d(f32(p.gain)), tf.tensor1d(f32(p.bias))],
            tf.tensor3d(f32(p.dy), [T, B, H]),
          );
          return [value, ...grads];
        }),
      );
      return { y: nest3(out[0], T, B, H), da: nest3(out[1], T, B, H), dgain: vec(out[2]), dbias: vec(out[3]) };
    },
    'ln.forward': async (args) => {
      const p = parseLnArgs(args, PARSE);
      const { B, H } = p;
      const x = f32(p.x);
      const eps = Math.fround(num(p.eps));
      checkDegenerate(x, 1, B, H, 1, eps, 'x');
      const [y] = await read(tf.tidy(() => [layerNorm(tf.tensor2d(x, [B, H]), { eps, gain: tf.tensor1d(f32(p.gain)), bias: tf.tensor1d(f32(p.bias)) })]));
      return { y: nest2(y, B, H) };
    },
    'lstm.forward': async (args) => (await lstmForwardArrays(parseLstmArgs(args, PARSE))) as unknown as Record<string, unknown>,
    'lstm.vjp': async (args) => (await lstmVjpArrays(parseLstmVjpArgs(args, PARSE))) as unknown as Record<string, unknown>,
  });
}
