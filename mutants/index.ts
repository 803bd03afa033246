/**
 * Mutants: the plain-JS ATN target with one port mistake each (catalogue.ts), the correct base, and diagnose()
 * (which catalogue mistake a failing target behaves like).
 */
import type { Target } from '../protocol/target';
import type { Machine } from './base';
import { CATALOGUE, type MutantInfo } from './catalogue';
import { createMachine } from './machines';

export type { MutantInfo } from './catalogue';
export { diagnose, BASE_ID } from './diagnose';
export { createMachine, MUTANT_VERSION } from './machines';

export const MUTANTS: MutantInfo[] = CATALOGUE.map(({ id, description, clause, separatedBy, dtypes }) => ({
  id,
  description,
  clause,
  separatedBy,
  dtypes: [...dtypes],
}));

function asTarget(m: Machine): Target {
  return {
    handle: async (req) => m.answer(req),
    close: async () => {},
  };
}

/** The target of one catalogue mutant (hello.name "mutant:ID"); an unknown id throws, listing the ids. */
export function createMutantTarget(id: string): Target {
  return asTarget(createMachine(id));
}

/** The same plain-JS implementation with no mistake: it must conform. */
export function createBaseTarget(): Target {
  return asTarget(createMachine());
}
