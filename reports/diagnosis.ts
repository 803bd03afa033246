/**
 * "Behaves like": hands a report's failing cases (the shrunk requests and the target's answers) to the mutant
 * diagnosis (mutants/diagnose.ts), which ranks the catalogue mistakes by how well they reproduce the answers.
 *
 * Shrunk counterexamples alone often cannot tell two mistakes apart (with k = 2, "k ignored" and "window of k-1 steps"
 * are both plain LN), so when the target is still reachable the diagnosis also asks it the catalogue's battery of
 * separating cases (mutants/cases.ts), each mistake's own witness, each request twice in a row with only the second
 * answer scored: after the first, a target that leaks state between requests is in the same state as a fresh mutant
 * replaying the same pair.
 */
import { BASE_ID, diagnose } from '../mutants';
import { battery } from '../mutants/cases';
import { isRawRequest } from '../protocol/record';
import type { Target } from '../protocol/target';
import type { Envelope, Response } from '../protocol/types';
import type { CheckResult, Diagnosis, Problem } from '../properties/lib/types';

export interface DiagnosisProbe {
  target: Target;
  /** Ops the target lists in hello: the battery asks only these. */
  ops: readonly string[];
  /** The campaign's dtype: the battery is sent at it. */
  dtype: string;
}

/** The shrunk and the first failing case of every failed check (ATN-9.7: the diagnosis replays both). */
export function failingCases(checks: CheckResult[]): Array<{ request: Envelope; response: Response | undefined }> {
  return (
    checks
      .filter((c) => c.status === 'fail' && c.counterexample)
      .flatMap((c) => [c.counterexample!, ...(c.counterexample!.first ? [c.counterexample!.first] : [])])
      // The uncut exchanges where this run made them (a realistic-size answer is cut in the report's copy), else the
      // report's copy (a report read back from report.json).
      .flatMap((ce) => ce.evidence ?? ce.requests.map((request, i) => ({ request, response: ce.responses?.[i] ?? undefined })))
      .filter((c) => c.response !== undefined)
      // Only the target's own, whole answers to replayable requests are evidence (not raw envelopes, the runner's
      // stand-ins, or answers cut for the report).
      .filter((c) => !isRawRequest(c.request) && !c.response!.byRunner && !c.response!.recorded)
  );
}

/**
 * What fails and what passes, in words (ATN-9.5), for a reader whose mistake the catalogue does not hold: the problems'
 * summaries and the comparisons between ops that no single problem states.
 */
export function structureOf(checks: CheckResult[], problems: Problem[] = []): string[] {
  const status = (pred: (c: CheckResult) => boolean) => checks.filter(pred).map((c) => c.status);
  const out: string[] = [];
  const fwd = status((c) => c.id.startsWith('atn.forward.') || c.id === 'ln.forward.agrees');
  const vjp = status((c) => c.id.startsWith('atn.vjp.'));
  if (fwd.length && !fwd.includes('fail') && fwd.includes('pass') && vjp.includes('fail'))
    out.push('the forward pass is right, the VJP is wrong (ATN-4.1, ATN-4.2)');
  const lf = status((c) => c.id === 'lstm.forward.agrees');
  const lv = status((c) => c.id === 'lstm.vjp.agrees');
  if (lf.includes('pass') && lv.includes('fail')) out.push('the LSTM forward pass is right, its gradients are wrong (ATN-4.3)');
  if (checks.some((c) => c.id === 'T6.locality' && c.status === 'fail'))
    out.push('y_t depends on entries outside its window W_t, such as future steps (T6, ATN-1.2)');
  for (const p of problems) if (!/^op:/.test(p.regime.id)) out.push(p.summary);
  return [...new Set(out)];
}

export async function diagnoseFailures(checks: CheckResult[], probe?: DiagnosisProbe, problems?: Problem[]): Promise<Diagnosis | undefined> {
  const cases = failingCases(checks);
  if (cases.length === 0) return undefined;
  const probed = probe ? await askBattery(probe) : [];
  const d = diagnose([...probed, ...cases]);
  if (!d.ranking.length) return undefined;
  // A failing target never "behaves like" the correct implementation: the base goes last, whatever it scores.
  d.ranking = [...d.ranking.filter((m) => m.id !== BASE_ID), ...d.ranking.filter((m) => m.id === BASE_ID)];
  if (!d.best) {
    const near = d.ranking[0];
    if (near && near.id !== BASE_ID) d.nearest = { id: near.id, description: near.description, score: Number.isFinite(near.score) ? near.score : 0 };
    const structure = structureOf(checks, problems);
    if (structure.length) d.structure = structure;
  }
  return d;
}

async function askBattery(probe: DiagnosisProbe): Promise<Array<{ request: Envelope; response: Response | undefined }>> {
  const requests = battery()
    .filter((r) => probe.ops.includes(r.op))
    .map((r) => ({ ...r, id: `diagnosis-${r.id}`, args: { ...r.args, dtype: probe.dtype } }));
  const out: Array<{ request: Envelope; response: Response | undefined }> = [];
  // Every battery request is sent twice in a row and only the second answer is scored. Whatever the target kept from
  // earlier requests (the campaign's, in any keying: one buffer, one per shape), a target that leaks state answers the
  // second copy after exactly the first, as a fresh candidate replaying the same pair does (ATN-1.7); a stateless
  // target answers both alike, so nothing is lost for the other mistakes.
  for (const request of requests) {
    await probe.target.handle({ ...request, id: `${request.id}-primer` });
    out.push({ request: { ...request, id: `${request.id}-primer` }, response: undefined });
    out.push({ request, response: await probe.target.handle(request) });
  }
  return out;
}
