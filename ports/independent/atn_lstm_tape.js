#!/usr/bin/env node
'use strict';
/**
 * An ATN-LSTM written from spec/atn.md alone (ATN-1, ATN-3, ATN-4.3), independent of reference/ and impl/: it exists
 * to test the suite's tolerances (ATN-7.4) on an implementation they were not built from. Protocol v1 port (ATN-8),
 * ops lstm.forward and lstm.vjp, dtypes float32 and float64.
 *
 * Deliberately different from the reference's float replica (reference/lstm-float.ts):
 * - gradients by reverse-mode automatic differentiation over a scalar tape (no hand-written BPTT): every adjoint
 *   accumulation is one rounded addition, in reverse tape order;
 * - every sum is PAIRWISE (matrix products, window mean and variance), the variance two-pass on the entries scaled
 *   by a power of two (ATN-7.2's assumption), sigmoid as (1 + tanh(v/2))/2;
 * - float32: every operation is rounded with Math.fround, forward and backward.
 * Usage: node ports/independent/atn_lstm_tape.js [--mutant chunk8|tile128]   (chunk8: resets the three ATN windows
 * every 8 steps, chunked truncated BPTT; tile128: each step's statistics see only its first 128 features, the
 * tiled-reduction mistake of GPU code, invisible while 4H <= 128: real mistakes, for the suite to catch).
 * Minimal validation (shapes and dtype only): this port is for the agreement checks, not the error checks.
 */
const readline = require('node:readline');

const MUTANT = (() => {
  const i = process.argv.indexOf('--mutant');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();

// ---- a scalar tape --------------------------------------------------------------------------------------------

/** A tape of scalar nodes: value, and the (parent, local derivative) pairs. R rounds every result to the dtype. */
class Tape {
  constructor(R) {
    this.R = R;
    this.val = [];
    this.par = [];
  }
  leaf(v) {
    this.val.push(this.R(v));
    this.par.push(null);
    return this.val.length - 1;
  }
  node(v, parents) {
    this.val.push(this.R(v));
    this.par.push(parents);
    return this.val.length - 1;
  }
  add(a, b) {
    return this.node(this.val[a] + this.val[b], [a, 1, b, 1]);
  }
  sub(a, b) {
    return this.node(this.val[a] - this.val[b], [a, 1, b, -1]);
  }
  mul(a, b) {
    return this.node(this.val[a] * this.val[b], [a, this.val[b], b, this.val[a]]);
  }
  /** a * c for a constant c (a power of two in the scaling: exact). */
  scale(a, c) {
    return this.node(this.val[a] * c, [a, c]);
  }
  div(a, b) {
    const R = this.R;
    const q = R(this.val[a] / this.val[b]);
    return this.node(q, [a, R(1 / this.val[b]), b, R(-R(q / this.val[b]))]);
  }
  sqrt(a) {
    const R = this.R;
    const r = R(Math.sqrt(this.val[a]));
    return this.node(r, [a, R(0.5 / r)]);
  }
  tanh(a) {
    const R = this.R;
    const t = R(Math.tanh(this.val[a]));
    return this.node(t, [a, R(1 - R(t * t))]);
  }
  sigmoid(a) {
    // σ(v) = (1 + tanh(v/2)) / 2, σ' = σ(1 - σ)
    const R = this.R;
    const s = R(R(1 + R(Math.tanh(R(this.val[a] / 2)))) / 2);
    return this.node(s, [a, R(s * R(1 - s))]);
  }
  /** Pairwise sum of node ids. */
  sum(ids) {
    if (ids.length === 1) return ids[0];
    const m = ids.length >> 1;
    return this.add(this.sum(ids.slice(0, m)), this.sum(ids.slice(m)));
  }
  /** Adjoints of every node for the seed adjoints `seed` (Map id -> value), in reverse tape order. */
  backward(seed) {
    const R = this.R;
    const adj = new Float64Array(this.val.length);
    for (const [id, v] of seed) adj[id] = R(adj[id] + v);
    for (let i = this.val.length - 1; i >= 0; i--) {
      const p = this.par[i];
      if (!p || adj[i] === 0) continue;
      for (let j = 0; j < p.length; j += 2) adj[p[j]] = R(adj[p[j]] + R(adj[i] * p[j + 1]));
    }
    return adj;
  }
}

// ---- the ATN-LSTM ----------------------------------------------------------------------------------------------

/** ATN (ATN-1.4) of the newest row of `rows` (node ids [n][W]) over the whole window, gain/bias node ids. */
function atnNewest(tp, rows, eps, gain, bias) {
  // the statistics' entries: the whole window, or (the tile128 mistake) each step's first 128 features
  const seen = MUTANT === 'tile128' && rows[0].length > 128 ? rows.map((r) => r.slice(0, 128)) : rows;
  const flat = seen.flat();
  const N = flat.length;
  // Scale by a power of two near the window's largest magnitude (exact), so squares neither overflow nor underflow.
  let amax = 0;
  for (const id of flat) amax = Math.max(amax, Math.abs(tp.val[id]));
  const e = amax > 0 && Number.isFinite(amax) ? Math.floor(Math.log2(amax)) : 0;
  const sc = 2 ** -e;
  const xs = flat.map((id) => tp.scale(id, sc));
  const invN = tp.leaf(1 / N);
  const mu = tp.mul(tp.sum(xs), invN);
  const d = xs.map((x) => tp.sub(x, mu));
  const v = tp.mul(tp.sum(d.map((x) => tp.mul(x, x))), invN);
  // s (unscaled) = 2^e sqrt(v + eps 2^-2e); eps 2^-2e is computed in the dtype (it may round; fine where eps matters)
  const epsS = tp.leaf(eps * sc * sc);
  const s = tp.sqrt(tp.add(v, epsS));
  const last = rows[rows.length - 1];
  const W = last.length;
  const dLast = seen === rows ? d.slice(N - W) : last.map((id) => tp.sub(tp.scale(id, sc), mu));
  return last.map((_, i) => tp.add(tp.mul(gain[i], tp.div(dLast[i], s)), bias[i]));
}

/** x W + b for a row of node ids and W [rows][cols] node ids: pairwise dot products. */
function affine(tp, row, W, b) {
  return b.map((bj, j) => tp.add(tp.sum(row.map((r, q) => tp.mul(r, W[q][j]))), bj));
}

function lstm(args, wantGrads) {
  const f32 = args.dtype === 'float32';
  const R = f32 ? Math.fround : (v) => v;
  const tp = new Tape(R);
  const { k } = args;
  const eps = R(args.eps);
  const T = args.x.length,
    B = args.x[0].length,
    H = args.h0[0].length;
  const P = args.params;
  const G = 4 * H;
  const L1 = (v) => v.map((e) => tp.leaf(e));
  const L2 = (m) => m.map(L1);
  const ones = (n) => new Array(n).fill(1);
  const zeros = (n) => new Array(n).fill(0);
  const aff = (a, n) => ({ gain: L1(a && a.gain ? a.gain : ones(n)), bias: L1(a && a.bias ? a.bias : zeros(n)) });
  const w_xh = L2(P.w_xh),
    w_hh = L2(P.w_hh);
  const b_x = L1(P.b_x || zeros(G)),
    b_h = L1(P.b_h || zeros(G));
  const ax = aff(P.atn_x, G),
    ah = aff(P.atn_h, G),
    ac = aff(P.atn_c, H);
  const x = args.x.map(L2);
  const h0 = L2(args.h0),
    c0 = L2(args.c0);
  const hs = [],
    cs = [];
  for (let b = 0; b < B; b++) {
    const AX = [],
      AH = [],
      C = [];
    let h = h0[b],
      c = c0[b];
    for (let t = 0; t < T; t++) {
      AX.push(affine(tp, x[t][b], w_xh, b_x));
      AH.push(affine(tp, h, w_hh, b_h));
      // W_t = {max(1, t-k+1) .. t} in 1-based steps; here 0-based: lo = max(0, t-k+1)
      let lo = Math.max(0, t - k + 1);
      if (MUTANT === 'chunk8') lo = Math.max(lo, t - (t % 8));
      const pre = atnNewest(tp, AX.slice(lo), eps, ax.gain, ax.bias).map((v, n) => tp.add(v, atnNewest(tp, AH.slice(lo), eps, ah.gain, ah.bias)[n]));
      const gate = (blk) => pre.slice(blk * H, (blk + 1) * H);
      const fg = gate(0).map((v) => tp.sigmoid(v));
      const ig = gate(1).map((v) => tp.sigmoid(v));
      const og = gate(2).map((v) => tp.sigmoid(v));
      const gg = gate(3).map((v) => tp.tanh(v));
      c = c.map((cp, j) => tp.add(tp.mul(fg[j], cp), tp.mul(ig[j], gg[j])));
      C.push(c);
      const nc = atnNewest(tp, C.slice(lo), eps, ac.gain, ac.bias);
      h = og.map((o, j) => tp.mul(o, tp.tanh(nc[j])));
      (hs[t] ||= [])[b] = h;
      (cs[t] ||= [])[b] = c;
    }
  }
  const val = (ids) => (Array.isArray(ids) ? ids.map(val) : tp.val[ids]);
  const out = { h: val(hs), c: val(cs) };
  if (!wantGrads) return out;
  const seed = new Map();
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) seed.set(hs[t][b][j], R(args.dh[t][b][j]));
  const adj = tp.backward(seed);
  const g = (ids) => (Array.isArray(ids) ? ids.map(g) : adj[ids]);
  out.grads = {
    x: g(x),
    h0: g(h0),
    c0: g(c0),
    w_xh: g(w_xh),
    w_hh: g(w_hh),
    b_x: g(b_x),
    b_h: g(b_h),
    atn_x: { gain: g(ax.gain), bias: g(ax.bias) },
    atn_h: { gain: g(ah.gain), bias: g(ah.bias) },
    atn_c: { gain: g(ac.gain), bias: g(ac.bias) },
  };
  return out;
}

// ---- protocol v1 -----------------------------------------------------------------------------------------------

function wire(v) {
  if (Array.isArray(v)) return v.map(wire);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, wire(e)]));
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return v;
}

const err = (code, clause, message, arg) => ({ code, clause, message, ...(arg ? { arg } : {}) });

function handle(req) {
  const a = req.args || {};
  if (req.op === 'hello')
    return {
      name: 'independent-atn-lstm-tape' + (MUTANT ? ':' + MUTANT : ''),
      version: '1',
      protocol: 1,
      ops: ['hello', 'lstm.forward', 'lstm.vjp'],
      dtypes: ['float32', 'float64'],
    };
  if (req.op !== 'lstm.forward' && req.op !== 'lstm.vjp') throw err('unknown_op', 'ATN-8.5', `unknown op ${req.op}`);
  if (a.dtype !== 'float32' && a.dtype !== 'float64') throw err('unsupported_dtype', 'ATN-6.7', 'dtype: float32 or float64', 'dtype');
  for (const key of ['x', 'h0', 'c0', 'params']) if (!a[key]) throw err('bad_argument', 'ATN-6.8', `${key}: missing`, key);
  if (!(Number.isInteger(a.k) && a.k >= 1)) throw err('bad_argument', 'ATN-6.1', 'k: an integer >= 1', 'k');
  if (req.op === 'lstm.vjp' && !a.dh) throw err('bad_argument', 'ATN-6.8', 'dh: missing', 'dh');
  const H = a.h0[0] && a.h0[0].length,
    I = a.x[0] && a.x[0][0] && a.x[0][0].length;
  const cols = (W, rows) => Array.isArray(W) && W.length === rows && W.every((r) => Array.isArray(r) && r.length === 4 * H);
  if (!cols(a.params.w_xh, I)) throw err('bad_argument', 'ATN-6.8', 'params.w_xh: must be [I][4H]', 'params.w_xh');
  if (!cols(a.params.w_hh, H)) throw err('bad_argument', 'ATN-6.8', 'params.w_hh: must be [H][4H]', 'params.w_hh');
  if (typeof a.eps !== 'number' || !(a.eps >= 0)) throw err('bad_argument', 'ATN-6.2', 'eps: a finite number >= 0', 'eps');
  return lstm(a, req.op === 'lstm.vjp');
}

if (require.main !== module) module.exports = { lstm };
else
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (!line.trim()) return;
    let req;
    try {
      req = JSON.parse(line);
    } catch {
      process.stdout.write(JSON.stringify({ id: null, ok: false, error: err('parse_error', 'ATN-8.1', 'not JSON') }) + '\n');
      return;
    }
    const id = req && (typeof req.id === 'string' || typeof req.id === 'number') ? req.id : null;
    try {
      process.stdout.write(JSON.stringify({ id, ok: true, result: wire(handle(req)) }) + '\n');
    } catch (e) {
      const error = e && e.code ? e : err('internal', 'ATN-8.6', String(e && e.message ? e.message : e));
      process.stdout.write(JSON.stringify({ id, ok: false, error }) + '\n');
    }
  });
