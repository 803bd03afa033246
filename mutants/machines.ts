/** Machines (synchronous targets) for the base and each catalogue mutant; index.ts wraps them as Targets. */
import { PROTOCOL_VERSION, type Hello } from '../protocol/types';
import { BASE_OPS, Machine, MUTANT_DTYPES } from './base';
import { CATALOGUE } from './catalogue';
import { NO_FLAGS, type Flag } from './flags';

export const MUTANT_VERSION = '0.1.0';

function hello(name: string, description: string): Hello {
  return { name, version: MUTANT_VERSION, protocol: PROTOCOL_VERSION, ops: [...BASE_OPS], dtypes: [...MUTANT_DTYPES], description };
}

/** A fresh machine (empty state) for a mutant id, or for the base when id is undefined. */
export function createMachine(id?: string): Machine {
  if (id === undefined) return new Machine(NO_FLAGS, hello('mutant-base', 'plain-JS ATN with no mistake'));
  const entry = CATALOGUE.find((e) => e.id === id);
  if (!entry) throw new Error(`unknown mutant ${JSON.stringify(id)}; the ids are: ${CATALOGUE.map((e) => e.id).join(', ')}`);
  return new Machine(new Set<Flag>([entry.flag]), hello(`mutant:${id}`, entry.description));
}
