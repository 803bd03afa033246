/**
 * Grades a target on a frozen vector corpus: each vector is one request and one CheckResult citing the vector's clause.
 * A valid vector passes when the answer agrees with the stored want within the stored tolerance (ATN-7.1, the same
 * comparison as the campaign); a bad-input vector passes when the target refuses it with the stored code and clause.
 */
import type { Target } from '../protocol/target';
import type { Envelope, Hello, Response } from '../protocol/types';
import { compare, maxRatio, ToleranceError } from '../properties/lib/compare';
import type { CheckResult } from '../properties/lib/types';
import { VECTOR_PREFIX } from './format';
import type { Corpus, VectorCase, VectorDtype } from './vectors';

export interface GradeOptions {
  dtype: VectorDtype;
  /** Case ids to run (all when absent). */
  only?: string[];
  /** Where the corpus lives, for the replay path of each check ("DIR#caseId"). */
  corpusDir: string;
  onCase?: (c: VectorCase, r: CheckResult) => void;
  signal?: AbortSignal;
}

/** The vectors that apply for a dtype (and the --only filter). Unknown --only ids throw, listing close ones. */
export function selectCases(corpus: Corpus, dtype: VectorDtype, only?: string[]): VectorCase[] {
  if (only && only.length) {
    const byId = new Map(corpus.cases.map((c) => [c.id, c]));
    return only.map((id) => {
      const c = byId.get(id) ?? byId.get(`${id}.${dtype === 'float32' ? 'f32' : 'f64'}`);
      if (!c) throw new Error(`no vector ${JSON.stringify(id)} in the corpus`);
      return c;
    });
  }
  return corpus.cases.filter((c) => c.dtype === dtype);
}

function errorText(res: Response & { ok: false }): string {
  return `${res.error.code} (${res.error.clause}): ${res.error.message}`;
}

export async function gradeCase(target: Target, hello: Hello, c: VectorCase, id: number, corpusDir: string): Promise<CheckResult> {
  const started = Date.now();
  const base = { id: VECTOR_PREFIX + c.id, clause: c.clause, title: c.comment, runs: 1, seed: 0, path: `${corpusDir}#${c.id}` };
  const req: Envelope = { id, op: c.request.op, args: c.request.args };
  if (!hello.ops.includes(c.request.op) && !c.flags.includes('protocol'))
    return { ...base, runs: 0, status: 'skip', reason: `the target does not serve ${c.request.op} (not in hello.ops)`, durationMs: 0 };
  let res: Response;
  try {
    res = await target.handle(req);
  } catch (e) {
    // Targets never throw by contract; a port that does is graded as a failure of this vector, not of the run.
    const msg = e instanceof Error ? e.message : String(e);
    return {
      ...base,
      status: 'error',
      reason: `the target threw instead of answering: ${msg}`,
      counterexample: { requests: [req], detail: msg },
      durationMs: Date.now() - started,
    };
  }
  const durationMs = Date.now() - started;
  const fail = (detail: string, extra: Partial<CheckResult> = {}): CheckResult => ({
    ...base,
    status: 'fail',
    counterexample: { requests: [req], responses: [res], detail },
    durationMs,
    ...extra,
  });
  const ex = c.expect;
  if (ex.kind === 'error') {
    const want = `${ex.code} (${ex.clause})`;
    if (res.ok) return fail(`answered a result to an input that must be refused with ${want}`);
    if (res.error.code !== ex.code) return fail(`refused with ${errorText(res)}; expected ${want}`);
    if (res.error.clause !== ex.clause) return fail(`refused with the right code but cites ${res.error.clause}; expected ${want}: ${res.error.message}`);
    return { ...base, status: 'pass', durationMs };
  }
  if (!res.ok) return fail(`refused a valid input: ${errorText(res)}`);
  let cmp: ReturnType<typeof compare>;
  try {
    cmp = compare(res.result, { want: ex.want, tol: ex.tol });
  } catch (e) {
    // A frozen tolerance that is not finite (ToleranceError): the corpus cannot judge this answer; not the target's fault.
    if (!(e instanceof ToleranceError)) throw e;
    return { ...base, status: 'error', reason: `harness: ${e.message}`, durationMs };
  }
  const ratio = maxRatio(cmp.ratios);
  if (!cmp.ok) {
    const r = fail(cmp.detail, { errorRatios: [ratio] });
    r.counterexample!.worst = cmp.worst;
    return r;
  }
  return { ...base, status: 'pass', errorRatios: [ratio], durationMs };
}

export async function gradeCorpus(target: Target, hello: Hello, corpus: Corpus, opts: GradeOptions): Promise<{ checks: CheckResult[]; complete: boolean }> {
  const cases = selectCases(corpus, opts.dtype, opts.only);
  const checks: CheckResult[] = [];
  let n = 0;
  for (const c of cases) {
    if (opts.signal?.aborted) return { checks, complete: false };
    const r = await gradeCase(target, hello, c, ++n, opts.corpusDir);
    checks.push(r);
    opts.onCase?.(c, r);
  }
  return { checks, complete: true };
}
