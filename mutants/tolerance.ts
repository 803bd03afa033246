/**
 * The ATN-7.2 / 7.3 tolerances evaluated in float64 on the base's own statistics: cheap, close to what the reference
 * derives exactly, and good enough to decide whether two targets' answers "agree" when ranking mutants (diagnose.ts).
 * Not the normative tolerance: checks use reference.expect(). The formulas are the reference's own
 * (reference/tolerance.ts, generic over the number type), fed with float64 window statistics.
 * For the ATN-LSTM (7.4, a running error analysis) a coarse relative bound stands in.
 */
import { floatUnit, FLOAT_ARITH, forwardTolRowOf, vjpTolOf, type TolWindow } from '../reference/tolerance';
import { parseAtnArgs, parseAtnVjpArgs, parseLnArgs, type AtnArgs, type Leaf } from '../protocol/args';
import { groupsForStep, statsOf, zOf, type AtnSeq } from './atn-core';
import { NO_FLAGS } from './flags';

const DT = { dtypes: ['float32', 'float64'] as ('float32' | 'float64')[] };

/** u and lam of the dtype, as doubles (reference/tolerance.ts). */
export const unitRoundoff = floatUnit;

function seqOf(p: AtnArgs): { seq: AtnSeq; num: (l: Leaf) => number } {
  const num = p.dtype === 'float32' ? (l: Leaf) => Math.fround(Number(l)) : (l: Leaf) => Number(l);
  return {
    num,
    seq: { steps: p.a.map((m) => Float64Array.from(m.flat(), num)), prefix: [], B: p.B, W: p.H, k: p.k, eps: num(p.eps), f32: p.dtype === 'float32' },
  };
}

/** Window statistics per (t, b), z rows oldest first; throws the degenerate_window AtnError like the targets. */
function windows(seq: AtnSeq): TolWindow<number>[][] {
  const out: TolWindow<number>[][] = [];
  for (let t = 0; t < seq.steps.length; t++) {
    const row: TolWindow<number>[] = [];
    groupsForStep(seq, t, NO_FLAGS).forEach((g, b) => {
      const st = statsOf(g, seq, NO_FLAGS);
      let m = 0;
      for (const v of g.vals) m = Math.max(m, Math.abs(v));
      const n = Math.min(t + 1, seq.k);
      const z = Array.from({ length: n }, (_, r) => Array.from(seq.steps[t - n + 1 + r].subarray(b * seq.W, (b + 1) * seq.W), (v) => zOf(v, st)));
      row.push({ n, N: g.vals.length, s: st.s, K: m / st.s, z });
    });
    out.push(row);
  }
  return out;
}

function forwardTol(p: AtnArgs, win: TolWindow<number>[][], num: (l: Leaf) => number): number[][][] {
  const unit = floatUnit(p.dtype);
  const g = p.gain.map(num);
  const b = p.bias.map(num);
  return win.map((row) =>
    row.map((w) => {
      const y = w.z[w.n - 1].map((z, i) => g[i] * z + b[i]);
      return forwardTolRowOf(FLOAT_ARITH, unit, w, g, b, y);
    }),
  );
}

/** ATN-7.2 / 7.3 per element for atn.forward, atn.vjp, ln.forward; undefined for other ops or invalid args. */
export function approxTolerance(op: string, args: Record<string, unknown>): Record<string, unknown> | undefined {
  try {
    if (op === 'ln.forward') {
      const l = parseLnArgs(args, DT);
      const p: AtnArgs = { dtype: l.dtype, k: 1, eps: l.eps, a: [l.x], gain: l.gain, bias: l.bias, T: 1, B: l.B, H: l.H };
      const { seq, num } = seqOf(p);
      return { y: forwardTol(p, windows(seq), num)[0] };
    }
    if (op === 'atn.forward') {
      const p = parseAtnArgs(args, DT);
      const { seq, num } = seqOf(p);
      return { y: forwardTol(p, windows(seq), num) };
    }
    if (op === 'atn.vjp') return vjpTol(parseAtnVjpArgs(args, DT));
  } catch {
    return undefined;
  }
  return undefined;
}

function vjpTol(p: ReturnType<typeof parseAtnVjpArgs>): Record<string, unknown> {
  const { seq, num } = seqOf(p);
  const win = windows(seq);
  const dy = p.dy.map((m) => m.map((r) => r.map(num)));
  const t = vjpTolOf(FLOAT_ARITH, floatUnit(p.dtype), p.k, p.gain.map(num), dy, win);
  return { y: forwardTol(p, win, num), da: t.da, dgain: t.dgain, dbias: t.dbias };
}
