/**
 * "Behaves like": replays a target's failing cases on every catalogue mutant (and on the base, "no mistake") and ranks
 * them by how closely they reproduce the target's answers. Requests are replayed in order on a fresh machine per
 * candidate, so that a leaking target's answers are reproduced by the leak mutant.
 *
 * Score = mean over the scored cases of the fraction of the case's output elements the candidate reproduces (each case
 * weighs alike, however large): an element agrees when it is within twice the
 * ATN-7 tolerance (float64 estimate, tolerance.ts) of the target's number, or within 2^12 u of its output array's largest
 * magnitude (equal NaNs and infinities agree; ATN-9.7); an output
 * whose shape differs from the target's agrees nowhere (so a squeezed answer is reproduced only by the squeeze
 * mutant); an error response is one element, reproduced by an error with the same code.
 */
import type { Envelope, Response } from '../protocol/types';
import { CATALOGUE } from './catalogue';
import { createMachine } from './machines';
import { approxTolerance, unitRoundoff } from './tolerance';
import { leaves } from '../util/tree';

const flatNumbers = (v: unknown): number[] => leaves(v).map((x) => (typeof x === 'number' ? x : NaN));

export const BASE_ID = 'base';
export const BASE_DESCRIPTION = 'no mistake (the correct plain-JS implementation)';
/** Below this confidence diagnose names no mutant (two candidates explain the answers about equally well). */
export const MIN_CONFIDENCE = 0.25;
const SLACK = 2;

export interface DiagnoseCase {
  request: Envelope;
  response: Response | undefined;
}

type Nested = unknown;

function sameShape(a: Nested, b: Nested): boolean {
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (!Array.isArray(a)) return typeof a === 'number' && typeof b === 'number';
  const bb = b as unknown[];
  return a.length === bb.length && a.every((x, i) => sameShape(x, bb[i]));
}

/** Output arrays of a result by path ("y", "grads.w_xh"). */
function outputs(r: Record<string, unknown>, prefix = ''): Map<string, Nested> {
  const m = new Map<string, Nested>();
  for (const [k, v] of Object.entries(r)) {
    const path = prefix + k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [p, x] of outputs(v as Record<string, unknown>, path + '.')) m.set(p, x);
    else m.set(path, v);
  }
  return m;
}

/** 2^12: relative rounding noise that any two implementations of one formula stay within (ATN-9.7). */
const COARSE = 4096;

/** The largest finite magnitude of an output array: the scale its rounding noise is relative to. */
function scaleOf(xs: number[]): number {
  let m = 0;
  for (const x of xs) if (Number.isFinite(x)) m = Math.max(m, Math.abs(x));
  return m;
}

function agrees(c: number, t: number, tol: number): boolean {
  if (Number.isNaN(c) || Number.isNaN(t)) return Number.isNaN(c) && Number.isNaN(t);
  return c === t || Math.abs(c - t) <= SLACK * tol;
}

interface Scored {
  matched: number;
  total: number;
}

/** How much of the target's answer `got` the candidate answer `cand` reproduces. */
function compare(got: Response, cand: Response, tol: Record<string, unknown> | undefined, dtype: string): Scored {
  if (!got.ok) return { matched: !cand.ok && cand.error.code === got.error.code ? 1 : 0, total: 1 };
  const gotOut = outputs(got.result);
  let total = 0;
  let matched = 0;
  const candOut = cand.ok ? outputs(cand.result) : new Map<string, Nested>();
  const tolOut = tol ? outputs(tol) : new Map<string, Nested>();
  const { u } = unitRoundoff(dtype);
  for (const [path, g] of gotOut) {
    const gf = flatNumbers(g);
    total += gf.length;
    const c = candOut.get(path);
    if (c === undefined || !sameShape(c, g)) continue;
    const cf = flatNumbers(c);
    const tf = tolOut.has(path) ? flatNumbers(tolOut.get(path)) : [];
    // The ATN-7 tolerance is the correct formula's: a mistake has its own conditioning (gain and bias swapped scales
    // the rounding by |b|, not |g|), so two independent implementations of one mistake can differ by more. Rounding
    // noise relative to the output's own scale always agrees (ATN-9.7).
    const floor = COARSE * u * scaleOf(gf);
    for (let i = 0; i < gf.length; i++) {
      // LSTM (7.4) or unknown: a coarse bound, 2^12 u relative to max(1, |x|).
      const t = tf.length === gf.length ? tf[i] : COARSE * u * Math.max(1, Math.abs(gf[i]));
      if (agrees(cf[i], gf[i], Math.max(t, floor))) matched++;
    }
  }
  return { matched, total };
}

export interface Diagnosis {
  /** Mutants ranked by how closely they reproduce the target's outputs on its failing cases. */
  ranking: Array<{ id: string; description: string; score: number }>;
  /** The best match, when its confidence is high enough to name it ("behaves like: ..."). */
  best?: { id: string; description: string; confidence: number };
  /** When no catalogued mistake explains the failures well: the nearest one (never the correct base). */
  nearest?: { id: string; description: string; score: number };
  /** What fails and what passes, in words (ATN-9.5): "forward right, VJP wrong", "only t < k", ... */
  structure?: string[];
}

export function diagnose(cases: DiagnoseCase[]): Diagnosis {
  const ids: Array<string | undefined> = [undefined, ...CATALOGUE.map((e) => e.id)];
  const answers = ids.map((id) => {
    const m = createMachine(id);
    return cases.map((c) => m.answer(c.request));
  });
  const base = answers[0];
  const tols = cases.map((c, i) => (c.response?.ok && base[i].ok ? approxTolerance(c.request.op, c.request.args) : undefined));
  // Uninformative: no answer from the target, or an op the plain-JS targets do not serve.
  const informative = cases.map((c, i) => !!c.response && !(!base[i].ok && base[i].error.code === 'unknown_op'));
  const dtypeOf = (c: DiagnoseCase) => String(c.request.args?.dtype ?? 'float32');
  // Only the ops in which the target departs from the correct answers are scored: a mistake is judged by how well it
  // explains what fails. An op the target gets right says nothing about which mistake it makes elsewhere, and would
  // count against a catalogue entry whose mistake reaches more ops than the target's (a leak in the ATN op only, where
  // the catalogue's leak also reaches the LSTM). When no op departs, every op is scored.
  const departs = new Set<string>();
  cases.forEach((c, i) => {
    if (!informative[i]) return;
    const s = compare(c.response!, base[i], tols[i], dtypeOf(c));
    if (s.matched < s.total) departs.add(c.request.op);
  });
  const scored = (c: DiagnoseCase) => departs.size === 0 || departs.has(c.request.op);
  const scores = ids.map(() => ({ matched: 0, total: 0 }));
  cases.forEach((c, i) => {
    if (!informative[i] || !scored(c)) return;
    const dtype = dtypeOf(c);
    // Each case is one piece of evidence, weighted alike: a realistic-size case (ATN-9.10) has thousands of elements
    // and would otherwise outvote every small case, and with them every op but its own.
    ids.forEach((_, j) => {
      const s = compare(c.response!, answers[j][i], tols[i], dtype);
      if (s.total === 0) return;
      scores[j].matched += s.matched / s.total;
      scores[j].total += 1;
    });
  });
  const described = ids.map((id, j) => ({
    id: id ?? BASE_ID,
    description: id === undefined ? BASE_DESCRIPTION : CATALOGUE.find((e) => e.id === id)!.description,
    score: scores[j].total ? scores[j].matched / scores[j].total : 0,
    order: j,
  }));
  // Ties go to the base, then to catalogue order: a mutant is named only when it explains more than the rest.
  described.sort((a, b) => b.score - a.score || a.order - b.order);
  const ranking = described.map(({ id, description, score }) => ({ id, description, score }));
  const diagnosis: Diagnosis = { ranking };
  const [top, second] = ranking;
  const baseScore = ranking.find((r) => r.id === BASE_ID)!.score;
  if (top && top.id !== BASE_ID && top.score > baseScore) {
    const runnerUp = second ? second.score : 0;
    const confidence = runnerUp >= 1 ? 0 : (top.score - runnerUp) / (1 - runnerUp);
    if (confidence >= MIN_CONFIDENCE) diagnosis.best = { id: top.id, description: top.description, confidence };
  }
  return diagnosis;
}
