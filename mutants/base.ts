/**
 * The plain-JS ATN target behind every mutant: float64 arithmetic on the inputs rounded to the dtype (float32 inputs
 * and eps with Math.fround, ATN-7.1), results rounded to float32 when the dtype is float32. With no flag it is a
 * correct implementation (createBaseTarget); each flag of flags.ts switches on one port mistake.
 *
 * A machine answers synchronously (diagnose.ts replays cases without awaiting) and keeps the state a leaking port
 * would keep between requests.
 */
import { AtnError, errorBody } from '../protocol/errors';
import { checkEnvelope, type OpHandler } from '../protocol/target';
import type { Dtype, Hello, Outgoing, Response, UncheckedResult } from '../protocol/types';
import { parseAtnArgs, parseAtnVjpArgs, parseLnArgs, parseLstmArgs, parseLstmVjpArgs, type AtnArgs, type Leaf, type LstmArgs } from '../protocol/args';
import { atnSequence, type AtnSeq } from './atn-core';
import type { Flags } from './flags';
import { lstmForward, type LstmWindows } from './lstm';
import { lstmVjp } from './lstm-vjp';

export const MUTANT_DTYPES: Dtype[] = ['float32', 'float64'];
export const BASE_OPS = ['atn.forward', 'atn.vjp', 'ln.forward', 'lstm.forward', 'lstm.vjp'] as const;

type Nested = number | Nested[];

function numFor(dtype: Dtype): (leaf: Leaf) => number {
  return dtype === 'float32' ? (l) => Math.fround(Number(l)) : (l) => Number(l);
}

/** [T] steps of B*W values -> [T][B][W] (rounded to the dtype); the squeeze mistake drops a size-1 B or W. */
function unflat3(steps: ArrayLike<number>[], B: number, W: number, out: (x: number) => number, squeeze: boolean): Nested {
  return steps.map((row) => unflat2(row, B, W, out, squeeze));
}

function unflat2(row: ArrayLike<number>, B: number, W: number, out: (x: number) => number, squeeze: boolean): Nested {
  const m: number[][] = [];
  for (let b = 0; b < B; b++) m.push(Array.from({ length: W }, (_, i) => out(row[b * W + i])));
  if (squeeze && B === 1) return m[0];
  if (squeeze && W === 1) return m.map((r) => r[0]);
  return m;
}

const vec = (v: ArrayLike<number>, out: (x: number) => number) => Array.from(v, out);

export class Machine {
  /** The last final window of atn requests (state-leak keeps it; a correct port starts empty, ATN-1.7). */
  private atnWindow?: { B: number; W: number; steps: Float64Array[] };
  private lstmWindows?: { B: number; H: number; w: LstmWindows };

  constructor(
    readonly flags: Flags,
    readonly hello: Hello,
  ) {}

  handlers(): Record<string, OpHandler> {
    return {
      'atn.forward': (a) => this.atnForward(a),
      'atn.vjp': (a) => this.atnVjp(a),
      'ln.forward': (a) => this.lnForward(a),
      'lstm.forward': (a) => this.lstmForwardOp(a),
      'lstm.vjp': (a) => this.lstmVjpOp(a),
    };
  }

  /** Answers one request synchronously (never throws), as targetFromHandlers would. */
  answer(raw: Outgoing): Response {
    const { id, req, error } = checkEnvelope(raw);
    if (error || !req) return { id, ok: false, error: (error ?? new AtnError('bad_request', 'ATN-8.2', 'bad request')).toBody() };
    try {
      if (req.op === 'hello') return { id, ok: true, result: { ...this.hello } };
      const h = this.hello.ops.includes(req.op) ? this.handlers()[req.op] : undefined;
      if (!h)
        throw new AtnError(
          'unknown_op',
          'ATN-8.5',
          `op: unknown op ${JSON.stringify(req.op.slice(0, 60))}; this target serves ${['hello', ...this.hello.ops].join(', ')} (ATN-8.5)`,
          'op',
        );
      return { id, ok: true, result: h(req.args) as UncheckedResult };
    } catch (e) {
      return { id, ok: false, error: errorBody(e) };
    }
  }

  private opts() {
    return { dtypes: this.hello.dtypes };
  }

  private out(dtype: Dtype): (x: number) => number {
    return dtype === 'float32' ? Math.fround : (x) => x;
  }

  private seqOf(p: AtnArgs, k: number): AtnSeq {
    const num = numFor(p.dtype);
    const steps = p.a.map((m) => Float64Array.from(m.flat(), num));
    let prefix: Float64Array[] = [];
    const w = this.atnWindow;
    if (this.flags.has('state-leak') && w && w.B === p.B && w.W === p.H) prefix = w.steps;
    return { steps, prefix, B: p.B, W: p.H, k, eps: num(p.eps), f32: p.dtype === 'float32' };
  }

  private remember(seq: AtnSeq): void {
    if (!this.flags.has('state-leak')) return;
    const all = [...seq.prefix, ...seq.steps];
    this.atnWindow = { B: seq.B, W: seq.W, steps: all.slice(Math.max(0, all.length - seq.k)) };
  }

  private atnForward(args: Record<string, unknown>): Record<string, unknown> {
    const p = parseAtnArgs(args, this.opts());
    const num = numFor(p.dtype);
    const seq = this.seqOf(p, p.k);
    const r = atnSequence(seq, p.gain.map(num), p.bias.map(num), this.flags);
    this.remember(seq);
    return { y: unflat3(r.y, p.B, p.H, this.out(p.dtype), this.flags.has('squeeze-singleton')) };
  }

  private atnVjp(args: Record<string, unknown>): Record<string, unknown> {
    const p = parseAtnVjpArgs(args, this.opts());
    const num = numFor(p.dtype);
    const seq = this.seqOf(p, p.k);
    const dy = Float64Array.from(p.dy.flat(2), num);
    const r = atnSequence(seq, p.gain.map(num), p.bias.map(num), this.flags, dy);
    this.remember(seq);
    const out = this.out(p.dtype);
    const sq = this.flags.has('squeeze-singleton');
    const daSteps = Array.from({ length: p.T }, (_, t) => r.da!.subarray(t * p.B * p.H, (t + 1) * p.B * p.H));
    return {
      y: unflat3(r.y, p.B, p.H, out, sq),
      da: unflat3(daSteps, p.B, p.H, out, sq),
      dgain: vec(r.dgain!, out),
      dbias: vec(r.dbias!, out),
    };
  }

  private lnForward(args: Record<string, unknown>): Record<string, unknown> {
    const p = parseLnArgs(args, this.opts());
    const num = numFor(p.dtype);
    const seq: AtnSeq = { steps: [Float64Array.from(p.x.flat(), num)], prefix: [], B: p.B, W: p.H, k: 1, eps: num(p.eps), f32: p.dtype === 'float32' };
    const r = atnSequence(seq, p.gain.map(num), p.bias.map(num), this.flags);
    return { y: unflat2(r.y[0], p.B, p.H, this.out(p.dtype), this.flags.has('squeeze-singleton')) };
  }

  private lstmRun(p: LstmArgs) {
    const w = this.lstmWindows;
    const leaked = this.flags.has('state-leak') && w && w.B === p.B && w.H === p.H ? w.w : undefined;
    const r = lstmForward(p, this.flags, numFor(p.dtype), leaked);
    if (this.flags.has('state-leak')) {
      const keep = (s: Float64Array[]) => s.slice(Math.max(0, s.length - p.k));
      this.lstmWindows = { B: p.B, H: p.H, w: { x: keep(r.seqs.x), h: keep(r.seqs.h), c: keep(r.seqs.c) } };
    }
    return r;
  }

  private lstmForwardOp(args: Record<string, unknown>): Record<string, unknown> {
    const p = parseLstmArgs(args, this.opts());
    const r = this.lstmRun(p);
    const out = this.out(p.dtype);
    const sq = this.flags.has('squeeze-singleton');
    return { h: unflat3(r.h, p.B, p.H, out, sq), c: unflat3(r.c, p.B, p.H, out, sq) };
  }

  private lstmVjpOp(args: Record<string, unknown>): Record<string, unknown> {
    const p = parseLstmVjpArgs(args, this.opts());
    const r = this.lstmRun(p);
    const g = lstmVjp(p, r.trace, r.h, r.c, this.flags, numFor(p.dtype));
    const out = this.out(p.dtype);
    const sq = this.flags.has('squeeze-singleton');
    const m2 = (m: number[][]) => m.map((row) => vec(row, out));
    const aff = (a: { gain: ArrayLike<number>; bias: ArrayLike<number> }) => ({ gain: vec(a.gain, out), bias: vec(a.bias, out) });
    return {
      h: unflat3(r.h, p.B, p.H, out, sq),
      c: unflat3(r.c, p.B, p.H, out, sq),
      grads: {
        x: g.x.map(m2),
        h0: unflat2(g.h0, p.B, p.H, out, false),
        c0: unflat2(g.c0, p.B, p.H, out, false),
        w_xh: m2(g.w_xh),
        w_hh: m2(g.w_hh),
        b_x: vec(g.b_x, out),
        b_h: vec(g.b_h, out),
        atn_x: aff(g.atn_x),
        atn_h: aff(g.atn_h),
        atn_c: aff(g.atn_c),
      },
    };
  }
}
