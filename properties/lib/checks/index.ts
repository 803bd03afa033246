/**
 * CHECKS: every clause-named check a target is run against, in campaign order: the protocol and errors first (cheap,
 * and a target that cannot refuse bad input is not worth the rest), then agreement with the reference, the theorems,
 * statelessness, and the gradient-flow series. Ids are stable (reports, mutant catalogue and replays name them).
 */
import type { Check } from '../types';
import { AGREEMENT } from './agreement';
import { ERRORS } from './errors';
import { gradientFlow } from './gradient-flow';
import { helloCheck } from './protocol';
import { STATE } from './state';
import { THEOREMS } from './theorems';

export const CHECKS: Check[] = [helloCheck, ...ERRORS, ...AGREEMENT, ...THEOREMS, ...STATE, gradientFlow];

export function checkById(id: string): Check | undefined {
  return CHECKS.find((c) => c.id === id);
}

export { AGREEMENT, ERRORS, STATE, THEOREMS, gradientFlow, helloCheck };
