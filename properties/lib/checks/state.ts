/**
 * ATN-1.7: sequences are independent. A target that keeps a window (or an LSTM state) from one request to the next
 * answers the same request differently depending on what came before it: send A then Q, and A' then Q; the two
 * answers to Q must agree (within twice Q's tolerance, ATN-7.5).
 */
import fc from 'fast-check';
import { atnArgs, atnCase, build3, lstmArgs, lstmCase, nonConstantSteps, rounder, size, unit, type AtnCase, type LstmCase } from '../arbitraries';
import type { Result } from '../../../protocol/ops';
import { compareOutputs, maxRatio } from '../compare';
import type { Check } from '../types';
import { lstmRuns } from './agreement';
import { expectOf, notTheTargets, propertyCheck, TargetFailure, type Session } from './framework';

/** Three LSTM requests per case: short ones (the long sequences live in the agreement checks). */
const SHORT = { shortOnly: true };

interface Triple<C> {
  q: C;
  a1: C;
  a2: C;
}

/** Two different predecessors of the same shape family as Q (same B and H, their own T). */
function predecessors(q: AtnCase, dtype: 'float32' | 'float64', t1: number, t2: number, u: number[]): [AtnCase, AtnCase] {
  const r = rounder(dtype);
  const B = q.a[0].length,
    H = q.a[0][0].length;
  const make = (T: number, sign: number) => {
    let a = build3(T, B, H, (_t, _b, _h, i) => r(sign * 8 * u[i % u.length] + sign * 3));
    if (q.eps === 0) a = nonConstantSteps(a, dtype);
    return { ...q, a };
  };
  return [make(t1, 1), make(t2, -1)];
}

async function twice<Op extends 'atn.forward' | 'lstm.forward'>(
  s: Session,
  op: Op,
  first: Record<string, unknown>,
  q: Record<string, unknown>,
  want: Result<Op>,
): Promise<Result<Op>> {
  // Its answer does not matter here, only what it may leave behind; but a predecessor the port never answered (a crash,
  // a timeout: the runner answered, and the port restarts) left nothing behind to test, so the case is not evidence.
  const pre = await s.send(op, first);
  const lost = pre.res && notTheTargets(op, pre.res);
  if (lost) throw new TargetFailure({ ok: false, ratio: Infinity, detail: lost });
  return s.checked(op, q, want);
}

const atnState: Check = propertyCheck<Triple<AtnCase>>({
  id: 'state.independent-sequences',
  clause: 'ATN-1.7',
  title: "Each atn.forward request starts with an empty window: request Q answers the same after A as after a different A'",
  ops: ['atn.forward'],
  kind: 'state',
  arb: (ctx) =>
    fc.record({ q: atnCase(ctx.dtype, 'general'), t1: size(6), t2: size(6), u: fc.array(unit, { minLength: 72, maxLength: 72 }) }).map(({ q, t1, t2, u }) => {
      const [a1, a2] = predecessors(q, ctx.dtype, t1, t2, u);
      return { q, a1, a2 };
    }),
  async run({ q, a1, a2 }, s, ctx) {
    const qa = atnArgs(ctx.dtype, q);
    const e = expectOf(ctx, 'atn.forward', qa);
    const r1 = await twice(s, 'atn.forward', atnArgs(ctx.dtype, a1), qa, e.want);
    const r2 = await twice(s, 'atn.forward', atnArgs(ctx.dtype, a2), qa, e.want);
    const cmp = compareOutputs(r1, r2, e.tol, e.tol);
    return {
      ok: cmp.ok,
      ratio: maxRatio(cmp.ratios),
      worst: cmp.worst,
      detail: `the same request answered differently after different predecessors (state leaks between requests, ATN-1.7): ${cmp.detail}`,
    };
  },
});

const lstmState: Check = propertyCheck<Triple<LstmCase>>({
  id: 'state.independent-lstm',
  clause: 'ATN-1.7',
  title: "Each lstm.forward request starts from its own h0, c0 and empty windows: Q answers the same after A as after A'",
  ops: ['lstm.forward'],
  kind: 'state',
  runs: lstmRuns,
  arb: (ctx) =>
    fc
      .record({ q: lstmCase(ctx.dtype, undefined, SHORT), a1: lstmCase(ctx.dtype, undefined, SHORT), a2: lstmCase(ctx.dtype, undefined, SHORT) })
      .map(({ q, a1, a2 }) => {
        // Predecessors share Q's parameters and batch shape: only x, h0, c0 (and their length in time) differ.
        const B = q.x[0].length,
          I = q.x[0][0].length,
          H = q.h0[0].length;
        const like = (o: LstmCase, sign: number): LstmCase => ({
          ...q,
          x: o.x.map((m) => Array.from({ length: B }, (_, b) => Array.from({ length: I }, (_, i) => sign * (m[b % m.length][i % m[0].length] + 0.5)))),
          h0: Array.from({ length: B }, (_, b) => Array.from({ length: H }, (_, h) => -q.h0[b][h])),
          c0: Array.from({ length: B }, (_, b) => Array.from({ length: H }, (_, h) => sign * (q.c0[b][h] + 0.25))),
        });
        return { q, a1: like(a1, 1), a2: like(a2, -1) };
      }),
  async run({ q, a1, a2 }, s, ctx) {
    const r = rounder(ctx.dtype);
    const round = (c: LstmCase): LstmCase => ({ ...c, x: c.x.map((m) => m.map((row) => row.map(r))), c0: c.c0.map((row) => row.map(r)) });
    const qa = lstmArgs(ctx.dtype, q);
    const e = expectOf(ctx, 'lstm.forward', qa);
    const r1 = await twice(s, 'lstm.forward', lstmArgs(ctx.dtype, round(a1)), qa, e.want);
    const r2 = await twice(s, 'lstm.forward', lstmArgs(ctx.dtype, round(a2)), qa, e.want);
    const cmp = compareOutputs(r1, r2, e.tol, e.tol);
    return {
      ok: cmp.ok,
      ratio: maxRatio(cmp.ratios),
      worst: cmp.worst,
      detail: `the same lstm.forward request answered differently after different predecessors (state leaks, ATN-1.7): ${cmp.detail}`,
    };
  },
});

export const STATE: Check[] = [atnState, lstmState];
