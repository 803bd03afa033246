/**
 * The frozen vector corpus: hand-picked requests with the answer a conforming target gives, computed once by the
 * reference and stored, so that a port is graded without the reference's BigNumber cost and against a fixed, reviewed
 * set. DIR/corpus.json (schema reports/vectors.schema.json, copied beside it as DIR/vectors.schema.json).
 * Numbers follow ATN-8.3 in the file (NaN/Infinity as strings) and are decoded on load.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { decodeNumbers, encodeNumbers, isRecord, own, wireToNumber } from '../protocol/codec';
import { LSTM_GRAD_KEYS, RESULT_KEYS } from '../protocol/types';
import { AtnError } from '../protocol/errors';
import type { CampaignResult } from '../properties/lib/types';
import type { Reference, ReferenceOp } from '../reference';
import { PARSERS } from '../protocol/args';
import type { ClauseId } from '../spec/clauses';
import { DTYPES } from '../protocol/types';
import { CASE_TEMPLATES, type CaseTemplate, type VectorFlag } from './corpus-cases';
import { schemaErrors } from './validate';
import vectorsSchema from './vectors.schema.json';
import { writeAtomic } from './write';

export const VECTORS_SCHEMA: object = vectorsSchema;
export const CORPUS_FILE = 'corpus.json';
export const CORPUS_SCHEMA_FILE = 'vectors.schema.json';
export const CORPUS_VERSION = 1;

export type VectorDtype = 'float32' | 'float64';

export type VectorExpect = { kind: 'valid'; want: Record<string, unknown>; tol: Record<string, unknown> } | { kind: 'error'; code: string; clause: ClauseId };

export interface VectorCase {
  id: string;
  comment: string;
  clause: ClauseId;
  flags: VectorFlag[];
  dtype: VectorDtype;
  source?: string;
  request: { op: string; args: Record<string, unknown> };
  expect: VectorExpect;
}

export interface Corpus {
  corpusVersion: 1;
  suite: { name: 'atn-kit'; version: string; commit: string };
  createdAt: string;
  referencePrecision?: number;
  cases: VectorCase[];
}

/** The corpus frozen in the repository (reports/vectors/), found from the source tree or from dist/. */
export function builtinCorpusDir(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'reports', 'vectors');
    if (existsSync(join(candidate, CORPUS_FILE))) return candidate;
    if (existsSync(join(dir, CORPUS_FILE)) && dir.endsWith(join('reports', 'vectors'))) return dir;
    if (dirname(dir) === dir) return join(__dirname, 'vectors');
  }
}

/** A corpus that cannot be used: the message names the file, the case id and the field. */
export class CorpusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorpusError';
  }
}

const REFERENCE_OPS = new Set<string>(['atn.forward', 'atn.vjp', 'ln.forward', 'lstm.forward', 'lstm.vjp']);

/** Rounds every number of a value to float32 (a float32 vector's inputs are float32 numbers). */
function roundLeaves(v: unknown, dtype: VectorDtype): unknown {
  if (typeof v === 'number') return dtype === 'float32' ? Math.fround(v) : v;
  if (Array.isArray(v)) return v.map((x) => roundLeaves(x, dtype));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundLeaves(x, dtype)]));
  return v;
}

function suffix(dtype: VectorDtype): string {
  return dtype === 'float32' ? 'f32' : 'f64';
}

/** The expected answer for a request: the reference's expectation, or the error the reference target answers with. */
export async function expectationFor(reference: Reference, op: string, args: Record<string, unknown>): Promise<VectorExpect> {
  if (REFERENCE_OPS.has(op) && (args.dtype === 'float32' || args.dtype === 'float64')) {
    try {
      const e = reference.expect(op as ReferenceOp, args);
      return { kind: 'valid', want: e.want, tol: e.tol };
    } catch (e) {
      if (!(e instanceof AtnError)) throw e;
      return { kind: 'error', code: e.code, clause: e.clause };
    }
  }
  // Not an op/dtype expect() covers (unknown op, unsupported dtype): the reference target's own answer.
  const res = await reference.target().handle({ id: 1, op, args });
  if (res.ok) throw new Error(`the reference answered ${op} with a result but expect() does not cover it`);
  return { kind: 'error', code: res.error.code, clause: res.error.clause as ClauseId };
}

/** One template frozen for one dtype; throws when the reference disagrees with the template's intent (a corpus bug). */
export async function freezeCase(reference: Reference, t: CaseTemplate, dtype: VectorDtype): Promise<VectorCase> {
  const args = roundLeaves({ dtype, ...t.args }, dtype) as Record<string, unknown>;
  const expect = await expectationFor(reference, t.op, args);
  const id = `${t.id}.${suffix(dtype)}`;
  if (t.error && (expect.kind !== 'error' || expect.code !== t.error.code || expect.clause !== t.error.clause))
    throw new Error(
      `vector ${id}: meant to be refused with ${t.error.code} (${t.error.clause}), but the reference gives ${JSON.stringify(expect).slice(0, 200)}`,
    );
  if (!t.error && expect.kind !== 'valid')
    throw new Error(`vector ${id}: meant to be valid, but the reference refuses it with ${expect.code} (${expect.clause})`);
  return { id, comment: t.comment, clause: t.clause, flags: [...t.flags], dtype, source: 'hand-picked', request: { op: t.op, args }, expect };
}

/** The hand-picked corpus, frozen for float32 and float64 (each template for the dtypes it names). */
export async function buildCorpus(
  reference: Reference,
  meta: { version: string; commit: string },
  templates: CaseTemplate[] = CASE_TEMPLATES,
): Promise<Corpus> {
  const cases: VectorCase[] = [];
  for (const dtype of ['float32', 'float64'] as const)
    for (const t of templates) if (!t.dtypes || t.dtypes.includes(dtype)) cases.push(await freezeCase(reference, t, dtype));
  return {
    corpusVersion: CORPUS_VERSION,
    suite: { name: 'atn-kit', version: meta.version, commit: meta.commit },
    createdAt: new Date().toISOString(),
    referencePrecision: reference.precision,
    cases,
  };
}

function stableHash(v: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(encodeNumbers(v)))
    .digest('hex')
    .slice(0, 10);
}

/**
 * Cases from the shrunk counterexamples of a report's failed checks (one per request the reference can judge), with
 * ids derived from their content so that adding the same report twice adds nothing.
 */
export async function casesFromReport(reference: Reference, report: CampaignResult, source: string): Promise<VectorCase[]> {
  const out: VectorCase[] = [];
  for (const c of report.checks) {
    if (c.status !== 'fail' || !c.counterexample) continue;
    for (const req of c.counterexample.requests) {
      const dtype = req.args.dtype;
      if (dtype !== 'float32' && dtype !== 'float64') continue;
      const args = roundLeaves(req.args, dtype) as Record<string, unknown>;
      const expect = await expectationFor(reference, req.op, args);
      const slug = c.id
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, '-')
        .slice(0, 60);
      out.push({
        id: `cx.${slug}.${stableHash({ op: req.op, args })}.${suffix(dtype)}`,
        comment: `shrunk counterexample of check ${c.id}: ${c.counterexample.detail}`.slice(0, 500),
        clause: c.clause,
        flags: ['counterexample'],
        dtype,
        source,
        request: { op: req.op, args },
        expect,
      });
    }
  }
  return out;
}

/** Adds cases whose ids are new; returns how many were added. */
export function mergeCases(corpus: Corpus, cases: VectorCase[]): number {
  const ids = new Set(corpus.cases.map((c) => c.id));
  let added = 0;
  for (const c of cases)
    if (!ids.has(c.id)) {
      ids.add(c.id);
      corpus.cases.push(c);
      added++;
    }
  return added;
}

/** The corpus as its file holds it (non-finite numbers encoded), validated. */
export function corpusValue(corpus: Corpus): unknown {
  const v = JSON.parse(JSON.stringify(encodeNumbers(corpus))) as Record<string, unknown>;
  checkCorpusValue(v, '(corpus being written)');
  return v;
}

/** Writes DIR/corpus.json and DIR/vectors.schema.json atomically. */
export function writeCorpus(corpus: Corpus, dir: string): string {
  const abs = resolve(dir);
  const v = corpusValue(corpus);
  mkdirSync(abs, { recursive: true });
  writeAtomic(join(abs, CORPUS_SCHEMA_FILE), JSON.stringify(VECTORS_SCHEMA, null, 2) + '\n');
  const file = join(abs, CORPUS_FILE);
  writeAtomic(file, JSON.stringify({ $schema: `./${CORPUS_SCHEMA_FILE}`, ...(v as object) }, null, 1) + '\n');
  return file;
}

/** "cases[12]" -> the case's id when it has one; the rest of the path as a dotted field name. */
function locate(v: unknown, instancePath: string): { caseId?: string; field: string } {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (parts[0] === 'cases' && parts.length >= 2) {
    const i = Number(parts[1]);
    const c = (v as { cases?: unknown[] }).cases?.[i] as { id?: unknown } | undefined;
    const caseId = c && typeof c.id === 'string' ? c.id : `#${i} (no valid id)`;
    return { caseId, field: fieldName(parts.slice(2)) };
  }
  return { field: fieldName(parts) };
}

function fieldName(parts: string[]): string {
  let s = '';
  for (const p of parts) s += /^\d+$/.test(p) ? `[${p}]` : s ? `.${p}` : p;
  return s || '(top level)';
}

function explain(file: string, v: unknown, errors: ErrorObject[]): string {
  // oneOf failures repeat one complaint per branch; keep the most specific (deepest) errors first, and each once.
  const seen = new Set<string>();
  const lines: string[] = [];
  const sorted = [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length);
  for (const e of sorted) {
    const { caseId, field } = locate(v, e.instancePath);
    let f = field;
    if (e.keyword === 'required') f = (field === '(top level)' ? '' : field + '.') + (e.params as { missingProperty: string }).missingProperty;
    if (e.keyword === 'additionalProperties')
      f = (field === '(top level)' ? '' : field + '.') + (e.params as { additionalProperty: string }).additionalProperty;
    const what = e.keyword === 'required' ? 'is missing' : e.keyword === 'additionalProperties' ? 'is not a known field' : (e.message ?? 'is invalid');
    const allowed = e.keyword === 'enum' ? ` (allowed: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
    const line = `${file}: ${caseId !== undefined ? `case ${caseId}, ` : ''}field ${f}: ${what}${allowed}`;
    if (!seen.has(line)) {
      seen.add(line);
      lines.push(line);
    }
  }
  return lines.slice(0, 12).join('\n') + (lines.length > 12 ? `\n... and ${lines.length - 12} more` : '');
}

/** A want leaf: a JSON number, or one of the wire strings of ATN-8.3 (a "1.5" string is not a number). */
function wantLeafProblem(want: unknown): string | undefined {
  if (typeof want === 'number') return undefined;
  if (typeof want === 'string' && wireToNumber(want) !== undefined) return undefined;
  return `want holds ${JSON.stringify(want)?.slice(0, 60) ?? String(want)}, not a number`;
}

/**
 * want and tol have one structure, with own keys only (a key under "__proto__" is refused, not followed); every want
 * leaf is a number and every tolerance a finite number >= 0 (an Infinity tolerance would pass any answer).
 */
function sameStructure(want: unknown, tol: unknown, path: string): string | undefined {
  if (!(want !== null && typeof want === 'object')) {
    const w = wantLeafProblem(want);
    if (w) return `${path}: ${w}`;
    if (typeof tol !== 'number' || !Number.isFinite(tol) || tol < 0)
      return `${path}: the tolerance must be a finite non-negative number (ATN-7.1), got ${JSON.stringify(tol)?.slice(0, 60)}`;
    return undefined;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(tol) || tol.length !== want.length) return `${path}: tol does not have the shape of want`;
    for (let i = 0; i < want.length; i++) {
      const e = sameStructure(want[i], tol[i], `${path}[${i}]`);
      if (e) return e;
    }
    return undefined;
  }
  if (!isRecord(tol)) return `${path}: tol does not have the structure of want`;
  const wk = Object.keys(want),
    tk = Object.keys(tol);
  for (const k of tk) if (!Object.hasOwn(want, k)) return `${path}.${k}: tol has a key want lacks`;
  for (const k of wk) {
    if (!Object.hasOwn(tol, k)) return `${path}.${k}: want has a key tol lacks`;
    const e = sameStructure(own(want, k), own(tol, k), `${path}.${k}`);
    if (e) return e;
  }
  return undefined;
}

/** The keys a valid answer of `op` has (ATN-8.5's ops), nested for lstm.vjp's grads; undefined for other ops. */
function resultKeysProblem(op: string, want: Record<string, unknown>): string | undefined {
  const keys = own(RESULT_KEYS, op) as readonly string[] | undefined;
  if (!keys) return `request.op: ${JSON.stringify(op)} has no valid result (only ${Object.keys(RESULT_KEYS).join(', ')} do)`;
  const have = Object.keys(want);
  const extra = have.filter((k) => !keys.includes(k));
  const missing = keys.filter((k) => !Object.hasOwn(want, k));
  if (extra.length || missing.length)
    return `expect.want: the keys of an ${op} result are ${keys.join(', ')}${extra.length ? `; unexpected ${extra.map((k) => JSON.stringify(k)).join(', ')}` : ''}${missing.length ? `; missing ${missing.join(', ')}` : ''}`;
  if (op === 'lstm.vjp') {
    const g = own(want, 'grads');
    if (!isRecord(g)) return 'expect.want.grads: must be an object';
    const gk = Object.keys(g);
    const bad = gk.filter((k) => !LSTM_GRAD_KEYS.includes(k)).concat(LSTM_GRAD_KEYS.filter((k) => !Object.hasOwn(g, k)));
    if (bad.length) return `expect.want.grads: the keys are ${LSTM_GRAD_KEYS.join(', ')} (wrong: ${bad.map((k) => JSON.stringify(k)).join(', ')})`;
  }
  return undefined;
}

/**
 * A case's arguments checked as every target of ours checks them (protocol/args.ts), beyond the schema: k "2", k 2.5, eps
 * "1e-5", a request over the work limit... A valid case must pass (else a conforming target's refusal would be graded
 * as its failure); an error case whose arguments are refused must be refused with the code and clause it states (else
 * a conforming target's error would be graded wrong). Errors found only while computing (degenerate_window) and ops
 * without a parser (unknown_op) are not second-guessed here.
 */
function argsProblem(op: string, args: Record<string, unknown>, ex: { kind: string; code?: string; clause?: string }): string | undefined {
  const parse = own(PARSERS, op) as ((a: Record<string, unknown>, o: { dtypes: typeof DTYPES }) => unknown) | undefined;
  if (!parse) return ex.kind === 'valid' ? `request.op: ${JSON.stringify(op)} is not an op with arguments (ATN-8.5)` : undefined;
  try {
    parse(args, { dtypes: DTYPES });
    return undefined;
  } catch (e) {
    if (!(e instanceof AtnError)) return `request.args: cannot be checked: ${e instanceof Error ? e.message : String(e)}`;
    const field = e.arg ? `request.args.${e.arg}` : 'request.args';
    if (ex.kind === 'valid') return `${field}: ${e.message}, so every conforming target refuses this valid case (${e.code})`;
    if (e.code !== ex.code || e.clause !== ex.clause)
      return `${field}: ${e.message}: every conforming target answers ${e.code} citing ${e.clause}, not the ${ex.code} citing ${ex.clause} the case expects`;
    return undefined;
  }
}

/** Schema and consistency checks of a corpus file's JSON value; throws CorpusError naming file, case and field. */
export function checkCorpusValue(v: unknown, file: string): void {
  const errors = schemaErrors(VECTORS_SCHEMA, v);
  if (errors.length) throw new CorpusError(`corpus refused:\n${explain(file, v, errors)}`);
  const cases = (v as { cases: Array<Record<string, unknown>> }).cases;
  const ids = new Set<string>();
  for (const c of cases) {
    const id = c.id as string;
    if (ids.has(id)) throw new CorpusError(`corpus refused:\n${file}: case ${id}, field id: duplicate id`);
    ids.add(id);
    const args = (c.request as { args: Record<string, unknown> }).args;
    const flags = c.flags as string[];
    if (args.dtype !== c.dtype && !flags.includes('unsupported'))
      throw new CorpusError(
        `corpus refused:\n${file}: case ${id}, field request.args.dtype: ${JSON.stringify(args.dtype)} differs from the case's dtype ${c.dtype}`,
      );
    const ex = c.expect as { kind: string; want?: unknown; tol?: unknown; code?: string; clause?: string };
    const a = argsProblem((c.request as { op: string }).op, args, ex);
    if (a) throw new CorpusError(`corpus refused:\n${file}: case ${id}, field ${a.split(':')[0]}: ${a.slice(a.indexOf(':') + 2)}`);
    if (ex.kind === 'valid') {
      const op = (c.request as { op: string }).op;
      const k = resultKeysProblem(op, ex.want as Record<string, unknown>);
      if (k) throw new CorpusError(`corpus refused:\n${file}: case ${id}, field ${k.split(':')[0]}: ${k.slice(k.indexOf(':') + 2)}`);
      const e = sameStructure(ex.want, ex.tol, 'expect.want');
      if (e) throw new CorpusError(`corpus refused:\n${file}: case ${id}, field ${e.split(':')[0]}: ${e.slice(e.indexOf(':') + 2)}`);
    }
  }
}

/** A JSON file's text: strict UTF-8 (invalid bytes are refused, not replaced), a leading byte-order mark dropped. */
export function jsonText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error('the file is not valid UTF-8');
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Reads DIR/corpus.json (or a corpus file given directly), validating it; numbers decoded. */
export function loadCorpus(dirOrFile: string): { corpus: Corpus; file: string; dir: string } {
  const abs = resolve(dirOrFile);
  const file = abs.endsWith('.json') ? abs : join(abs, CORPUS_FILE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CorpusError(`${file}: no such corpus file (write one with: npx atn vectors --out ${dirOrFile})`);
    // ELOOP (a symlink loop), EACCES, EISDIR...: say what the file system said, not "no such file".
    throw new CorpusError(`${file}: cannot read the corpus file: ${code ?? ''} ${e instanceof Error ? e.message : String(e)}`.replace(/ {2,}/g, ' '));
  }
  let v: unknown;
  try {
    v = JSON.parse(jsonText(bytes));
  } catch (e) {
    throw new CorpusError(`corpus refused:\n${file}: not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  checkCorpusValue(v, file);
  const { $schema: _ignored, ...rest } = v as Record<string, unknown>;
  void _ignored;
  return { corpus: decodeNumbers(rest) as Corpus, file, dir: abs.endsWith('.json') ? resolve(abs, '..') : abs };
}
