/**
 * What the in-process tests of the implementation (impl-atn*.test.ts) share: a generated case as protocol arguments,
 * the agreement assertion (ATN-7.1), and the float32 range test of an expectation.
 */
import type { Expectation } from '../../reference';
import type { AtnCase, AtnVjpCase } from './arbitraries';
import { compare } from './compare';

/** A generated case as the arguments of a float32 request (the regime label is the generator's, not the protocol's). */
export const implArgs = (c: AtnCase | AtnVjpCase) => ({ dtype: 'float32', ...c, regime: undefined });

/** Throws, naming `what`, unless `got` agrees with the expectation (ATN-7.1). */
export function agrees(got: unknown, exp: Expectation, what: string): void {
  const r = compare(got, exp);
  if (!r.ok) throw new Error(`${what}: ${r.detail}`);
}

const F32_MAX = 3.4028234663852886e38;

/**
 * Whether every wanted number is a finite float32: with a subnormal window std, da ~ dy/s can be ~1e40, which no float32
 * target can answer (a limit of the dtype, not of the implementation).
 */
export function fitsFloat32(v: unknown): boolean {
  if (typeof v === 'number') return Math.abs(v) <= F32_MAX;
  if (Array.isArray(v)) return v.every(fitsFloat32);
  if (v && typeof v === 'object') return Object.values(v).every(fitsFloat32);
  return true;
}
