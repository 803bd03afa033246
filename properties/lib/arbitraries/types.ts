/** The cases the generators make: what a request of each op carries (before it is turned into args, see args.ts). */

export type Num3 = number[][][];
export type Num2 = number[][];

/** The ATN regimes: the places where plausible implementations go wrong (one generator each, see atn.ts). */
export type Regime = 'general' | 'scale' | 'mixed' | 'drift' | 'large-mean' | 'near-eps' | 'subnormal';

export interface AtnCase {
  k: number;
  eps: number;
  a: Num3;
  /** Omitted means the defaults (ones, zeros: ATN-1.5). */
  gain?: number[];
  bias?: number[];
  regime: string;
}
export interface AtnVjpCase extends AtnCase {
  dy: Num3;
}
export interface LnCase {
  eps: number;
  x: Num2;
  gain?: number[];
  bias?: number[];
}
export interface Affine {
  gain?: number[];
  bias?: number[];
}
export interface LstmParamsCase {
  w_xh: Num2;
  w_hh: Num2;
  b_x?: number[];
  b_h?: number[];
  atn_x?: Affine;
  atn_h?: Affine;
  atn_c?: Affine;
}
export interface LstmCase {
  k: number;
  eps: number;
  x: Num3;
  h0: Num2;
  c0: Num2;
  params: LstmParamsCase;
}
export interface LstmVjpCase extends LstmCase {
  dh: Num3;
}
