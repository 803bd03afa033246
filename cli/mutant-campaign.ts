/**
 * The default campaign against one mutant (or the base): caught when at least one check fails. A check that errors
 * (a harness problem) is not a catch; it is reported separately so that it cannot hide a surviving mutant.
 */
import { spawnPort } from '../protocol/port';
import type { Target } from '../protocol/target';
import { runCampaign } from '../properties/lib/campaign';
import { diagnoseFailures } from '../reports/diagnosis';
import type { CampaignDtype, CheckResult } from '../properties/lib/types';
import { createBaseTarget, createMutantTarget } from '../mutants';
import { createReference } from '../reference';

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
  /**
   * A port command with "{id}" for the mutant id (e.g. "python3 ports/python/atn_server.py --mutant {id}"): the
   * mistake is then written independently of the catalogue's code, and the diagnosis must still name it (ATN-9.5).
   * For the base row, `portBase` is the command of the unmutated port.
   */
  port?: string;
  portBase?: string;
  /** The reference's oracle (ATN-7.8; default ATN_ORACLE, else auto): the bench runs the catalogue under both. */
  oracle?: 'exact' | 'auto';
  /** Called with the reference's counts once the campaign ran (the bench's share of exact fallbacks). */
  onOracle?: (counts: { fast: number; exact: number }) => void;
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
  const command = opts.port ? (id === BASE_ROW ? opts.portBase : opts.port.split('{id}').join(id)) : undefined;
  if (opts.port && !command) throw new Error('a base row through a port needs portBase');
  const target: Target = command ? await spawnPort(command) : id === BASE_ROW ? createBaseTarget() : createMutantTarget(id);
  const dtype = opts.dtype ?? 'float32';
  const spec = command ? `port:${command}` : id === BASE_ROW ? 'mutant base' : `mutant:${id}`;
  const reference = createReference(opts.oracle ? { oracle: opts.oracle } : {});
  const r = await runCampaign({ target, targetSpec: spec, dtype, seed: opts.seed, runs: opts.runs, reference });
  opts.onOracle?.({ fast: reference.oracle?.fast ?? 0, exact: reference.oracle?.exact ?? 0 });
  const outcome = summarizeChecks(id, r.checks, r.wallMs);
  // The diagnosis must name the mutant a campaign ran against (issue: "a campaign against each mutant names it").
  try {
    const d = await diagnoseFailures(r.checks, r.target.hello ? { target, ops: r.target.hello.ops, dtype } : undefined, r.problems);
    if (d?.best) outcome.diagnosedAs = { id: d.best.id, confidence: d.best.confidence };
  } catch (e) {
    // A broken diagnosis must not undo the catch; it shows as "diagnosed as: nothing" and fails the run.
    outcome.errors.push(`diagnosis: ${e instanceof Error ? e.message : String(e)}`);
  }
  await target.close();
  return outcome;
}
