/**
 * Resolves a target spec to a Target: "reference", "impl", "mutant:ID", or a port command (a foreign process that
 * speaks protocol v1). Modules load lazily: the reference never pulls in tfjs.
 */
import type { Target } from '../protocol/target';

export interface TargetSpec {
  target?: string; // reference | impl | mutant:ID
  port?: string; // a shell command
  backend?: string; // tfjs backend for impl
}

export class TargetSpecError extends Error {}

/* eslint-disable @typescript-eslint/no-require-imports */
export async function resolveTarget(spec: TargetSpec): Promise<Target> {
  if (spec.port !== undefined) {
    if (spec.target !== undefined) throw new TargetSpecError('give either --target or --port, not both');
    const { spawnPort } = require('../protocol/port') as typeof import('../protocol/port');
    return spawnPort(spec.port);
  }
  const t = spec.target ?? 'impl';
  if (spec.backend !== undefined && t !== 'impl') throw new TargetSpecError(`--backend applies to --target impl only (got --target ${t})`);
  if (t === 'reference') {
    const { createReference } = require('../reference') as typeof import('../reference');
    return createReference().target();
  }
  if (t === 'impl') {
    const { createImplTarget } = require('../impl') as typeof import('../impl');
    return createImplTarget({ backend: spec.backend });
  }
  if (t.startsWith('mutant:')) {
    const { createMutantTarget } = require('../mutants') as typeof import('../mutants');
    try {
      return createMutantTarget(t.slice('mutant:'.length));
    } catch (e) {
      // An unknown id is a usage mistake: the message lists the known ids.
      throw new TargetSpecError(e instanceof Error ? e.message : String(e));
    }
  }
  throw new TargetSpecError(`unknown target ${JSON.stringify(t)}: use reference, impl or mutant:ID (atn mutants lists the ids)`);
}
