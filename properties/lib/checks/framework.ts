/**
 * The machinery every check shares: a Session that sends protocol requests to the target and records them (the
 * counterexample is replayable against any target), the reference as oracle, and propertyCheck(), which turns a
 * fast-check property over generated inputs into a Check with a CheckResult (shrunk counterexample, seed, path,
 * error ratios, series).
 */
import fc from 'fast-check';
import type { Expectation, ReferenceOp } from '../../../reference';
import type { Target } from '../../../protocol/target';
import type { Request, Response } from '../../../protocol/types';
import type { ClauseId } from '../../../spec/clauses';
import { compare, maxRatio } from '../compare';
import { fcParams, replayLine } from '../seed';
import type { Check, CheckContext, CheckResult, Worst } from '../types';

/** The campaign passes an abort signal along with the contract's context. */
export interface RunContext extends CheckContext {
  signal?: AbortSignal;
  /** Time a failing check may spend shrinking its counterexample (default DEFAULT_SHRINK_MS). */
  shrinkMs?: number;
}

/** Shrinking re-runs the reference many times: past this budget the best counterexample so far is reported. */
export const DEFAULT_SHRINK_MS = 5000;

export type Point = { x: number; y: number; group?: string };

/** The verdict on one generated case. */
export interface Outcome {
  ok: boolean;
  detail: string;
  worst?: Worst;
  /** The case's largest |got - want| / tol (for the error-distribution plot). */
  ratio?: number;
  /** Points for CheckResult.series, by series name. */
  points?: Record<string, Point[]>;
}

/** Our own failure (a bug of the suite, or the reference refusing a generated case): the check errors, never fails. */
export class HarnessError extends Error {}

/** The target answered wrongly (an error response, no response, a malformed result): the case fails with `outcome`. */
export class TargetFailure extends Error {
  constructor(readonly outcome: Outcome) {
    super(outcome.detail);
  }
}

/** Sends requests to the target and keeps them, with the responses, for the counterexample. */
export class Session {
  readonly requests: Request[] = [];
  readonly responses: (Response | undefined)[] = [];
  private nextId = 1;
  constructor(readonly target: Target) {}

  /** One request; undefined when the target threw (its contract says it never does, a crashed port may). */
  async send(op: string, args: Record<string, unknown>, id?: Request['id']): Promise<{ req: Request; res?: Response; thrown?: unknown }> {
    const req: Request = { id: id === undefined ? this.nextId++ : id, op, args };
    this.requests.push(req);
    let res: Response | undefined;
    let thrown: unknown;
    try {
      res = await this.target.handle(req);
    } catch (e) {
      thrown = e;
    }
    this.responses.push(res);
    return { req, res, thrown };
  }

  /** Keeps only the last n exchanges in the record (the counterexample shows the request that failed, not its predecessors). */
  focusLast(n: number): void {
    this.requests.splice(0, Math.max(0, this.requests.length - n));
    this.responses.splice(0, Math.max(0, this.responses.length - n));
  }

  /** One request that must succeed: its result, or a TargetFailure naming what came back instead. */
  async result(op: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { res, thrown } = await this.send(op, args);
    if (!res) throw new TargetFailure({ ok: false, ratio: Infinity, detail: `${op}: no response (${thrown instanceof Error ? thrown.message : String(thrown)})` });
    if (!res.ok) {
      const e = res.error ?? ({} as Record<string, unknown>);
      throw new TargetFailure({ ok: false, ratio: Infinity, detail: `${op}: answered error ${e.code} (${e.clause}): ${e.message}` });
    }
    if (res.result === null || typeof res.result !== 'object') throw new TargetFailure({ ok: false, ratio: Infinity, detail: `${op}: result is not an object` });
    return res.result;
  }
}

/**
 * The reference's expectation; a degenerate window (ATN-6.6) discards the generated case (fc.pre), since only the
 * errors checks ask for one. Anything else the reference refuses is a harness bug.
 */
export function expectOf(ctx: CheckContext, op: ReferenceOp, args: Record<string, unknown>): Expectation {
  try {
    return ctx.reference.expect(op, args);
  } catch (e) {
    if ((e as { code?: string }).code === 'degenerate_window') fc.pre(false);
    throw new HarnessError(`the reference refused a generated ${op} case: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Sends one request and compares its result with the reference (ATN-7.1). */
export async function agree(ctx: CheckContext, s: Session, op: ReferenceOp, args: Record<string, unknown>): Promise<Outcome & { result: Record<string, unknown>; exp: Expectation }> {
  const exp = expectOf(ctx, op, args);
  const result = await s.result(op, args);
  const cmp = compare(result, exp, { dtype: ctx.dtype });
  return { ok: cmp.ok, detail: `${op}: ${cmp.detail}`, worst: cmp.worst, ratio: maxRatio(cmp.ratios), result, exp };
}

/** Why a check cannot run on this target (hello lacks the dtype or an op), or undefined. */
export function skipReason(ctx: CheckContext, ops: string[]): string | undefined {
  const dtypes = Array.isArray(ctx.hello.dtypes) ? ctx.hello.dtypes : [];
  if (!dtypes.includes(ctx.dtype)) return `the target's hello does not list dtype ${ctx.dtype} (it lists ${dtypes.join(', ') || 'none'})`;
  const have = Array.isArray(ctx.hello.ops) ? ctx.hello.ops : [];
  const missing = ops.filter((op) => !have.includes(op));
  if (missing.length) return `the target's hello does not list ${missing.join(', ')}`;
  return undefined;
}

export interface PropertySpec<T> {
  id: string;
  clause: ClauseId;
  title: string;
  ops: string[];
  kind: Check['kind'];
  /** Runs for this property given the campaign's (default: the same). */
  runs?: (ctx: CheckContext) => number;
  arb: (ctx: CheckContext) => fc.Arbitrary<T>;
  /** Known counterexamples of wrong targets, tried first. */
  examples?: (ctx: CheckContext) => T[];
  /** Extra skip condition beyond the ops and dtype. */
  skip?: (ctx: CheckContext) => string | undefined;
  run: (input: T, s: Session, ctx: CheckContext) => Promise<Outcome>;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs one case, turning a TargetFailure into a failed outcome; harness errors and fc.pre propagate. */
async function runCase<T>(spec: PropertySpec<T>, input: T, s: Session, ctx: CheckContext): Promise<Outcome> {
  try {
    return await spec.run(input, s, ctx);
  } catch (e) {
    if (e instanceof TargetFailure) return e.outcome;
    throw e;
  }
}

type OracleCounts = NonNullable<CheckResult['oracle']>;

function oracleSnapshot(ctx: CheckContext): OracleCounts | undefined {
  const o = ctx.reference.oracle;
  return o && { fast: o.fast, exact: o.exact, forced: o.forced, undecided: { ...o.undecided } };
}

/** What the reference's oracle counters moved by since `before` (ATN-7.8; checks of one campaign run one at a time). */
export function oracleDelta(ctx: CheckContext, before: OracleCounts | undefined): OracleCounts | undefined {
  const o = ctx.reference.oracle;
  if (!o || !before) return undefined;
  const undecided: Record<string, number> = {};
  for (const [why, n] of Object.entries(o.undecided)) if (n > (before.undecided?.[why] ?? 0)) undecided[why] = n - (before.undecided?.[why] ?? 0);
  const d: OracleCounts = { fast: o.fast - before.fast, exact: o.exact - before.exact, forced: o.forced };
  if (d.fast + d.exact === 0) return undefined;
  return Object.keys(undecided).length ? { ...d, undecided } : d;
}

/** A Check from a fast-check property over generated inputs. */
export function propertyCheck<T>(spec: PropertySpec<T>): Check {
  return {
    id: spec.id,
    clause: spec.clause,
    title: spec.title,
    ops: spec.ops,
    kind: spec.kind,
    async run(ctx0: CheckContext): Promise<CheckResult> {
      const ctx = ctx0 as RunContext;
      const t0 = Date.now();
      const base = { id: spec.id, clause: spec.clause, title: spec.title, seed: ctx.seed };
      const before = oracleSnapshot(ctx);
      const done = (r: Omit<CheckResult, 'id' | 'clause' | 'title' | 'seed' | 'durationMs'>): CheckResult => {
        const oracle = oracleDelta(ctx, before);
        return { ...base, ...r, durationMs: Date.now() - t0, ...(oracle ? { oracle } : {}) };
      };
      const reason = skipReason(ctx, spec.ops) ?? spec.skip?.(ctx);
      if (reason) return done({ status: 'skip', reason, runs: 0 });

      const numRuns = Math.max(1, spec.runs ? spec.runs(ctx) : ctx.runs);
      const ratios: number[] = [];
      const series: Record<string, Point[]> = {};
      let searching = true; // false once a case failed: shrinking runs are not samples of the distribution
      let failedAt = 0;
      const shrinkMs = ctx.shrinkMs ?? DEFAULT_SHRINK_MS;
      let cases = 0;
      let harness: unknown;
      const prop = fc.asyncProperty(spec.arb(ctx), async (input: T) => {
        if (ctx.signal?.aborted) return true; // finish the remaining runs at once; reported as interrupted below
        // Out of shrinking time: every further candidate "passes", so fast-check keeps the smallest failure found.
        if (!searching && Date.now() - failedAt > shrinkMs) return true;
        let o: Outcome;
        try {
          o = await runCase(spec, input, new Session(ctx.target), ctx);
        } catch (e) {
          if (fc.PreconditionFailure.isFailure(e)) throw e;
          harness ??= e; // the suite's own failure: do not blame the target, stop searching
          return true;
        }
        if (searching) {
          cases++;
          ctx.onCase?.();
          if (o.ratio !== undefined) ratios.push(o.ratio);
          for (const [name, pts] of Object.entries(o.points ?? {})) (series[name] ??= []).push(...pts);
        }
        if (!o.ok && searching) {
          searching = false;
          failedAt = Date.now();
        }
        return o.ok;
      });
      const params = fcParams<[T]>({ seed: ctx.seed, numRuns, checkId: spec.id, multiply: false });
      const examples = spec.examples?.(ctx);
      if (examples?.length) params.examples = examples.map((x) => [x] as [T]);
      const details = await fc.check(prop, params);

      const extra = { runs: cases, errorRatios: ratios, ...(Object.keys(series).length ? { series } : {}) };
      if (ctx.signal?.aborted) return done({ status: 'error', reason: 'interrupted', ...extra });
      if (harness !== undefined) return done({ status: 'error', reason: `harness: ${message(harness)}`, ...extra });
      if (!details.failed) return done({ status: 'pass', ...extra });
      if (!details.counterexample) {
        const why = details.interrupted ? 'interrupted' : `fast-check gave up: ${details.numSkips} generated cases were discarded (degenerate)`;
        return done({ status: 'error', reason: why, ...extra });
      }

      // Re-run the shrunk counterexample to record its requests and responses.
      const s = new Session(ctx.target);
      let o: Outcome;
      try {
        o = await runCase(spec, details.counterexample[0], s, ctx);
        if (o.ok) o = { ...o, ok: false, detail: `failed during the search but passed when re-run (a nondeterministic target?): ${o.detail}` };
      } catch (e) {
        o = { ok: false, detail: `re-running the counterexample threw: ${message(e)}` };
      }
      const path = details.counterexamplePath ?? undefined;
      return done({
        status: 'fail',
        reason: replayLine(details.seed, path, spec.id),
        path,
        counterexample: { requests: s.requests, responses: s.responses, detail: o.detail, ...(o.worst ? { worst: o.worst } : {}) },
        ...extra,
      });
    },
  };
}
