/**
 * The ATN-7.2 / 7.3 tolerances evaluated in float64 on the base's own statistics: cheap, close to what the reference
 * derives exactly, and good enough to decide whether two targets' answers "agree" when ranking mutants (diagnose.ts).
 * Not the normative tolerance: checks use reference.expect().
 * For the ATN-LSTM (7.4, a running error analysis) a coarse relative bound stands in.
 */
import { parseAtnArgs, parseAtnVjpArgs, parseLnArgs, type AtnArgs, type Leaf } from '../spec/args';
import { groupsForStep, statsOf, zOf, type AtnSeq } from './atn-core';
import { NO_FLAGS } from './flags';

const DT = { dtypes: ['float32', 'float64'] as ('float32' | 'float64')[] };

export function unitRoundoff(dtype: string): { u: number; lam: number } {
  return dtype === 'float32' ? { u: 2 ** -24, lam: 2 ** -149 } : { u: 2 ** -53, lam: 2 ** -1074 };
}

interface WindowInfo {
  mu: number;
  s: number;
  K: number;
  rho: number;
  N: number;
  z: (v: number) => number;
}

function seqOf(p: AtnArgs): { seq: AtnSeq; num: (l: Leaf) => number } {
  const num = p.dtype === 'float32' ? (l: Leaf) => Math.fround(Number(l)) : (l: Leaf) => Number(l);
  return { num, seq: { steps: p.a.map((m) => Float64Array.from(m.flat(), num)), prefix: [], B: p.B, W: p.H, k: p.k, eps: num(p.eps), f32: p.dtype === 'float32' } };
}

/** Window statistics per (t, b); throws the degenerate_window AtnError like the targets. */
function windows(seq: AtnSeq): WindowInfo[][] {
  const out: WindowInfo[][] = [];
  for (let t = 0; t < seq.steps.length; t++) {
    const row: WindowInfo[] = [];
    for (const g of groupsForStep(seq, t, NO_FLAGS)) {
      const st = statsOf(g, seq, NO_FLAGS);
      let m = 0;
      for (const v of g.vals) m = Math.max(m, Math.abs(v));
      row.push({ mu: st.mu, s: st.s, K: m / st.s, rho: g.vals.length + 4, N: g.vals.length, z: (v) => zOf(v, st) });
    }
    out.push(row);
  }
  return out;
}

function forwardTol(p: AtnArgs, seq: AtnSeq, win: WindowInfo[][], num: (l: Leaf) => number): number[][][] {
  const { u, lam } = unitRoundoff(p.dtype);
  const g = p.gain.map(num);
  const b = p.bias.map(num);
  return seq.steps.map((row, t) =>
    Array.from({ length: p.B }, (_, bb) =>
      Array.from({ length: p.H }, (_, i) => {
        const w = win[t][bb];
        const z = w.z(row[bb * p.H + i]);
        const y = g[i] * z + b[i];
        return 2 * u * (Math.abs(g[i]) * w.rho * (w.K + Math.abs(z)) + Math.abs(y) + Math.abs(b[i])) + 4 * lam;
      }),
    ),
  );
}

/** ATN-7.2 / 7.3 per element for atn.forward, atn.vjp, ln.forward; undefined for other ops or invalid args. */
export function approxTolerance(op: string, args: Record<string, unknown>): Record<string, unknown> | undefined {
  try {
    if (op === 'ln.forward') {
      const l = parseLnArgs(args, DT);
      const p: AtnArgs = { dtype: l.dtype, k: 1, eps: l.eps, a: [l.x], gain: l.gain, bias: l.bias, T: 1, B: l.B, H: l.H };
      const { seq, num } = seqOf(p);
      return { y: forwardTol(p, seq, windows(seq), num)[0] };
    }
    if (op === 'atn.forward') {
      const p = parseAtnArgs(args, DT);
      const { seq, num } = seqOf(p);
      return { y: forwardTol(p, seq, windows(seq), num) };
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
  const { u, lam } = unitRoundoff(p.dtype);
  const { T, B, H, k } = p;
  const g = p.gain.map(num);
  const dy = p.dy.map((m) => m.map((r) => r.map(num)));
  const a = seq.steps;
  const da = Array.from({ length: T }, () => Array.from({ length: B }, () => new Array<number>(H).fill(0)));
  const dgain = new Array<number>(H).fill(0);
  const dbias = new Array<number>(H).fill(0);
  for (let bb = 0; bb < B; bb++) {
    for (let t = 0; t < T; t++) {
      const w = win[t][bb];
      let m1 = 0;
      let m2 = 0;
      for (let h = 0; h < H; h++) {
        const gh = Math.abs(g[h] * dy[t][bb][h]);
        const z = Math.abs(w.z(a[t][bb * H + h]));
        m1 += gh;
        m2 += gh * z;
        dgain[h] += Math.abs(dy[t][bb][h]) * w.rho * (w.K + z) + T * B * Math.abs(dy[t][bb][h] * z);
        dbias[h] += Math.abs(dy[t][bb][h]);
      }
      m1 /= w.N;
      m2 /= w.N;
      // window t sends gradient into every step s of W_t
      for (let s = Math.max(0, t - k + 1); s <= t; s++)
        for (let h = 0; h < H; h++) {
          const zs = Math.abs(w.z(a[s][bb * H + h]));
          const own = s === t ? Math.abs(g[h] * dy[t][bb][h]) : 0;
          da[s][bb][h] += ((w.rho + k) / w.s) * (own + m1 + (w.K + zs) * m2 + zs * w.K * m1);
        }
    }
  }
  const fin = (x: number) => 2 * u * x + 4 * lam;
  return {
    y: forwardTol(p, seq, win, num),
    da: da.map((m) => m.map((r) => r.map(fin))),
    dgain: dgain.map(fin),
    dbias: dbias.map((x) => 2 * u * T * B * x + 4 * lam),
  };
}
