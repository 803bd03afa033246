/**
 * What the in-process tests of the implementation (impl-atn*.test.ts) share: a generated case as protocol arguments,
 * the agreement assertion (ATN-7.1), the float32 range test of an expectation, and the agreement properties of
 * atn.forward (ATN-7.2) and atn.vjp (ATN-7.3) over one regime.
 */
import fc from 'fast-check';
import type { Expectation, Reference } from '../../reference';
import { call, type Target } from '../../protocol/target';
import { atnCase, withDy, type AtnCase, type AtnVjpCase, type Limits, type Regime } from './arbitraries';
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

/** ATN-7.2: the target's atn.forward agrees with the reference on generated float32 cases of `regime` within `lim`. */
export function forwardAgreement(target: Target, ref: Reference, regime: Regime, lim: Limits) {
  return fc.asyncProperty(atnCase('float32', regime, lim), async (c) => {
    agrees(await call(target, 'atn.forward', implArgs(c)), ref.expect('atn.forward', implArgs(c)), regime);
  });
}

/** ATN-7.3: the same for atn.vjp (cases whose expectation a float32 target can answer). */
export function vjpAgreement(target: Target, ref: Reference, regime: Regime, lim: Limits) {
  return fc.asyncProperty(withDy('float32', atnCase('float32', regime, lim), lim), async (c) => {
    const exp = ref.expect('atn.vjp', implArgs(c));
    fc.pre(fitsFloat32(exp.want));
    agrees(await call(target, 'atn.vjp', implArgs(c)), exp, regime);
  });
}
