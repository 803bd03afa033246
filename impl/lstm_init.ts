/**
 * Standard initialisation of the ATN-LSTM (ATN-3.6, informative): orthogonal W_xh, W_hh = [I I I I] (the identity
 * tiled once per gate), zero biases, ATN gains 1 and biases 0. Seeded, so that a run can be replayed.
 */

import { mulberry32 as rng } from '../util/prng';

function gaussian(next: () => number): number {
  const u = 1 - next();
  const v = next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A rows x cols matrix (row-major) with orthonormal rows when rows <= cols, orthonormal columns otherwise:
 * modified Gram-Schmidt on Gaussian vectors.
 */
export function orthogonal(rows: number, cols: number, seed = 0): Float32Array {
  const next = rng(seed);
  const n = Math.min(rows, cols),
    len = Math.max(rows, cols);
  const vecs: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const v = new Float64Array(len);
    for (;;) {
      for (let j = 0; j < len; j++) v[j] = gaussian(next);
      for (const u of vecs) {
        let d = 0;
        for (let j = 0; j < len; j++) d += u[j] * v[j];
        for (let j = 0; j < len; j++) v[j] -= d * u[j];
      }
      let nn = 0;
      for (let j = 0; j < len; j++) nn += v[j] * v[j];
      if (nn > 1e-12) {
        const r = 1 / Math.sqrt(nn);
        for (let j = 0; j < len; j++) v[j] *= r;
        break;
      }
    }
    vecs.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < len; j++) {
      if (rows <= cols) out[i * cols + j] = vecs[i][j];
      else out[j * cols + i] = vecs[i][j];
    }
  return out;
}

/** [H][4H] = [I I I I]. */
export function tiledIdentity(H: number): Float32Array {
  const w = new Float32Array(H * 4 * H);
  for (let i = 0; i < H; i++) for (let g = 0; g < 4; g++) w[i * 4 * H + g * H + i] = 1;
  return w;
}

export interface InitArrays {
  w_xh: Float32Array; // [I][4H]
  w_hh: Float32Array; // [H][4H]
  b_x: Float32Array;
  b_h: Float32Array;
  atn_x: { gain: Float32Array; bias: Float32Array };
  atn_h: { gain: Float32Array; bias: Float32Array };
  atn_c: { gain: Float32Array; bias: Float32Array };
}

export function standardInit(I: number, H: number, seed = 0): InitArrays {
  const G = 4 * H;
  const aff = (n: number) => ({ gain: new Float32Array(n).fill(1), bias: new Float32Array(n) });
  return {
    w_xh: orthogonal(I, G, seed),
    w_hh: tiledIdentity(H),
    b_x: new Float32Array(G),
    b_h: new Float32Array(G),
    atn_x: aff(G),
    atn_h: aff(G),
    atn_c: aff(H),
  };
}
