/**
 * What a campaign keeps of an exchange with an untrusted target, for its report. The report must be writable whatever
 * the target answered (ATN-8.10): a result nested 100,000 deep, 5 million numbers, a 60 MB error message, an envelope
 * that is not one. So what is kept is bounded: containers to MAX_DEPTH levels, arrays to their first MAX_ITEMS items,
 * MAX_LEAVES values in all, strings to MAX_STRING characters; a cut value carries a `recorded` note with the shapes of
 * what was cut and a SHA-256 of the whole answer's JSON text, so that what was received can still be identified. The
 * walks are iterative.
 */
import { createHash } from 'node:crypto';
import { isRecord, jsonChunks } from './codec';
import { defineOwn, dimsText as dimsOf } from '../util/tree';
import type { Id, Outgoing, RawRequest, RecordedRequest, Response } from './types';

export const RECORD_LIMITS = { maxDepth: 32, maxItems: 64, maxLeaves: 4096, maxString: 2000 } as const;

/** SHA-256 (hex) of a value's JSON text (non-finite numbers as on the wire), hashed in pieces. */
export function digestOf(v: unknown): string {
  const h = createHash('sha256');
  for (const piece of jsonChunks(v)) h.update(piece);
  return h.digest('hex');
}

export interface Bounded {
  value: unknown;
  /** true when something was cut. */
  truncated: boolean;
  /** The number of scalar values and the nesting depth of the whole value (counted to a limit of 10^8). */
  leaves: number;
  depth: number;
}

function cutString(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}… (${s.length} characters)` : s;
}

/** A bounded copy (see the file comment); own keys only, defined, never assigned. */
export function boundValue(v: unknown, limits: { maxDepth: number; maxItems: number; maxLeaves: number; maxString: number } = RECORD_LIMITS): Bounded {
  let leaves = 0;
  let kept = 0;
  let depth = 0;
  let truncated = false;
  const leaf = (x: unknown): unknown => {
    leaves++;
    if (typeof x === 'string' && x.length > limits.maxString) {
      truncated = true;
      return cutString(x, limits.maxString);
    }
    if (typeof x === 'bigint' || typeof x === 'function' || typeof x === 'symbol') return String(x);
    return x;
  };
  const root: { v: unknown } = { v: undefined };
  const stack: Array<{ src: unknown; d: number; put: (x: unknown) => void }> = [{ src: v, d: 0, put: (x) => (root.v = x) }];
  while (stack.length) {
    const { src, d, put } = stack.pop()!;
    if (src === null || typeof src !== 'object') {
      if (kept < limits.maxLeaves) {
        kept++;
        put(leaf(src));
      } else {
        leaves++;
        truncated = true;
        put('…');
      }
      continue;
    }
    depth = Math.max(depth, d + 1);
    if (d >= limits.maxDepth || kept >= limits.maxLeaves) {
      truncated = true;
      // counted, not kept: the rest of a deep value only adds to the leaf and depth counts (bounded work)
      const inner = countAll(src, 100_000_000);
      leaves += inner.leaves;
      depth = Math.max(depth, d + inner.depth);
      const what = Array.isArray(src) ? `an array ${dimsOf(src)}` : 'an object';
      put(d >= limits.maxDepth ? `… ${what} nested deeper than ${limits.maxDepth} levels` : `… ${what} (not kept: over ${limits.maxLeaves} values)`);
      continue;
    }
    if (Array.isArray(src)) {
      // A cut array keeps maxItems - 1 items and a marker: bounding the copy again cuts nothing more.
      const n = src.length > limits.maxItems ? limits.maxItems - 1 : src.length;
      const out: unknown[] = new Array(n);
      if (src.length > n) {
        truncated = true;
        const rest = countAll(src.slice(n), 100_000_000);
        leaves += rest.leaves;
        out.push(`… ${src.length - n} more items (the whole array is ${dimsOf(src)})`);
      }
      put(out);
      for (let i = n - 1; i >= 0; i--) stack.push({ src: src[i], d: d + 1, put: (x) => (out[i] = x) });
    } else {
      const out: Record<string, unknown> = {};
      put(out);
      const keys = Object.keys(src);
      const n = keys.length > limits.maxItems ? limits.maxItems - 1 : keys.length;
      for (let i = 0; i < n; i++) defineOwn(out, cutString(keys[i], 200), undefined);
      if (keys.length > n) {
        truncated = true;
        defineOwn(out, '…', `${keys.length - n} more keys`);
      }
      for (let i = n - 1; i >= 0; i--) {
        const k = cutString(keys[i], 200);
        if (k !== keys[i]) truncated = true;
        stack.push({ src: (src as Record<string, unknown>)[keys[i]], d: d + 1, put: (x) => defineOwn(out, k, x) });
      }
    }
  }
  return { value: root.v, truncated, leaves, depth };
}

/** Scalars and depth of a value, walking at most `budget` nodes (iterative). */
function countAll(v: unknown, budget: number): { leaves: number; depth: number } {
  let leaves = 0,
    depth = 0,
    seen = 0;
  const stack: Array<[unknown, number]> = [[v, 0]];
  while (stack.length && seen++ < budget) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') {
      leaves++;
      continue;
    }
    depth = Math.max(depth, d + 1);
    for (const y of Array.isArray(x) ? x : Object.values(x)) stack.push([y, d + 1]);
  }
  return { leaves, depth };
}

/** The runner's note on a cut value: what it was, and how to recognise it. */
export type RecordedNote = NonNullable<Response['recorded']>;

function shapesOf(v: unknown, prefix: string, out: Record<string, string>, level = 0): void {
  if (!isRecord(v) || level > 2) return;
  for (const k of Object.keys(v).slice(0, 32)) {
    const x = v[k];
    if (Array.isArray(x)) out[`${prefix}${k}`] = dimsOf(x);
    else shapesOf(x, `${prefix}${k}.`, out, level + 1);
  }
}

/** What the target answered, without the envelope's id: the same answer to the same request hashes alike in any run. */
function answerOf(res: Response): unknown {
  if (!isRecord(res)) return res;
  const { id: _id, ...answer } = res as Response & { id?: unknown };
  return answer;
}

/** A response as a report keeps it: bounded, with a `recorded` note when it was cut. */
export function recordResponse(res: Response | undefined): Response | undefined {
  if (res === undefined || res === null) return undefined;
  if (isRecord(res) && res.recorded) return res; // recorded already (idempotent)
  const b = boundValue(res);
  if (!b.truncated) return b.value as Response;
  const shapes: Record<string, string> = {};
  shapesOf(res, '', shapes);
  const recorded: RecordedNote = { truncated: true, leaves: b.leaves, depth: b.depth, shapes, sha256: digestOf(answerOf(res)) };
  return { ...(b.value as Response), recorded };
}

/** The exact JSON text of a value, or why it has none. */
function jsonTextOf(v: unknown): string {
  try {
    let s = '';
    for (const piece of jsonChunks(v)) {
      s += piece;
      if (s.length > 1 << 20) return `${s.slice(0, 1 << 20)}… (cut at 1 MiB)`;
    }
    return s;
  } catch (e) {
    return `(not serialisable: ${e instanceof Error ? e.message : String(e)})`;
  }
}

/**
 * A request as a report keeps it. A well-formed envelope (op a string, args an object) is kept as it is (our
 * generators bound its size); a deliberately broken one (errors.envelope sends op = 42, args = [] ...) is kept as the
 * exact line that was sent, in `raw`, with op "(raw)" and empty args standing in, so the report's schema holds and
 * nothing replays it as if it were a valid request.
 */
export function recordRequest(req: Outgoing | RecordedRequest): RecordedRequest {
  // What the type says is not trusted here: a report is written whatever a caller put in the request.
  const r = req as { id?: unknown; op?: unknown; args?: unknown } | null | undefined;
  const okOp = typeof r?.op === 'string';
  const okArgs = isRecord(r?.args);
  const id = r?.id;
  const idOk = typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) || id === null;
  if (okOp && okArgs && idOk) return req as RecordedRequest;
  const kept: Id = idOk ? id : null;
  return { id: kept, op: '(raw)', args: {}, raw: jsonTextOf(req) };
}

/** true for a request recorded as raw text (a broken envelope): not replayable as a request. */
export function isRawRequest(req: RecordedRequest): req is RawRequest {
  return typeof (req as { raw?: unknown }).raw === 'string';
}
