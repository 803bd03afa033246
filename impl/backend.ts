/**
 * Chooses and starts the tfjs backend. '@tensorflow/tfjs' is imported here, once: its Node entry is the one that
 * registers the gradients and chained ops the rest of impl/ relies on.
 *
 * Backends: 'wasm' (default: SIMD, ~30x faster than cpu in Node), 'cpu', 'webgpu' (Dawn through the `webgpu`
 * package; without a GPU, Dawn's OpenGL ES backend on Mesa's llvmpipe in software), 'tensorflow' (tfjs-node or
 * tfjs-node-gpu, when installed). The name comes from the argument, else env ATN_BACKEND, else 'wasm'.
 */
import * as tf from '@tensorflow/tfjs';

export const BACKENDS = ['wasm', 'cpu', 'webgpu', 'tensorflow'] as const;
export type BackendName = (typeof BACKENDS)[number];

export class BackendError extends Error {
  constructor(
    readonly backend: string,
    message: string,
  ) {
    super(`backend ${backend}: ${message}`);
    this.name = 'BackendError';
  }
}

/* eslint-disable @typescript-eslint/no-require-imports */

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function registerWasm(): void {
  // The package registers 'wasm' on import; in Node it finds its .wasm files beside its own dist/.
  require('@tensorflow/tfjs-backend-wasm');
}

/** The software fallback found by the last webgpu start, for hello/diagnostics. */
export let webgpuAdapterDescription: string | undefined;

interface GpuLike {
  requestAdapter(opts?: Record<string, unknown>): Promise<unknown>;
}

/**
 * Sets globalThis.navigator.gpu before tfjs-backend-webgpu is loaded (it checks navigator.gpu when it registers).
 * tfjs asks for an adapter with {powerPreference} only; where no GPU answers that, we retry with Dawn's OpenGL ES
 * backend and featureLevel 'compatibility' (the only feature level llvmpipe offers), headless via
 * EGL_PLATFORM=surfaceless.
 */
function installWebgpu(): void {
  const g = globalThis as unknown as { navigator?: { gpu?: GpuLike } };
  if (g.navigator?.gpu) return;
  let create: (flags: string[]) => GpuLike;
  let globals: Record<string, unknown>;
  try {
    ({ create, globals } = require('webgpu') as { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> });
  } catch (e) {
    throw new BackendError('webgpu', `the optional package "webgpu" (Dawn for Node) cannot be loaded: ${why(e)}`);
  }
  Object.assign(globalThis, globals);
  const hardware = create([]);
  let software: GpuLike | undefined;
  const gpu: GpuLike = {
    async requestAdapter(opts?: Record<string, unknown>) {
      const a = await hardware.requestAdapter(opts).catch(() => null);
      if (a) return a;
      if (process.env.EGL_PLATFORM === undefined) process.env.EGL_PLATFORM = 'surfaceless';
      software ??= create(['backend=opengles']);
      const s = (await software.requestAdapter({ ...opts, featureLevel: 'compatibility' }).catch(() => null)) as {
        info?: { description?: string; device?: string };
      } | null;
      if (s) webgpuAdapterDescription = `software: ${s.info?.description ?? ''} ${s.info?.device ?? ''}`.trim();
      return s;
    },
  };
  const nav = (g.navigator ??= {} as { gpu?: GpuLike });
  // navigator may be a read-only global (Node >= 21): define the property instead of assigning it.
  Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
  if (!(globalThis as unknown as { navigator?: unknown }).navigator)
    Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
}

/** The webgpu factory as tfjs-backend-webgpu registered it (re-registered after releaseBackend). */
let webgpuFactory: ReturnType<typeof tf.findBackendFactory> | undefined;

function registerWebgpu(): void {
  installWebgpu();
  require('@tensorflow/tfjs-backend-webgpu');
  if (!tf.findBackendFactory('webgpu') && webgpuFactory) tf.registerBackend('webgpu', webgpuFactory, 3);
  webgpuFactory = tf.findBackendFactory('webgpu');
  if (!webgpuFactory) throw new BackendError('webgpu', 'tfjs-backend-webgpu did not register (navigator.gpu missing)');
}

/**
 * Disposes a backend's resources (its tensors are lost). For webgpu it also drops Dawn's instances, which otherwise
 * keep Node from exiting. Switch to another backend first if it is the active one.
 */
export function releaseBackend(name: string): void {
  if (tf.findBackend(name)) tf.removeBackend(name);
  if (name === 'webgpu') {
    const nav = (globalThis as unknown as { navigator?: { gpu?: unknown } }).navigator;
    if (nav && nav.gpu) delete nav.gpu;
  }
}

function registerTensorflow(): void {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require(pkg);
      return;
    } catch (e) {
      errors.push(`${pkg}: ${why(e).split('\n')[0]}`);
    }
  }
  throw new BackendError('tensorflow', `needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu, which cannot be loaded (${errors.join('; ')})`);
}

/** The backend name asked for: the argument, else env ATN_BACKEND, else 'wasm'. */
export function requestedBackend(name?: string): string {
  return name ?? (process.env.ATN_BACKEND || 'wasm');
}

/**
 * Starts the backend and returns the name of the backend actually in use. Throws BackendError naming the backend when
 * it cannot start (no silent fallback: a report must say what it measured).
 */
export async function initBackend(name?: string): Promise<string> {
  const want = requestedBackend(name);
  if (!(BACKENDS as readonly string[]).includes(want)) throw new BackendError(want, `unknown backend; use one of ${BACKENDS.join(', ')}`);
  if (tf.getBackend() === want && tf.findBackend(want)) return want;
  try {
    if (want === 'wasm') registerWasm();
    else if (want === 'webgpu') registerWebgpu();
    else if (want === 'tensorflow') registerTensorflow();
  } catch (e) {
    if (e instanceof BackendError) throw e;
    throw new BackendError(want, why(e));
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(want);
    await tf.ready();
  } catch (e) {
    throw new BackendError(want, `failed to start: ${why(e)}`);
  }
  if (!ok || tf.getBackend() !== want) {
    const hint = want === 'webgpu' ? ' (no WebGPU adapter: neither a GPU nor the software OpenGL ES fallback answered; see impl/backend.ts)' : '';
    throw new BackendError(want, `failed to start${hint}`);
  }
  return tf.getBackend();
}

export { tf };
