/**
 * The shapes that flow from a campaign to a report: a campaign runs Checks (clause-named fast-check properties over
 * a Target) and collects CheckResults; reports/ renders a CampaignResult. Keep this file the single definition.
 */
import type { ClauseId } from '../../spec/clauses';
import type { Hello, Request, Response } from '../../protocol/types';
import type { Target } from '../../protocol/target';
import type { Reference } from '../../reference';

export type CampaignDtype = 'float32' | 'float64';

export interface CheckContext {
  target: Target;
  hello: Hello;
  dtype: CampaignDtype;
  reference: Reference;
  /** fast-check seed for this check (the campaign seed, the same for every check so that one number replays all). */
  seed: number;
  /** fast-check numRuns for generated properties. */
  runs: number;
  /** Called after each generated case (progress bars). */
  onCase?: () => void;
}

/** The worst element of a comparison against the reference, in units of the derived tolerance (ATN-7). */
export interface Worst {
  output: string; // "y", "da", "grads.w_xh", ...
  index: number[];
  got: number;
  want: number;
  tol: number;
  ratio: number; // |got - want| / tol; Infinity for NaN or a shape mismatch
}

export interface Counterexample {
  /** The minimal (shrunk) failing request(s), replayable against any target. */
  requests: Request[];
  /** What the target answered to them (may be an error response, or absent when it crashed). */
  responses?: (Response | undefined)[];
  /** One sentence: what went wrong, e.g. "y[2][0][1] = 0.71, want 0.70 +- 1.2e-6 (ratio 8e3)". */
  detail: string;
  worst?: Worst;
}

export type CheckStatus = 'pass' | 'fail' | 'skip' | 'error';

export interface CheckResult {
  /** Stable check id, e.g. "atn.forward.agrees-with-reference", "T2.scaling". */
  id: string;
  clause: ClauseId;
  title: string;
  status: CheckStatus;
  /** Why a check was skipped (the target's hello lacks an op or dtype) or could not run. */
  reason?: string;
  runs: number;
  seed: number;
  /** fast-check replay path of the shrunk failure. */
  path?: string;
  counterexample?: Counterexample;
  /** |got - want| / tol of every compared element's maximum per case (for the error-distribution plot). */
  errorRatios?: number[];
  /** Extra series for plots (e.g. invariance error against the scale d). */
  series?: Record<string, Array<{ x: number; y: number; group?: string }>>;
  durationMs: number;
  /** ATN-7.8: which oracle answered this check's expectations (counts), and why the fast one deferred. */
  oracle?: { fast: number; exact: number; forced: boolean; undecided?: Record<string, number> };
}

export interface Check {
  id: string;
  clause: ClauseId;
  title: string;
  /** Ops the target must list in hello for this check to run (otherwise it is skipped, with the reason). */
  ops: string[];
  kind: 'agreement' | 'theorem' | 'errors' | 'state';
  run(ctx: CheckContext): Promise<CheckResult>;
}

/** A fault of the target process met during a campaign (crash, hang, garbage line, wrong id). */
export interface Fault {
  kind: 'crash' | 'timeout' | 'garbage' | 'wrong-id' | 'start' | 'other';
  message: string;
  /** The request being answered when it happened. */
  request?: Request;
  atMs: number;
}

export interface Diagnosis {
  /** Mutants ranked by how closely they reproduce the target's outputs on its failing cases. */
  ranking: Array<{ id: string; description: string; score: number }>;
  /** The best match, when its confidence is high enough to name it ("behaves like: ..."). */
  best?: { id: string; description: string; confidence: number };
}

export interface CampaignResult {
  schemaVersion: 1;
  suite: { name: 'atn-kit'; version: string; commit: string };
  target: { spec: string; hello?: Hello; backend?: string };
  dtype: CampaignDtype;
  seed: number;
  runs: number;
  machine: { platform: string; arch: string; cpus: number; cpuModel: string; node: string; memoryGiB: number };
  startedAt: string;
  wallMs: number;
  /** true when the campaign ran to its end; false for a report written after an interrupt. */
  complete: boolean;
  checks: CheckResult[];
  faults: Fault[];
  diagnosis?: Diagnosis;
  summary: { passed: number; failed: number; skipped: number; errors: number; conforms: boolean };
}
