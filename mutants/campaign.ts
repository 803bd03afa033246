/**
 * The default campaign against one mutant (or the base): caught when at least one check fails. A check that errors
 * (a harness problem) is not a catch; it is reported separately so that it cannot hide a surviving mutant.
 */
import { runCampaign } from '../properties/lib/campaign';
import { diagnoseFailures } from '../reports/diagnosis';
import type { CampaignDtype, CheckResult } from '../properties/lib/types';
import { createBaseTarget, createMutantTarget } from './index';

export const BASE_ROW = 'base';

export interface MutantOutcome {
  /** Mutant id, or "base". */
  id: string;
  caught: boolean;
  /** Ids of the failing checks. */
  by: string[];
  /** Checks that errored (not catches), with the reason. */
  errors: string[];
  first?: { check: string; clause: string; detail: string; requests: unknown[]; path?: string };
  /** The diagnosis of the campaign's failures ("behaves like"), as `atn report` would print it; none for the base. */
  diagnosedAs?: { id: string; confidence: number };
  wallMs: number;
}

export interface MutantCampaignOptions {
  seed?: number;
  runs?: number;
  dtype?: CampaignDtype;
}

function summarizeChecks(id: string, checks: CheckResult[], wallMs: number): MutantOutcome {
  const failed = checks.filter((c) => c.status === 'fail');
  const errors = checks.filter((c) => c.status === 'error').map((c) => `${c.id}: ${c.reason ?? 'error'}`);
  const f = failed[0];
  return {
    id,
    caught: failed.length > 0,
    by: failed.map((c) => c.id),
    errors,
    first: f && {
      check: f.id,
      clause: f.clause,
      detail: f.counterexample?.detail ?? f.reason ?? '',
      requests: f.counterexample?.requests ?? [],
      path: f.path,
    },
    wallMs,
  };
}

/** Runs the default campaign (all CHECKS) against mutant `id`, or against the base when id is "base". */
export async function runMutantCampaign(id: string, opts: MutantCampaignOptions = {}): Promise<MutantOutcome> {
  const target = id === BASE_ROW ? createBaseTarget() : createMutantTarget(id);
  const dtype = opts.dtype ?? 'float32';
  const r = await runCampaign({ target, targetSpec: id === BASE_ROW ? 'mutant base' : `mutant:${id}`, dtype, seed: opts.seed, runs: opts.runs });
  const outcome = summarizeChecks(id, r.checks, r.wallMs);
  // The diagnosis must name the mutant a campaign ran against (issue: "a campaign against each mutant names it").
  try {
    const d = await diagnoseFailures(r.checks, r.target.hello ? { target, ops: r.target.hello.ops, dtype } : undefined);
    if (d?.best) outcome.diagnosedAs = { id: d.best.id, confidence: d.best.confidence };
  } catch (e) {
    // A broken diagnosis must not undo the catch; it shows as "diagnosed as: nothing" and fails the run.
    outcome.errors.push(`diagnosis: ${e instanceof Error ? e.message : String(e)}`);
  }
  await target.close();
  return outcome;
}
