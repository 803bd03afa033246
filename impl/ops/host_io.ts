/**
 * Host access to tensor data for the fused host ops (atn.ts), without the copies of dataSync and tf.tensor.
 *
 * On wasm a tensor's data lives in the module's heap: dataSync copies it out (a fresh array, its pages faulted in on
 * first touch) and tf.tensor copies a host array back in. Here a read is a Float32Array view of the heap and an output
 * is allocated on the heap first and filled through a view. A view is valid only until the heap grows (any wasm
 * allocation may grow it), so views are taken after every output of an op is allocated and are never kept. On other
 * backends (cpu: dataSync returns the stored array; tf.tensor keeps the array it is given) the plain calls are used.
 */
import * as tf from '@tensorflow/tfjs';

/** The WebAssembly API's part used here (the "ES2022" lib of tsconfig has no WebAssembly typings; Node has the API). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: abstract new (...args: never[]) => WasmMemory;
}
export const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** The part of tfjs-backend-wasm's BackendWasm used here (public methods of the class). */
interface WasmHeap {
  dataIdMap: { has(dataId: object): boolean; get(dataId: object): { memoryOffset: number } };
  wasm: { asm?: { memory?: WasmMemory }; _malloc(bytes: number): number; _free(ptr: number): void };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

function wasmHeap(): WasmHeap | undefined {
  return tf.getBackend() === 'wasm' ? (tf.backend() as unknown as WasmHeap) : undefined;
}

/** Whether every input lives on the wasm heap as float32. */
const onHeap = (be: WasmHeap, inputs: tf.Tensor[]) => inputs.every((t) => t.dtype === 'float32' && be.dataIdMap.has(t.dataId));

/**
 * The outputs allocated on the heap first (a later allocation could grow the heap and detach views taken before it),
 * then `body` on the inputs' and outputs' storage as `see` presents it (views or byte offsets); the outputs become
 * tensors, or are freed when `body` throws.
 */
function runOnHeap<V, R>(
  be: WasmHeap,
  inputs: tf.Tensor[],
  outShapes: number[][],
  see: (info: tf.TensorInfo) => V,
  body: (ins: V[], outs: V[]) => R,
): { outs: tf.Tensor[]; result: R } {
  const infos = outShapes.map((s) => be.makeOutput(s, 'float32'));
  let result: R;
  try {
    result = body(inputs.map(see), infos.map(see));
  } catch (e) {
    for (const i of infos) tf.engine().makeTensorFromTensorInfo(i).dispose();
    throw e;
  }
  return { outs: infos.map((i) => tf.engine().makeTensorFromTensorInfo(i)), result };
}

/**
 * Runs `body` on the float32 data of `inputs` and on fresh storage for outputs of the given shapes, and returns the
 * outputs as tensors. The arrays passed to `body` are valid during the call only (on wasm they are views of the heap);
 * `body` must not run tfjs ops.
 */
export function hostOp<R>(
  inputs: tf.Tensor[],
  outShapes: number[][],
  body: (ins: Float32Array[], outs: Float32Array[]) => R,
): { outs: tf.Tensor[]; result: R } {
  const be = wasmHeap();
  if (be && onHeap(be, inputs)) return runOnHeap(be, inputs, outShapes, (i) => be.typedArrayFromHeap(i), body);
  const ins = inputs.map((t) => (t.dtype === 'float32' ? (t.dataSync() as Float32Array) : Float32Array.from(t.dataSync())));
  const outs = outShapes.map((s) => new Float32Array(s.reduce((p, n) => p * n, 1)));
  const result = body(ins, outs);
  return { outs: outs.map((o, i) => tf.tensor(o, outShapes[i], 'float32')), result };
}

/** The wasm backend's heap as a kernel module sees it: its memory (to import) and its allocator (scratch space). */
export interface HeapAccess {
  memory: WasmMemory;
  malloc(bytes: number): number;
  free(ptr: number): void;
}

/**
 * The wasm backend's heap, when every input lives on it as float32 (undefined on other backends, or where the backend
 * exposes no memory): what heapOp needs.
 */
export function heapAccess(inputs: tf.Tensor[]): HeapAccess | undefined {
  const be = wasmHeap();
  const memory = be?.wasm.asm?.memory;
  if (!be || !wasmApi || !(memory instanceof wasmApi.Memory) || !onHeap(be, inputs)) return undefined;
  return { memory, malloc: (n) => be.wasm._malloc(n), free: (p) => be.wasm._free(p) };
}

/**
 * Like hostOp, but `body` gets byte offsets into the wasm backend's heap (inputs, then outputs) for a WebAssembly
 * kernel that imports that heap (atn_wasm.ts). The inputs must be on the heap (heapAccess).
 */
export function heapOp<R>(inputs: tf.Tensor[], outShapes: number[][], body: (ins: number[], outs: number[]) => R): { outs: tf.Tensor[]; result: R } {
  const be = wasmHeap() as WasmHeap;
  return runOnHeap(be, inputs, outShapes, (i) => be.dataIdMap.get(i.dataId).memoryOffset, body);
}

/**
 * customGrad's save(tensors) without the copy it makes on wasm. tfjs keeps a clone of every saved tensor (so that the
 * caller may dispose the original before the backward pass), and the wasm backend's Identity kernel copies the data
 * (4 MB for the bench's [128,32,256]: about a tenth of the op). tfjs tensors are immutable and the wasm backend
 * counts references to shared data (its Reshape returns the input's storage with incRef), so a clone may share the
 * storage just as well, which is what the cpu backend's Identity does. For the duration of this synchronous call only,
 * Identity on wasm is that; the registered kernel is restored before anything else runs.
 */
export function saveShared(save: (ts: tf.Tensor[]) => void, tensors: tf.Tensor[]): void {
  const original = tf.getBackend() === 'wasm' ? tf.getKernel('Identity', 'wasm') : undefined;
  if (!original) return save(tensors);
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: sharedIdentity });
  try {
    save(tensors);
  } finally {
    tf.unregisterKernel('Identity', 'wasm');
    tf.registerKernel(original);
  }
}

/** Identity as the cpu backend has it: the output is the input's storage, one more reference to it. */
const sharedIdentity: tf.KernelFunc = ({ inputs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};
