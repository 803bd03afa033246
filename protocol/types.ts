/** Protocol v1 (spec/atn.md, ATN-8): the one contract every target speaks. */
import type { ClauseId } from '../spec/clauses';

export const PROTOCOL_VERSION = 1;

export type Id = string | number | null;
export type Dtype = 'float32' | 'float64' | 'decimal';
export const DTYPES: readonly Dtype[] = ['float32', 'float64', 'decimal'];

export const OPS = ['hello', 'atn.forward', 'atn.vjp', 'ln.forward', 'lstm.forward', 'lstm.vjp'] as const;
export type OpName = (typeof OPS)[number];

/**
 * A request for one of the protocol's ops (ATN-8.2): id, op, and args an object. The args are what the client put
 * there, not the op's typed arguments (protocol/ops.ts Args): a target checks them (ATN-6), and the errors checks send
 * wrong ones on purpose.
 */
export interface Request<Op extends OpName = OpName> {
  id: Id;
  op: Op;
  args: Record<string, unknown>;
}

/**
 * A well-formed envelope for an op the protocol may not define: what checkEnvelope passes on to a target, and what the
 * checks send when they ask for an unknown op on purpose (errors.unknown-op, errors.keeps-serving), answered with
 * unknown_op (ATN-8.5).
 */
export interface UnknownOpRequest {
  id: Id;
  op: string;
  args: Record<string, unknown>;
}

/** Any well-formed envelope (op a string, args an object). */
export type Envelope = Request | UnknownOpRequest;

/** A deliberately broken envelope (errors.envelope): op not a string, or args not an object. Sent as it is. */
export interface BrokenEnvelope {
  id: Id;
  op: unknown;
  args: unknown;
}

/** What a client may hand a target: a target answers every one (a broken envelope with bad_request, ATN-8.2). */
export type Outgoing = Envelope | BrokenEnvelope;

/**
 * A broken envelope as a report keeps it (protocol/record.ts): the exact line sent, in `raw`, with op "(raw)" and empty
 * args standing in, so that the report's schema holds; such a request is shown, never replayed.
 */
export interface RawRequest {
  id: Id;
  op: '(raw)';
  args: Record<string, never>;
  raw: string;
}

/** A request as a report keeps it. */
export type RecordedRequest = Envelope | RawRequest;

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

/**
 * A result object as it arrived: not checked beyond being an object. Its keys and shapes are the op's (protocol/ops.ts
 * Result) only once a check compared them with the reference's (ATN-7.1, ATN-8.5).
 */
export type UncheckedResult = Record<string, unknown>;

export type Response = ({ id: Id; ok: true; result: UncheckedResult } & ResponseMarks) | ({ id: Id; ok: false; error: ErrorBody } & ResponseMarks);

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

/** The result of atn.vjp; the leaf type is a parameter (decimal strings at dtype "decimal"). */
export type AtnGradResult<N = number> = {
  y: N[][][];
  da: N[][][];
  dgain: N[];
  dbias: N[];
};

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
  /** The request being answered when it happened (a broken envelope too; a report keeps it recorded, protocol/record.ts). */
  request?: Outgoing;
  atMs: number;
}
