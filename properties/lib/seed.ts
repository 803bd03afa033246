/**
 * Seeds and run counts for every fast-check property of the suite, so that one number replays a failure:
 *   ATN_SEED  the seed (default DEFAULT_SEED; every check of a campaign uses the same seed),
 *   ATN_RUNS  a multiplier of the run counts (deeper searches: ATN_RUNS=10 npm test),
 *   ATN_PATH  the fast-check replay path printed with a failure (with ATN_CHECK, the check it belongs to: a path
 *             is meaningless for the other properties, so they ignore it).
 */
import fc, { type Parameters as FcParameters } from 'fast-check';

/** Fixed so that `npm test` is deterministic; change it only on purpose. */
export const DEFAULT_SEED = 20251126;

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name}=${JSON.stringify(raw)} is not a number`);
  return n;
}

/** The seed: ATN_SEED when set, else DEFAULT_SEED. fast-check takes 32-bit integer seeds. */
export function seedFromEnv(): number {
  const s = envNumber('ATN_SEED');
  return s === undefined ? DEFAULT_SEED : s | 0;
}

/** The run-count multiplier from ATN_RUNS (default 1; fractions allowed, at least one run always). */
export function runsMultiplier(): number {
  const m = envNumber('ATN_RUNS');
  if (m === undefined) return 1;
  if (m <= 0) throw new Error(`ATN_RUNS must be positive, got ${m}`);
  return m;
}

/** A base run count scaled by ATN_RUNS. */
export function scaledRuns(base: number): number {
  return Math.max(1, Math.round(base * runsMultiplier()));
}

/** The replay path from ATN_PATH, when it belongs to this check (ATN_CHECK unset or equal to checkId). */
export function replayPath(checkId?: string): string | undefined {
  const path = process.env.ATN_PATH;
  if (!path) return undefined;
  const only = process.env.ATN_CHECK;
  if (only && checkId !== undefined && only !== checkId) return undefined;
  return path;
}

export interface FcBase {
  /** Run count before ATN_RUNS (default 100, fast-check's own). */
  numRuns?: number;
  /** Defaults to seedFromEnv(). */
  seed?: number;
  /** The check (or test) the parameters are for: selects ATN_PATH through ATN_CHECK. */
  checkId?: string;
  /** false when numRuns is already final (a campaign's runs); default true. */
  multiply?: boolean;
}

/** Parameters for fc.assert / fc.check: seed, scaled numRuns, and the replay path when one is given. */
export function fcParams<T = unknown>(base: FcBase = {}): FcParameters<T> {
  const seed = base.seed ?? seedFromEnv();
  const runs = base.numRuns ?? 100;
  const numRuns = base.multiply === false ? Math.max(1, runs) : scaledRuns(runs);
  const params: FcParameters<T> = { seed, numRuns };
  const path = replayPath(base.checkId);
  if (path !== undefined) params.path = path;
  return params;
}

/** The line that replays a failure: printed by tests and stored in reports. */
export function replayLine(seed: number, path?: string | null, checkId?: string): string {
  const parts = [`ATN_SEED=${seed}`];
  if (path) parts.push(`ATN_PATH=${path}`);
  if (checkId) parts.push(`ATN_CHECK=${checkId}`);
  return `replay: ${parts.join(' ')}`;
}

/**
 * fc.assert with the suite's parameters, printing the replay line on failure (fast-check's own message carries seed
 * and path too, but in its words; ours is what the README tells people to paste).
 */
export async function assertProperty<T>(prop: fc.IAsyncPropertyWithHooks<T> | fc.IPropertyWithHooks<T>, base: FcBase = {}): Promise<void> {
  const params = fcParams<T>(base);
  const details = await fc.check(prop as never, params as never);
  if (details.failed) {
    const msg = fc.defaultReportMessage(details as never) ?? 'property failed';
    const line = replayLine(details.seed, details.counterexamplePath, base.checkId);
    process.stderr.write(line + '\n');
    throw new Error(`${line}\n${msg}`);
  }
}
