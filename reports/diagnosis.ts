/**
 * "Behaves like": hands a report's failing cases (the shrunk requests and the target's answers) to the mutant
 * diagnosis (mutants/diagnose.ts), which ranks the catalogue mistakes by how well they reproduce the answers.
 *
 * Shrunk counterexamples alone often cannot tell two mistakes apart (with k = 2, "k ignored" and "window of k-1 steps"
 * are both plain LN), so when the target is still reachable the diagnosis also asks it the catalogue's battery of
 * separating cases (mutants/cases.ts), each mistake's own witness. A primer request goes first and is not scored: after
 * it, a target that leaks state between requests is in the same state as a fresh mutant replaying the same requests.
 */
import { diagnose } from '../mutants';
import { battery } from '../mutants/cases';
import { isRawRequest } from '../protocol/record';
import type { Target } from '../protocol/target';
import type { Request, Response } from '../protocol/types';
import type { CheckResult, Diagnosis } from '../properties/lib/types';

export interface DiagnosisProbe {
  target: Target;
  /** Ops the target lists in hello: the battery asks only these. */
  ops: readonly string[];
  /** The campaign's dtype: the battery is sent at it. */
  dtype: string;
}

export async function diagnoseFailures(checks: CheckResult[], probe?: DiagnosisProbe): Promise<Diagnosis | undefined> {
  const cases: Array<{ request: Request; response: Response | undefined }> = checks
    .filter((c) => c.status === 'fail' && c.counterexample)
    .flatMap((c) => c.counterexample!.requests.map((request, i) => ({ request, response: c.counterexample!.responses?.[i] ?? undefined })))
    .filter((c) => c.response !== undefined)
    // Only the target's own, whole answers to replayable requests are evidence (not raw envelopes, the runner's
    // stand-ins, or answers cut for the report).
    .filter((c) => !isRawRequest(c.request) && !c.response!.byRunner && !c.response!.recorded);
  if (cases.length === 0) return undefined;
  const probed = probe ? await askBattery(probe) : [];
  const d = diagnose([...probed, ...cases]);
  return d.ranking.length ? d : undefined;
}

async function askBattery(probe: DiagnosisProbe): Promise<Array<{ request: Request; response: Response | undefined }>> {
  const requests = battery()
    .filter((r) => probe.ops.includes(r.op))
    .map((r) => ({ ...r, id: `diagnosis-${r.id}`, args: { ...r.args, dtype: probe.dtype } }));
  if (requests.length === 0) return [];
  const primer: Request = { ...requests[0], id: 'diagnosis-primer' };
  const out: Array<{ request: Request; response: Response | undefined }> = [];
  for (const [i, request] of [primer, ...requests].entries()) {
    const response = await probe.target.handle(request);
    // The primer is replayed but not scored (undefined answer = uninformative in diagnose()).
    out.push({ request, response: i === 0 ? undefined : response });
  }
  return out;
}
