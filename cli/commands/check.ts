/**
 * atn check --vectors DIR (--port "COMMAND" | --target reference|impl|mutant:ID) [--backend NAME] [--dtype D]
 *           [--only ID,ID] [--out DIR] [--json]
 * Grades a target on a frozen vector corpus and writes the same report files as atn report (each vector one check,
 * citing its clause). Exit 0: every vector passes; 1: a vector fails; 2: the corpus is refused or the target
 * does not start.
 */
import { termText } from '../../reports/terminal';
import { call } from '../../protocol/target';
import { startTarget, targetSpecString } from '../targets';
import type { Hello } from '../../protocol/types';
import type { CampaignResult, CheckResult, Fault } from '../../properties/lib/types';
import { diagnoseFailures } from '../../reports/diagnosis';
import { verdict, verdictSentence } from '../../reports/format';
import { gradeCorpus, selectCases } from '../../reports/grade';
import { onInterrupt } from '../../reports/interrupt';
import { reportJson } from '../../reports/json';
import { machineInfo, suiteInfo, summarize } from '../../properties/lib/campaign';
import { Progress } from '../../reports/progress';
import { builtinCorpusDir, CorpusError, loadCorpus, type VectorDtype } from '../../reports/vectors';
import { writeReport } from '../../reports/write';
import { onlyFlags, parseFlags, str, UsageError } from '../flags';

const USAGE = `usage: atn check [--vectors DIR] (--port "COMMAND" | --target reference|impl|mutant:ID) [--backend NAME]
                 [--dtype float32|float64] [--only ID[,ID...]] [--out DIR] [--json]

Grades a target on the frozen vector corpus DIR/corpus.json (written by atn vectors; default: the corpus that ships
with atn-kit, reports/vectors/) and writes
report.json, report.md, report.html and junit.xml to --out (default ./atn-check).
--dtype defaults to float32 when the target serves it, else float64. Exit 0 all pass, 1 a vector fails, 2 could not run.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseFlags(argv, ['help', 'json']);
  if (p.flags.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  onlyFlags(p, ['vectors', 'port', 'target', 'backend', 'dtype', 'only', 'out', 'json', 'help']);
  if (p.positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positional[0])}`);
  const vectors = str(p, 'vectors') ?? builtinCorpusDir();
  const port = str(p, 'port');
  const targetName = str(p, 'target');
  const backend = str(p, 'backend');
  const dtypeFlag = str(p, 'dtype');
  if (dtypeFlag !== undefined && dtypeFlag !== 'float32' && dtypeFlag !== 'float64')
    throw new UsageError(`--dtype must be float32 or float64, got ${JSON.stringify(dtypeFlag)}`);
  const only = str(p, 'only')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const out = str(p, 'out') ?? 'atn-check';
  const json = p.flags.json === true;
  const log = (s: string) => (json ? process.stderr : process.stdout).write(s + '\n');

  let loaded;
  try {
    loaded = loadCorpus(vectors);
  } catch (e) {
    if (e instanceof CorpusError) {
      process.stderr.write(termText(`atn check: ${e.message}`) + '\n');
      return 2;
    }
    throw e;
  }

  const startedAt = new Date();
  const started = Date.now();
  const target = await startTarget('check', { target: targetName, port, backend });
  if (!target) return 2;
  const interrupt = onInterrupt();
  try {
    let hello: Hello;
    try {
      hello = (target as { hello?: Hello }).hello ?? (await call<Hello>(target, 'hello', {}));
    } catch (e) {
      process.stderr.write(termText(`atn check: the target does not answer hello: ${e instanceof Error ? e.message : String(e)}`) + '\n');
      return 2;
    }
    const dtype: VectorDtype = (dtypeFlag as VectorDtype | undefined) ?? (hello.dtypes.includes('float32') ? 'float32' : 'float64');
    let cases;
    try {
      cases = selectCases(loaded.corpus, dtype, only);
    } catch (e) {
      throw new UsageError(`--only: ${e instanceof Error ? e.message : String(e)} (${loaded.file})`);
    }
    const progress = new Progress(cases.length, Boolean(process.stderr.isTTY) && !json);
    const { checks, complete } = await gradeCorpus(target, hello, loaded.corpus, {
      dtype,
      only,
      corpusDir: loaded.dir,
      signal: interrupt.signal,
      onCase: (c) => progress.tick(1, c.id),
    });
    progress.finish();
    const faults: Fault[] = (target as { faults?: Fault[] }).faults ?? [];
    const result: CampaignResult = {
      schemaVersion: 1,
      suite: suiteInfo(),
      target: { spec: targetSpecString(targetName, port), hello, ...(hello.backend ? { backend: hello.backend } : {}) },
      dtype,
      seed: 0,
      runs: 1,
      machine: machineInfo(),
      startedAt: startedAt.toISOString(),
      wallMs: Date.now() - started,
      complete,
      checks: checks as CheckResult[],
      faults: [...faults],
      summary: { ...summarize(checks, complete), conforms: summarize(checks, complete).conforms && checks.some((c) => c.status === 'pass') },
    };
    try {
      const d = await diagnoseFailures(checks, { target, ops: hello.ops, dtype });
      if (d) result.diagnosis = d;
    } catch (e) {
      process.stderr.write(termText(`atn check: mutant diagnosis skipped: ${e instanceof Error ? e.message : String(e)}`) + '\n');
    }
    const written = await writeReport(result, out);
    if (json) process.stdout.write(reportJson(result));
    log(`atn check: ${checks.length} vectors of ${loaded.file} (${dtype}) against ${result.target.spec}`);
    if (result.diagnosis?.best) log(`  behaves like: ${result.diagnosis.best.id} (${result.diagnosis.best.description})`);
    log(`  ${verdictSentence(result)}`);
    for (const c of checks.filter((x) => x.status === 'fail' || x.status === 'error').slice(0, 10))
      log(`  FAIL ${c.clause} ${c.id}: ${c.counterexample?.detail ?? c.reason ?? ''}`.slice(0, 300));
    log(`  report: ${written.html}\n          ${written.md}\n          ${written.json}\n          ${written.junit}`);
    if (!complete) return result.summary.failed > 0 ? 1 : 2;
    const v = verdict(result);
    return v === 'CONFORMS' ? 0 : v === 'COULD NOT RUN' && result.summary.errors === 0 ? 2 : 1;
  } finally {
    interrupt.dispose();
    await target.close();
  }
}
