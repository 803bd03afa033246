/**
 * Numbers: the dtype's constants and rounding, the uniform leaves every generator draws, and the exactness
 * predicates of power-of-two scaling (T2, T3).
 */
import fc from 'fast-check';
import type { CampaignDtype } from '../types';
import type { Num3 } from './types';

/** Rounds a double to the dtype (float32: Math.fround, exact for every value we make within range). */
export function rounder(dtype: CampaignDtype): (x: number) => number {
  return dtype === 'float32' ? Math.fround : (x: number) => x;
}

/** Precision bits of the dtype's significand. */
export function precisionBits(dtype: CampaignDtype): number {
  return dtype === 'float32' ? 24 : 53;
}

/** Smallest positive normal of the dtype. */
export function minNormal(dtype: CampaignDtype): number {
  return dtype === 'float32' ? 2 ** -126 : 2 ** -1022;
}

/** Largest finite value of the dtype. */
export function maxFinite(dtype: CampaignDtype): number {
  return dtype === 'float32' ? 3.4028234663852886e38 : Number.MAX_VALUE;
}

/** The draw of unit: a uniform value in [-1, 1] with 52 random bits. */
const unitDraw: fc.Arbitrary<number> = fc
  .tuple(fc.integer({ min: -(2 ** 26), max: 2 ** 26 }), fc.integer({ min: 0, max: 2 ** 26 - 1 }))
  .map(([hi, lo]) => Math.max(-1, Math.min(1, (hi * 2 ** 26 + (hi < 0 ? -lo : lo)) / 2 ** 52)));

/** Fractional binary digits of x (0 for an integer); x finite. */
function fractionBits(x: number): number {
  let b = 0;
  while (x !== Math.round(x) && b < 1100) {
    x *= 2;
    b++;
  }
  return b;
}

/**
 * The simpler values a value of [-1, 1] shrinks to, simplest first: 0, then v rounded to 0, 1, 2, 4, 8, 16 and 32
 * fractional bits, each with strictly fewer fractional bits than v (so shrinking ends).
 */
export function simplerUnits(v: number): number[] {
  if (!Number.isFinite(v) || v === 0) return [];
  const bits = fractionBits(v);
  const out = [0];
  for (const b of [0, 1, 2, 4, 8, 16, 32]) {
    if (b >= bits) break;
    const c = Math.round(v * 2 ** b) / 2 ** b;
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

/**
 * unitDraw's values (the same draws from the same randomness: generate delegates to it) with a coarser shrink: a
 * value is tried at 0 and at a few roundings (simplerUnits), about 7 candidates instead of the 50 or so that
 * shrinking its two integers one bit at a time takes. Every shrink candidate costs an oracle evaluation, and a
 * counterexample reads better with 0.5 than with 0.4999999999999982.
 */
class CoarselyShrunk extends fc.Arbitrary<number> {
  constructor(private readonly draw: fc.Arbitrary<number>) {
    super();
  }
  generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<number> {
    return new fc.Value(this.draw.generate(mrng, biasFactor).value, undefined);
  }
  canShrinkWithoutContext(value: unknown): value is number {
    return typeof value === 'number' && value >= -1 && value <= 1;
  }
  shrink(value: number): fc.Stream<fc.Value<number>> {
    return fc.Stream.of(...simplerUnits(value).map((c) => new fc.Value(c, undefined)));
  }
}

/** A uniform value in [-1, 1] with 52 random bits (rounded later to the dtype): no bias toward tiny magnitudes. */
export const unit: fc.Arbitrary<number> = new CoarselyShrunk(unitDraw);

/** A value of the form i * 2^-bits (exact in float32 for bits <= 23 and |i| < 2^23): for exact metamorphic sums. */
export function gridUnit(bits = 10): fc.Arbitrary<number> {
  return fc.integer({ min: -(2 ** bits), max: 2 ** bits }).map((i) => i / 2 ** bits);
}

/**
 * A fixed-size flat pool of n values, sliced by the generated dims: when fast-check shrinks T, B or H the values stay
 * put, which keeps shrunk counterexamples close to the failing one.
 */
export function pool(n: number, arb: fc.Arbitrary<number> = unit): fc.Arbitrary<number[]> {
  return fc.array(arb, { minLength: n, maxLength: n });
}

/**
 * `a`, or `a` kept out of shrinking when shrinkValues is false: the values of a realistic-size case (ATN-9.10), where
 * each shrink candidate costs a whole oracle evaluation and the shape, which still shrinks, is what a reader needs.
 */
export function valuesShrinking<V>(a: fc.Arbitrary<V>, shrinkValues: boolean): fc.Arbitrary<V> {
  return shrinkValues ? a : fc.noShrink(a);
}

/** A value just above v in the dtype (v + a few ulps), or 1 for v = 0. */
export function nudge(v: number, dtype: CampaignDtype): number {
  if (v === 0) return 1;
  const r = rounder(dtype);
  const bits = precisionBits(dtype);
  let out = r(v + Math.abs(v) * 2 ** (1 - bits));
  if (out === v) out = r(v + Math.abs(v) * 2 ** (2 - bits));
  return out === v ? r(v * 2) : out;
}

/**
 * eps = 0 needs every window to vary: a step whose entries are all equal is nudged (the first entry moves by a few
 * ulps, so a large-mean window keeps its character). With H = 1 no step can vary: callers force H >= 2.
 */
export function nonConstantSteps(a: Num3, dtype: CampaignDtype): Num3 {
  return a.map((m) =>
    m.map((row) => {
      if (row.length < 2 || row.some((v) => v !== row[0])) return row;
      const out = row.slice();
      out[0] = nudge(row[0], dtype);
      return out;
    }),
  );
}

/**
 * Whether multiplying every value by 2^m is exact in the dtype and stays in the normal range with headroom (zeros
 * stay zeros): then the scaled inputs are exactly d * a and the theorem holds exactly.
 */
export function scalesExactly(values: number[], m: number, dtype: CampaignDtype): boolean {
  const r = rounder(dtype);
  const f = 2 ** m;
  const lo = minNormal(dtype);
  const hi = maxFinite(dtype) * 2 ** -8;
  for (const v of values) {
    if (v === 0) continue;
    const w = v * f;
    if (!Number.isFinite(w) || r(w) !== w || w / f !== v) return false;
    const aw = Math.abs(w);
    if (aw < lo || aw > hi) return false;
  }
  return true;
}

/** The m of largest |m| <= |want| (same sign) for which `ok(m)` holds (0 always qualifies). */
export function clampExponent(want: number, ok: (m: number) => boolean): number {
  const step = want > 0 ? -1 : 1;
  for (let m = want; m !== 0; m += step) if (ok(m)) return m;
  return 0;
}
