/** ATN-8.7 and ATN-8.2: hello describes the target, and every response answers its request's id. */
import { isRecord } from '../../../protocol/codec';
import { DTYPES, OPS } from '../../../protocol/types';
import type { Check, CheckContext, CheckResult } from '../types';
import { notTheTargets, Session } from './framework';

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;

/** ATN-8.8: the optional capabilities k: {min?, max?} (integers >= 1, min <= max) and eps: [finite numbers >= 0]. */
function capabilityProblems(h: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (h.k !== undefined) {
    const k = h.k;
    if (!isRecord(k)) out.push('hello.k is not an object {min?, max?} (ATN-8.8)');
    else {
      if (k.min !== undefined && !isCount(k.min)) out.push(`hello.k.min is ${JSON.stringify(k.min)}, want an integer >= 1 (ATN-8.8)`);
      if (k.max !== undefined && !isCount(k.max)) out.push(`hello.k.max is ${JSON.stringify(k.max)}, want an integer >= 1 (ATN-8.8)`);
      if (isCount(k.min) && isCount(k.max) && k.min > k.max) out.push(`hello.k.min ${String(k.min)} > hello.k.max ${String(k.max)} (ATN-8.8)`);
    }
  }
  if (h.eps !== undefined && (!Array.isArray(h.eps) || !h.eps.length || !h.eps.every((e) => typeof e === 'number' && Number.isFinite(e) && e >= 0)))
    out.push(`hello.eps is ${JSON.stringify(h.eps)}, want a non-empty array of finite numbers >= 0 (ATN-8.8)`);
  return out;
}

export const helloCheck: Check = {
  id: 'protocol.hello',
  clause: 'ATN-8.7',
  title: 'hello names the target and its version, protocol 1, the ops (known ones) and dtypes it serves, and echoes the request id',
  ops: [],
  kind: 'errors',
  async run(ctx: CheckContext): Promise<CheckResult> {
    const t0 = Date.now();
    const s = new Session(ctx.target);
    const problems: string[] = [];
    for (const id of ['hello-1', 7, 0, '']) {
      const { res, thrown } = await s.send('hello', {}, id);
      if (!res) problems.push(`hello (id ${JSON.stringify(id)}): no response (${String(thrown)})`);
      // a crash, a timeout...: the runner's stand-in is not the target's answer (ATN-8.10), so its id or code is not graded
      else if (res.byRunner) problems.push(notTheTargets(`hello (id ${JSON.stringify(id)})`, res)!);
      else if (res.id !== id) problems.push(`hello (id ${JSON.stringify(id)}): response id ${JSON.stringify(res.id)} (ATN-8.2)`);
      else if (!res.ok) problems.push(`hello: error ${res.error.code}: ${res.error.message}`);
      else if (id === 'hello-1') {
        const h = res.result; // a hello from the target: every field checked below
        if (typeof h.name !== 'string' || !h.name) problems.push('hello.name is not a non-empty string');
        if (typeof h.version !== 'string' || !h.version) problems.push('hello.version is not a non-empty string');
        if (h.protocol !== 1) problems.push(`hello.protocol is ${JSON.stringify(h.protocol)}, want 1`);
        if (!Array.isArray(h.ops)) problems.push('hello.ops is not an array');
        else {
          const unknown = h.ops.filter((op) => !(OPS as readonly unknown[]).includes(op));
          if (unknown.length) problems.push(`hello.ops lists ops the protocol does not define: ${JSON.stringify(unknown)}`);
        }
        if (!Array.isArray(h.dtypes) || h.dtypes.length === 0) problems.push('hello.dtypes is not a non-empty array');
        else {
          const unknown = h.dtypes.filter((d) => !(DTYPES as readonly unknown[]).includes(d));
          if (unknown.length) problems.push(`hello.dtypes lists unknown dtypes: ${JSON.stringify(unknown)}`);
        }
        problems.push(...capabilityProblems(h));
      }
    }
    const base = { id: this.id, clause: this.clause, title: this.title, runs: 4, seed: ctx.seed, durationMs: Date.now() - t0 };
    if (!problems.length) return { ...base, status: 'pass' };
    return { ...base, status: 'fail', counterexample: { requests: s.requests, responses: s.responses, detail: problems.join('; ') } };
  },
};
