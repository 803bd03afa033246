/**
 * The JS/TS API (issue 11): check ATN functions written in plain JS or tfjs in-process, with the same campaign,
 * diagnosis and reports as `atn report`. The suite validates every request first (protocol/args.ts, ATN-6; degenerate
 * windows, ATN-6.6; the declared capabilities, ATN-8.8): the user's functions only ever see valid arguments.
 *
 *   import { checkAtn, expectConforms } from 'atn-kit';
 *   const result = await checkAtn({ forward: (a, { k, eps, gain, bias }) => myAtn(a, k, eps, gain, bias) });
 *   expectConforms(result); // throws with the report's first failure (vitest, jest, node:test)
 */
import { checkDegenerate } from '../impl/ops/atn_window';
import { AtnError } from '../protocol/errors';
import { targetFromHandlers, type OpHandler, type Target } from '../protocol/target';
import type { Dtype, Hello } from '../protocol/types';
import { packageVersion } from '../util/package';
import { DEFAULT_SEED, scaledRuns } from '../properties/lib/seed';
import { DEFAULT_RUNS, runCampaign } from '../properties/lib/campaign';
import { CHECKS } from '../properties/lib/checks';
import type { CampaignDtype, CampaignResult, CheckResult } from '../properties/lib/types';
import { diagnoseFailures } from '../reports/diagnosis';
import { verdict, verdictSentence } from '../reports/format';
import { writeReport } from '../reports/write';
import { parseAtnArgs, parseAtnVjpArgs, parseLnArgs, type AtnArgs, type Leaf } from '../protocol/args';

export type { CampaignResult, CheckResult, CampaignDtype };

/** What a function may return: nested arrays, or a tfjs tensor (anything with arraySync() or array()). */
export type Nested<A> = A | { arraySync(): unknown } | { array(): Promise<unknown> };

export interface AtnParams {
  k: number;
  eps: number;
  /** Length H; ones when the request omits it. */
  gain: number[];
  /** Length H; zeros when the request omits it. */
  bias: number[];
  dtype: CampaignDtype;
}

export interface AtnFunctions {
  /** ATN forward (ATN-1): a [T][B][H] -> y [T][B][H]. */
  forward?: (a: number[][][], p: AtnParams) => Nested<number[][][]> | Promise<Nested<number[][][]>>;
  /** The VJP (ATN-4): y and the gradients of sum(dy * y) w.r.t. a, gain and bias. */
  vjp?: (a: number[][][], dy: number[][][], p: AtnParams) => VjpResult | Promise<VjpResult>;
  /** LayerNorm (ATN-2.1): x [B][H] -> y [B][H]. */
  ln?: (x: number[][], p: Omit<AtnParams, 'k'>) => Nested<number[][]> | Promise<Nested<number[][]>>;
}

export interface VjpResult {
  y: Nested<number[][][]>;
  da: Nested<number[][][]>;
  dgain: Nested<number[]>;
  dbias: Nested<number[]>;
}

export interface CheckOptions {
  /** Shown in the report (default "js-functions"). */
  name?: string;
  /** The dtype the campaign runs at (default float32). */
  dtype?: CampaignDtype;
  /** The dtypes the functions compute in (default [dtype]); others are refused with unsupported_dtype (ATN-6.7). */
  dtypes?: CampaignDtype[];
  /** Runs per property (default DEFAULT_RUNS scaled by ATN_RUNS). */
  runs?: number;
  /** Default ATN_SEED or the suite's fixed seed. */
  seed?: number;
  /** Only these check ids or clause ids (as `atn report --only`). */
  only?: string[];
  /** Capabilities (ATN-8.8): the k range and eps values the functions serve. */
  k?: { min?: number; max?: number };
  eps?: number[];
  /** Write report.{json,md,html} and junit.xml there. */
  out?: string;
  /** Run the mutant diagnosis on failures (default true). */
  diagnose?: boolean;
}

const num = (v: Leaf): number => (typeof v === 'number' ? v : Number(v));
const nums = (v: unknown): unknown => (Array.isArray(v) ? v.map(nums) : typeof v === 'string' ? Number(v) : v);

/** A tfjs tensor (or anything with arraySync/array) as nested arrays; anything else as it is (a finding if wrong). */
async function plain(v: unknown): Promise<unknown> {
  if (v && typeof v === 'object') {
    const o = v as { arraySync?: () => unknown; array?: () => Promise<unknown> };
    if (typeof o.arraySync === 'function') return o.arraySync();
    if (typeof o.array === 'function') return o.array();
  }
  return v;
}

function capabilityError(arg: 'k' | 'eps', message: string): AtnError {
  return new AtnError('bad_argument', 'ATN-8.8', `${arg}: ${message} (the declared capabilities, ATN-8.8)`, arg);
}

function atnParams(p: AtnArgs, opts: CheckOptions): AtnParams {
  const eps = num(p.eps);
  const round = p.dtype === 'float32' ? Math.fround : (x: number) => x;
  if ((opts.k?.min !== undefined && p.k < opts.k.min) || (opts.k?.max !== undefined && p.k > opts.k.max))
    throw capabilityError('k', `these functions serve k in [${opts.k?.min ?? 1}, ${opts.k?.max ?? 'inf'}] only, got ${p.k}`);
  if (opts.eps && !opts.eps.some((e) => round(e) === round(eps)))
    throw capabilityError('eps', `these functions serve eps ${opts.eps.join(', ')} only, got ${eps}`);
  return { k: p.k, eps, gain: p.gain.map(num), bias: p.bias.map(num), dtype: p.dtype as CampaignDtype };
}

/** The functions as a Target (protocol v1 in-process): validated arguments in, plain arrays out. */
export function targetFromFunctions(fns: AtnFunctions, opts: CheckOptions = {}): Target {
  const dtypes: Dtype[] = opts.dtypes ?? [opts.dtype ?? 'float32'];
  const parse = { dtypes };
  const handlers: Record<string, OpHandler> = {};
  const a3 = (p: AtnArgs) => nums(p.a) as number[][][];
  const degenerate = (p: AtnArgs, what: string) => checkDegenerate(a3(p).flat(2), p.T, p.B, p.H, p.k, num(p.eps), what);
  if (fns.forward) {
    const f = fns.forward;
    handlers['atn.forward'] = async (args) => {
      const p = parseAtnArgs(args, parse);
      const q = atnParams(p, opts);
      degenerate(p, 'a');
      return { y: await plain(await f(a3(p), q)) };
    };
  }
  if (fns.vjp) {
    const f = fns.vjp;
    handlers['atn.vjp'] = async (args) => {
      const p = parseAtnVjpArgs(args, parse);
      const q = atnParams(p, opts);
      degenerate(p, 'a');
      const r = await f(a3(p), nums(p.dy) as number[][][], q);
      if (!r || typeof r !== 'object') return { y: r } as Record<string, unknown>; // a finding: the result is checked
      return { y: await plain(r.y), da: await plain(r.da), dgain: await plain(r.dgain), dbias: await plain(r.dbias) };
    };
  }
  if (fns.ln) {
    const f = fns.ln;
    handlers['ln.forward'] = async (args) => {
      const p = parseLnArgs(args, parse);
      const x = nums(p.x) as number[][];
      const q = atnParams({ ...p, k: 1, a: [p.x], T: 1 }, opts);
      checkDegenerate(x.flat(), 1, p.B, p.H, 1, q.eps, 'x');
      return { y: await plain(await f(x, { eps: q.eps, gain: q.gain, bias: q.bias, dtype: q.dtype })) };
    };
  }
  const hello: Hello = {
    name: opts.name ?? 'js-functions',
    version: packageVersion(),
    protocol: 1,
    ops: ['hello', ...Object.keys(handlers)],
    dtypes,
    description: 'JS functions checked in-process by the atn-kit API',
    ...(opts.k ? { k: opts.k } : {}),
    ...(opts.eps ? { eps: opts.eps } : {}),
  };
  return targetFromHandlers(hello, handlers);
}

/** Runs the campaign (and the mutant diagnosis) against the functions; writes the report files when opts.out is set. */
export async function checkAtn(fns: AtnFunctions, opts: CheckOptions = {}): Promise<CampaignResult> {
  if (!fns || (!fns.forward && !fns.vjp && !fns.ln)) throw new TypeError('checkAtn: give at least one of forward, vjp, ln');
  const dtype = opts.dtype ?? 'float32';
  const target = targetFromFunctions(fns, opts);
  const names = opts.only;
  const checks = names ? CHECKS.filter((c) => names.includes(c.id) || names.includes(c.clause)) : undefined;
  if (names && !checks?.length) throw new TypeError(`checkAtn: only names no check: ${names.join(', ')}`);
  try {
    const result = await runCampaign({
      target,
      targetSpec: opts.name ?? 'js-functions',
      dtype,
      seed: opts.seed ?? DEFAULT_SEED,
      runs: opts.runs ?? scaledRuns(DEFAULT_RUNS),
      ...(checks ? { checks, only: checks.map((c) => c.id) } : {}),
    });
    if (result.summary.passed === 0) result.summary.conforms = false;
    if (opts.diagnose !== false) {
      const d = await diagnoseFailures(result.checks, result.target.hello ? { target, ops: result.target.hello.ops, dtype } : undefined).catch(() => undefined);
      if (d) result.diagnosis = d;
    }
    if (opts.out) await writeReport(result, opts.out);
    return result;
  } finally {
    await target.close();
  }
}

/** The report's first problem in one line (undefined when nothing failed or errored). */
export function firstProblem(result: CampaignResult): string | undefined {
  const c = result.checks.find((x) => x.status === 'fail') ?? result.checks.find((x) => x.status === 'error');
  if (!c) return undefined;
  const best = result.diagnosis?.best ? `; behaves like: ${result.diagnosis.best.id} (${result.diagnosis.best.description})` : '';
  return `${c.clause} ${c.id}: ${c.counterexample?.detail ?? c.reason ?? c.status} (seed ${c.seed})${best}`;
}

/**
 * For test runners: throws an Error whose message is the verdict and the report's first problem unless the result
 * conforms (or, for an --only selection, unless nothing failed).
 */
export function expectConforms(result: CampaignResult): void {
  const v = verdict(result);
  const ok = result.only ? result.summary.failed === 0 && result.summary.errors === 0 && result.summary.passed > 0 : v === 'CONFORMS';
  if (!ok) throw new Error(`atn-kit: ${verdictSentence(result)}${firstProblem(result) ? `\n  first problem: ${firstProblem(result)}` : ''}`);
}

export { runCampaign, CHECKS };
