/**
 * atn mutants [--json] [--seed S] [--runs N] [--only ID,ID] [--jobs J]: the default campaign (float32) against every
 * catalogue mutant, and against the base (which must conform). Prints per mutant whether it was caught, by which
 * checks, and the shrunk counterexample of the first; exit 1 when a mutant survives or the base fails.
 *
 * Mutants run in parallel child processes (fork of this module, one per job, fed from a queue): the campaigns are
 * CPU-bound and independent, and the leak mutant alone takes minutes of shrinking.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import { BASE_ROW, runMutantCampaign, type MutantOutcome } from '../mutant-campaign';
import { MUTANTS } from '../../mutants';
import { seedFromEnv } from '../../properties/lib/seed';
import { int, onlyFlags, parseFlags, str, UsageError } from '../flags';

const USAGE = `usage: atn mutants [--json] [--seed S] [--runs N] [--only ID,ID] [--jobs J] [--port 'CMD {id}' --port-base CMD]
  Runs the default campaign (dtype float32) against every catalogue mutant and the base.
  --json   one JSON object {"mutants":[{"id","caught","by","diagnosedAs"}],"caught":n,"diagnosed":d,"total":m,"base":{...},"wallMs":t}
  --seed   fast-check seed (default ATN_SEED or the suite's default)
  --runs   runs per generated property (default the campaign's, scaled by ATN_RUNS)
  --only   comma-separated mutant ids
  --jobs   parallel child processes (default: the number of CPUs)
  --port   run each mutant through a port command, {id} replaced by the mutant id (mistakes written independently of
           the catalogue's code, e.g. 'python3 ports/python/atn_server.py --mutant {id}'); use --only for its ids.
           --port-base names the unmutated port's command for the base row.
Exit status: 0 every mutant caught and named by the diagnosis, and the base conforms; 1 otherwise; 2 usage.`;

const WORKER_ENV = 'ATN_MUTANTS_WORKER';

interface Job {
  id: string;
  seed: number;
  runs?: number;
  port?: string;
  portBase?: string;
}

type WorkerReply = { ok: true; outcome: MutantOutcome } | { ok: false; id: string; error: string };

/** Child side: answers one Job message at a time with its outcome. */
function workerLoop(): void {
  process.on('message', (job: Job) => {
    runMutantCampaign(job.id, { seed: job.seed, runs: job.runs, port: job.port, portBase: job.portBase }).then(
      (outcome) => process.send!({ ok: true, outcome } satisfies WorkerReply),
      (e) => process.send!({ ok: false, id: job.id, error: e instanceof Error ? e.message : String(e) } satisfies WorkerReply),
    );
  });
}

function failedOutcome(id: string, error: string): MutantOutcome {
  return { id, caught: false, by: [], errors: [`the campaign could not run: ${error}`], wallMs: 0 };
}

/** Runs the jobs on `n` forked workers; falls back to in-process when forking is impossible (ts sources, n = 1). */
async function runAll(jobs: Job[], n: number, onDone: (o: MutantOutcome) => void): Promise<MutantOutcome[]> {
  const results: MutantOutcome[] = [];
  const canFork = __filename.endsWith('.js');
  if (n <= 1 || !canFork) {
    for (const j of jobs) {
      const o = await runMutantCampaign(j.id, { seed: j.seed, runs: j.runs, port: j.port, portBase: j.portBase }).catch((e) => failedOutcome(j.id, String(e)));
      results.push(o);
      onDone(o);
    }
    return results;
  }
  const queue = jobs.slice();
  await Promise.all(
    Array.from({ length: Math.min(n, jobs.length) }, () => {
      const child: ChildProcess = fork(__filename, [], { env: { ...process.env, [WORKER_ENV]: '1' }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      return new Promise<void>((resolve) => {
        let current: Job | undefined;
        const next = () => {
          current = queue.shift();
          if (!current) {
            child.kill();
            resolve();
          } else child.send(current);
        };
        child.on('message', (m: WorkerReply) => {
          const o = m.ok ? m.outcome : failedOutcome(m.id, m.error);
          results.push(o);
          onDone(o);
          next();
        });
        child.on('exit', (code) => {
          if (current) {
            const o = failedOutcome(current.id, `worker exited with code ${code}`);
            results.push(o);
            onDone(o);
            current = undefined;
          }
          resolve();
        });
        next();
      });
    }),
  );
  return results;
}

function oneLine(v: unknown, max = 400): string {
  const s = JSON.stringify(v);
  return s.length > max ? s.slice(0, max) + '...' : s;
}

function describe(o: MutantOutcome): string {
  const lines: string[] = [];
  const verdict = o.id === BASE_ROW ? (o.caught ? 'FAILS (the base must conform)' : 'conforms') : o.caught ? 'caught' : 'SURVIVED';
  lines.push(`${o.id.padEnd(26)} ${verdict.padEnd(9)} ${(o.wallMs / 1000).toFixed(1).padStart(6)}s  ${o.by.length ? 'by ' + o.by.join(', ') : ''}`);
  if (o.id !== BASE_ROW)
    lines.push(
      `    diagnosed as: ${o.diagnosedAs ? `${o.diagnosedAs.id} (confidence ${o.diagnosedAs.confidence.toFixed(2)})` : 'nothing'}${o.diagnosedAs?.id === o.id ? '' : '  <- MISDIAGNOSED'}`,
    );
  if (o.first) {
    lines.push(`    first: ${o.first.check} (${o.first.clause}): ${o.first.detail}`);
    for (const r of o.first.requests.slice(-2)) lines.push(`    request: ${oneLine(r)}`);
  }
  for (const e of o.errors) lines.push(`    check error (not a catch): ${e}`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const p = parseFlags(argv, ['json', 'help']);
  if (p.flags.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  onlyFlags(p, ['json', 'seed', 'runs', 'only', 'jobs', 'help', 'port', 'port-base']);
  const port = str(p, 'port');
  const portBase = str(p, 'port-base');
  if (port !== undefined && !port.includes('{id}')) throw new UsageError(`--port must contain {id} (replaced by each mutant id), got ${JSON.stringify(port)}`);
  if (portBase !== undefined && port === undefined) throw new UsageError('--port-base needs --port');
  if (p.positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positional[0])}`);
  const seedFlag = str(p, 'seed');
  let seed = seedFromEnv();
  if (seedFlag !== undefined) {
    if (!/^-?\d+$/.test(seedFlag)) throw new UsageError(`--seed must be an integer, got ${JSON.stringify(seedFlag)}`);
    seed = Number(seedFlag) | 0;
  }
  const runs = int(p, 'runs', 1);
  const jobsN = int(p, 'jobs', 1) ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const ids = MUTANTS.map((m) => m.id);
  const only = str(p, 'only');
  let selected = ids;
  if (only !== undefined) {
    selected = only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = selected.filter((s) => !ids.includes(s));
    if (unknown.length) throw new UsageError(`unknown mutant ${unknown.join(', ')}; the ids are: ${ids.join(', ')}`);
  }
  const json = p.flags.json === true;
  const t0 = Date.now();
  if (!json)
    process.stderr.write(`atn mutants: ${selected.length} mutants + base, dtype float32, seed ${seed}${runs ? `, runs ${runs}` : ''}, ${jobsN} jobs\n`);
  // Longest first (the leak mutant shrinks for minutes), the base last; the queue keeps the workers busy.
  const order = [...selected].sort((a, b) => Number(b === 'state-leak') - Number(a === 'state-leak'));
  const withBase = port === undefined || portBase !== undefined;
  const jobs: Job[] = [...order, ...(withBase ? [BASE_ROW] : [])].map((id) => ({ id, seed, runs, port, portBase }));
  const outcomes = await runAll(jobs, jobsN, (o) => {
    if (!json) process.stdout.write(describe(o) + '\n');
  });
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  const rows = selected.map((id) => byId.get(id)!);
  // Through a port without --port-base there is no base row: nothing to hold against.
  const base = byId.get(BASE_ROW) ?? { id: BASE_ROW, caught: false, by: [], errors: [], wallMs: 0 };
  const caught = rows.filter((o) => o.caught).length;
  // A caught mutant must also be named by the diagnosis, or a failing port's report would blame the wrong mistake.
  const diagnosed = rows.filter((o) => o.diagnosedAs?.id === o.id);
  const wallMs = Date.now() - t0;
  if (json) {
    const out = {
      mutants: rows.map((o) => ({ id: o.id, caught: o.caught, by: o.by, diagnosedAs: o.diagnosedAs?.id ?? null })),
      caught,
      diagnosed: diagnosed.length,
      total: rows.length,
      base: { conforms: !base.caught && base.errors.length === 0, failed: base.by, errors: base.errors },
      seed,
      wallMs,
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    const survivors = rows.filter((o) => !o.caught).map((o) => o.id);
    process.stdout.write(
      `\n${caught}/${rows.length} mutants caught${survivors.length ? `; SURVIVED: ${survivors.join(', ')}` : ''}; ${diagnosed.length}/${rows.length} named by the diagnosis; base ${base.caught || base.errors.length ? 'DOES NOT conform' : 'conforms'}; wall ${(wallMs / 1000).toFixed(1)}s\n`,
    );
  }
  return caught === rows.length && diagnosed.length === rows.length && !base.caught && base.errors.length === 0 ? 0 : 1;
}

if (process.env[WORKER_ENV] === '1' && require.main === module) workerLoop();
