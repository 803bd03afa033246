/**
 * Text pieces shared by the Markdown, HTML and JUnit renderers, so that the three say the same thing in the same
 * words: verdict, number formatting, the replay command, pretty (truncated) request arguments, clause grouping.
 */
import { CLAUSES, type ClauseId } from '../spec/clauses';
import { boundValue, isRawRequest } from '../protocol/record';
import type { RecordedRequest } from '../protocol/types';
import type { CampaignResult, CheckResult, CheckStatus, Worst } from '../properties/lib/types';
import { dimsText } from '../util/tree';

export type Verdict = 'CONFORMS' | 'DOES NOT CONFORM' | 'COULD NOT RUN' | 'INCOMPLETE';

/** The one-line verdict. An interrupted run never claims conformance; failures found before the interrupt still show. */
export function verdict(r: CampaignResult): Verdict {
  if (r.stopped) return 'COULD NOT RUN';
  if (r.summary.failed > 0) return 'DOES NOT CONFORM';
  if (!r.complete) return 'INCOMPLETE';
  if (r.only) return r.summary.errors > 0 ? 'DOES NOT CONFORM' : r.summary.passed === 0 ? 'COULD NOT RUN' : 'INCOMPLETE';
  // Nothing ran (every check skipped: the target serves none of the ops or dtypes): not a conformance claim.
  if (r.summary.passed === 0 && r.summary.errors === 0) return 'COULD NOT RUN';
  // Passing the protocol checks alone is no conformance claim (ATN-9.9).
  if (r.coverage && r.coverage.served.length === 0 && r.summary.errors === 0) return 'COULD NOT RUN';
  if (r.summary.conforms) return 'CONFORMS';
  if (r.summary.errors > 0 && r.summary.passed === 0) return 'COULD NOT RUN';
  return 'DOES NOT CONFORM';
}

export function countsText(r: CampaignResult): string {
  const s = r.summary;
  return `${s.passed} passed, ${s.failed} failed, ${s.errors} errors, ${s.skipped} skipped`;
}

/** "for atn.forward, atn.vjp; not served: lstm.forward, lstm.vjp" (ATN-9.9), or "" when coverage is unknown. */
export function coverageText(r: CampaignResult): string {
  const c = r.coverage;
  if (!c) return '';
  const served = c.served.length ? `for ${c.served.join(', ')}` : 'for none of the computing ops';
  return c.notServed.length ? `${served}; not served: ${c.notServed.join(', ')}` : served;
}

export function verdictSentence(r: CampaignResult): string {
  const v = verdict(r);
  const counts = countsText(r);
  if (v === 'INCOMPLETE' && r.only) return `INCOMPLETE: only the checks selected with --only ran (${r.only.join(', ')}); nothing failed (${counts})`;
  const cov = coverageText(r);
  if (v === 'INCOMPLETE') return `INCOMPLETE: the campaign was interrupted; nothing failed so far (${counts})`;
  if (r.stopped) return `COULD NOT RUN: ${r.stopped} (${counts})`;
  if (v === 'COULD NOT RUN' && r.summary.errors === 0)
    return r.coverage && r.coverage.served.length === 0 && r.summary.passed > 0
      ? `COULD NOT RUN: the target serves none of the computing ops (${r.coverage.notServed.join(', ')}) (${counts})`
      : `COULD NOT RUN: no check applied to this target (${counts})`;
  return `${v}${cov ? ` ${cov}` : ''} (${counts})`;
}

/** "core: CONFORMS, extended range: DOES NOT CONFORM, protocol: CONFORMS" (ATN-9.3), or "" without levels. */
export function levelsText(r: CampaignResult): string {
  const l = r.levels;
  if (!l) return '';
  const word = { pass: 'conforms', fail: 'DOES NOT CONFORM', untested: 'untested' } as const;
  const name = { core: 'core', extended: 'extended range', protocol: 'protocol' } as const;
  return (['core', 'extended', 'protocol'] as const)
    .filter((k) => l[k] !== undefined)
    .map((k) => `${name[k]}: ${word[l[k]!]}`)
    .join(', ');
}

/** The problems in one line each: "P1 (core, 3 checks): outputs have the wrong shape when B = 1 or H = 1 ...". */
export function problemLines(r: CampaignResult): string[] {
  return (r.problems ?? []).map(
    (p) =>
      `${p.id} (${p.level === 'extended' ? 'extended range' : p.level}, ${p.checks.length} check${p.checks.length === 1 ? '' : 's'}): ${p.summary} — ${p.checks.join(', ')}`,
  );
}

/** The problem a failure card belongs to, as a sentence, or undefined. */
export function problemOf(r: CampaignResult, c: CheckResult): string | undefined {
  const p = c.problem ? r.problems?.find((x) => x.id === c.problem) : undefined;
  return p ? `Part of problem ${p.id}: ${p.summary}` : undefined;
}

/** A number as a reader wants it: shortest round-trip text, NaN/Infinity spelled out. */
export function num(x: number | undefined | null): string {
  if (x === undefined || x === null) return '-';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  return String(x);
}

/** A number in 3 significant digits (ratios, tolerances in prose). */
export function short(x: number | undefined | null): string {
  if (x === undefined || x === null) return '-';
  if (!Number.isFinite(x)) return num(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e4) return String(Number(x.toPrecision(3)));
  return x.toExponential(2);
}

export function runsText(n: number): string {
  return `${n} run${n === 1 ? '' : 's'}`;
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function worstText(w: Worst): string {
  const idx = w.index.map((i) => `[${i}]`).join('');
  return `${w.output}${idx} = ${num(w.got)}, want ${num(w.want)} ± ${short(w.tol)} (error ${short(w.ratio)}× the tolerance)`;
}

/** Single-quotes a string for a POSIX shell. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The target flags that reproduce this campaign's target ("--target impl --backend wasm", "--port '...'"). */
export function targetFlags(r: CampaignResult): string {
  const spec = r.target.spec;
  if (spec.startsWith('port:')) return `--port ${shellQuote(spec.slice('port:'.length).trim())}`;
  const parts = [`--target ${shellQuote(spec)}`];
  if (spec === 'impl' && r.target.backend) parts.push(`--backend ${shellQuote(r.target.backend)}`);
  return parts.join(' ');
}

/** Vector checks (atn check) carry "DIR#caseId" in CheckResult.path; their ids start with VECTOR_PREFIX. */
export const VECTOR_PREFIX = 'vector:';

/**
 * The command that replays a campaign, or one check of it, with the same seed and dtype. exact = true adds the
 * check's fast-check path (ATN_CHECK + ATN_PATH: straight to the shrunk counterexample, no search; often long).
 */
export function replayCommand(r: CampaignResult, check?: CheckResult, exact = false): string {
  if (check && check.id.startsWith(VECTOR_PREFIX) && check.path) {
    const hash = check.path.lastIndexOf('#');
    const dir = hash < 0 ? check.path : check.path.slice(0, hash);
    return `npx atn check --vectors ${shellQuote(dir)} ${targetFlags(r)} --only ${shellQuote(check.id.slice(VECTOR_PREFIX.length))}`;
  }
  const seed = check?.seed ?? r.seed;
  // ATN_CHECK + ATN_PATH make fast-check jump straight to the shrunk counterexample of that one check (seed.ts).
  const env = exact && check?.path ? `ATN_CHECK=${shellQuote(check.id)} ATN_PATH=${shellQuote(check.path)} ` : '';
  // One check replays alone (--only): every check sees the campaign seed, so it finds the same counterexample.
  const only = check ? ` --only ${shellQuote(check.id)}` : r.only ? ` --only ${shellQuote(r.only.join(','))}` : '';
  return `ATN_SEED=${seed} ${env}npx atn report ${targetFlags(r)} --dtype ${r.dtype} --runs ${r.runs} --seed ${seed}${only}`;
}

export function clauseTitle(id: string): string {
  return (CLAUSES as Record<string, string>)[id] ?? '(unknown clause)';
}

export interface ClauseRow {
  clause: ClauseId | string;
  title: string;
  status: CheckStatus;
  checks: CheckResult[];
}

/** Worst status first: a clause fails when any of its checks fails. */
const ORDER: Record<CheckStatus, number> = { fail: 0, error: 1, pass: 2, skip: 3 };

export function clauseStatus(checks: CheckResult[]): CheckStatus {
  let best: CheckStatus = 'skip';
  for (const c of checks) if (ORDER[c.status] < ORDER[best]) best = c.status;
  return best;
}

function clauseKey(id: string): number[] {
  const m = /^ATN-(\d+)\.(\d+)$/.exec(id);
  return m ? [Number(m[1]), Number(m[2])] : [99, 99];
}

/** Failed and errored checks, in clause order (the order of the clause table). */
export function failingChecks(r: CampaignResult): CheckResult[] {
  const rank = (c: CheckResult) => clauseKey(c.clause);
  return r.checks
    .filter((c) => c.status === 'fail' || c.status === 'error')
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c)[0] - rank(b.c)[0] || rank(a.c)[1] - rank(b.c)[1] || a.i - b.i)
    .map(({ c }) => c);
}

/** One row per clause that some check cites, in clause order. */
export function clauseRows(r: CampaignResult): ClauseRow[] {
  const by = new Map<string, CheckResult[]>();
  // A check shows under every clause it tests (ATN-9.8).
  for (const c of r.checks)
    for (const clause of checkClausesOf(c)) {
      const list = by.get(clause) ?? [];
      list.push(c);
      by.set(clause, list);
    }
  return [...by.entries()]
    .sort(([a], [b]) => {
      const [x, y] = [clauseKey(a), clauseKey(b)];
      return x[0] - y[0] || x[1] - y[1];
    })
    .map(([clause, checks]) => ({ clause, title: clauseTitle(clause), status: clauseStatus(checks), checks }));
}

/** Clauses of the spec no check of this campaign cites (shown so that a reader knows what was not exercised). */
export function uncoveredClauses(r: CampaignResult): string[] {
  const cited = new Set(r.checks.flatMap(checkClausesOf));
  // ATN-9 is about the suite's verdicts, not something a target does.
  return Object.keys(CLAUSES).filter((c) => !cited.has(c as ClauseId) && !c.startsWith('ATN-9.'));
}

/** The clauses a check tests: its own first, then those it names (ATN-9.8). Reports written before carry only one. */
export function checkClausesOf(c: CheckResult): string[] {
  return [...new Set([c.clause, ...(c.clauses ?? [])])];
}

const MAX_ITEMS = 12;
const PRETTY_BOUND = { maxDepth: 32, maxItems: Number.MAX_SAFE_INTEGER, maxLeaves: 100_000, maxString: 6000 };
const MAX_CHARS = 6000;

/**
 * Pretty JSON for request arguments and results: arrays of numbers on one line, nested arrays one row per line, long
 * arrays cut to their first items with a count of the rest, the whole text cut at MAX_CHARS. Non-finite numbers are
 * spelled as on the wire.
 */
export function pretty(v: unknown, maxChars = MAX_CHARS): string {
  // Bounded first (depth, items, leaves; iterative): prettyAt's recursion then stays shallow whatever v is.
  // Arrays are not cut here (cut() below shows the true count of what it leaves out).
  const text = prettyAt(boundValue(v, PRETTY_BOUND).value, '');
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}\n… (${text.length - maxChars} more characters)`;
}

/** A double as JSON text: shortest round-trip digits, exponent form for very large or small magnitudes. */
export function numText(x: number): string {
  if (!Number.isFinite(x)) return JSON.stringify(num(x));
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e16 || a < 1e-4)) return x.toExponential();
  return String(x);
}

function leafText(v: unknown): string {
  if (typeof v === 'number') return numText(v);
  if (v === undefined) return 'undefined';
  return JSON.stringify(v);
}

function isLeaf(v: unknown): boolean {
  return v === null || typeof v !== 'object';
}

function cut<T>(xs: T[]): { shown: T[]; more: number } {
  if (xs.length <= MAX_ITEMS) return { shown: xs, more: 0 };
  return { shown: xs.slice(0, MAX_ITEMS - 2), more: xs.length - (MAX_ITEMS - 2) };
}

/** Width under which a nested value is printed on one line. */
const LINE = 96;

/** One-line form (arrays cut like the multi-line form), or undefined when it would be longer than `room`. */
function oneLine(v: unknown, room: number): string | undefined {
  if (isLeaf(v)) return leafText(v);
  let out: string;
  if (Array.isArray(v)) {
    const { shown, more } = cut(v);
    const items: string[] = [];
    for (const x of shown) {
      const t = oneLine(x, room);
      if (t === undefined) return undefined;
      items.push(t);
    }
    if (more > 0) items.push(`… ${more} more`);
    out = `[${items.join(', ')}]`;
  } else {
    const items: string[] = [];
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const t = oneLine(x, room);
      if (t === undefined) return undefined;
      items.push(`${JSON.stringify(k)}: ${t}`);
    }
    out = `{${items.join(', ')}}`;
  }
  return out.length <= room ? out : undefined;
}

function prettyAt(v: unknown, indent: string): string {
  const flat = oneLine(v, Math.max(40, LINE - indent.length));
  if (flat !== undefined) return flat;
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    const { shown, more } = cut(v);
    const tail = more > 0 ? `… ${more} more` : undefined;
    if (v.every(isLeaf)) return `[${[...shown.map(leafText), ...(tail ? [tail] : [])].join(', ')}]`;
    const items = shown.map((x) => inner + prettyAt(x, inner));
    if (tail) items.push(inner + tail);
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>);
  const items = entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${prettyAt(x, inner)}`);
  return `{\n${items.join(',\n')}\n${indent}}`;
}

/** A counterexample request's content as shown: the exact line for a broken envelope, else its args. */
export function requestText(req: RecordedRequest, maxChars = MAX_CHARS): string {
  if (isRawRequest(req))
    return `${req.raw.length > maxChars ? `${req.raw.slice(0, maxChars)}…` : req.raw}\n(the exact line sent: a deliberately broken envelope)`;
  return pretty(req.args, maxChars);
}

/** Short description of a request's args: op, dtype, k, eps and the shapes of the arrays. */
export function argsSummary(args: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(args)) {
    if (Array.isArray(v)) parts.push(`${k}${dimsText(v)}`);
    else if (isLeaf(v)) parts.push(`${k}=${leafText(v)}`);
    else parts.push(`${k}{…}`);
  }
  return parts.join(', ');
}

export function machineText(r: CampaignResult): string {
  const m = r.machine;
  return `${m.cpuModel} × ${m.cpus}, ${m.memoryGiB.toFixed(0)} GiB, ${m.platform}/${m.arch}, Node ${m.node}`;
}

export function suiteText(r: CampaignResult): string {
  return `${r.suite.name} ${r.suite.version} (${r.suite.commit})`;
}

/** A hello field as text: hello comes from the target and may hold anything (a conforming one sends strings). */
function helloString(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '' : (JSON.stringify(v) ?? String(v));
}

/** The target's name: hello.name when it sent one, else how it was named on the command line. */
export function targetName(r: CampaignResult): string {
  const n = r.target.hello?.name as unknown;
  return typeof n === 'string' && n.trim() ? n : r.target.spec;
}

/** "name version", or "(no hello)". */
export function helloText(r: CampaignResult): string {
  const h = r.target.hello;
  return h ? `${helloString(h.name)} ${helloString(h.version)}`.trim() : '(no hello)';
}

export function backendText(r: CampaignResult): string {
  return helloString(r.target.backend ?? r.target.hello?.backend) || '-';
}

/** hello.ops or hello.dtypes as a list of strings (empty when the target sent something else). */
export function helloList(r: CampaignResult, key: 'ops' | 'dtypes'): string[] | undefined {
  const v = r.target.hello?.[key] as unknown;
  return Array.isArray(v) ? v.map(helloString) : undefined;
}

export function targetText(r: CampaignResult): string {
  return `${helloText(r)} — ${r.target.spec}`;
}

/** A reason worth showing beside a check: skip and error reasons; not the replay line the campaign puts on failures. */
export function shownReason(c: CheckResult): string | undefined {
  if (!c.reason) return undefined;
  if (c.status === 'fail' && /^replay:/.test(c.reason)) return undefined;
  return c.reason;
}

export const STATUS_WORD: Record<CheckStatus, string> = { pass: 'pass', fail: 'FAIL', skip: 'skip', error: 'ERROR' };

/** "Behaves like ..." or, when no catalogued mistake explains the failures, the nearest and the structure (ATN-9.5). */
export function diagnosisLines(r: CampaignResult): string[] {
  const d = r.diagnosis;
  if (!d) return [];
  const out: string[] = [];
  if (d.best) out.push(`Behaves like: ${d.best.id} — ${d.best.description} (confidence ${short(d.best.confidence)})`);
  else if (d.nearest)
    out.push(
      `No catalogued mistake explains the failures well; the nearest is ${d.nearest.id} — ${d.nearest.description} (reproduces ${short(d.nearest.score * 100)}% of the compared answers)`,
    );
  for (const s of d.structure ?? []) out.push(`Structure: ${s}`);
  return out;
}

/**
 * What a reader needs right under the verdict, in every format the same: the verdict per level, the problems, what
 * the target does outside their regimes, the diagnosis.
 */
export function headlineLines(r: CampaignResult): string[] {
  const out: string[] = [];
  const lv = levelsText(r);
  if (lv) out.push(`Levels: ${lv}${r.ftz ? ' (--ftz: subnormal inputs and results set aside, ATN-9.6)' : ''}`);
  const probs = problemLines(r);
  if (probs.length) out.push(`${probs.length} problem${probs.length === 1 ? '' : 's'}:`, ...probs.map((p) => `  ${p}`));
  if (r.outside && r.problems?.length) out.push(r.outside.text);
  out.push(...diagnosisLines(r));
  return out;
}
