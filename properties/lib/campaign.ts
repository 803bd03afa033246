/**
 * runCampaign: hello first, then every check in order against one target at one dtype, with the reference as oracle;
 * returns the CampaignResult a report renders. onCheckDone lets the report writer write partial results; an abort
 * signal stops after the check in progress and leaves complete = false.
 */
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import { createReference, type Reference } from '../../reference';
import { packageRoot, packageVersion } from '../../util/package';
import { isRecord } from '../../protocol/codec';
import { call, type Target } from '../../protocol/target';
import type { Hello, Response } from '../../protocol/types';
import { CHECKS } from './checks';
import type { RunContext } from './checks/framework';
import { LEVELS, PROTOCOL_OPS } from './coverage';
import { findProblems } from './problems';
import { SUBNORMAL } from './regimes';
import { DEFAULT_SEED, scaledRuns, seedFromEnv } from './seed';
import type { CampaignDtype, CampaignResult, Check, CheckResult, Fault, Level } from './types';

/** Default runs per generated property (small: the reference computes in BigNumber). */
export const DEFAULT_RUNS = 20;

/**
 * Default runs per property of `atn report` (the README's main job): ten times the test default. The main job has a
 * budget of 5 minutes; 200 runs take about 15 s on the tfjs implementation and about 30 s through the Python port.
 */
export const REPORT_RUNS = 200;

/** The most runs per property a campaign accepts (--runs): beyond it a campaign takes days; use --time-budget. */
export const MAX_RUNS = 100_000;

export interface CampaignOptions {
  target: Target;
  /** How the target was named (e.g. "reference", "impl --backend wasm", "port: python3 atn_server.py"). */
  targetSpec: string;
  dtype: CampaignDtype;
  /** Defaults to ATN_SEED or DEFAULT_SEED. */
  seed?: number;
  /** Runs per generated property; defaults to DEFAULT_RUNS scaled by ATN_RUNS. */
  runs?: number;
  checks?: Check[];
  /** The check ids `atn report --only` selected: recorded in the result (replay lines repeat it; not a conformance claim). */
  only?: string[];
  reference?: Reference;
  onProgress?: (p: { check: string; index: number; total: number; cases: number }) => void;
  onCheckDone?: (result: CheckResult, partial: CampaignResult) => void | Promise<void>;
  signal?: AbortSignal;
  /** Time a failing check may spend shrinking (default 5 s; `atn mutants` may want less). */
  shrinkMs?: number;
  /** Group failures into problems by shared regime, re-running failing checks with the regime set aside (ATN-9.5). */
  problems?: boolean;
  /** Flush-to-zero mode (ATN-9.6): cases with subnormal inputs are set aside. */
  ftz?: boolean;
}

/** The suite's name, version (package.json) and commit (`git rev-parse HEAD`, else "unknown"). */
export function suiteInfo(): CampaignResult['suite'] {
  const root = packageRoot();
  let commit = 'unknown';
  if (root)
    try {
      commit =
        execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
          .toString()
          .trim() || 'unknown';
    } catch {
      // not a git checkout (an npm install): unknown
    }
  const version = packageVersion();
  return { name: 'atn-kit', version: version === '0.0.0' ? 'unknown' : version, commit };
}

export function machineInfo(): CampaignResult['machine'] {
  const cpus = os.cpus();
  return {
    platform: os.platform(),
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    node: process.version,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

/** Ops of the protocol the target serves and does not (ATN-9.9); hello may hold anything. */
export function coverageOf(hello: unknown): { served: string[]; notServed: string[] } {
  const ops = hello && typeof hello === 'object' && Array.isArray((hello as { ops?: unknown }).ops) ? ((hello as { ops: unknown[] }).ops as unknown[]) : [];
  return { served: PROTOCOL_OPS.filter((op) => ops.includes(op)), notServed: PROTOCOL_OPS.filter((op) => !ops.includes(op)) };
}

/** Verdict per level (ATN-9.3): a level fails when a problem (or, without the analysis, a failing check) is at it. */
export function levelVerdicts(r: Pick<CampaignResult, 'checks' | 'problems' | 'outside'>): Partial<Record<Level, 'pass' | 'fail' | 'untested'>> {
  // A check that passes outside the problems' regimes shows its level works there.
  const cleared = new Set(r.outside?.passed ?? []);
  const out: Partial<Record<Level, 'pass' | 'fail' | 'untested'>> = {};
  for (const level of LEVELS) {
    const mine = r.checks.filter((c) => (c.level ?? 'core') === level);
    const failing = r.problems
      ? r.problems.some((p) => p.level === level) || mine.some((c) => c.status === 'error' || (c.status === 'fail' && !cleared.has(c.id)))
      : mine.some((c) => c.status === 'fail' || c.status === 'error');
    out[level] = failing ? 'fail' : mine.some((c) => c.status === 'pass' || cleared.has(c.id)) ? 'pass' : 'untested';
  }
  return out;
}

export function summarize(checks: CheckResult[], complete: boolean): CampaignResult['summary'] {
  const count = (s: CheckResult['status']) => checks.filter((c) => c.status === s).length;
  const passed = count('pass'),
    failed = count('fail'),
    skipped = count('skip'),
    errors = count('error');
  return { passed, failed, skipped, errors, conforms: complete && failed === 0 && errors === 0 };
}

function faultsOf(target: Target): Fault[] {
  const f = (target as Target & { faults?: Fault[] }).faults;
  return Array.isArray(f) ? f.slice() : [];
}

export async function runCampaign(opts: CampaignOptions): Promise<CampaignResult> {
  const t0 = Date.now();
  const seed = opts.seed ?? seedFromEnv() ?? DEFAULT_SEED;
  const runs = opts.runs ?? scaledRuns(DEFAULT_RUNS);
  const checks = opts.checks ?? CHECKS;
  const reference = opts.reference ?? createReference();
  const result: CampaignResult = {
    schemaVersion: 1,
    suite: suiteInfo(),
    target: { spec: opts.targetSpec },
    dtype: opts.dtype,
    seed,
    runs,
    machine: machineInfo(),
    startedAt: new Date(t0).toISOString(),
    wallMs: 0,
    complete: false,
    checks: [],
    faults: [],
    summary: summarize([], false),
    ...(opts.only ? { only: opts.only.slice() } : {}),
  };
  const finish = (complete: boolean): CampaignResult => {
    result.complete = complete;
    result.wallMs = Date.now() - t0;
    result.faults = faultsOf(opts.target);
    result.summary = summarize(result.checks, complete);
    if (result.only) result.summary.conforms = false; // a selection of checks proves nothing about the rest
    result.levels = levelVerdicts(result);
    if (result.stopped) result.summary.conforms = false;
    return result;
  };
  if (opts.ftz) result.ftz = true;
  const exclude = opts.ftz ? (op: string, args: Record<string, unknown>) => SUBNORMAL.holds(op, args) : undefined;

  let hello: Hello;
  const first = await opts.target.handle({ id: 'hello', op: 'hello', args: {} }).catch((e: unknown) => e);
  if (isRecord(first) && first.byRunner === true && first.ok === false) {
    // No answer at all (the port died or went silent right after starting): nothing was judged, so could not run.
    const why = `the target gave no answer to hello: ${(first.error as { message?: string } | undefined)?.message ?? ''}`;
    result.checks.push({
      id: 'protocol.hello',
      clause: 'ATN-8.7',
      title: 'the target answers hello',
      status: 'error',
      reason: why,
      runs: 1,
      seed,
      durationMs: Date.now() - t0,
    });
    result.stopped = why;
    return finish(true);
  }
  try {
    hello = await call<Hello>({ handle: async () => first as Response, close: async () => {} }, 'hello', {}, 'hello');
  } catch (e) {
    // Without hello nothing can be run: one failed check says why.
    result.checks.push({
      id: 'protocol.hello',
      clause: 'ATN-8.7',
      title: 'the target answers hello',
      status: 'fail',
      runs: 1,
      seed,
      counterexample: { requests: [{ id: 'hello', op: 'hello', args: {} }], detail: `hello failed: ${e instanceof Error ? e.message : String(e)}` },
      durationMs: Date.now() - t0,
    });
    return finish(true);
  }
  result.target.hello = hello;
  result.coverage = coverageOf(hello);
  if (hello.backend !== undefined) result.target.backend = hello.backend;
  // A hello without the fields the campaign needs cannot decide which checks apply: could not run, naming the field.
  const bad = helloProblem(hello);
  if (bad) {
    result.checks.push({
      id: 'protocol.hello',
      clause: 'ATN-8.7',
      title: 'the target answers hello',
      status: 'error',
      reason: bad,
      runs: 1,
      seed,
      durationMs: Date.now() - t0,
    });
    result.stopped = bad;
    return finish(true);
  }
  const watch = watchAnswers(opts.target);
  /** What every check's run sees (the checks through the answer watch, the problem re-runs on the target itself). */
  const base = (target: RunContext['target']): RunContext => ({
    target,
    hello,
    dtype: opts.dtype,
    reference,
    seed,
    runs,
    signal: opts.signal,
    shrinkMs: opts.shrinkMs,
    exclude,
    ftz: opts.ftz,
  });

  for (let i = 0; i < checks.length; i++) {
    if (opts.signal?.aborted) return finish(false);
    const why = watch.stopReason();
    if (why) {
      result.stopped = why; // the checks not run are not listed: nothing can be learnt from them
      return finish(true);
    }
    const check = checks[i];
    watch.check(check.id);
    let cases = 0;
    const ctx: RunContext = {
      ...base(watch.target),
      onCase: () => opts.onProgress?.({ check: check.id, index: i, total: checks.length, cases: ++cases }),
    };
    opts.onProgress?.({ check: check.id, index: i, total: checks.length, cases: 0 });
    let r: CheckResult;
    try {
      r = await check.run(ctx);
    } catch (e) {
      r = {
        id: check.id,
        clause: check.clause,
        title: check.title,
        status: 'error',
        reason: `the check threw: ${e instanceof Error ? e.message : String(e)}`,
        runs: cases,
        seed,
        durationMs: 0,
      };
    }
    if (opts.signal?.aborted && r.status === 'error') return finish(false); // an interrupted check is not a result
    if (opts.ftz && r.status === 'error' && /discarded/.test(r.reason ?? ''))
      r = {
        ...r,
        status: 'skip',
        reason: '--ftz: every case of this check has subnormal inputs or exact results, which flush-to-zero mode sets aside (ATN-9.6)',
      };
    result.checks.push(r);
    if (opts.onCheckDone) await opts.onCheckDone(r, { ...finish(false), checks: result.checks.slice() });
  }
  const why = watch.stopReason();
  if (why) result.stopped = why;
  // A port that stopped answering is not re-run for problems: its verdict is could not run.
  if (opts.problems && !why && result.checks.some((c) => c.status === 'fail') && !opts.signal?.aborted) {
    const ctx: RunContext = base(opts.target);
    opts.onProgress?.({ check: 'grouping failures into problems', index: checks.length, total: checks.length, cases: 0 });
    const found = await findProblems({ checks, results: result.checks, ctx });
    if (opts.signal?.aborted) return finish(false);
    result.problems = found.problems;
    result.outside = found.outside;
  }
  return finish(true);
}

/** Why a hello answer cannot drive a campaign (the field named), or undefined. */
export function helloProblem(hello: unknown): string | undefined {
  if (!isRecord(hello)) return `the target's hello result is not an object (ATN-8.7)`;
  const list = (key: string): string | undefined => {
    if (!Object.hasOwn(hello, key)) return `the target's hello has no ${key} (ATN-8.7): it must list the ${key} it serves`;
    const v = hello[key];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      return `the target's hello.${key} must be an array of strings (ATN-8.7), got ${(JSON.stringify(v) ?? String(v)).slice(0, 80)}`;
    return undefined;
  };
  return list('ops') ?? list('dtypes');
}

/**
 * Identical error answers (over at least 3 checks, with no result ever), or consecutive runner stand-ins, after which a
 * campaign stops as "could not run".
 */
export const SAME_ERROR_LIMIT = 20;
export const STAND_IN_LIMIT = 8;

/**
 * Watches the answers of a target during a campaign. A target that has answered nothing but one identical error (a
 * module that cannot be constructed: every request gets "AttributeError ...") or whose port runner has answered for it
 * SAME_ERROR_LIMIT times in a row (it stopped answering) teaches nothing more: the campaign stops with that message.
 */
function watchAnswers(inner: Target): { target: Target; stopReason(): string | undefined; check(id: string): void } {
  let anyOk = false;
  let current = '';
  const checksSeen = new Set<string>(); // checks whose requests all got the same error (a shrinking check repeats one case)
  let same = 0;
  let first: string | undefined;
  let standIns = 0;
  let lastStandIn = '';
  const target: Target = {
    async handle(req) {
      const res = await inner.handle(req);
      if (req.op === 'hello') return res;
      if (res.byRunner) {
        standIns++;
        lastStandIn = res.ok ? '' : res.error.message;
      } else standIns = 0;
      if (res.ok) anyOk = true;
      else if (!res.byRunner) {
        const key = `${res.error.code} (${res.error.clause}): ${res.error.message}`;
        if (first === undefined) first = key;
        same = key === first ? same + 1 : -Infinity;
        checksSeen.add(current);
      }
      return res;
    },
    close: () => inner.close(),
  };
  return {
    target,
    check(id: string) {
      current = id;
    },
    stopReason() {
      if (standIns >= STAND_IN_LIMIT)
        return `the port gave no usable answer to ${standIns} requests in a row (the runner answered in its place); the last: ${lastStandIn}`;
      if (!anyOk && same >= SAME_ERROR_LIMIT && checksSeen.size >= 3)
        return `the target answered each of its ${same} requests with the same error, so it never computed anything: ${first}`;
      return undefined;
    },
  };
}
