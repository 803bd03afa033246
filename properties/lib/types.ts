/**
 * The shapes that flow from a campaign to a report: a campaign runs Checks (clause-named fast-check properties over
 * a Target) and collects CheckResults; reports/ renders a CampaignResult. Keep this file the single definition.
 */
import type { ClauseId } from '../../spec/clauses';
import type { Envelope, Fault, Hello, RecordedRequest, Response } from '../../protocol/types';
import type { Diagnosis } from '../../mutants/diagnose';
import type { Target } from '../../protocol/target';
import type { Reference } from '../../reference';

/** Defined where they are produced (the port runner, the mutant diagnosis); re-exported for the checks and reports. */
export type { Fault, Diagnosis };

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
  /**
   * Requests in a regime the campaign has set aside (a problem already found, or --ftz's subnormals): a generated case
   * that would send one is discarded, so that a re-run shows what the target does outside that regime (ATN-9.5).
   */
  exclude?: (op: string, args: Record<string, unknown>) => boolean;
  /** --ftz: a case whose exact results hold a subnormal is set aside as well (ATN-9.6), once its expectation is known. */
  ftz?: boolean;
  /**
   * Set while a failing check shrinks (ATN-9.7): the ratio a candidate must reach to stay failing. Comparisons then
   * only keep or drop it, which the fast oracle's brackets may decide without the exact expectation (ATN-7.9).
   */
  shrinkKeep?: number;
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
  requests: RecordedRequest[];
  /** What the target answered to them (may be an error response, or absent when it crashed). */
  responses?: (Response | undefined)[];
  /** One sentence: what went wrong, e.g. "y[2][0][1] = 0.71, want 0.70 +- 1.2e-6 (ratio 8e3)". */
  detail: string;
  worst?: Worst;
  /** The first failing case found, before shrinking (ATN-9.7), when it differs from the shrunk one. */
  first?: { requests: RecordedRequest[]; responses?: (Response | undefined)[]; detail: string; worst?: Worst; readonly evidence?: Evidence };
  /** The exchanges uncut (see Evidence). */
  readonly evidence?: Evidence;
}

/**
 * The well-formed requests of a counterexample and the target's answers, uncut, in memory only: a non-enumerable
 * property, so report.json never holds it. The report's copy is bounded (protocol/record.ts: 64 items per array), so a
 * realistic-size case (H = 300) is cut there and cannot be replayed; the diagnosis of the same run replays this one.
 */
export type Evidence = ReadonlyArray<{ request: Envelope; response: Response | undefined }>;

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
  /**
   * ATN-7.8: which oracle answered this check's expectations (counts), and why the fast one deferred; ATN-7.9:
   * bracketed = fast expectations with bracketed values (those whose verdict the brackets could not decide count in
   * exact too, under "a verdict the bracket of a value could not decide").
   */
  oracle?: { fast: number; exact: number; forced: boolean; undecided?: Record<string, number>; bracketed?: number };
  /** The conformance level the check belongs to (ATN-9.1). */
  level?: Level;
  /** Every clause the check tests (ATN-9.8); `clause` is the first. */
  clauses?: ClauseId[];
  /** The id of the problem (CampaignResult.problems) this failure belongs to. */
  problem?: string;
}

/** Conformance levels (ATN-9.1): core math, the extended range, the protocol. */
export type Level = 'core' | 'extended' | 'protocol';

/** A group of failures sharing one regime (ATN-9.5): one root cause, one finding. */
export interface Problem {
  id: string;
  /** One sentence a port author acts on. */
  summary: string;
  /** The regime the counterexamples share, e.g. { id: "singleton", text: "B = 1 or H = 1" }. */
  regime: { id: string; text: string };
  level: Level;
  /** Ids of the failing checks it explains. */
  checks: string[];
  /** How it was established: the counterexample, and what the re-run without the regime found. */
  evidence: string;
}

/** What the target does outside every problem's regime (the re-runs with all problem regimes excluded). */
export interface Outside {
  excluded: string[];
  passed: string[];
  failed: string[];
  /** One sentence, e.g. "outside B = 1 or H = 1, the target passes every core check". */
  text: string;
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
  /** Set when only these checks were selected (`atn report --only`): a partial campaign, never a conformance claim. */
  only?: string[];
  checks: CheckResult[];
  faults: Fault[];
  diagnosis?: Diagnosis;
  /** Failures grouped by shared regime (ATN-9.5), most checks first; absent when the analysis did not run. */
  problems?: Problem[];
  outside?: Outside;
  /** Verdict per conformance level (ATN-9.3). */
  levels?: Partial<Record<Level, 'pass' | 'fail' | 'untested'>>;
  /** Ops the target serves and those of the protocol it does not (ATN-9.9). */
  coverage?: { served: string[]; notServed: string[] };
  /** --ftz: subnormal inputs and exact results set aside (ATN-9.6). */
  ftz?: boolean;
  /** Set when the campaign could not run to a verdict: a malformed hello, a target that only ever failed the same way, a port that stopped answering (the message). */
  stopped?: string;
  summary: { passed: number; failed: number; skipped: number; errors: number; conforms: boolean };
}
