/**
 * A plain floating-point ATN-LSTM (forward and BPTT) for ONE purpose: the ATN-7.4 tolerances. Every operation is
 * rounded by `r` (Math.fround for float32, the identity for float64). Two uses:
 *  - with r = identity and a Probe, it is the double-precision replica whose rounding SITES the tolerance analysis
 *    perturbs (reference/lstm-bounds.ts): each site reports its local rounding bound (in units of u) and lets the
 *    probe shift its value;
 *  - with r = Math.fround and optionally an altered structure (a mistake of mutants/lstm-float.ts), it is the "straightforward float32 implementation" the
 *    tolerances are validated against in properties/reference-lstm.test.ts: the correct version must agree with the
 *    reference within tol (soundness), each mistake must not (tightness).
 * Straightforward code on purpose: naive left-to-right sums, two-pass window statistics, sigmoid = 1/(1+exp(-v)).
 * It is NOT a target (no validation, no degenerate-window errors).
 */
import type { LstmArrays } from '../protocol/args';

/**
 * Switches of the replica's structure, all off for the ATN-LSTM of ATN-3. They exist so that the tolerance's tightness
 * is shown on this same code: a bound that also admits a structurally wrong LSTM is too loose. The mistakes they make
 * are named in the catalogue (mutants/lstm-float.ts), not here.
 */
export interface LstmStructure {
  /** Read the gate blocks as [i, f, o, g] instead of [f, i, o, g] (ATN-3.3). */
  gatesIfog?: boolean;
  /** h = σ(o) tanh(c), without ATN_c (ATN-3.5). */
  noCellAtn?: boolean;
  /** ATN_x and ATN_h share one set of statistics over both preactivations (ATN-3.2). */
  sharedWindow?: boolean;
  /** The cell-state window also holds the initial state c0 (ATN-3.5). */
  c0InWindow?: boolean;
  /** Each window's VJP reaches only its own step, not the past entries (ATN-4.1). */
  vjpCurrentOnly?: boolean;
}

export type LstmFloatIn = LstmArrays<number> & {
  k: number;
  eps: number;
  dh?: number[][][];
  /** Samples of the whole batch when this run is one sample of it (the bounds' accumulation counts T*batch terms). */
  batch?: number;
};

export type FloatGrads = LstmArrays<number>;

export interface LstmFloatOut {
  h: number[][][];
  c: number[][][];
  /** Zero without p.dh; empty arrays for a resumed run without p.dh (ForwardResume). */
  grads: FloatGrads;
  /** With a recording probe: local rounding bounds (units of u) charged straight to each gradient entry. */
  direct?: FloatGrads;
  /** One sample (B = 1): its forward values, from which a later run may resume (ForwardResume). */
  forward?: ForwardState;
}

/** The forward values of one sample, step by step, and the number of sites met before each step (and the BPTT). */
export interface ForwardState {
  arrays: Record<(typeof STATE_KEYS)[number], unknown[]>;
  /** siteStart[t]: sites met before step t; siteStart[T]: before the BPTT. */
  siteStart: number[];
}
const STATE_KEYS = ['ax', 'ah', 'pre', 'cs', 'hs', 'wx', 'wh', 'wc', 'sf', 'si', 'so', 'tg', 'tnc'] as const;

/**
 * Start a run at step t0 with the forward values of steps before t0 taken from an earlier run on the same inputs
 * (B = 1, the identity rounding, no recording). Why this is the same computation: every step reads only the inputs
 * and the values of earlier steps, so a run whose probe leaves the sites before siteStart[t0] unchanged computes
 * exactly those values again; the probe is told to skip that many sites. A perturbed replica (lstm-bounds.ts) thus
 * recomputes only what its site can reach: the steps from its own on, and the BPTT. Step t0 itself resumes after its
 * gate preactivations (ax, ah, their windows, pre): they are computed before the step's first site, from the
 * inputs and the earlier steps only, so they too are the earlier run's values.
 */
export interface ForwardResume {
  from: ForwardState;
  t0: number;
}

/**
 * A rounding site: `v` as computed and `L` its local rounding bound in units of u (computed only while `recording`,
 * else 0). Returns the value the computation goes on with. Chains of one-input operations (ATN outputs -> sum ->
 * activation; dso -> dpre) are one site: the earlier bounds reach the site's value multiplied by the exact scalar
 * derivative in between, which is what the sensitivity analysis would find.
 */
export interface Probe {
  readonly recording: boolean;
  /**
   * λ/u of the dtype (recording only): a product, quotient or square root that underflows errs by up to λ/2 in
   * absolute terms, which the relative bounds u|v| miss when everything is tiny. Each such rounding adds λ/u to the
   * local bounds (units of u), times the amplification the site's own operations give it.
   */
  readonly tiny?: number;
  /**
   * `adjoint`: the site is an adjoint of the backward pass (dL/dh_t, dL/dc_t). Every output depends on it linearly
   * (the backward pass is linear in its adjoints, given the forward values), so any step that the outputs resolve
   * measures its sensitivity, however small |v| is (an adjoint that is exactly 0, or rounding noise around 0).
   */
  site(v: number, L: number, adjoint?: boolean): number;
  /** A resumed run (ForwardResume): the first n sites are not met (they lie in the steps taken from the earlier run). */
  skip?(n: number): void;
}

type R = (v: number) => number;

interface Win {
  lo: number; // first step of the window (-1 when c0 is in it, a mistake)
  N: number;
  mu: number;
  s: number;
  K: number; // max|a|/s (bounds only)
}

/**
 * Two-pass window statistics on the entries scaled by a power of two near their largest magnitude (exact scaling, so
 * in the normal range the roundings are those of the unscaled two-pass formula): without it a window of tiny entries
 * (1e-200 in double, 1e-30 in float32) has a variance that underflows to 0, and with eps = 0 the replica divided by 0.
 */
function stats(rows: number[][], lo: number, eps: number, r: R): Win {
  let N = 0;
  let amax = 0;
  for (const row of rows)
    for (const v of row) {
      N++;
      amax = Math.max(amax, Math.abs(v));
    }
  const sc = amax > 0 && Number.isFinite(amax) ? 2 ** Math.max(-1074, Math.min(1023, Math.floor(Math.log2(amax)))) : 1;
  let sum = 0;
  for (const row of rows) for (const v of row) sum = r(sum + r(v / sc));
  const mus = r(sum / N);
  let ss = 0;
  for (const row of rows) for (const v of row) ss = r(ss + r(r(r(v / sc) - mus) * r(r(v / sc) - mus)));
  const vs = r(ss / N);
  let s: number;
  if (sc >= 1) {
    // Unscale the variance (exact) and add eps as the plain formula does; if it overflows, eps is negligible.
    const v2 = r(r(vs * sc) * sc);
    s = Number.isFinite(v2) ? r(Math.sqrt(r(v2 + eps))) : r(sc * r(Math.sqrt(vs)));
  } else {
    // Scale eps instead (exact unless it overflows, in the WORKING precision: float32 overflows far sooner than
    // double); then the scaled variance (<= 16) is negligible next to it and s = sqrt(eps).
    const es = r(r(eps / sc) / sc);
    s = Number.isFinite(es) ? r(sc * r(Math.sqrt(r(vs + es)))) : r(Math.sqrt(eps));
  }
  const mu = r(mus * sc);
  return { lo, N, mu, s, K: amax / s };
}

/**
 * Local amplification of an underflow error inside one ATN window (forward or VJP): roundings in the statistics and
 * z (N products of the variance, the mean's and z's quotients) reach z through 1/s and |z|/s², and the VJP combines
 * N of them with weights up to K. Generous on purpose: it only matters where every value is near the underflow level.
 */
const winAmp = (w: Win) => (w.N + 4) * (1 + w.K) ** 2 * (1 + 1 / w.s) ** 2;

const zOf = (w: Win, v: number, r: R) => r(r(v - w.mu) / w.s);
/**
 * What the local bounds La of a window's entries do to the z and s a VJP recomputes from them (first order, units of
 * u): |Δz_j| <= ez_j = (La_j + mean La + |z_j| mean(|z| La)) / s and |Δs|/s <= es = mean(|z| La) / s.
 */
interface InputErr {
  ez: number[][];
  es: number;
}
function inputErr(w: Win, rows: number[][], La: number[][]): InputErr {
  let m1 = 0,
    m2 = 0;
  rows.forEach((row, q) => row.forEach((v, j) => ((m1 += La[q][j]), (m2 += (Math.abs(v - w.mu) / w.s) * La[q][j]))));
  [m1, m2] = [m1 / w.N, m2 / w.N];
  return { ez: rows.map((row, q) => row.map((v, j) => (La[q][j] + m1 + (Math.abs(v - w.mu) / w.s) * m2) / w.s)), es: m2 / w.s };
}

const sigm = (v: number, r: R) => r(1 / r(1 + r(Math.exp(-v))));
const zeros = (n: number) => new Array<number>(n).fill(0);
/** The local bounds of a run that does not record: never read (every read is behind `rec`). */
const NONE: number[] = [];
/** n fresh results of f (a plain loop: Array.from({ length }) walks an iterator and was a tenth of the replica's time). */
function fill<T>(n: number, f: () => T): T[] {
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = f();
  return out;
}
const zeros2 = (a: number, b: number) => fill(a, () => zeros(b));

function zeroGrads(T: number, B: number, I: number, H: number): FloatGrads {
  const G = 4 * H;
  return {
    x: fill(T, () => zeros2(B, I)),
    h0: zeros2(B, H),
    c0: zeros2(B, H),
    w_xh: zeros2(I, G),
    w_hh: zeros2(H, G),
    b_x: zeros(G),
    b_h: zeros(G),
    atn_x: { gain: zeros(G), bias: zeros(G) },
    atn_h: { gain: zeros(G), bias: zeros(G) },
    atn_c: { gain: zeros(H), bias: zeros(H) },
  };
}

/**
 * One window's VJP added into da (rows indexed like `rows`); ĝ on the last row only. With `Lda` (recording), the
 * local rounding bound of each contribution (ATN-7.3's terms without its factor 2) is added to Lda, plus the bound
 * `gE` (|gain_i| times the bound on dy_i) carried through the window's VJP, whose entrywise absolute value is at most
 * (1/s)(δ_ij + 1/N + |z_i z_j|/N) |gain_i|.
 */
function winVjp(
  w: Win,
  rows: number[][],
  gh: number[],
  da: number[][],
  r: R,
  currentOnly: boolean,
  k: number,
  Lda?: number[][],
  gE?: number[],
  inErr?: InputErr,
  tiny = 0,
): void {
  const last = rows.length - 1;
  let s1 = 0;
  let s2 = 0;
  gh.forEach((g, i) => ((s1 = r(s1 + g)), (s2 = r(s2 + r(g * zOf(w, rows[last][i], r))))));
  const m1 = r(s1 / w.N);
  const m2 = r(s2 / w.N);
  let a1 = 0,
    a2 = 0,
    e1 = 0,
    e2 = 0,
    gz = 0,
    gmax = 0;
  if (Lda) {
    gh.forEach((g, i) => {
      const az = Math.abs((rows[last][i] - w.mu) / w.s);
      a1 += Math.abs(g);
      gmax = Math.max(gmax, Math.abs(g));
      a2 += Math.abs(g) * az;
      e1 += gE ? gE[i] : 0;
      e2 += gE ? gE[i] * az : 0;
      gz += inErr ? Math.abs(g) * inErr.ez[last][i] : 0;
    });
    [a1, a2, e1, e2, gz] = [a1 / w.N, a2 / w.N, e1 / w.N, e2 / w.N, gz / w.N];
  }
  rows.forEach((row, q) => {
    if (currentOnly && q !== last) return;
    row.forEach((v, j) => {
      const own = q === last ? gh[j] : 0;
      const z = zOf(w, v, r);
      const contrib = r(r(r(own - m1) - r(z * m2)) / w.s);
      da[q][j] = r(da[q][j] + contrib);
      if (Lda)
        Lda[q][j] +=
          ((w.N + 4 + k) / w.s) * (Math.abs(own) + a1 + (w.K + Math.abs(z)) * a2 + Math.abs(z) * w.K * a1) +
          ((q === last && gE ? gE[j] : 0) + e1 + Math.abs(z) * e2) / w.s +
          (inErr ? (inErr.ez[q][j] * a2 + Math.abs(z) * gz) / w.s + Math.abs(contrib) * inErr.es : 0) +
          // underflow: the ĝ products, m1, m2, z*m2 and the quotient, and z's own underflow errors times m2 <= gmax K
          tiny * winAmp(w) * (1 + gmax) * (1 + w.K) * (1 + 1 / w.s);
    });
  });
}

export function lstmFloat(p: LstmFloatIn, r: R, alter: LstmStructure = {}, probe?: Probe, resume?: ForwardResume): LstmFloatOut {
  const T = p.x.length,
    B = p.x[0].length,
    I = p.x[0][0].length,
    H = p.h0[0].length;
  const G = 4 * H;
  const k = p.k;
  const rec = probe?.recording ?? false;
  const tiny = rec ? (probe?.tiny ?? 0) : 0;
  let sites = 0; // sites met (the step boundaries of ForwardState)
  const S = probe
    ? (v: number, L: number, adjoint = false) => {
        sites++;
        return probe.site(v, L, adjoint);
      }
    : (v: number) => v;
  if (resume && (B !== 1 || rec)) throw new Error('lstmFloat: a resumed run is one sample (B = 1) and does not record');
  const siteStart: number[] = [];
  // rows filled step by step with the arrays the steps produce
  const hOut = fill(T, () => new Array<number[]>(B));
  const cOut = fill(T, () => new Array<number[]>(B));
  // A resumed run without dh (the tolerance's shifted forward runs read h and c only) allocates no gradients.
  const g = resume && !p.dh ? zeroGrads(0, 0, 0, 0) : zeroGrads(T, B, I, H);
  const direct = rec ? zeroGrads(T, B, I, H) : undefined;
  let forward: ForwardState | undefined;
  const [fB, iB] = alter.gatesIfog ? [H, 0] : [0, H];
  // v W + bias, and (recording) its local bound (M+2)(Σ|v||W| + |bias|) in Lout.
  const aff = (v: number[], W: number[][], bias: number[], Lout: number[][]) => {
    if (rec) Lout.push(bias.map((b0, n) => (v.length + 2) * (v.reduce((a, vi, q) => a + Math.abs(vi * W[q][n]), 0) + Math.abs(b0)) + v.length * tiny));
    const out = new Array<number>(bias.length);
    for (let n = 0; n < bias.length; n++) {
      let s = 0;
      for (let q = 0; q < v.length; q++) s = r(s + r(v[q] * W[q][n]));
      out[n] = r(s + bias[n]);
    }
    return out;
  };
  // gain*z + bias of the newest step, and its local bound ATN-7.2 without the factor 2, |g| ρ (K + |z|) + |y| + |bias|,
  // plus the bounds La of the window's entries carried through the ATN (|g_n|/s)(La_n + mean La + |z_n| mean(|z| La)).
  const atnOut = (w: Win, rows: number[][], ga: { gain: number[]; bias: number[] }, L: number[], La?: number[][]) => {
    let m1 = 0,
      m2 = 0;
    if (rec && La)
      rows.forEach((row, q) =>
        row.forEach((v, j) => {
          m1 += La[q][j];
          m2 += (Math.abs(v - w.mu) / w.s) * La[q][j];
        }),
      );
    const last = rows.length - 1;
    return rows[last].map((v, n) => {
      const z = zOf(w, v, r);
      const y = r(r(ga.gain[n] * z) + ga.bias[n]);
      if (rec) {
        L[n] = Math.abs(ga.gain[n]) * (w.N + 4) * (w.K + Math.abs(z)) + Math.abs(y) + Math.abs(ga.bias[n]);
        if (La) L[n] += (Math.abs(ga.gain[n]) / w.s) * (La[last][n] + m1 / w.N + Math.abs(z) * (m2 / w.N));
        L[n] += tiny * (1 + (1 + Math.abs(ga.gain[n])) * winAmp(w));
      }
      return y;
    });
  };
  // An activation value f with derivative df, its input carrying the local bound Lin: one site.
  const act = (f: number, df: number, Lin: number) => S(f, rec ? Math.abs(df) * Lin + 4 * Math.max(Math.abs(f), 0.25) : 0);
  for (let b = 0; b < B; b++) {
    const ax: number[][] = [],
      ah: number[][] = [],
      cs: number[][] = [],
      hs: number[][] = [];
    const wx: Win[] = [],
      wh: Win[] = [],
      wc: Win[] = [];
    const sf: number[][] = [],
      si: number[][] = [],
      so: number[][] = [],
      tg: number[][] = [],
      tnc: number[][] = [],
      pres: number[][] = [];
    const Lax: number[][] = [],
      Lah: number[][] = []; // local bounds of the matmuls, carried into the ATN outputs
    const state = { ax, ah, pre: pres, cs, hs, wx, wh, wc, sf, si, so, tg, tnc };
    let t0 = 0;
    if (resume) {
      t0 = resume.t0;
      for (const key of STATE_KEYS) (state[key] as unknown[]).push(...resume.from.arrays[key].slice(0, t0));
      for (let t = 0; t < t0; t++) {
        hOut[t][b] = hs[t];
        cOut[t][b] = cs[t];
      }
      sites = resume.from.siteStart[t0];
      probe?.skip?.(sites);
    }
    for (let t = t0; t < T; t++) {
      if (B === 1) siteStart[t] = sites;
      const hprev = t ? hs[t - 1] : p.h0[b];
      const cprev = t ? cs[t - 1] : p.c0[b];
      const lo = Math.max(0, t - k + 1);
      // local bounds: only while recording (a shifted replica run reads none of them)
      const Lx = rec ? zeros(G) : NONE,
        Lh = rec ? zeros(G) : NONE;
      if (resume && t === t0) {
        // ForwardResume: everything before the step's first site is the earlier run's
        const f = resume.from.arrays;
        ax.push(f.ax[t] as number[]);
        ah.push(f.ah[t] as number[]);
        wx.push(f.wx[t] as Win);
        wh.push(f.wh[t] as Win);
        pres.push(f.pre[t] as number[]);
      } else {
        ax.push(aff(p.x[t][b], p.w_xh, p.b_x, Lax));
        ah.push(aff(hprev, p.w_hh, p.b_h, Lah));
        if (alter.sharedWindow) {
          const w = stats([...ax.slice(lo), ...ah.slice(lo)], lo, p.eps, r);
          wx.push(w);
          wh.push(w);
        } else {
          wx.push(stats(ax.slice(lo), lo, p.eps, r));
          wh.push(stats(ah.slice(lo), lo, p.eps, r));
        }
        const nx = atnOut(wx[t], ax.slice(lo), p.atn_x, Lx, Lax.slice(lo));
        const nh = atnOut(wh[t], ah.slice(lo), p.atn_h, Lh, Lah.slice(lo));
        pres.push(nx.map((v, n) => r(v + nh[n])));
      }
      const pre = pres[t];
      const Lpre = rec ? pre.map((v, n) => Lx[n] + Lh[n] + Math.abs(v)) : NONE;
      const gate = (off: number) =>
        pre.slice(off, off + H).map((v, j) => {
          const s = sigm(v, r);
          return act(s, s * (1 - s), Lpre[off + j]);
        });
      sf.push(gate(fB));
      si.push(gate(iB));
      so.push(gate(2 * H));
      tg.push(
        pre.slice(3 * H).map((v, j) => {
          const th = r(Math.tanh(v));
          return act(th, 1 - th * th, Lpre[3 * H + j]);
        }),
      );
      cs.push(
        cprev.map((cp, j) => {
          const [u1, u2] = [r(sf[t][j] * cp), r(si[t][j] * tg[t][j])];
          return S(r(u1 + u2), rec ? Math.abs(u1) + Math.abs(u2) + Math.abs(u1 + u2) + 2 * tiny : 0);
        }),
      );
      if (alter.c0InWindow) {
        const withC0 = t - k + 1 <= 0;
        wc.push(stats(withC0 ? [p.c0[b], ...cs] : cs.slice(lo), withC0 ? -1 : lo, p.eps, r));
      } else wc.push(stats(cs.slice(lo), lo, p.eps, r));
      const Lc = rec ? zeros(H) : NONE;
      const nc = alter.noCellAtn ? cs[t] : atnOut(wc[t], cs.slice(Math.max(0, wc[t].lo)), p.atn_c, Lc);
      tnc.push(
        nc.map((v, j) => {
          const th = r(Math.tanh(v));
          return act(th, 1 - th * th, Lc[j]);
        }),
      );
      hs.push(so[t].map((o, j) => S(r(o * tnc[t][j]), rec ? Math.abs(o * tnc[t][j]) + tiny : 0)));
      hOut[t][b] = hs[t];
      cOut[t][b] = cs[t];
    }
    if (B === 1) {
      if (resume) for (let t = 0; t < t0; t++) siteStart[t] = resume.from.siteStart[t];
      siteStart[T] = sites;
      forward = { arrays: state, siteStart };
    }
    // BPTT of the correct structure (only vjpCurrentOnly alters it); a forward altered otherwise gets zero gradients.
    if (!p.dh || alter.gatesIfog || alter.noCellAtn || alter.sharedWindow || alter.c0InWindow) continue;
    const cur = alter.vjpCurrentOnly === true;
    const TB = T * (p.batch ?? B);
    const dAx = zeros2(T, G),
      dAh = zeros2(T, G),
      dC = zeros2(T, H);
    const LdAx = rec ? zeros2(T, G) : [],
      LdAh = rec ? zeros2(T, G) : [],
      LdC = rec ? zeros2(T, H) : [];
    const back = (d: number[], W: number[][]) => {
      const out = new Array<number>(W.length);
      for (let m = 0; m < W.length; m++) {
        const row = W[m];
        let s = 0;
        for (let n = 0; n < row.length; n++) s = r(s + r(row[n] * d[n]));
        out[m] = s;
      }
      return out;
    };
    const backL = (d: number[], W: number[][]) => W.map((row) => (G + 2) * row.reduce((s, w, n) => s + Math.abs(w * d[n]), 0) + G * tiny);
    let dHrec = zeros(H);
    let LHrec = zeros(H);
    for (let t = T - 1; t >= 0; t--) {
      const dH = p.dh[t][b].map((d, j) => S(r(d + dHrec[j]), rec ? LHrec[j] + Math.abs(d + dHrec[j]) : 0, true));
      const dso = dH.map((d, j) => r(d * tnc[t][j])); // one site with dpre_o below
      const dnc = dH.map((d, j) => r(r(d * so[t][j]) * r(1 - r(tnc[t][j] * tnc[t][j])))); // bound 4|dnc|, carried below
      const wcl = wc[t].lo;
      // dy's own bound E (units of u) reaches dgain as |z| E and dbias as E.
      const gradGainBias = (
        w: Win,
        a: number[],
        dy: number[],
        gg: { gain: number[]; bias: number[] },
        E: number[],
        Lg?: { gain: number[]; bias: number[] },
        ez?: number[],
      ) => {
        for (let n = 0; n < dy.length; n++) {
          const z = zOf(w, a[n], r);
          gg.gain[n] = r(gg.gain[n] + r(dy[n] * z));
          gg.bias[n] = r(gg.bias[n] + dy[n]);
          if (Lg) {
            Lg.gain[n] +=
              Math.abs(dy[n]) * (w.N + 4) * (w.K + Math.abs(z)) +
              TB * Math.abs(dy[n] * z) +
              Math.abs(z) * E[n] +
              (ez ? Math.abs(dy[n]) * ez[n] : 0) +
              tiny * (1 + Math.abs(dy[n]) * winAmp(w));
            Lg.bias[n] += TB * Math.abs(dy[n]) + E[n];
          }
        }
      };
      const Enc = rec ? dnc.map((d) => 4 * Math.abs(d) + 3 * tiny) : [];
      gradGainBias(wc[t], cs[t], dnc, g.atn_c, Enc, direct?.atn_c);
      winVjp(
        wc[t],
        cs.slice(wcl, t + 1),
        dnc.map((d, j) => r(p.atn_c.gain[j] * d)),
        dC.slice(wcl, t + 1),
        r,
        cur,
        k,
        rec ? LdC.slice(wcl, t + 1) : undefined,
        rec ? Enc.map((e, j) => Math.abs(p.atn_c.gain[j]) * e) : undefined,
        undefined,
        tiny,
      );
      // dC[t] is complete: every later window and c_{t+1} have sent theirs.
      dC[t] = dC[t].map((d, j) => S(d, rec ? LdC[t][j] + k * Math.abs(d) : 0, true));
      const dCt = dC[t];
      const cprev = t ? cs[t - 1] : p.c0[b];
      const dcp = dCt.map((d, j) => r(d * sf[t][j]));
      if (t) {
        dC[t - 1] = dC[t - 1].map((v, j) => r(v + dcp[j]));
        if (rec) dcp.forEach((v, j) => (LdC[t - 1][j] += 2 * Math.abs(v) + tiny));
      } else {
        g.c0[b] = dcp;
        if (direct) direct.c0[b] = dcp.map((v) => Math.abs(v) + tiny);
      }
      const sg = (s: number) => r(s * r(1 - s));
      const dpre = zeros(G);
      for (let j = 0; j < H; j++) {
        dpre[fB + j] = r(r(dCt[j] * cprev[j]) * sg(sf[t][j]));
        dpre[iB + j] = r(r(dCt[j] * tg[t][j]) * sg(si[t][j]));
        dpre[2 * H + j] = r(dso[j] * sg(so[t][j]));
        dpre[3 * H + j] = r(r(dCt[j] * si[t][j]) * r(1 - r(tg[t][j] * tg[t][j])));
      }
      // dpre's bound (4 roundings; dpre_o also carries dso's |dso| times σ'(o)), carried through both ATN VJPs.
      const Epre = rec ? dpre.map((d, n) => 4 * Math.abs(d) + 4 * tiny + (n >= 2 * H && n < 3 * H ? sg(so[t][n - 2 * H]) * Math.abs(dso[n - 2 * H]) : 0)) : [];
      // The matmul outputs ax, ah are not sites: their local bounds enter through the z and s the VJPs recompute.
      for (const [w, a, da, Lda, gg, pa, Lg, La] of [
        [wx[t], ax, dAx, LdAx, g.atn_x, p.atn_x, direct?.atn_x, Lax],
        [wh[t], ah, dAh, LdAh, g.atn_h, p.atn_h, direct?.atn_h, Lah],
      ] as const) {
        const rows = a.slice(w.lo, t + 1);
        const ie = rec ? inputErr(w, rows, La.slice(w.lo, t + 1)) : undefined;
        gradGainBias(w, a[t], dpre, gg, Epre, Lg, ie?.ez[ie.ez.length - 1]);
        winVjp(
          w,
          rows,
          dpre.map((d, n) => r(pa.gain[n] * d)),
          da.slice(w.lo, t + 1),
          r,
          cur,
          k,
          rec ? Lda.slice(w.lo, t + 1) : undefined,
          rec ? Epre.map((e, n) => Math.abs(pa.gain[n]) * e) : undefined,
          ie,
          tiny,
        );
      }
      // dAh[t], dAx[t] are complete (windows t..t+k-1 are done); their bounds (k additions on top) reach dh_{t-1},
      // dx and the weight gradients through fixed coefficients (W, h_{t-1}, x), so they are charged there directly.
      const EAh = rec ? LdAh[t].map((l, n) => l + k * Math.abs(dAh[t][n])) : [];
      const EAx = rec ? LdAx[t].map((l, n) => l + k * Math.abs(dAx[t][n])) : [];
      const hprev = t ? hs[t - 1] : p.h0[b];
      const dhp = back(dAh[t], p.w_hh);
      const carried = (E: number[], W: number[][]) => W.map((row) => row.reduce((s, w, n) => s + Math.abs(w) * E[n], 0));
      const cAh = rec ? carried(EAh, p.w_hh) : [];
      if (t) {
        dHrec = dhp;
        if (rec) LHrec = backL(dAh[t], p.w_hh).map((v, m) => v + cAh[m]);
      } else {
        g.h0[b] = dhp;
        if (direct) direct.h0[b] = backL(dAh[t], p.w_hh).map((v, m) => v + cAh[m]);
      }
      g.x[t][b] = back(dAx[t], p.w_xh);
      if (direct) {
        const cAx = carried(EAx, p.w_xh);
        direct.x[t][b] = backL(dAx[t], p.w_xh).map((v, m) => v + cAx[m]);
      }
      // the weight gradients: one term per entry and step (row by row: each entry's sum keeps its order over t)
      const dAht = dAh[t],
        dAxt = dAx[t],
        xtb = p.x[t][b];
      for (let q = 0; q < H; q++) {
        const row = g.w_hh[q],
          hq = hprev[q];
        for (let n = 0; n < G; n++) row[n] = r(row[n] + r(hq * dAht[n]));
      }
      for (let q = 0; q < I; q++) {
        const row = g.w_xh[q],
          xq = xtb[q];
        for (let n = 0; n < G; n++) row[n] = r(row[n] + r(xq * dAxt[n]));
      }
      for (let n = 0; n < G; n++) {
        g.b_h[n] = r(g.b_h[n] + dAht[n]);
        g.b_x[n] = r(g.b_x[n] + dAxt[n]);
      }
      if (direct) {
        for (let q = 0; q < H; q++)
          for (let n = 0; n < G; n++) direct.w_hh[q][n] += (TB + 1) * Math.abs(hprev[q] * dAht[n]) + Math.abs(hprev[q]) * EAh[n] + tiny;
        for (let q = 0; q < I; q++) for (let n = 0; n < G; n++) direct.w_xh[q][n] += (TB + 1) * Math.abs(xtb[q] * dAxt[n]) + Math.abs(xtb[q]) * EAx[n] + tiny;
        for (let n = 0; n < G; n++) {
          direct.b_h[n] += TB * Math.abs(dAht[n]) + EAh[n];
          direct.b_x[n] += TB * Math.abs(dAxt[n]) + EAx[n];
        }
      }
    }
  }
  return { h: hOut, c: cOut, grads: g, direct, forward };
}
