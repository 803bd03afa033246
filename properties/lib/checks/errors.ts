/**
 * Invalid input gets an error response with the code and clause the spec fixes (ATN-6, ATN-8), and the target keeps
 * serving. Each check corrupts valid generated requests in every way listed for its clause, for every op the target
 * lists; a wrong code, a wrong clause, a success or no answer fails it.
 */
import fc from 'fast-check';
import type { Outgoing, Response } from '../../../protocol/types';
import type { ClauseId } from '../../../spec/clauses';
import { atnArgs, atnCase, atnVjpArgs, lnArgs, lstmArgs, lstmCase, lstmVjpArgs, withDh, withDy, type AtnVjpCase, type LstmVjpCase } from '../arbitraries';
import { compareOutputs, maxRatio } from '../compare';
import type { Needs } from '../capabilities';
import type { Check, CheckContext } from '../types';
import { expectOf, notTheTargets, propertyCheck, type Outcome } from './framework';

type Args = Record<string, unknown>;

interface Base {
  atn: AtnVjpCase;
  lstm: LstmVjpCase;
  pos: number;
}

/** Valid args for each op, from one generated base. */
function validArgs(ctx: CheckContext, op: string, b: Base): Args {
  switch (op) {
    case 'atn.forward':
      return atnArgs(ctx.dtype, b.atn);
    case 'atn.vjp':
      return atnVjpArgs(ctx.dtype, b.atn);
    case 'ln.forward':
      return lnArgs(ctx.dtype, { eps: b.atn.eps, x: b.atn.a[0], gain: b.atn.gain, bias: b.atn.bias });
    case 'lstm.forward':
      return lstmArgs(ctx.dtype, b.lstm);
    default:
      return lstmVjpArgs(ctx.dtype, b.lstm);
  }
}

function baseArb(ctx: CheckContext): fc.Arbitrary<Base> {
  return fc.record({
    atn: withDy(ctx.dtype, atnCase(ctx.dtype, 'general')),
    lstm: withDh(ctx.dtype, lstmCase(ctx.dtype)),
    pos: fc.nat({ max: 10_000 }),
  });
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
type Arr = unknown[];

/** One way of breaking a request: returns the broken request, or undefined when it does not apply to the op. */
interface Variant {
  what: string;
  ops?: string[];
  make: (args: Args, op: string, pos: number, ctx: CheckContext) => { op?: string; args: Args } | undefined;
}

const ALL = ['atn.forward', 'atn.vjp', 'ln.forward', 'lstm.forward', 'lstm.vjp'];
const WITH_K = ['atn.forward', 'atn.vjp', 'lstm.forward', 'lstm.vjp'];
const ATN = ['atn.forward', 'atn.vjp'];
const LSTM = ['lstm.forward', 'lstm.vjp'];

function set(field: string, value: unknown, ops = ALL): Variant {
  return {
    what: value === undefined ? `${field} missing` : `${field} = ${JSON.stringify(value)}`,
    ops,
    make: (args) => {
      const out = clone(args);
      if (value === undefined) delete out[field];
      else out[field] = value;
      return { args: out };
    },
  };
}

/** The main array input of each op (a, x, or the LSTM's x). */
const mainArray = (op: string) => (op === 'ln.forward' || op.startsWith('lstm') ? 'x' : 'a');

function entry(name: string, value: string | number, ops: string[], path: (args: Args, op: string) => { arr: Arr } | undefined): Variant {
  return {
    what: `${name} entry ${JSON.stringify(value)}`,
    ops,
    make: (args0, op, pos) => {
      const args = clone(args0);
      const target = path(args, op);
      if (!target) return undefined;
      // Descend to a leaf array chosen by pos, and put the value at a position chosen by pos.
      let arr = target.arr;
      while (Array.isArray(arr[0])) arr = arr[pos % arr.length] as Arr;
      arr[pos % arr.length] = value;
      return { args };
    },
  };
}

function shapeChange(what: string, ops: string[], f: (args: Args, op: string) => boolean): Variant {
  return {
    what,
    ops,
    make: (args0, op) => {
      const args = clone(args0);
      return f(args, op) ? { args } : undefined;
    },
  };
}

/** Makes a vector argument one longer (or one shorter when `shorter` and it has 2+ entries). */
function resize(v: unknown, shorter = false): unknown[] | undefined {
  if (!Array.isArray(v)) return undefined;
  if (shorter) return v.length >= 2 ? v.slice(1) : undefined;
  return [...v, v[v.length - 1] ?? 0];
}

interface ErrorSpec {
  id: string;
  clause: ClauseId;
  title: string;
  code: string;
  /** The check needs at least one of these ops in hello. */
  anyOf: string[];
  variants: (ctx: CheckContext) => Variant[];
  /** k and eps the variants send themselves (ATN-8.8). */
  needs?: Needs;
}

/** Checks one error answer; undefined when it is right. */
function judge(res: { res?: Response; thrown?: unknown }, req: Outgoing, code: string, clause: string, what: string): Outcome | undefined {
  const { res: r } = res;
  if (!r) return { ok: false, detail: `${what}: no response (${res.thrown instanceof Error ? res.thrown.message : String(res.thrown)})` };
  const stand = notTheTargets(what, r);
  if (stand) return { ok: false, detail: stand };
  if (r.wire) return { ok: false, detail: `${what}: ${r.wire}` };
  if (r.ok) return { ok: false, detail: `${what}: answered ok, want error ${code} (${clause})` };
  if (r.id !== req.id) return { ok: false, detail: `${what}: error response has id ${JSON.stringify(r.id)}, want ${JSON.stringify(req.id)} (ATN-8.2)` };
  const e = r.error ?? ({} as Record<string, unknown>);
  if (e.code !== code) return { ok: false, detail: `${what}: error code ${JSON.stringify(e.code)} (${e.clause}), want ${code} (${clause})` };
  if (e.clause !== clause) return { ok: false, detail: `${what}: right code ${code} but clause ${JSON.stringify(e.clause)}, want ${clause}` };
  if (typeof e.message !== 'string' || e.message.length === 0) return { ok: false, detail: `${what}: error without a message (ATN-8.6)` };
  return undefined;
}

function available(ctx: CheckContext, ops: string[] | undefined): string[] {
  const have = ctx.hello.ops ?? [];
  return (ops ?? ALL).filter((op) => have.includes(op));
}

function errorCheck(spec: ErrorSpec): Check {
  return propertyCheck<Base>({
    id: spec.id,
    clause: spec.clause,
    title: spec.title,
    ops: [],
    kind: 'errors',
    needs: spec.needs,
    runs: (ctx) => Math.max(2, Math.ceil(ctx.runs / 5)),
    skip: (ctx) => (available(ctx, spec.anyOf).length ? undefined : `the target's hello lists none of ${spec.anyOf.join(', ')}`),
    arb: baseArb,
    async run(base, s, ctx) {
      let n = 0;
      for (const v of spec.variants(ctx))
        for (const op of available(ctx, v.ops)) {
          const made = v.make(validArgs(ctx, op, base), op, base.pos, ctx);
          if (!made) continue;
          const sentOp = made.op ?? op;
          const what = `${sentOp}: ${v.what}`;
          const sent = await s.send(sentOp, made.args);
          const bad = judge(sent, sent.req, spec.code, spec.clause, what);
          n++;
          if (bad) {
            s.focusLast(1);
            return bad;
          }
        }
      return { ok: true, detail: `${n} invalid requests answered with ${spec.code} (${spec.clause})` };
    },
  });
}

const ERROR_SPECS: ErrorSpec[] = [
  {
    id: 'errors.k',
    clause: 'ATN-6.1',
    title: 'k that is not a positive integer (0, -3, 2.5, "2", null, missing) is refused with bad_argument (ATN-6.1)',
    code: 'bad_argument',
    anyOf: WITH_K,
    variants: () => [0, -3, 2.5, '2', null, undefined].map((k) => set('k', k, WITH_K)),
  },
  {
    id: 'errors.eps',
    clause: 'ATN-6.2',
    title: 'eps that is negative, non-finite, not a number or missing is refused with bad_argument (ATN-6.2)',
    code: 'bad_argument',
    anyOf: ALL,
    variants: (ctx) =>
      [-1, -1e-30, 'NaN', 'Infinity', '-Infinity', 'abc', null, undefined, ...(ctx.dtype === 'float32' ? [3.5e38] : [])].map((e) => set('eps', e)),
  },
  {
    id: 'errors.shape',
    clause: 'ATN-6.3',
    title: 'empty, ragged, squeezed or missing arrays (a, x, dy) are refused with bad_argument (ATN-6.3)',
    code: 'bad_argument',
    anyOf: ALL,
    variants: () => [
      ...['[]', '[[]]', '[[[]]]'].map((v) => ({ ...set('a', JSON.parse(v), ATN), what: `a = ${v}` })),
      set('a', undefined, ATN),
      set('a', 3, ATN),
      set('x', [], ['ln.forward', ...LSTM]),
      set('x', undefined, ['ln.forward', ...LSTM]),
      shapeChange('a squeezed to [B][H] (a time dimension dropped)', ATN, (args) => ((args.a = (args.a as Arr)[0]), true)),
      shapeChange('a ragged: the last row one entry longer', ATN, (args) => {
        const a = args.a as number[][][];
        if (a.length * a[0].length < 2) return false; // the last row would be the first, which sets the width
        const row = a[a.length - 1][a[0].length - 1];
        row.push(row[0]);
        return true;
      }),
      shapeChange('a ragged: the last time step one row longer', ATN, (args) => {
        const a = args.a as number[][][];
        if (a.length < 2) return false;
        a[a.length - 1].push(a[0][0].slice());
        return true;
      }),
      shapeChange('x ragged: the last row one entry longer', ['ln.forward'], (args) => {
        const x = args.x as number[][];
        if (x.length < 2) return false;
        x[x.length - 1].push(1);
        return true;
      }),
      shapeChange('dy with one time step more than a', ['atn.vjp'], (args) => ((args.dy as Arr).push((args.dy as Arr)[0]), true)),
      set('dy', undefined, ['atn.vjp']),
    ],
  },
  {
    id: 'errors.non-finite',
    clause: 'ATN-6.4',
    title:
      'a non-finite entry ("Infinity", "-Infinity", "NaN"; at float32 also 3.5e38, which rounds to Infinity, ATN-6.10) in any input array is refused with bad_argument (ATN-6.4)',
    code: 'bad_argument',
    anyOf: ALL,
    variants: (ctx) => {
      const out: Variant[] = [];
      // ATN-6.10: at float32, finite JSON numbers that round to ±Infinity are not finite entries either.
      const overflow: number[] = ctx.dtype === 'float32' ? [3.5e38, -1e308] : [];
      for (const v of ['Infinity', '-Infinity', 'NaN', ...overflow]) {
        out.push(entry('main array', v, ALL, (args, op) => ({ arr: args[mainArray(op)] as Arr })));
        out.push(
          entry('gain', v, ['atn.forward', 'atn.vjp', 'ln.forward'], (args) => ({
            arr: (args.gain ??= new Array(((args.x ?? (args.a as Arr)[0]) as Arr[])[0].length).fill(1)) as Arr,
          })),
        );
        out.push(entry('dy', v, ['atn.vjp'], (args) => ({ arr: args.dy as Arr })));
        out.push(entry('params.w_xh', v, LSTM, (args) => ({ arr: (args.params as Args).w_xh as Arr })));
        out.push(entry('h0', v, LSTM, (args) => ({ arr: args.h0 as Arr })));
        out.push(entry('dh', v, ['lstm.vjp'], (args) => ({ arr: args.dh as Arr })));
      }
      return out;
    },
  },
  {
    id: 'errors.gain-length',
    clause: 'ATN-6.5',
    title: 'gain or bias whose length is not H is refused with bad_argument (ATN-6.5)',
    code: 'bad_argument',
    anyOf: ['atn.forward', 'atn.vjp', 'ln.forward'],
    variants: () => {
      const width = (args: Args) => ((args.x ?? (args.a as Arr)[0]) as Arr[])[0].length;
      const ops = ['atn.forward', 'atn.vjp', 'ln.forward'];
      return (['gain', 'bias'] as const).flatMap((name) =>
        [false, true].map((shorter) =>
          shapeChange(`${name} of length H ${shorter ? '- 1' : '+ 1'}`, ops, (args) => {
            const v = resize(args[name] ?? new Array(width(args)).fill(name === 'gain' ? 1 : 0), shorter);
            if (!v) return false;
            args[name] = v;
            return true;
          }),
        ),
      );
    },
  },
  {
    id: 'errors.degenerate-window',
    clause: 'ATN-6.6',
    title: 'a window with var_t + eps = 0 (a constant window with eps = 0) is refused with degenerate_window (ATN-6.6)',
    code: 'degenerate_window',
    needs: { eps: [0] },
    anyOf: ['atn.forward', 'atn.vjp', 'ln.forward', 'lstm.forward', 'lstm.vjp'],
    variants: () => [
      shapeChange('eps = 0 and the first step of one sample constant', ATN, (args) => {
        const a = args.a as number[][][];
        args.eps = 0;
        const b = a[0].length - 1;
        a[0][b] = a[0][b].map(() => a[0][b][0]);
        return true;
      }),
      shapeChange('eps = 0 and H = 1 (a window of one entry at t = 1)', ATN, (args) => {
        args.eps = 0;
        args.a = (args.a as number[][][]).map((m) => m.map((row) => [row[0]]));
        args.dy &&= (args.dy as number[][][]).map((m) => m.map((row) => [row[0]]));
        delete args.gain;
        delete args.bias;
        return true;
      }),
      shapeChange('eps = 0 and one constant row of x', ['ln.forward'], (args) => {
        const x = args.x as number[][];
        args.eps = 0;
        x[0] = x[0].map(() => 0.5);
        return true;
      }),
      shapeChange('eps = 0, x_1 = 0 and b_x constant (ATN_x sees a constant window)', LSTM, (args) => {
        const x = args.x as number[][][];
        const p = args.params as Args;
        args.eps = 0;
        x[0] = x[0].map((row) => row.map(() => 0));
        p.b_x = (p.w_xh as number[][])[0].map(() => 0.5);
        return true;
      }),
    ],
  },
  {
    id: 'errors.dtype',
    clause: 'ATN-6.7',
    title: 'a dtype the target does not list (float16, "FLOAT32", 42, missing; decimal where not listed) is refused with unsupported_dtype (ATN-6.7)',
    code: 'unsupported_dtype',
    anyOf: ALL,
    variants: (ctx) => {
      const vs: unknown[] = ['float16', 'FLOAT32', 42, undefined];
      if (!(ctx.hello.dtypes ?? []).includes('decimal')) vs.push('decimal');
      return vs.map((d) => set('dtype', d));
    },
  },
  {
    id: 'errors.lstm-shapes',
    clause: 'ATN-6.8',
    title: 'ATN-LSTM parameters or states whose shapes disagree with x, h0, c0 are refused with bad_argument (ATN-6.8)',
    code: 'bad_argument',
    anyOf: LSTM,
    variants: () => {
      const p = (args: Args) => args.params as Args;
      const grow = (name: string, get: (args: Args) => Args, key: string) =>
        shapeChange(`${name} one longer`, LSTM, (args) => {
          const holder = get(args);
          holder[key] = resize(holder[key]);
          return holder[key] !== undefined;
        });
      return [
        grow('params.w_xh rows (I + 1)', p, 'w_xh'),
        grow('params.w_hh rows (H + 1)', p, 'w_hh'),
        shapeChange('params.w_xh columns 4H + 1', LSTM, (args) => ((p(args).w_xh as number[][]).forEach((r) => r.push(0)), true)),
        shapeChange('params.b_x of length 4H + 1', LSTM, (args) => ((p(args).b_x = [...new Array((p(args).w_xh as Arr[])[0].length + 1).fill(0)]), true)),
        shapeChange('params.b_h of length 4H - 1', LSTM, (args) => ((p(args).b_h = [...new Array((p(args).w_xh as Arr[])[0].length - 1).fill(0)]), true)),
        grow('h0 rows (B + 1)', (a) => a, 'h0'),
        shapeChange('c0 columns H + 1', LSTM, (args) => ((args.c0 as number[][]).forEach((r) => r.push(0)), true)),
        shapeChange('params.atn_c.gain of length H + 1', LSTM, (args) => {
          const H = (args.h0 as Arr[])[0].length;
          p(args).atn_c = { gain: new Array(H + 1).fill(1) };
          return true;
        }),
        shapeChange('params.atn_x.bias of length 4H + 1', LSTM, (args) => {
          const H4 = (p(args).w_xh as Arr[])[0].length;
          p(args).atn_x = { bias: new Array(H4 + 1).fill(0) };
          return true;
        }),
        shapeChange('dh with one time step more than x', ['lstm.vjp'], (args) => ((args.dh as Arr).push((args.dh as Arr)[0]), true)),
      ];
    },
  },
  {
    id: 'errors.unknown-op',
    clause: 'ATN-8.5',
    title: 'an op the protocol does not define (including names like "constructor" and "__proto__") is refused with unknown_op (ATN-8.5)',
    code: 'unknown_op',
    // Whatever the target serves (ATN-9.9): an LSTM-only port is asked too, with its own op's arguments.
    anyOf: ALL,
    variants: (ctx) =>
      ['atn.backward', 'ATN.FORWARD', 'atn.forward ', '', 'lstm', 'constructor', '__proto__', 'toString', 'hasOwnProperty'].map((name) => ({
        what: `op ${JSON.stringify(name)}`,
        ops: available(ctx, ALL).slice(0, 1),
        make: (args: Args) => ({ op: name, args }),
      })),
  },
];

// Envelopes broken on purpose (BrokenEnvelope): a Session sends them as they are.
const envelope: Check = propertyCheck<Base>({
  id: 'errors.envelope',
  clause: 'ATN-8.2',
  title: 'a request whose op is not a string or whose args is not an object is refused with bad_request, answering its id (ATN-8.2)',
  ops: [],
  kind: 'errors',
  runs: () => 1,
  arb: baseArb,
  async run(base, s, ctx) {
    const args = validArgs(ctx, 'atn.forward', base);
    const cases: Array<{ what: string; op: unknown; args: unknown }> = [
      { what: 'op = 42', op: 42, args },
      { what: 'op = null', op: null, args },
      { what: 'op = ["atn.forward"]', op: ['atn.forward'], args },
      { what: 'args = []', op: 'atn.forward', args: [] },
      { what: 'args = "x"', op: 'atn.forward', args: 'x' },
      { what: 'args = null', op: 'atn.forward', args: null },
    ];
    for (const c of cases) {
      const sent = await s.sendBroken(c.op, c.args);
      const bad = judge(sent, sent.req, 'bad_request', 'ATN-8.2', c.what);
      if (bad) {
        s.focusLast(1);
        return bad;
      }
    }
    return { ok: true, detail: `${cases.length} bad envelopes refused` };
  },
});

/**
 * After each kind of error the next valid request is answered as before it (ATN-8.6). The answers are compared with
 * the target's own first answer (ATN-7.5), not with the reference: agreement is the other checks' business, and a
 * wrong but stable target still keeps serving.
 */
/** The forward op a target serves, for the checks that need one valid request of any kind (ATN-9.9). */
const FORWARD_OPS = ['atn.forward', 'ln.forward', 'lstm.forward'] as const;
function servedForward(ctx: CheckContext): (typeof FORWARD_OPS)[number] | undefined {
  return FORWARD_OPS.find((op) => available(ctx, [op]).length > 0);
}

const keepsServing: Check = propertyCheck<Base>({
  id: 'errors.keeps-serving',
  clause: 'ATN-8.6',
  title: 'after an error response the target keeps serving: the next valid request (of a forward op it serves) is answered as it was before the error',
  ops: [],
  kind: 'errors',
  runs: (ctx) => Math.max(2, Math.ceil(ctx.runs / 5)),
  skip: (ctx) => (servedForward(ctx) ? undefined : `the target's hello lists none of ${FORWARD_OPS.join(', ')}`),
  arb: baseArb,
  async run(base, s, ctx) {
    const fwd = servedForward(ctx)!;
    const data = fwd === 'atn.forward' ? 'a' : 'x';
    const good = validArgs(ctx, fwd, base);
    const exp = expectOf(ctx, fwd, good);
    const first = await s.checked(fwd, good, exp.want);
    const bads: Array<[string, Args]> = [
      [fwd, { ...good, ...(fwd === 'ln.forward' ? { eps: -1 } : { k: 0 }) }],
      [fwd, { ...good, [data]: [] }],
      [fwd, { ...good, eps: 'NaN' }],
      ['no.such.op', good],
      ...(fwd === 'lstm.forward'
        ? []
        : ([[fwd, { ...good, eps: 0, [data]: fwd === 'atn.forward' ? [[[1, 1]]] : [[1, 1]], gain: undefined, bias: undefined }]] as Array<[string, Args]>)),
    ];
    let worst: Outcome = { ok: true, ratio: 0, detail: 'served' };
    for (const [op, args] of bads) {
      await s.send(op, args);
      const { res, thrown } = await s.send(fwd, good);
      if (!res || !res.ok) {
        s.focusLast(2);
        return {
          ok: false,
          detail: `after an error for ${op}, a valid ${fwd} got ${res ? `error ${res.error.code}: ${res.error.message}` : `no response (${String(thrown)})`}`,
        };
      }
      const cmp = compareOutputs(first, res.result, exp.tol, exp.tol);
      const ratio = maxRatio(cmp.ratios);
      if (!cmp.ok) {
        s.focusLast(2);
        return { ok: false, ratio, worst: cmp.worst, detail: `after an error for ${op}, a valid ${fwd} answered differently from before it: ${cmp.detail}` };
      }
      if (ratio > (worst.ratio ?? 0)) worst = { ok: true, ratio, detail: 'served' };
    }
    return worst;
  },
});

export const ERRORS: Check[] = [...ERROR_SPECS.map(errorCheck), envelope, keepsServing];
