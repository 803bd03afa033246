/**
 * The generated cases the oracle tests (oracle.test.ts, oracle-brackets.test.ts) replay on both oracles: every regime of
 * the ATN op, LN, and the ATN-LSTM, each with its number of runs.
 */
import type fc from 'fast-check';
import type { ReferenceOp } from '../../reference';
import { REGIMES, atnArgs, atnCase, atnVjpArgs, lnArgs, lnCase, lstmArgs, lstmCase, lstmVjpArgs, withDh, withDy } from './arbitraries';
import type { CampaignDtype } from './types';

export type OracleCase = [name: string, op: ReferenceOp, arb: fc.Arbitrary<Record<string, unknown>>, runs: number];

/** Runs per op; an op left out (or 0) is not generated. */
export interface OracleCaseRuns {
  'atn.forward': number;
  'atn.vjp': number;
  'ln.forward'?: number;
  'lstm.forward': number;
  'lstm.vjp': number;
}

export function oracleCases(dtype: CampaignDtype, runs: OracleCaseRuns): OracleCase[] {
  const out: OracleCase[] = [];
  for (const r of REGIMES) out.push([`atn.forward ${r}`, 'atn.forward', atnCase(dtype, r).map((c) => atnArgs(dtype, c)), runs['atn.forward']]);
  for (const r of REGIMES) out.push([`atn.vjp ${r}`, 'atn.vjp', withDy(dtype, atnCase(dtype, r)).map((c) => atnVjpArgs(dtype, c)), runs['atn.vjp']]);
  if (runs['ln.forward']) out.push(['ln.forward', 'ln.forward', lnCase(dtype).map((c) => lnArgs(dtype, c)), runs['ln.forward']]);
  out.push(['lstm.forward', 'lstm.forward', lstmCase(dtype).map((c) => lstmArgs(dtype, c)), runs['lstm.forward']]);
  out.push(['lstm.vjp', 'lstm.vjp', withDh(dtype, lstmCase(dtype)).map((c) => lstmVjpArgs(dtype, c)), runs['lstm.vjp']]);
  return out;
}
