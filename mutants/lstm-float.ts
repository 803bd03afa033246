/**
 * Structural mistakes of a plain float ATN-LSTM, made by switching the reference's float replica
 * (reference/lstm-float.ts): on the same code as the correct replica, each must fail the ATN-7.4 tolerance by far
 * (properties/reference-lstm.test.ts), which shows the bound is tight enough to see it.
 */
import type { LstmStructure } from '../reference/lstm-float';

export interface LstmFloatMistake {
  id: string;
  /** The clause the mistake breaks. */
  clause: string;
  /** The replica's switch that makes it. */
  alter: LstmStructure;
  /** Which outputs show it: a forward mistake shows in h and c, a VJP mistake only in the gradients. */
  shows: 'forward' | 'grads';
}

export const LSTM_FLOAT_MISTAKES: readonly LstmFloatMistake[] = [
  { id: 'gates-ifog', clause: 'ATN-3.3', alter: { gatesIfog: true }, shows: 'forward' },
  { id: 'no-cell-atn', clause: 'ATN-3.5', alter: { noCellAtn: true }, shows: 'forward' },
  { id: 'shared-window', clause: 'ATN-3.2', alter: { sharedWindow: true }, shows: 'forward' },
  { id: 'c0-in-window', clause: 'ATN-3.5', alter: { c0InWindow: true }, shows: 'forward' },
  { id: 'vjp-current-only', clause: 'ATN-4.1', alter: { vjpCurrentOnly: true }, shows: 'grads' },
];
