/**
 * atn report [--target reference|impl|mutant:ID | --port "COMMAND"] [--backend NAME] [--dtype float32|float64]
 *            [--runs N] [--seed S] [--out DIR] [--json]
 * Runs the conformance campaign against one target and writes report.json, report.md, report.html and junit.xml.
 * Exit 0: the target conforms; 1: a clause fails (or a check errored); 2: the campaign could not run (bad flags, a
 * port that never starts, an interrupt before any failure).
 */
import { call } from '../../protocol/target';
import { startTarget, targetSpecString } from '../targets';
import type { Hello } from '../../protocol/types';
import { MAX_RUNS, REPORT_RUNS, runCampaign } from '../../properties/lib/campaign';
import { CHECKS } from '../../properties/lib/checks';
import type { Check } from '../../properties/lib/types';
import { scaledRuns } from '../../properties/lib/seed';
import { seedFromEnv } from '../../properties/lib/seed';
import type { CampaignDtype } from '../../properties/lib/types';
import { diagnoseFailures } from '../../reports/diagnosis';
import { duration, targetName as displayName, headlineLines, verdict, verdictSentence } from '../../reports/format';
import type { Level } from '../../properties/lib/types';
import { onInterrupt } from '../../reports/interrupt';
import { reportJson } from '../../reports/json';
import { Progress } from '../../reports/progress';
import { termText } from '../../reports/terminal';
import { outDirProblem, writePartial, writeReport } from '../../reports/write';
import { int, onlyFlags, parseFlags, seconds, str, strictInt, UsageError } from '../flags';

const USAGE = `usage: atn report [--target reference|impl|mutant:ID | --port "COMMAND"] [--backend NAME]
                  [--dtype float32|float64] [--runs N] [--seed S] [--only CHECK[,CHECK]] [--time-budget SECONDS]
                  [--out DIR] [--json]
                  [--level core|extended|all] [--ftz]

Runs every clause-named check against the target and writes report.html, report.md, report.json and junit.xml
to --out (default ./atn-report). Defaults: --target impl, --dtype float32 (the impl is float32-only; other targets
default to float32 when they serve it), --runs ${REPORT_RUNS} per property (times ATN_RUNS), --seed ATN_SEED or the
suite's fixed seed (a 32-bit integer). --runs is at most ${MAX_RUNS}. --time-budget ends the campaign after that many
seconds with the partial report (as an interrupt does). --only runs just the named checks (ids as in the report, or clause ids such as ATN-6.2): every
check sees the same seed, so a failure replays in seconds; such a report is not a conformance claim.
--json prints report.json on stdout. Failures are grouped into problems by the regime they share (ATN-9.5).
--level chooses the conformance levels that gate the exit status (ATN-9.3; core, core + extended, or all: the
default); --ftz sets subnormal inputs and exact results aside for ports that flush them to zero (ATN-9.6).
Exit 0 conforms, 1 a clause fails, 2 could not run.`;

/** The levels --level gates on (ATN-9.3). */
export const GATED: Record<string, Level[]> = { core: ['core'], extended: ['core', 'extended'], all: ['core', 'extended', 'protocol'] };

/**
 * The checks --only names: check ids or clause ids (a clause selects all its checks), comma-separated. An unknown
 * name is a usage error, never an empty campaign.
 */
export function selectChecks(only: string | undefined, all: readonly Check[] = CHECKS): Check[] | undefined {
  if (only === undefined) return undefined;
  const names = only
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (!names.length) throw new UsageError('--only needs at least one check id');
  for (const n of names)
    if (!all.some((c) => c.id === n || c.clause === n))
      throw new UsageError(`--only: no check or clause ${JSON.stringify(n)}; check ids: ${all.map((c) => c.id).join(', ')}`);
  return all.filter((c) => names.includes(c.id) || names.includes(c.clause));
}

/** A 32-bit signed seed, parsed strictly ('' and 2147483648 are refused, not turned into 0 or wrapped). */
function parseSeed(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  return strictInt(v, '--seed', -(2 ** 31), 2 ** 31 - 1);
}

/**
 * The interrupt signal, also aborted after `budget` seconds. Held by a plain controller and timer: a signal made by
 * AbortSignal.any over AbortSignal.timeout may be collected before it fires.
 */
function budgetSignal(interrupt: AbortSignal, budget: number | undefined): AbortSignal {
  if (budget === undefined) return interrupt;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new Error(`the time budget of ${budget} s is spent`)), budget * 1000);
  timer.unref();
  interrupt.addEventListener('abort', () => ctl.abort(interrupt.reason), { once: true });
  return ctl.signal;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseFlags(argv, ['help', 'json', 'ftz']);
  if (p.flags.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  onlyFlags(p, ['target', 'port', 'backend', 'dtype', 'runs', 'seed', 'only', 'out', 'json', 'help', 'level', 'ftz', 'time-budget']);
  const level = str(p, 'level') ?? 'all';
  if (!(level in GATED)) throw new UsageError(`--level must be core, extended or all (ATN-9.3), got ${JSON.stringify(level)}`);
  const ftz = p.flags.ftz === true;
  if (p.positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positional[0])}`);
  const targetName = str(p, 'target');
  const port = str(p, 'port');
  const backend = str(p, 'backend');
  const dtypeFlag = str(p, 'dtype');
  if (dtypeFlag !== undefined && dtypeFlag !== 'float32' && dtypeFlag !== 'float64')
    throw new UsageError(`--dtype must be float32 or float64, got ${JSON.stringify(dtypeFlag)}`);
  const runs = int(p, 'runs', 1, MAX_RUNS);
  const budget = seconds(p, 'time-budget');
  const seed = parseSeed(str(p, 'seed')) ?? seedFromEnv();
  const checks = selectChecks(str(p, 'only'));
  const out = str(p, 'out') ?? 'atn-report';
  const json = p.flags.json === true;
  // Lines quote what the target said (name, messages): escaped, so that no escape sequence reaches the terminal.
  const log = (s: string) => (json ? process.stderr : process.stdout).write(termText(s) + '\n');
  const spec = targetSpecString(targetName, port);
  const outProblem = outDirProblem(out);
  if (outProblem) {
    process.stderr.write(termText(`atn report: ${outProblem}`) + '\n');
    return 2;
  }

  const target = await startTarget('report', { target: targetName, port, backend });
  if (!target) return 2;

  const progress = new Progress(1, Boolean(process.stderr.isTTY) && !json);
  const interrupt = onInterrupt(() => progress.finish());
  try {
    let hello: Hello | undefined = (target as { hello?: Hello }).hello;
    if (!hello)
      try {
        hello = await call<Hello>(target, 'hello', {}, 'hello');
      } catch {
        hello = undefined; // the campaign reports a missing hello as a failed ATN-8.7 check
      }
    let dtype: CampaignDtype;
    // A malformed hello (dtypes not a list) is the campaign's to report (could not run, naming the field), not a crash here.
    const served = hello && Array.isArray(hello.dtypes) ? (hello.dtypes as unknown[]) : undefined;
    if (dtypeFlag) {
      dtype = dtypeFlag;
      if (served && !served.includes(dtype))
        throw new UsageError(`the target ${spec} serves dtypes ${served.map(String).join(', ')}; it cannot be run with --dtype ${dtype}`);
    } else dtype = !served || served.includes('float32') ? 'float32' : 'float64';

    let partialFailed = false;
    const result = await runCampaign({
      target,
      targetSpec: spec,
      dtype,
      seed,
      runs: runs ?? scaledRuns(REPORT_RUNS),
      ...(checks ? { checks, only: checks.map((c) => c.id) } : {}),
      signal: budgetSignal(interrupt.signal, budget),
      problems: true,
      ftz,
      onProgress: ({ check, index, total, cases }) => progress.set(index, total, `${check}${cases ? ` (${cases} case${cases === 1 ? '' : 's'})` : ''}`),
      // A failed progress write must not end the campaign; the final write reports any real problem.
      onCheckDone: (_r, partial) =>
        writePartial(partial, out).then(
          () => undefined,
          (e: unknown) => {
            if (!partialFailed)
              process.stderr.write(termText(`atn report: could not write the partial report: ${e instanceof Error ? e.message : String(e)}`) + '\n');
            partialFailed = true;
          },
        ),
    });
    progress.finish();

    // A campaign in which every check was skipped proves nothing: never write conforms = true for it.
    if (result.summary.passed === 0) result.summary.conforms = false;

    // Mutant diagnosis: which known mistake the failures look like (best effort: a report without it is still a report).
    try {
      const hello = result.target.hello;
      const d = result.stopped ? undefined : await diagnoseFailures(result.checks, hello ? { target, ops: hello.ops, dtype } : undefined, result.problems);
      if (d) result.diagnosis = d;
    } catch (e) {
      process.stderr.write(termText(`atn report: mutant diagnosis skipped: ${e instanceof Error ? e.message : String(e)}`) + '\n');
    }

    const written = await writeReport(result, out);
    if (json) process.stdout.write(reportJson(result));
    log(
      `atn report: ${displayName(result)} (${spec}${result.target.backend ? `, backend ${result.target.backend}` : ''}, ${dtype}), ${result.checks.length} checks${result.only ? ' (--only)' : ''}, ${result.runs} runs each, seed ${result.seed}, ${duration(result.wallMs)}`,
    );
    for (const c of result.checks.filter((x) => x.status === 'fail' || x.status === 'error'))
      log(`  ${c.status === 'fail' ? 'FAIL ' : 'ERROR'} ${c.clause} ${c.id}: ${c.counterexample?.detail ?? c.reason ?? ''}`.slice(0, 240));
    log(`  ${verdictSentence(result)}`);
    for (const line of headlineLines(result)) log(`  ${line}`);
    log(`  report: ${written.html}\n          ${written.md}\n          ${written.json}\n          ${written.junit}`);
    if (result.stopped) return 2;
    if (!result.complete) return result.summary.failed > 0 || result.summary.errors > 0 ? 1 : 2;
    const v = verdict(result);
    if (result.only)
      return result.summary.failed === 0 && result.summary.errors === 0 && result.summary.passed > 0
        ? 0
        : result.summary.passed === 0 && result.summary.failed === 0 && result.summary.errors === 0
          ? 2
          : 1;
    if (v === 'DOES NOT CONFORM' && level !== 'all' && result.levels) {
      // Only the gated levels decide (ATN-9.3); the report still lists every problem.
      const gated = GATED[level];
      return gated.some((l) => result.levels![l] === 'fail') ? 1 : gated.some((l) => result.levels![l] === 'pass') ? 0 : 2;
    }
    return v === 'CONFORMS' ? 0 : v === 'COULD NOT RUN' && result.summary.errors === 0 ? 2 : 1;
  } finally {
    progress.finish();
    interrupt.dispose();
    await target.close();
  }
}
