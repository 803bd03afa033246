import { it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createReference } from '../reference';
import { parseLstmArgs, parseLstmVjpArgs } from '../spec/args';
import { lstmForwardArrays, lstmVjpArrays } from '../impl/lstm';
import { compare } from './lib/compare';

function rnd(seed: number) { let s = seed; return () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 * 2 - 1; }; }
it('scratch', async () => {
  await tf.setBackend('wasm'); await tf.ready();
  for (const [seed, T, B, I, H, k] of [[7, 5, 2, 3, 4, 3], [8, 9, 3, 2, 5, 1], [9, 12, 2, 1, 3, 16], [10, 7, 1, 4, 8, 2]]) {
  const r = rnd(seed);
  const G = 4 * H;
  const m = (a: number, b: number, sc = 1) => Array.from({ length: a }, () => Array.from({ length: b }, () => r() * sc));
  const args: any = { dtype: 'float32', k, eps: 1e-3, x: Array.from({ length: T }, () => m(B, I)), h0: m(B, H), c0: m(B, H),
    params: { w_xh: m(I, G), w_hh: m(H, G, 0.5), b_x: m(1, G)[0], b_h: m(1, G)[0], atn_x: { gain: m(1, G)[0], bias: m(1, G)[0] }, atn_h: { gain: m(1, G)[0], bias: m(1, G)[0] }, atn_c: { gain: m(1, H)[0], bias: m(1, H)[0] } },
    dh: Array.from({ length: T }, () => m(B, H)) };
  const ref = createReference();
  const e = ref.expect('lstm.forward', args);
  const got = lstmForwardArrays(parseLstmArgs(args, { dtypes: ['float32'] }));
  const c = compare(got, e);
  console.log(c.ok, c.detail);
  const ev = ref.expect('lstm.vjp', args);
  const gv = lstmVjpArrays(parseLstmVjpArgs(args, { dtypes: ['float32'] }));
  const cv = compare(gv, ev);
  console.log(cv.ok, cv.detail);
  }
});
