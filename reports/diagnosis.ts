/**
 * "Behaves like": hands a report's failing cases (the shrunk requests and the target's answers) to the mutant
 * diagnosis (mutants/diagnose.ts), which ranks the catalogue mistakes by how well they reproduce the answers.
 */
import type { CheckResult, Diagnosis } from '../properties/lib/types';

export function diagnoseFailures(checks: CheckResult[]): Diagnosis | undefined {
  const cases = checks
    .filter((c) => c.status === 'fail' && c.counterexample)
    .flatMap((c) => c.counterexample!.requests.map((request, i) => ({ request, response: c.counterexample!.responses?.[i] ?? undefined })))
    .filter((c) => c.response !== undefined);
  if (cases.length === 0) return undefined;
  // Loaded only when something failed: the mutant catalogue is not needed for a conforming target.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { diagnose } = require('../mutants') as typeof import('../mutants');
  const d = diagnose(cases);
  return d.ranking.length ? d : undefined;
}
