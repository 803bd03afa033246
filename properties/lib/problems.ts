/**
 * One root cause, one finding (ATN-9.5). Failing checks are grouped into problems by the regime their counterexamples
 * share: a regime (B = 1 or H = 1, the extended range, k = 1) is a problem's when the failing checks whose first
 * failure lies in it pass once it is set aside (re-run, same seed, every case touching the regime discarded). Failures
 * that survive every regime are grouped by what they still share: state carried between requests, only the warm-up
 * steps t < k, one op only; the rest is one general problem. The re-runs also tell what the target does outside every
 * problem's regime.
 */
import { isRawRequest } from '../../protocol/record';
import type { RecordedRequest } from '../../protocol/types';
import type { ReferenceOp } from '../../reference';
import { Session, TargetFailure, type RunContext } from './checks/framework';
import { compare, ToleranceError } from './compare';
import { REGIMES, type RegimeDef } from './regimes';
import type { Check, CheckResult, Level, Outside, Problem } from './types';

/** A re-run's shrinking budget: it needs a counterexample outside the regime, not the smallest one. */
const RERUN_SHRINK_MS = 1000;

export interface ProblemsInput {
  checks: Check[];
  results: CheckResult[];
  ctx: RunContext;
}

export interface ProblemsResult {
  problems: Problem[];
  outside: Outside;
}

function requestsOf(r: CheckResult): RecordedRequest[] {
  const ce = r.counterexample;
  if (!ce) return [];
  // The first (unshrunk) failure decides: shrinking drifts towards B = 1, H = 1, k = 1 whatever the mistake.
  return ce.first ? ce.first.requests : ce.requests;
}

function touches(r: CheckResult, regime: RegimeDef): boolean {
  return requestsOf(r).some((q) => q.op !== 'hello' && q.args !== null && typeof q.args === 'object' && regime.holds(q.op, q.args));
}

/** A re-run with the regime set aside had no case outside it at all: it can neither confirm nor refute the regime. */
/**
 * The failure of r, replayed outside the regime: each single-request counterexample (shrunk and first) that the
 * regime can move out of (RegimeDef.leave) is sent again, moved, and compared with the reference. Returns what still
 * fails, or undefined when nothing could be moved or every moved case passes.
 */
async function failsOutside(r: CheckResult, g: RegimeDef, ctx: RunContext): Promise<string | undefined> {
  if (!g.leave) return undefined;
  for (const c of [r.counterexample, r.counterexample?.first]) {
    if (!c || c.requests.length !== 1 || isRawRequest(c.requests[0])) continue;
    const { op, args } = c.requests[0];
    if (!g.holds(op, args)) continue;
    const moved = g.leave(op, args);
    if (!moved || g.holds(op, moved)) continue;
    let exp;
    try {
      exp = ctx.reference.expect(op as ReferenceOp, moved);
    } catch {
      continue; // the reference refuses the move: it proves nothing
    }
    try {
      const got = await new Session(ctx.target).result(op, moved);
      const cmp = compare(got, exp, { dtype: ctx.dtype });
      if (!cmp.ok) return `${op}: ${cmp.detail}`;
    } catch (e) {
      if (e instanceof TargetFailure) return e.outcome.detail;
      if (e instanceof ToleranceError) continue;
      throw e;
    }
  }
  return undefined;
}

/** "a, b pass; c has no case outside it" for the evidence of a problem. */
function rerunOutcome(explained: CheckResult[], inside: CheckResult[]): string {
  const passed = explained.filter((r) => !inside.includes(r)).map((r) => r.id);
  const parts = [
    passed.length ? `${passed.join(', ')} pass` : '',
    inside.length ? `${inside.map((r) => r.id).join(', ')} ${inside.length === 1 ? 'has' : 'have'} no case outside it` : '',
  ];
  return parts.filter(Boolean).join('; ');
}

function untestable(r: CheckResult): boolean {
  return r.status === 'error' && /discarded/.test(r.reason ?? '');
}

const shapeError = (r: CheckResult): boolean =>
  /squeezed|missing dimension|-dimensional, expected|expected an array of length/.test(r.counterexample?.detail ?? '');

function regimeSummary(regime: RegimeDef, explained: CheckResult[]): string {
  if (regime.id === 'singleton')
    return explained.some(shapeError)
      ? 'outputs have the wrong shape when B = 1 or H = 1 (a singleton dimension squeezed away, ATN-8.5)'
      : 'fails only when B = 1 or H = 1';
  if (regime.id === 'extended-range')
    return 'fails only in the extended range (entries outside 1e-6..1e6, eps = 0 near-degenerate windows): the window is most likely not scaled before squaring (ATN-7.2; see ATN-7.6)';
  return `fails only when ${regime.text}`;
}

function opsOf(r: CheckResult): Set<string> {
  return new Set(
    requestsOf(r)
      .map((q) => q.op)
      .filter((op) => op !== 'hello'),
  );
}

/** The steps t..T-1 (0-based) of y in a result or expectation part. */
function fromStep(part: Record<string, unknown>, t: number): Record<string, unknown> {
  return { y: Array.isArray(part.y) ? part.y.slice(t) : part.y };
}

/**
 * Only the warm-up steps t < k are wrong: on every recorded atn.forward case with T >= k the steps from k on agree
 * with the reference and the whole answer does not (ATN-1.6). Needs at least one such case.
 */
function warmupOnly(r: CheckResult, ctx: RunContext): boolean {
  const ce = r.counterexample;
  let seen = 0;
  for (const c of [ce, ce?.first]) {
    if (!c) continue;
    for (const [i, q] of c.requests.entries()) {
      const res = c.responses?.[i];
      const args = q.args;
      const k = args?.k;
      if (q.op !== 'atn.forward' || !res?.ok || typeof k !== 'number' || k < 2 || !Array.isArray(args.a) || args.a.length < k) continue;
      let exp;
      try {
        exp = ctx.reference.expect('atn.forward', args);
      } catch {
        continue;
      }
      const all = compare(res.result, exp, { dtype: ctx.dtype });
      if (all.ok) continue;
      const late = compare(fromStep(res.result, k - 1), { want: fromStep(exp.want, k - 1), tol: fromStep(exp.tol, k - 1) }, { dtype: ctx.dtype });
      if (!late.ok) return false;
      seen++;
    }
  }
  return seen > 0;
}

function levelOfChecks(rs: CheckResult[]): Level {
  const levels = rs.map((r) => r.level ?? 'core');
  return levels.includes('core') ? 'core' : levels.includes('extended') ? 'extended' : 'protocol';
}

/** A problem for failures no regime explains: the one op they share, or "fails outside every regime tried". */
function unexplained(group: CheckResult[], results: CheckResult[]): Omit<Problem, 'id'> {
  const ops = new Set(group.flatMap((r) => [...opsOf(r)]));
  const passedOps = new Set(results.filter((r) => r.status === 'pass').flatMap((r) => [...opsOf(r)]));
  const only = ops.size === 1 ? [...ops][0] : undefined;
  const summary =
    only === 'atn.vjp' && results.some((r) => r.status === 'pass' && r.id.startsWith('atn.forward.'))
      ? 'the forward pass is right, the VJP is wrong (only atn.vjp fails; ATN-4.1, ATN-4.2)'
      : only === 'lstm.vjp' && results.some((r) => r.status === 'pass' && r.id === 'lstm.forward.agrees')
        ? 'the LSTM forward pass is right, its gradients are wrong (only lstm.vjp fails; ATN-4.3)'
        : only && !passedOps.has(only)
          ? `only ${only} fails`
          : `fails outside every regime tried (${REGIMES.map((g) => g.text.replace(/ \(.*$/, '')).join('; ')})`;
  return {
    summary,
    regime: only ? { id: `op:${only}`, text: `${only} only` } : { id: 'general', text: 'general inputs' },
    level: levelOfChecks(group),
    checks: group.map((r) => r.id),
    evidence: `${group[0].id}: ${group[0].counterexample?.detail ?? ''}`,
  };
}

export async function findProblems(input: ProblemsInput): Promise<ProblemsResult> {
  const { ctx } = input;
  const byId = new Map(input.checks.map((c) => [c.id, c]));
  const found: Array<Omit<Problem, 'id'>> = [];
  const add = (p: Omit<Problem, 'id'>): void => void found.push(p);
  let remaining = input.results.filter((r) => r.status === 'fail');

  const excluded: RegimeDef[] = [];
  const tried = new Set<string>();
  const base = ctx.exclude;
  const rerunWith = (r: CheckResult, exclude: RunContext['exclude']): Promise<CheckResult> =>
    byId.get(r.id)!.run({ ...ctx, exclude, shrinkMs: RERUN_SHRINK_MS, onCase: undefined } as RunContext);

  // A state check that fails even with every regime set aside: the target carries state from one request to the next,
  // so every other result depends on the order of requests and no re-run can be trusted. One problem, reported first.
  const stateFails = remaining.filter((r) => r.id.startsWith('state.') && byId.has(r.id));
  if (stateFails.length) {
    const everyRegime = (op: string, args: Record<string, unknown>) => (base?.(op, args) ?? false) || REGIMES.some((g) => g.holds(op, args));
    const leaks: CheckResult[] = [];
    for (const r of stateFails) if ((await rerunWith(r, everyRegime)).status === 'fail') leaks.push(r);
    if (leaks.length) {
      const others = remaining.filter((r) => !leaks.includes(r));
      add({
        summary: 'fix ATN-1.7 first: results below depend on request order (the target carries window state from one request to the next)',
        regime: { id: 'state', text: 'state carried between requests' },
        level: 'core',
        checks: [...leaks, ...others].map((r) => r.id),
        evidence: `${leaks[0].id}: ${leaks[0].counterexample?.detail ?? ''}; it fails with every regime set aside too${others.length ? `; the other ${others.length} failing checks cannot be told apart from the leak until it is fixed` : ''}`,
      });
      return finishProblems(
        input,
        found,
        remaining.map((r) => r.id),
        [],
        'Results depend on the order of requests (ATN-1.7 fails): fix the leak and run again to see what else fails.',
      );
    }
  }
  for (;;) {
    if (ctx.signal?.aborted || remaining.length === 0) break;
    const options = REGIMES.filter((g) => !tried.has(g.id)).map((g) => ({ g, hit: remaining.filter((r) => touches(r, g) && byId.has(r.id)) }));
    options.sort((a, b) => b.hit.length - a.hit.length);
    const best = options[0];
    if (!best || best.hit.length === 0) break;
    tried.add(best.g.id);
    const aside = [...excluded, best.g];
    const exclude = (op: string, args: Record<string, unknown>) => (base?.(op, args) ?? false) || aside.some((g) => g.holds(op, args));
    let explained: CheckResult[] = [];
    const inside: CheckResult[] = [];
    const rerun = new Map<string, CheckResult>();
    for (const r of best.hit) {
      // A counterexample moved out of the regime that still fails refutes it for this check (no re-run needed).
      const out = await failsOutside(r, best.g, ctx);
      if (out) continue;
      const again = await rerunWith(r, exclude);
      if (again.status === 'pass') explained.push(r);
      else if (untestable(again)) inside.push(r);
      else if (again.status === 'fail') rerun.set(r.id, again);
    }
    // Checks with no case outside the regime join it only when another check shows the regime is the cause, or when
    // the regime is the check's whole domain by design: an extended-level check has no case outside the extended range
    // (atn.forward.subnormal), so a failure of it is confined to that range by construction (ATN-9.3).
    const byDesign = best.g.level === 'extended' && inside.length > 0 && inside.every((r) => r.level === 'extended');
    if (explained.length || byDesign) explained = [...explained, ...inside];
    if (explained.length) {
      excluded.push(best.g);
      add({
        summary: regimeSummary(best.g, explained),
        regime: { id: best.g.id, text: best.g.text },
        level: explained.every((r) => r.level === 'protocol') ? 'protocol' : best.g.level,
        checks: explained.map((r) => r.id),
        evidence: `${explained[0].id}: ${explained[0].counterexample?.detail ?? ''}; re-run with ${best.g.text} set aside (seed ${ctx.seed}): ${rerunOutcome(explained, inside)}`,
      });
    }
    // What still fails, now with counterexamples outside the regimes set aside so far.
    remaining = remaining.filter((r) => !explained.includes(r)).map((r) => (excluded.includes(best.g) ? (rerun.get(r.id) ?? r) : r));
  }

  // Failures no regime explains: grouped by what they share.
  const warm = remaining.filter((r) => warmupOnly(r, ctx));
  if (warm.length) {
    add({
      summary: 'fails only at the warm-up steps t < k (ATN-1.6: the window holds the n_t steps available, no padding)',
      regime: { id: 'warmup', text: 't < k' },
      level: 'core',
      checks: warm.map((r) => r.id),
      evidence: `${warm[0].id}: ${warm[0].counterexample?.detail ?? ''}`,
    });
    remaining = remaining.filter((r) => !warm.includes(r));
  }
  // What no regime explains: one problem per level, because a protocol mistake (an error code or clause, an envelope)
  // and a mistake in the math have different causes and different fixes.
  const byLevel = (['core', 'extended', 'protocol'] as Level[]).map((level) => remaining.filter((r) => (r.level ?? 'core') === level));
  for (const group of byLevel) if (group.length) add(unexplained(group, input.results));

  return finishProblems(
    input,
    found,
    remaining.map((r) => r.id),
    excluded,
  );
}

/** Numbers the problems, marks every failing result with its problem and says what passes outside the regimes. */
function finishProblems(input: ProblemsInput, found: Array<Omit<Problem, 'id'>>, still: string[], excluded: RegimeDef[], text?: string): ProblemsResult {
  const problems: Problem[] = found.map((p, i) => ({ id: `P${i + 1}`, ...p }));
  for (const p of problems)
    for (const id of p.checks) {
      const orig = input.results.find((r) => r.id === id);
      if (orig) orig.problem = p.id;
    }
  const stillFailing = new Set(still);
  const ran = input.results.filter((r) => r.status !== 'skip');
  const outside: Outside = {
    excluded: excluded.map((g) => g.id),
    passed: ran.filter((r) => r.status === 'pass' || (r.status === 'fail' && !stillFailing.has(r.id) && excluded.length > 0)).map((r) => r.id),
    failed: ran.filter((r) => r.status === 'error' || stillFailing.has(r.id) || (r.status === 'fail' && excluded.length === 0)).map((r) => r.id),
    text: '',
  };
  outside.text = text ?? outsideText(excluded, input.results, outside, problems);
  return { problems, outside };
}

function outsideText(excluded: RegimeDef[], results: CheckResult[], o: Outside, problems: Problem[]): string {
  const where = excluded.length ? `Outside ${excluded.map((g) => g.text.replace(/ \(.*$/, '')).join(' and ')}` : 'On every input tried';
  const levelOf = (id: string) => results.find((r) => r.id === id)?.level ?? 'core';
  const parts = (['core', 'extended', 'protocol'] as Level[]).flatMap((level) => {
    const failed = o.failed.filter((id) => levelOf(id) === level || problems.some((p) => p.level === level && p.checks.includes(id) && !o.passed.includes(id)));
    const passed = o.passed.filter((id) => levelOf(id) === level);
    if (!failed.length && !passed.length) return [];
    return [failed.length ? `${level}: fails ${failed.join(', ')}` : `${level}: conforms (${passed.length} check${passed.length === 1 ? '' : 's'})`];
  });
  return `${where}: ${parts.join('; ')}.`;
}
