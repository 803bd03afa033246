/**
 * The ATN-LSTM layer (ATN-3) as one fused forward pass and one hand-written BPTT (ATN-4.3) over flat arrays.
 *
 * Why fused: on the wasm backend every tfjs op costs tens of microseconds of dispatch, and the recurrence needs ~40
 * small elementwise ops per step forward and backward. Here the elementwise work and the window statistics of a time
 * step run as a few float64 loops, and only the matrix products go to the tfjs backend (`CoreOps`), as large as the
 * data flow allows: x W_xh for all steps in one product, the weight gradients as one product each after the loop.
 *
 * Layout: time-major, [T][B][width] flattened. G = 4H; gate order [f, i, o, g] (ATN-3.3). Elementwise work and
 * statistics are float64; values that feed a matrix product are float32 (what the backend computes with).
 */
import { sigmoid, tanh } from './lstm_math';
import { stepStats, vjpWindowSums, windowAt } from './lstm_window';

export interface CoreDims {
  T: number;
  B: number;
  I: number;
  H: number;
  k: number;
  eps: number;
}

/** Vectors of the layer (float32 values held as float64). */
export interface CoreVectors {
  b_x: Float64Array; // [G]
  b_h: Float64Array; // [G]
  gx: Float64Array; // ATN_x gain [G]
  ox: Float64Array; // ATN_x bias [G]
  gh: Float64Array; // [G]
  oh: Float64Array; // [G]
  gc: Float64Array; // ATN_c gain [H]
  oc: Float64Array; // [H]
}

/** Matrix products on the tfjs backend. */
export interface CoreOps {
  /** x [rows][I] times W_xh [I][G]. */
  xW(x: Float32Array, rows: number): Float32Array;
  /** h [B][H] times W_hh [H][G]. */
  hW(h: Float32Array, rows: number): Float32Array;
  /** d [B][G] times W_hh^T. */
  dWhT(d: Float32Array, rows: number): Float32Array;
  /** a^T d: a [m][p], d [m][q] -> [p][q]. */
  tn(a: Float32Array, m: number, p: number, d: Float32Array, q: number): Float32Array;
  /** For dAx [rows][G]: dx = dAx W_xh^T [rows][I] and dW_xh = x^T dAx [I][G]. */
  xGrads(dAx: Float32Array, x: Float32Array, rows: number): { dx: Float32Array; dW: Float32Array };
}

/** Up to this input width the x-side products run inside the dA^x loop: a backend product with an inner or outer
 * dimension this thin is slower than the loop it would replace. */
const INLINE_X_GRADS = 8;

/** What the forward keeps for the backward pass. */
export interface CoreTape {
  dims: CoreDims;
  v: CoreVectors;
  x: Float32Array;
  wxh: Float32Array; // [I][G]
  c0: Float64Array;
  hAll: Float32Array; // [(T+1)][B][H]: h0, h_1..h_T
  C: Float64Array; // [T][B][H]
  zx: Float64Array; // normalized a^x [T][B][G]
  zh: Float64Array; // normalized a^h [T][B][G]
  zc: Float64Array; // normalized c [T][B][H]
  F: Float64Array; // sigmoid(f) [T][B][H]
  Ig: Float64Array; // sigmoid(i)
  O: Float64Array; // sigmoid(o)
  Gg: Float64Array; // tanh(g)
  TC: Float64Array; // tanh(ATN_c(c))
  mux: Float64Array; // window mean and s = sqrt(var + eps) per (t, b)
  sx: Float64Array;
  muh: Float64Array;
  sh: Float64Array;
  muc: Float64Array;
  sc: Float64Array;
}

export interface CoreGrads {
  x: Float32Array;
  h0: Float32Array;
  c0: Float64Array;
  w_xh: Float32Array;
  w_hh: Float32Array;
  b_x: Float64Array;
  b_h: Float64Array;
  gx: Float64Array;
  ox: Float64Array;
  gh: Float64Array;
  oh: Float64Array;
  gc: Float64Array;
  oc: Float64Array;
}

/**
 * The large float64 buffers (~100 MB per training step at T=100, B=50, H=128) are reused from one call to the next,
 * so that a step does not zero-fill and the collector does not reclaim that much every time. A tape gives its buffers
 * back when its backward pass is done; a tape that never runs backward is simply collected.
 */
const pool = new Map<number, Float64Array[]>();
function take(n: number): Float64Array {
  const free = pool.get(n);
  return free?.pop() ?? new Float64Array(n);
}
function give(...bufs: Float64Array[]): void {
  for (const b of bufs) {
    const free = pool.get(b.length) ?? [];
    if (free.length < 16) free.push(b);
    pool.set(b.length, free);
  }
}

export function coreForward(d: CoreDims, v: CoreVectors, ops: CoreOps, x: Float32Array, wxh: Float32Array, h0: Float32Array, c0: Float64Array): CoreTape {
  const { T, B, H, k, eps } = d;
  const G = 4 * H;
  const TB = T * B;
  const { b_x, b_h, gx, ox, gh, oh, gc, oc } = v;
  // a^x for every step in one product (ATN-3.1); ATN_x's step statistics for the whole sequence (ATN-3.2).
  const ax = ops.xW(x, TB);
  const meanX = new Float64Array(TB),
    m2X = new Float64Array(TB);
  for (let r = 0; r < TB; r++) {
    const o = r * G;
    let s = 0;
    for (let j = 0; j < G; j++) s += ax[o + j] + b_x[j];
    const m = s / G;
    let q = 0;
    for (let j = 0; j < G; j++) {
      const e = ax[o + j] + b_x[j] - m;
      q += e * e;
    }
    meanX[r] = m;
    m2X[r] = q;
  }

  const hAll = new Float32Array((T + 1) * B * H);
  hAll.set(h0, 0);
  const zx = take(TB * G),
    zh = take(TB * G);
  const C = take(TB * H),
    zc = take(TB * H),
    F = take(TB * H),
    Ig = take(TB * H),
    O = take(TB * H),
    Gg = take(TB * H),
    TC = take(TB * H);
  const mux = new Float64Array(TB),
    sx = new Float64Array(TB);
  const meanH = new Float64Array(TB),
    m2H = new Float64Array(TB),
    muh = new Float64Array(TB),
    sh = new Float64Array(TB);
  const meanC = new Float64Array(TB),
    m2C = new Float64Array(TB),
    muc = new Float64Array(TB),
    sc = new Float64Array(TB);

  for (let t = 0; t < T; t++) {
    windowAt(t, B, G, k, eps, meanX, m2X, mux, sx, 'ATN_x');
    // a^h_t = h_{t-1} W_hh + b_h, its step statistics and window (ATN_h); kept un-normalized in zh for a moment.
    const ah = ops.hW(hAll.subarray(t * B * H, (t + 1) * B * H), B);
    const zo = t * B * G;
    for (let r = 0; r < B; r++) for (let j = 0; j < G; j++) zh[zo + r * G + j] = ah[r * G + j] + b_h[j];
    stepStats(zh, zo, B, G, meanH, m2H, t * B);
    windowAt(t, B, G, k, eps, meanH, m2H, muh, sh, 'ATN_h');
    // Normalize both preactivations, gates and cell (ATN-3.3, ATN-3.4).
    for (let b = 0; b < B; b++) {
      const tb = t * B + b;
      const mx = mux[tb],
        rx = 1 / sx[tb],
        mh = muh[tb],
        rh = 1 / sh[tb];
      const o = zo + b * G;
      const q = tb * H;
      const cp = t === 0 ? b * H : q - B * H;
      const cPrev = t === 0 ? c0 : C;
      for (let j = 0; j < H; j++) {
        let p0 = 0,
          p1 = 0,
          p2 = 0,
          p3 = 0;
        for (let gate = 0; gate < 4; gate++) {
          const e = gate * H + j;
          const zxe = (ax[o + e] + b_x[e] - mx) * rx;
          const zhe = (zh[o + e] - mh) * rh;
          zx[o + e] = zxe;
          zh[o + e] = zhe;
          const p = gx[e] * zxe + ox[e] + gh[e] * zhe + oh[e];
          if (gate === 0) p0 = p;
          else if (gate === 1) p1 = p;
          else if (gate === 2) p2 = p;
          else p3 = p;
        }
        const f = sigmoid(p0),
          i = sigmoid(p1),
          og = sigmoid(p2),
          g = tanh(p3);
        F[q + j] = f;
        Ig[q + j] = i;
        O[q + j] = og;
        Gg[q + j] = g;
        C[q + j] = f * cPrev[cp + j] + i * g;
      }
    }
    // h_t = sigmoid(o) * tanh(ATN_c(c_t)) (ATN-3.5).
    const co = t * B * H;
    stepStats(C, co, B, H, meanC, m2C, t * B);
    windowAt(t, B, H, k, eps, meanC, m2C, muc, sc, 'ATN_c');
    for (let b = 0; b < B; b++) {
      const m = muc[t * B + b];
      const rs = 1 / sc[t * B + b];
      const q = co + b * H;
      const hq = (t + 1) * B * H + b * H;
      for (let j = 0; j < H; j++) {
        const z = (C[q + j] - m) * rs;
        zc[q + j] = z;
        const tc = tanh(gc[j] * z + oc[j]);
        TC[q + j] = tc;
        hAll[hq + j] = O[q + j] * tc;
      }
    }
  }
  return { dims: d, v, x, wxh, c0, hAll, C, zx, zh, zc, F, Ig, O, Gg, TC, mux, sx, muh, sh, muc, sc };
}

/**
 * BPTT (ATN-4.3) for upstream gradients dH (of h) and dC (of c), both [T][B][H].
 *
 * Each ATN's VJP (ATN-4.1) is split in two: window t contributes alpha_t, beta_t (sums over step t's entries, known
 * once step t's output gradient is known), and entry a_s receives the sums over the windows t = s..s+k-1 that hold it
 * (lstm_window.ts vjpWindowSums). Going backward in time, those windows are all done when step s is reached.
 */
export function coreBackward(tp: CoreTape, ops: CoreOps, dH: ArrayLike<number>, dC: ArrayLike<number>): CoreGrads {
  const d = tp.dims;
  const { T, B, H, k } = d;
  const G = 4 * H;
  const TB = T * B;
  const { gx, gh, gc } = tp.v;
  const { C, zx, zh, zc, F, Ig, O, Gg, TC, muh, sh, muc, sc, mux, sx, c0 } = tp;
  const dgx = new Float64Array(G),
    dox = new Float64Array(G),
    dgh = new Float64Array(G),
    doh = new Float64Array(G);
  const dgc = new Float64Array(H),
    doc = new Float64Array(H),
    b_h = new Float64Array(G),
    b_x = new Float64Array(G);
  const dP = take(TB * G); // gradient of the gate preactivations = of ATN_x's output and of ATN_h's output
  const dA = new Float32Array(TB * G); // dL/da^h, then (after dW_hh is formed) dL/da^x
  const alphaH = new Float64Array(TB),
    betaH = new Float64Array(TB);
  const alphaX = new Float64Array(TB),
    betaX = new Float64Array(TB);
  const alphaC = new Float64Array(TB),
    betaC = new Float64Array(TB);
  const A = new Float64Array(B),
    Bs = new Float64Array(B);
  const ghatC = new Float64Array(B * H),
    dO = new Float64Array(B * H);
  let dhNext: Float32Array = new Float32Array(B * H);
  const dcNext = new Float64Array(B * H);

  for (let s = T - 1; s >= 0; s--) {
    // ATN_c's output gradient at step s, and its alpha, beta.
    const nC = Math.min(s + 1, k) * H;
    for (let b = 0; b < B; b++) {
      const q = (s * B + b) * H;
      let sg = 0,
        sgz = 0;
      for (let j = 0; j < H; j++) {
        const dh = dH[q + j] + dhNext[b * H + j];
        const tc = TC[q + j];
        dO[b * H + j] = dh * tc;
        const dyc = dh * O[q + j] * (1 - tc * tc);
        dgc[j] += dyc * zc[q + j];
        doc[j] += dyc;
        const g = gc[j] * dyc;
        ghatC[b * H + j] = g;
        sg += g;
        sgz += g * zc[q + j];
      }
      const sv = sc[s * B + b];
      alphaC[s * B + b] = sg / (sv * nC);
      betaC[s * B + b] = sgz / (sv * sv * nC);
    }
    // dc_s, then the gate preactivations; alongside, dgain/dbias and alpha, beta of ATN_x and ATN_h at step s.
    vjpWindowSums(s, T, B, k, alphaC, betaC, muc, A, Bs);
    const nG = Math.min(s + 1, k) * G;
    for (let b = 0; b < B; b++) {
      const sb = s * B + b;
      const q = sb * H;
      const po = sb * G;
      const sv = sc[sb];
      const a = A[b],
        bz = sv * Bs[b],
        rs = 1 / sv;
      for (let j = 0; j < H; j++) {
        const l = b * H + j;
        const dc = ghatC[l] * rs - a - zc[q + j] * bz + dcNext[l] + dC[q + j];
        const cp = s === 0 ? c0[l] : C[q - B * H + j];
        const f = F[q + j],
          i = Ig[q + j],
          o = O[q + j],
          g = Gg[q + j];
        dcNext[l] = dc * f;
        dP[po + j] = dc * cp * f * (1 - f);
        dP[po + H + j] = dc * g * i * (1 - i);
        dP[po + 2 * H + j] = dO[l] * o * (1 - o);
        dP[po + 3 * H + j] = dc * i * (1 - g * g);
      }
      let sgH = 0,
        sgzH = 0,
        sgX = 0,
        sgzX = 0;
      for (let e = 0; e < G; e++) {
        const p = dP[po + e];
        const zhe = zh[po + e],
          zxe = zx[po + e];
        dgh[e] += p * zhe;
        dgx[e] += p * zxe;
        doh[e] += p;
        const ph = gh[e] * p,
          px = gx[e] * p;
        sgH += ph;
        sgzH += ph * zhe;
        sgX += px;
        sgzX += px * zxe;
      }
      const svh = sh[sb],
        svx = sx[sb];
      alphaH[sb] = sgH / (svh * nG);
      betaH[sb] = sgzH / (svh * svh * nG);
      alphaX[sb] = sgX / (svx * nG);
      betaX[sb] = sgzX / (svx * svx * nG);
    }
    // dL/da^h_s and its way back into h_{s-1}.
    vjpWindowSums(s, T, B, k, alphaH, betaH, muh, A, Bs);
    for (let b = 0; b < B; b++) {
      const po = (s * B + b) * G;
      const sv = sh[s * B + b];
      const rs = 1 / sv,
        a = A[b],
        bz = sv * Bs[b];
      for (let j = 0; j < G; j++) {
        const da = gh[j] * dP[po + j] * rs - a - zh[po + j] * bz;
        dA[po + j] = da;
        b_h[j] += da;
      }
    }
    dhNext = ops.dWhT(dA.subarray(s * B * G, (s + 1) * B * G), B);
  }
  const w_hh = ops.tn(tp.hAll.subarray(0, TB * H), TB, H, dA, G);

  // ATN_x over the whole sequence: every window's alpha, beta is known now.
  const { I } = d;
  const inline = I <= INLINE_X_GRADS;
  const x = tp.x;
  const wxh = tp.wxh;
  const dxIn = inline ? new Float32Array(TB * I) : undefined;
  const dWIn = inline ? new Float64Array(I * G) : undefined;
  for (let s = 0; s < T; s++) {
    vjpWindowSums(s, T, B, k, alphaX, betaX, mux, A, Bs);
    for (let b = 0; b < B; b++) {
      const row = s * B + b;
      const po = row * G;
      const sv = sx[row];
      const rs = 1 / sv,
        a = A[b],
        bz = sv * Bs[b];
      for (let j = 0; j < G; j++) {
        const da = gx[j] * dP[po + j] * rs - a - zx[po + j] * bz;
        dA[po + j] = da;
        b_x[j] += da;
      }
      if (dxIn && dWIn) {
        for (let i = 0; i < I; i++) {
          const xi = x[row * I + i];
          const wo = i * G;
          let acc = 0;
          for (let j = 0; j < G; j++) {
            const da = dA[po + j];
            acc += da * wxh[wo + j];
            dWIn[wo + j] += xi * da;
          }
          dxIn[row * I + i] = acc;
        }
      }
    }
  }
  const { dx, dW: w_xh } = dxIn && dWIn ? { dx: dxIn, dW: Float32Array.from(dWIn) } : ops.xGrads(dA, x, TB);
  dox.set(doh); // both are the sum of the gate preactivation gradients
  give(dP, zx, zh, C, zc, F, Ig, O, Gg, TC);
  return { x: dx, h0: dhNext, c0: dcNext, w_xh, w_hh, b_x, b_h, gx: dgx, ox: dox, gh: dgh, oh: doh, gc: dgc, oc: doc };
}
