/**
 * The ops of protocol v1 (ATN-8.5) as types: for each op, the arguments a client that means it sends and the result a
 * valid answer has. These are the shapes the spec fixes, not what arrives: a request's args are checked by each target
 * (ATN-6, protocol/args.ts), and a foreign target's answer is a plain object until a check has compared its structure
 * with the reference's (properties/lib/checks/framework.ts, Session.checked). Leaves are numbers; with dtype "decimal"
 * (the reference only) they are decimal strings, hence the leaf parameter N.
 */
import type { AtnGradResult, Dtype, Hello, LstmGrads, OpName } from './types';

/** Omitted gains are ones and omitted biases zeros (ATN-8.5). */
export type AffineArgs<N = number> = { gain?: N[]; bias?: N[] };

/** atn.forward: a [T][B][H], gain and bias [H]. */
export type AtnForwardArgs<N = number> = { dtype: Dtype; k: number; eps: N; a: N[][][]; gain?: N[]; bias?: N[] };
/** atn.vjp: as atn.forward, plus the cotangent dy [T][B][H]. */
export type AtnVjpArgs<N = number> = AtnForwardArgs<N> & { dy: N[][][] };
/** ln.forward: x [B][H]. */
export type LnForwardArgs<N = number> = { dtype: Dtype; eps: N; x: N[][]; gain?: N[]; bias?: N[] };
/** The ATN-LSTM's parameters (ATN-6.8): W_xh [I][4H], W_hh [H][4H], b_x, b_h [4H], atn_x, atn_h [4H], atn_c [H]. */
export type LstmParamsArgs<N = number> = {
  w_xh: N[][];
  w_hh: N[][];
  b_x?: N[];
  b_h?: N[];
  atn_x?: AffineArgs<N>;
  atn_h?: AffineArgs<N>;
  atn_c?: AffineArgs<N>;
};
/** lstm.forward: x [T][B][I], h0 and c0 [B][H]. */
export type LstmForwardArgs<N = number> = { dtype: Dtype; k: number; eps: N; x: N[][][]; h0: N[][]; c0: N[][]; params: LstmParamsArgs<N> };
/** lstm.vjp: as lstm.forward, plus the cotangent dh [T][B][H]. */
export type LstmVjpArgs<N = number> = LstmForwardArgs<N> & { dh: N[][][] };

/** Each op of ATN-8.5: its arguments and the result of a valid answer. */
export type OpMap<N = number> = {
  hello: { args: Record<string, never>; result: Hello };
  'atn.forward': { args: AtnForwardArgs<N>; result: { y: N[][][] } };
  'atn.vjp': { args: AtnVjpArgs<N>; result: AtnGradResult<N> };
  'ln.forward': { args: LnForwardArgs<N>; result: { y: N[][] } };
  'lstm.forward': { args: LstmForwardArgs<N>; result: { h: N[][][]; c: N[][][] } };
  'lstm.vjp': { args: LstmVjpArgs<N>; result: { h: N[][][]; c: N[][][]; grads: LstmGrads<N> } };
};

export type Args<Op extends OpName, N = number> = OpMap<N>[Op]['args'];
export type Result<Op extends OpName, N = number> = OpMap<N>[Op]['result'];

/** OpMap has exactly the ops of OPS (a compile-time check: an op added to one and not the other fails to build). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type OpMapCoversOps = Assert<Same<keyof OpMap, OpName>>;
