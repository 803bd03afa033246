/**
 * How long one reference atn.vjp takes (T=8, B=2, H=16, k=4 at 64 digits): a bench, not a test (no timed tests).
 *   run by `atn bench` (also: node dist/bench/reference-vjp.js [precision])
 */
import { call } from '../protocol/target';
import { createReference } from '../reference/reference';
import { mulberry32 } from '../util/prng';

export async function timeAtnVjp(precision = 64, repeats = 5): Promise<{ coldMs: number; warmMs: number; expectMs: number }> {
  const T = 8,
    B = 2,
    H = 16,
    k = 4;
  const next = mulberry32(1);
  const rnd = () => next() * 2 - 1;
  const ten = () => Array.from({ length: T }, () => Array.from({ length: B }, () => Array.from({ length: H }, rnd)));
  const args = { dtype: 'float64', k, eps: 1e-5, a: ten(), dy: ten(), gain: Array.from({ length: H }, rnd), bias: Array.from({ length: H }, rnd) };
  const ref = createReference({ precision, oracle: 'exact' }); // the BigNumber path: what the fast oracle defers to
  const target = ref.target();
  const time = async (f: () => unknown) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  const coldMs = await time(() => call(target, 'atn.vjp', args));
  let warmMs = Infinity;
  let expectMs = Infinity;
  for (let i = 0; i < repeats; i++) {
    warmMs = Math.min(warmMs, await time(() => call(target, 'atn.vjp', args)));
    expectMs = Math.min(expectMs, await time(() => ref.expect('atn.vjp', args)));
  }
  return { coldMs, warmMs, expectMs };
}

if (require.main === module) {
  const precision = Number(process.argv[2] ?? 64);
  timeAtnVjp(precision).then((r) =>
    console.log(
      `atn.vjp T=8 B=2 H=16 k=4 at ${precision} digits: first call ${r.coldMs.toFixed(1)} ms, ` +
        `then ${r.warmMs.toFixed(1)} ms (best of 5); expect() with tolerances ${r.expectMs.toFixed(1)} ms`,
    ),
  );
}
