/**
 * The machinery every check shares: a Session that sends protocol requests to the target and records them (the
 * counterexample is replayable against any target), the reference as oracle, and propertyCheck(), which turns a
 * fast-check property over generated inputs into a Check with a CheckResult (shrunk counterexample, seed, path,
 * error ratios, series).
 */
import fc from 'fast-check';
import type { Expectation, ReferenceOp } from '../../../reference';
import { isEnvelope, type Target } from '../../../protocol/target';
import type { Result } from '../../../protocol/ops';
import type { BrokenEnvelope, Envelope, Id, Outgoing, RecordedRequest, Response, UncheckedResult } from '../../../protocol/types';
import type { ClauseId } from '../../../spec/clauses';
import { capabilitiesOf, capabilityReason, fitCase, fitted, type Needs } from '../capabilities';
import { recordRequest, recordResponse } from '../../../protocol/record';
import { compare, maxRatio, structureProblem } from '../compare';
import { fcParams, replayLine } from '../seed';
import { hasSubnormalValue } from '../regimes';
import { checkClauses, levelOf } from '../coverage';
import type { Check, CheckContext, CheckResult, Counterexample, Evidence, Worst } from '../types';

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

/** Thrown inside a property once the campaign is interrupted (SIGINT/SIGTERM, --time-budget). */
class Interrupted extends Error {}

/** Our own failure (a bug of the suite, or the reference refusing a generated case): the check errors, never fails. */
export class HarnessError extends Error {}

/** The target answered wrongly (an error response, no response, a malformed result): the case fails with `outcome`. */
export class TargetFailure extends Error {
  constructor(readonly outcome: Outcome) {
    super(outcome.detail);
  }
}

/**
 * Request ids are unique per target (so per campaign): a port that re-sends an earlier answer is caught by its id
 * instead of being graded on a stale result, as it would be if every session counted from 1.
 */
const NEXT_ID = new WeakMap<Target, number>();
function nextIdFor(target: Target): number {
  const id = NEXT_ID.get(target) ?? 1;
  NEXT_ID.set(target, id + 1);
  return id;
}

/** Why a response cannot be graded as the target's own answer (the runner made it up, or its line was not JSON). */
export function notTheTargets(op: string, res: Response): string | undefined {
  if (res.byRunner) return `${op}: no answer from the target (the runner answered in its place): ${res.ok ? '' : res.error.message}`;
  return undefined;
}

/** Sends requests to the target and keeps them, with the responses, for the counterexample. */
export class Session {
  /** What the report keeps (protocol/record.ts): broken envelopes as their raw text, answers bounded. */
  readonly requests: RecordedRequest[] = [];
  readonly responses: (Response | undefined)[] = [];
  /** The same exchanges uncut (well-formed envelopes only): the counterexample's evidence for the diagnosis. */
  readonly exchanged: Array<{ request: Envelope; response: Response | undefined }> = [];
  constructor(
    readonly target: Target,
    private readonly exclude?: CheckContext['exclude'],
  ) {}

  /**
   * One request (an op the protocol may not define, sent on purpose, too); undefined when the target threw (its
   * contract says it never does, a crashed port may).
   */
  async send(op: string, args: Record<string, unknown>, id?: Id): Promise<{ req: Envelope; res?: Response; thrown?: unknown }> {
    // A case that reaches a set-aside regime is discarded, not sent (ATN-9.5).
    if (this.exclude?.(op, args)) fc.pre(false);
    return this.exchange({ id: id === undefined ? nextIdFor(this.target) : id, op, args });
  }

  /** A deliberately broken envelope (op not a string, args not an object), sent as it is; recorded as its raw text. */
  sendBroken(op: unknown, args: unknown): Promise<{ req: BrokenEnvelope; res?: Response; thrown?: unknown }> {
    // A regime (ATN-9.5/9.6) is a property of well-formed args: an envelope whose op is not a string or whose args are
    // not an object is in none, so it is never set aside (asking a predicate about args null would throw).
    const envelope = { id: null, op, args } as Outgoing;
    if (isEnvelope(envelope) && this.exclude?.(envelope.op, envelope.args)) fc.pre(false);
    return this.exchange({ id: nextIdFor(this.target), op, args });
  }

  private async exchange<R extends Envelope | BrokenEnvelope>(req: R): Promise<{ req: R; res?: Response; thrown?: unknown }> {
    this.requests.push(recordRequest(req));
    let res: Response | undefined;
    let thrown: unknown;
    try {
      res = await this.target.handle(req);
    } catch (e) {
      thrown = e;
    }
    this.responses.push(recordResponse(res));
    if (isEnvelope(req as Outgoing)) this.exchanged.push({ request: req as Envelope, response: res });
    return { req, res, thrown };
  }

  /** Keeps only the last n exchanges in the record (the counterexample shows the request that failed, not its predecessors). */
  focusLast(n: number): void {
    this.requests.splice(0, Math.max(0, this.requests.length - n));
    this.responses.splice(0, Math.max(0, this.responses.length - n));
    this.exchanged.splice(0, Math.max(0, this.exchanged.length - n));
  }

  /** The record for a counterexample, with the uncut exchanges attached as its non-enumerable `evidence`. */
  record<C extends object>(c: C): C & { readonly evidence?: Evidence } {
    return Object.defineProperty(c, 'evidence', { value: [...this.exchanged], enumerable: false });
  }

  /**
   * One request that must succeed: its result as it arrived (an object, its structure not checked), or a TargetFailure
   * naming what came back instead.
   */
  async result(op: string, args: Record<string, unknown>): Promise<UncheckedResult> {
    const { res, thrown } = await this.send(op, args);
    if (!res)
      throw new TargetFailure({ ok: false, ratio: Infinity, detail: `${op}: no response (${thrown instanceof Error ? thrown.message : String(thrown)})` });
    const stand = notTheTargets(op, res);
    if (stand) throw new TargetFailure({ ok: false, ratio: Infinity, detail: stand });
    if (res.wire) throw new TargetFailure({ ok: false, ratio: Infinity, detail: `${op}: ${res.wire}` });
    if (!res.ok) {
      const e = res.error ?? ({} as Record<string, unknown>);
      throw new TargetFailure({ ok: false, ratio: Infinity, detail: `${op}: answered error ${e.code} (${e.clause}): ${e.message}` });
    }
    if (res.result === null || typeof res.result !== 'object')
      throw new TargetFailure({ ok: false, ratio: Infinity, detail: `${op}: result is not an object` });
    return res.result;
  }

  /**
   * One request whose result must have exactly the structure of `want` (the reference's: the op's keys, shapes and
   * numbers, ATN-7.1, ATN-8.5): the result, typed as the op's only after that check passed; else a TargetFailure
   * "LABEL: the first structural difference".
   */
  async checked<Op extends ReferenceOp>(op: Op, args: Record<string, unknown>, want: Result<Op>, label: string = op): Promise<Result<Op>> {
    const r = await this.result(op, args);
    const problem = structureProblem(r, want);
    if (problem) throw new TargetFailure({ ok: false, ratio: Infinity, detail: `${label}: ${problem}` });
    return r as Result<Op>; // checked just above: r has want's structure
  }
}

/** An expectation of op Op: want and tol have the structure of the op's result (reference/contract.ts). */
export type OpExpectation<Op extends ReferenceOp> = Expectation & { want: Result<Op>; tol: Result<Op> };

/**
 * How a check uses an expectation (ATN-7.9): 'compared' when want and tol are read only through compare() (and want
 * for its structure), so the fast oracle may bracket values of either; 'judged' when want is read that way but tol is
 * read as numbers (metamorphic sums of tolerances), so only want values may be bracketed; 'values' when the check
 * computes with want's numbers itself, which must then be RN(exact).
 */
export type ExpectationUse = 'compared' | 'judged' | 'values';
const INTERVALS = { compared: 'all', judged: 'want', values: undefined } as const;

/**
 * The reference's expectation; a degenerate window (ATN-6.6) discards the generated case (fc.pre), since only the
 * errors checks ask for one. Anything else the reference refuses is a harness bug.
 */
export function expectOf<Op extends ReferenceOp>(ctx: CheckContext, op: Op, args: Record<string, unknown>, use: ExpectationUse = 'judged'): OpExpectation<Op> {
  // Before the (costly) reference: a case in a set-aside regime is discarded (ATN-9.5).
  if (ctx.exclude?.(op, args)) fc.pre(false);
  let exp: OpExpectation<Op>;
  try {
    // The reference (our oracle, trusted) builds want and tol with exactly the op's result structure.
    exp = ctx.reference.expect(op, args, { intervals: INTERVALS[use] }) as OpExpectation<Op>;
  } catch (e) {
    if ((e as { code?: string }).code === 'degenerate_window') fc.pre(false);
    throw new HarnessError(`the reference refused a generated ${op} case: ${e instanceof Error ? e.message : String(e)}`);
  }
  // --ftz: flushing hardware cannot give a subnormal exact result either (ATN-9.6).
  if (ctx.ftz && hasSubnormalValue(exp.want, args.dtype)) fc.pre(false);
  return exp;
}

/** Sends one request and compares its result with the reference (ATN-7.1). */
export async function agree<Op extends ReferenceOp>(
  ctx: CheckContext,
  s: Session,
  op: Op,
  args: Record<string, unknown>,
): Promise<Outcome & { result: UncheckedResult; exp: OpExpectation<Op> }> {
  const exp = expectOf(ctx, op, args, 'compared');
  const result = await s.result(op, args);
  const cmp = compare(result, exp, { dtype: ctx.dtype, keep: ctx.shrinkKeep });
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
  /** The k and eps the check sends by itself (not from its generated case): skipped when the target does not serve them (ATN-8.8). */
  needs?: Needs;
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
  return o && { fast: o.fast, exact: o.exact, forced: o.forced, undecided: { ...o.undecided }, bracketed: o.bracketed ?? 0 };
}

/** What the reference's oracle counters moved by since `before` (ATN-7.8; checks of one campaign run one at a time). */
export function oracleDelta(ctx: CheckContext, before: OracleCounts | undefined): OracleCounts | undefined {
  const o = ctx.reference.oracle;
  if (!o || !before) return undefined;
  const undecided: Record<string, number> = {};
  for (const [why, n] of Object.entries(o.undecided)) if (n > (before.undecided?.[why] ?? 0)) undecided[why] = n - (before.undecided?.[why] ?? 0);
  const d: OracleCounts = { fast: o.fast - before.fast, exact: o.exact - before.exact, forced: o.forced };
  if (d.fast + d.exact === 0) return undefined;
  const bracketed = (o.bracketed ?? 0) - (before.bracketed ?? 0);
  if (bracketed > 0) d.bracketed = bracketed;
  return Object.keys(undecided).length ? { ...d, undecided } : d;
}

function ratioOf(o: Outcome): number {
  const r = o.ratio ?? (o.worst ? o.worst.ratio : Infinity);
  return Number.isNaN(r) ? Infinity : r;
}

/**
 * The error a shrunk case must keep (ATN-9.7): max(10, sqrt(first ratio)) times the tolerance when the first failure
 * was at least 10x; otherwise any failure (> 1x), since nothing larger was seen. A shape or error-code failure
 * (ratio Infinity) stays one.
 */
export function unmistakable(firstRatio: number | undefined): number {
  const r = firstRatio === undefined || Number.isNaN(firstRatio) ? Infinity : firstRatio;
  return r >= 10 ? Math.max(10, Math.sqrt(r)) : 1;
}

/**
 * A generated case as a string, equal exactly when the cases are (every number by its value, -0, NaN and the
 * infinities distinct from each other and from strings; undefined kept), or undefined when it cannot be written (a
 * function, a cycle, a BigInt): then the case is run.
 */
export function caseKey(input: unknown): string | undefined {
  try {
    return JSON.stringify(input, (_k, v: unknown) => {
      if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? v : `#${Object.is(v, -0) ? '-0' : v}`;
      if (typeof v === 'string') return `"${v}`;
      if (v === undefined) return '#undefined';
      if (typeof v === 'function' || typeof v === 'symbol') throw new TypeError('not data');
      return v;
    });
  } catch {
    return undefined;
  }
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
      const base = { id: spec.id, clause: spec.clause, title: spec.title, seed: ctx.seed, level: levelOf(spec), clauses: checkClauses(spec) };
      const before = oracleSnapshot(ctx);
      const done = (r: Omit<CheckResult, 'id' | 'clause' | 'title' | 'seed' | 'durationMs'>): CheckResult => {
        const oracle = oracleDelta(ctx, before);
        return { ...base, ...r, durationMs: Date.now() - t0, ...(oracle ? { oracle } : {}) };
      };
      // Capabilities (ATN-8.8): generated cases are fitted to what the target serves; a check that needs more is skipped.
      const caps = capabilitiesOf(ctx.hello);
      const reason = skipReason(ctx, spec.ops) ?? capabilityReason(caps, spec.needs, ctx.dtype) ?? spec.skip?.(ctx);
      if (reason) return done({ status: 'skip', reason, runs: 0 });

      const numRuns = Math.max(1, spec.runs ? spec.runs(ctx) : ctx.runs);
      const ratios: number[] = [];
      const series: Record<string, Point[]> = {};
      let searching = true; // false once a case failed: shrinking runs are not samples of the distribution
      let failedAt = 0;
      // The first failing case, shown beside the shrunk one (ATN-9.7): its exchanges and verdict as the search saw them.
      let first: { input: T; s: Session; o: Outcome } | undefined;
      let keep = 1; // a shrink candidate counts as failing only when its ratio reaches this (ATN-9.7)
      const shrinkMs = ctx.shrinkMs ?? DEFAULT_SHRINK_MS;
      let cases = 0;
      const judged = new Map<string, boolean>(); // shrink candidates' verdicts by caseKey
      let harness: unknown;
      const prop = fc.asyncProperty(fitted(spec.arb(ctx), caps, ctx.dtype), async (input: T) => {
        // Interrupted: throwing ends fast-check's run loop at once at any --runs (returning true would still generate
        // every remaining case); the check is reported as interrupted below, never as failed.
        if (ctx.signal?.aborted) throw new Interrupted();
        // Out of shrinking time: every further candidate "passes", so fast-check keeps the smallest failure found.
        if (!searching && Date.now() - failedAt > shrinkMs) return true;
        // A shrink step that changed only values the case does not read (the unused tail of a value pool) proposes a
        // case already judged: its verdict is that one's (the target is asked again only for new cases).
        const key = searching ? undefined : caseKey(input);
        const known = key === undefined ? undefined : judged.get(key);
        if (known !== undefined) return known;
        let o: Outcome;
        const session = new Session(ctx.target, ctx.exclude);
        try {
          // A shrink candidate is only kept or dropped: its comparisons are told the ratio that keeps it (ATN-7.9).
          o = await runCase(spec, input, session, searching ? ctx : { ...ctx, shrinkKeep: keep });
        } catch (e) {
          if (fc.PreconditionFailure.isFailure(e)) throw e;
          if (ctx.signal?.aborted) throw new Interrupted();
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
          first = { input, s: session, o };
          keep = unmistakable(o.ratio);
          return false;
        }
        // While shrinking, a candidate fails only when its error stays unmistakable, not when it sinks to the noise.
        const verdict = o.ok || (!searching && ratioOf(o) < keep);
        if (key !== undefined) judged.set(key, verdict);
        return verdict;
      });
      const params = fcParams<[T]>({ seed: ctx.seed, numRuns, checkId: spec.id, multiply: false });
      // A re-run with a regime set aside discards cheaply (before the reference): give up sooner when all cases are in it.
      if (ctx.exclude) params.maxSkipsPerRun = 10;
      const examples = spec
        .examples?.(ctx)
        .map((x) => fitCase(x, caps, ctx.dtype))
        .filter((x): x is T => x !== undefined);
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

      // The first failing case was run during the search with every comparison judged in full (no shrinkKeep): its
      // record is kept as it was. A shrunk counterexample is re-run, so that its record holds exact values (ATN-7.9)
      // and a target that passes it now shows as nondeterministic.
      const unshrunk = first !== undefined && first.input === details.counterexample[0];
      const s = unshrunk ? first!.s : new Session(ctx.target);
      let o: Outcome;
      if (unshrunk) o = first!.o;
      else
        try {
          o = await runCase(spec, details.counterexample[0], s, ctx);
          if (o.ok) o = { ...o, ok: false, detail: `failed during the search but passed when re-run (a nondeterministic target?): ${o.detail}` };
        } catch (e) {
          o = { ok: false, detail: `re-running the counterexample threw: ${message(e)}` };
        }
      const path = details.counterexamplePath ?? undefined;
      const counterexample: Counterexample = s.record({
        requests: s.requests,
        responses: s.responses,
        detail: o.detail,
        ...(o.worst ? { worst: o.worst } : {}),
      });
      if (first !== undefined && !unshrunk) {
        const { s: s1, o: o1 } = first;
        counterexample.first = s1.record({ requests: s1.requests, responses: s1.responses, detail: o1.detail, ...(o1.worst ? { worst: o1.worst } : {}) });
      }
      return done({
        status: 'fail',
        reason: replayLine(details.seed, path, spec.id),
        path,
        counterexample,
        ...extra,
      });
    },
  };
}
