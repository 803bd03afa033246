/**
 * What each check tests (ATN-9.8) and the conformance level it belongs to (ATN-9.1), in one table, so that a report
 * files a failure under every clause it can mean (a window off by one fails atn.forward.agrees: that is ATN-1.2 as
 * much as ATN-1.4) and a verdict can be given per level. A check not listed tests only its own clause, at core level.
 */
import type { ClauseId } from '../../spec/clauses';
import type { Check, Level } from './types';

/** The protocol's computing ops (ATN-8.5): coverage is reported against these. */
export const PROTOCOL_OPS = ['atn.forward', 'atn.vjp', 'ln.forward', 'lstm.forward', 'lstm.vjp'] as const;

const ATN_MATH: ClauseId[] = ['ATN-1.1', 'ATN-1.2', 'ATN-1.3', 'ATN-1.4', 'ATN-1.5', 'ATN-1.6'];
const LSTM_MATH: ClauseId[] = ['ATN-3.1', 'ATN-3.2', 'ATN-3.3', 'ATN-3.4', 'ATN-3.5', ...ATN_MATH];

/** Clauses beyond the check's own that its comparison with the exact reference exercises. */
const TESTS: Record<string, ClauseId[]> = {
  'atn.forward.agrees': [...ATN_MATH, 'ATN-7.2', 'ATN-8.5'],
  'atn.forward.near-eps': ['ATN-1.3', 'ATN-7.2'],
  'atn.vjp.agrees': [...ATN_MATH, 'ATN-4.2', 'ATN-7.3', 'ATN-8.5'],
  'atn.vjp.hard': ['ATN-4.1', 'ATN-7.2'],
  'atn.forward.wide': [...ATN_MATH, 'ATN-7.2'],
  'atn.vjp.wide': [...ATN_MATH, 'ATN-4.2', 'ATN-7.3'],
  'atn.forward.long-windows': [...ATN_MATH, 'ATN-7.2'],
  'ln.forward.agrees': ['ATN-1.3', 'ATN-1.4', 'ATN-1.5', 'ATN-7.2'],
  'lstm.forward.agrees': [...LSTM_MATH, 'ATN-7.4'],
  'lstm.vjp.agrees': [...LSTM_MATH, 'ATN-7.4'],
  'lstm.forward.wide': [...LSTM_MATH, 'ATN-7.4'],
  'T7.prefix': ['ATN-1.2', 'ATN-1.6'],
  'T6.locality': ['ATN-1.1', 'ATN-1.2'],
};

/**
 * The extended range (ATN-9.1): checks whose every case has entries far from their window's scale, subnormals or
 * eps = 0 near-degenerate windows. Other value checks are core; their cases that fall in the extended range are
 * judged at the extended level through the problems analysis (ATN-9.5).
 */
const EXTENDED = new Set(['atn.forward.scale', 'atn.forward.mixed-magnitudes', 'atn.forward.drift', 'atn.forward.subnormal', 'atn.vjp.hard']);

export function levelOf(check: Pick<Check, 'id' | 'kind'>): Level {
  if (check.kind === 'errors' || check.id.startsWith('protocol.') || check.id.startsWith('errors.')) return 'protocol';
  return EXTENDED.has(check.id) ? 'extended' : 'core';
}

export function checkClauses(check: Pick<Check, 'id' | 'clause'>): ClauseId[] {
  return [...new Set([check.clause, ...(TESTS[check.id] ?? [])])];
}

export const LEVELS: Level[] = ['core', 'extended', 'protocol'];
