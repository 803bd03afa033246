/**
 * Target capabilities (ATN-8.8): a hello may declare `k: {min?, max?}` (the window lengths it serves) and `eps: [...]`
 * (the eps values it serves, e.g. a LayerNorm module with k = 1 only, research code whose eps is fixed at 1e-5).
 * The campaign then generates only what the target serves: every generated case is fitted (k clamped into the range,
 * eps replaced by the served value nearest to it), and a check that itself needs a k or eps the target does not serve
 * (T2 scales eps by d^2, T5 needs eps = 0, ...) is skipped with that reason. Fitting keeps every case valid: the
 * reference is asked about the fitted case, so nothing is compared against the wrong expectation.
 */
import type fc from 'fast-check';
import type { Hello } from '../../protocol/types';
import { nonConstantSteps, rounder, type Num3 } from './arbitraries';
import type { CampaignDtype } from './types';

export interface Capabilities {
  kMin: number;
  kMax: number; // Infinity when unbounded
  /** The eps values served; undefined: any eps. */
  eps?: number[];
}

/** What a check sends by itself, not from a generated case (see PropertySpec.needs). */
export interface Needs {
  /** k values the check sends, or 'free' when it derives k from the case (T7: k = T + 50). */
  k?: number[] | 'free';
  /** eps values the check sends, or 'free' when it derives eps from the case (T2: eps * d^2). */
  eps?: number[] | 'free';
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;

/** The capabilities a hello declares; malformed declarations are ignored (protocol.hello reports them). */
export function capabilitiesOf(hello: Hello): Capabilities {
  const h = hello as Hello & { k?: { min?: unknown; max?: unknown }; eps?: unknown };
  const kMin = h.k && isCount(h.k.min) ? h.k.min : 1;
  const kMax = h.k && isCount(h.k.max) && h.k.max >= kMin ? h.k.max : Infinity;
  const eps =
    Array.isArray(h.eps) && h.eps.length && h.eps.every((e) => typeof e === 'number' && e >= 0 && Number.isFinite(e)) ? (h.eps as number[]).slice() : undefined;
  return { kMin, kMax, ...(eps ? { eps } : {}) };
}

export function restricted(c: Capabilities): boolean {
  return c.kMin > 1 || c.kMax < Infinity || c.eps !== undefined;
}

/** eps as served at this dtype: the declared values rounded like every argument of the campaign (ATN-8.4). */
export function servesEps(c: Capabilities, eps: number, dtype: CampaignDtype): boolean {
  const r = rounder(dtype);
  return c.eps === undefined || c.eps.some((e) => r(e) === r(eps));
}

/** Why a check cannot run on a target with these capabilities, or undefined. */
export function capabilityReason(c: Capabilities, needs: Needs | undefined, dtype: CampaignDtype): string | undefined {
  if (!needs) return undefined;
  const range = `[${c.kMin}, ${c.kMax === Infinity ? 'inf' : c.kMax}]`;
  if (needs.k === 'free' && (c.kMin > 1 || c.kMax < Infinity))
    return `the check derives k from each case (it changes k); the target serves k in ${range} only (hello.k, ATN-8.8)`;
  const badK = (needs.k === 'free' ? [] : (needs.k ?? [])).filter((k) => k < c.kMin || k > c.kMax);
  if (badK.length) return `the check sends k = ${badK.join(', ')}; the target serves k in ${range} only (hello.k, ATN-8.8)`;
  if (c.eps !== undefined) {
    if (needs.eps === 'free')
      return `the check derives eps from each case (it changes eps); the target serves eps ${c.eps.join(', ')} only (hello.eps, ATN-8.8)`;
    const badE = (needs.eps ?? []).filter((e) => !servesEps(c, e, dtype));
    if (badE.length) return `the check sends eps = ${badE.join(', ')}; the target serves eps ${c.eps.join(', ')} only (hello.eps, ATN-8.8)`;
  }
  return undefined;
}

/** The served eps nearest to eps (on a log scale; 0 only when it is all that is served or eps is 0 and 0 is served). */
function nearestEps(served: number[], eps: number): number {
  if (served.includes(eps)) return eps;
  const pos = served.filter((e) => e > 0);
  if (!pos.length) return served[0];
  const d = (e: number) => (eps > 0 ? Math.abs(Math.log(e / eps)) : e);
  return pos.reduce((best, e) => (d(e) < d(best) ? e : best));
}

const isNum3 = (v: unknown): v is Num3 => Array.isArray(v) && Array.isArray(v[0]) && Array.isArray((v[0] as unknown[])[0]);

/**
 * One generated case fitted to the capabilities, or undefined when it cannot be (eps = 0 forced on a window of one
 * entry). Walks records and arrays of records: every object with a numeric eps and an input (a or x) is a case.
 */
export function fitCase<T>(v: T, c: Capabilities, dtype: CampaignDtype): T | undefined {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      if (x === null || typeof x !== 'object') return v; // an array of numbers: data, not cases
      const f = fitCase(x, c, dtype);
      if (f === undefined) return undefined;
      out.push(f);
    }
    return out as T;
  }
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const isCase = typeof o.eps === 'number' && (Array.isArray(o.a) || Array.isArray(o.x));
  const out: Record<string, unknown> = {};
  for (const [key, x] of Object.entries(o)) {
    if (isCase || x === null || typeof x !== 'object') out[key] = x;
    else {
      const f = fitCase(x, c, dtype);
      if (f === undefined) return undefined;
      out[key] = f;
    }
  }
  if (!isCase) return out as T;
  if (typeof o.k === 'number') out.k = Math.min(c.kMax, Math.max(c.kMin, o.k));
  const eps = o.eps as number;
  if (c.eps !== undefined && !servesEps(c, eps, dtype)) {
    const e = rounder(dtype)(nearestEps(c.eps, eps));
    out.eps = e;
    if (e === 0 && eps !== 0) {
      // eps = 0 needs windows that vary (ATN-6.6): the generators' own rule (nonConstantSteps), H >= 2.
      if (!isNum3(o.a) || (o.a[0][0] as number[]).length < 2) return undefined;
      out.a = nonConstantSteps(o.a, dtype);
    }
  }
  return out as T;
}

/** The arbitrary of a check, fitted to the target's capabilities (unchanged for an unrestricted target). */
export function fitted<T>(arb: fc.Arbitrary<T>, c: Capabilities, dtype: CampaignDtype): fc.Arbitrary<T> {
  if (!restricted(c)) return arb;
  return arb.map((v) => fitCase(v, c, dtype) as T).filter((v) => v !== undefined);
}
