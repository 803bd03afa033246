/**
 * Resolves a target spec to a Target: "reference", "impl", "mutant:ID", or a port command (a foreign process that
 * speaks protocol v1). Modules load lazily: the reference never pulls in tfjs.
 */
import { PortStartError } from '../protocol/port';
import type { Target } from '../protocol/target';
import { yieldingTarget } from '../reports/interrupt';
import { termText } from '../reports/terminal';
import { UsageError } from './flags';

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

/** The target as a report names it: "port:CMD", or the --target name (default impl). */
export function targetSpecString(target: string | undefined, port: string | undefined): string {
  return port !== undefined ? `port:${port}` : (target ?? 'impl');
}

/**
 * Starts the target a command names, yielding to the event loop between requests (reports/interrupt.ts) so that an
 * interrupt is seen. A usage mistake throws UsageError; a target that cannot start (a port that dies or never says
 * hello, an unknown mutant id, a backend that does not load) is said on stderr and gives undefined: the command exits 2.
 */
export async function startTarget(command: string, spec: TargetSpec): Promise<Target | undefined> {
  try {
    return yieldingTarget(await resolveTarget(spec));
  } catch (e) {
    if (e instanceof TargetSpecError) throw new UsageError(e.message);
    const why =
      e instanceof PortStartError
        ? e.message
        : `could not start target ${targetSpecString(spec.target, spec.port)}: ${e instanceof Error ? e.message : String(e)}`;
    process.stderr.write(termText(`atn ${command}: ${why}`) + '\n');
    return undefined;
  }
}
