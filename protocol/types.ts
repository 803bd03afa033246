/** Protocol v1 (spec/atn.md, ATN-8): the one contract every target speaks. */
import type { ClauseId } from '../spec/clauses';

export const PROTOCOL_VERSION = 1;

export type Id = string | number | null;
export type Dtype = 'float32' | 'float64' | 'decimal';
export const DTYPES: readonly Dtype[] = ['float32', 'float64', 'decimal'];

export const OPS = ['hello', 'atn.forward', 'atn.vjp', 'ln.forward', 'lstm.forward', 'lstm.vjp'] as const;
export type OpName = (typeof OPS)[number];

export interface Request {
  id: Id;
  op: string;
  args: Record<string, unknown>;
  /**
   * Only in a report: the exact line sent for a deliberately broken envelope (op not a string, args not an object).
   * op is then "(raw)" and args {} (protocol/record.ts); such a request is shown, never replayed.
   */
  raw?: string;
}

export type ErrorCode =
  | 'parse_error' // the line is not JSON (ATN-8.1); id is null
  | 'bad_request' // the envelope is wrong: id/op/args missing or of the wrong type (ATN-8.2)
  | 'unknown_op' // ATN-8.5
  | 'unsupported_dtype' // ATN-6.7 / ATN-8.4
  | 'bad_argument' // an argument breaks ATN-6.1..6.5 or ATN-6.8; error.arg names it
  | 'degenerate_window' // ATN-6.6
  | 'too_large' // ATN-6.9
  | 'internal'; // the target failed; ATN-8.6

export interface ErrorBody {
  code: ErrorCode | string; // foreign ports may send other codes; our targets send only ErrorCode
  clause: ClauseId | string;
  message: string;
  arg?: string; // the argument at fault, as a path: "k", "eps", "a", "params.w_xh", "gain"
}

/**
 * Marks set by the runner (never sent by a target): `byRunner` on a stand-in answer the port runner made up because
 * the port gave none it could use (timeout, crash, wrong id); `wire` when the port's line broke the wire format but
 * could still be read (bare NaN tokens, ATN-8.3): the sentence to show.
 */
export interface ResponseMarks {
  byRunner?: true;
  wire?: string;
  /** Only in a report: the answer was too large or too deep to keep whole (protocol/record.ts). */
  recorded?: { truncated: true; leaves: number; depth: number; shapes: Record<string, string>; sha256: string };
}

export type Response =
  | ({ id: Id; ok: true; result: Record<string, unknown> } & ResponseMarks)
  | ({ id: Id; ok: false; error: ErrorBody } & ResponseMarks);

export interface Hello {
  name: string;
  version: string;
  protocol: 1;
  ops: string[];
  dtypes: Dtype[];
  backend?: string; // e.g. tfjs backend name
  description?: string;
  /** Capabilities (ATN-8.8): the window lengths served (absent: every k >= 1). */
  k?: { min?: number; max?: number };
  /** Capabilities (ATN-8.8): the eps values served (absent: every eps >= 0), compared after rounding to the dtype. */
  eps?: number[];
}

/** Nested arrays of numbers as they are after decoding (non-finite values are JS NaN/Infinity). */
export type Vec = number[];
export type Mat = number[][];
export type Ten3 = number[][][];

export interface AtnGradResult {
  y: Ten3;
  da: Ten3;
  dgain: Vec;
  dbias: Vec;
}

/** The gradients of lstm.vjp; the leaf type is a parameter so that the reference's exact version shares the shape. */
export interface LstmGrads<N = number> {
  x: N[][][];
  h0: N[][];
  c0: N[][];
  w_xh: N[][];
  w_hh: N[][];
  b_x: N[];
  b_h: N[];
  atn_x: { gain: N[]; bias: N[] };
  atn_h: { gain: N[]; bias: N[] };
  atn_c: { gain: N[]; bias: N[] };
}

/** The keys of each op's valid result (ATN-8.5): a result with other keys does not have the op's structure. */
export const RESULT_KEYS: Readonly<Record<string, readonly string[]>> = {
  'atn.forward': ['y'],
  'ln.forward': ['y'],
  'atn.vjp': ['y', 'da', 'dgain', 'dbias'],
  'lstm.forward': ['h', 'c'],
  'lstm.vjp': ['h', 'c', 'grads'],
};

/** The keys of lstm.vjp's grads (LstmGrads). */
export const LSTM_GRAD_KEYS: readonly string[] = ['x', 'h0', 'c0', 'w_xh', 'w_hh', 'b_x', 'b_h', 'atn_x', 'atn_h', 'atn_c'];

/** A fault of the target process met during a campaign (crash, hang, garbage line, wrong id). */
export interface Fault {
  kind: 'crash' | 'timeout' | 'garbage' | 'wrong-id' | 'start' | 'other';
  message: string;
  /** The request being answered when it happened. */
  request?: Request;
  atMs: number;
}
