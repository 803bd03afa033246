/**
 * ATN-8.3: numbers on the wire. JSON numbers are the exact doubles they denote; NaN and the infinities travel as
 * the strings "NaN", "Infinity", "-Infinity". With dtype "decimal" (reference only) numbers may be decimal strings.
 *
 * What a target sends is untrusted: the walks below are iterative (a result nested 100,000 deep must not overflow the
 * stack) and copy own properties only, defining them (never assigning), so that a key "__proto__" stays an ordinary
 * key that compare() reports as unexpected instead of becoming the copy's prototype, and a string "toString" is not
 * taken for a name of Object.prototype.
 */
import { isUtf8 } from 'node:buffer';
import { defineOwn } from '../util/tree';

const NON_FINITE: ReadonlyMap<string, number> = new Map([
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
]);

/** true for a plain data object (not null, not an array): what JSON.parse makes for `{...}`. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Own enumerable property `key` of `o` (never one inherited from a prototype), or undefined. */
export function own(o: unknown, key: string): unknown {
  return o !== null && typeof o === 'object' && Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined;
}

/**
 * A deep copy of a JSON-like value with `leaf` applied to every non-container value, built without recursion.
 * Objects are copied by their own enumerable keys. A shared sub-value is copied once per reference; a cycle (never in
 * parsed JSON) throws a TypeError, as JSON.stringify does.
 */
export function mapLeaves(v: unknown, leaf: (x: unknown) => unknown): unknown {
  if (v === null || typeof v !== 'object') return leaf(v);
  const root: { v: unknown } = { v: undefined };
  type Job = { src: object; put: (x: unknown) => void } | { leave: object };
  const stack: Job[] = [{ src: v, put: (x) => (root.v = x) }];
  const onPath = new Set<object>(); // the containers being copied: a cycle throws, as JSON.stringify does
  while (stack.length) {
    const job = stack.pop()!;
    if ('leave' in job) {
      onPath.delete(job.leave);
      continue;
    }
    const { src, put } = job;
    if (onPath.has(src)) throw new TypeError('cannot encode a cyclic structure');
    onPath.add(src);
    stack.push({ leave: src }); // popped after every child of src
    if (Array.isArray(src)) {
      const out: unknown[] = new Array(src.length);
      put(out);
      for (let i = 0; i < src.length; i++) {
        const x: unknown = src[i];
        if (x !== null && typeof x === 'object') stack.push({ src: x, put: (y) => (out[i] = y) });
        else out[i] = leaf(x);
      }
    } else {
      const out: Record<string, unknown> = {};
      put(out);
      for (const k of Object.keys(src)) {
        const x: unknown = (src as Record<string, unknown>)[k];
        if (x !== null && typeof x === 'object') {
          defineOwn(out, k, undefined); // keeps the key order of the source
          stack.push({ src: x, put: (y) => defineOwn(out, k, y) });
        } else defineOwn(out, k, leaf(x));
      }
    }
  }
  return root.v;
}

function encodeLeaf(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return v;
}

function decodeLeaf(v: unknown): unknown {
  return typeof v === 'string' && NON_FINITE.has(v) ? NON_FINITE.get(v) : v;
}

/** Replace non-finite numbers by their strings, deeply (for writing a response or request line). */
export function encodeNumbers(v: unknown): unknown {
  return mapLeaves(v, encodeLeaf);
}

/** Replace the strings "NaN", "Infinity", "-Infinity" by numbers, deeply (for reading results). */
export function decodeNumbers(v: unknown): unknown {
  return mapLeaves(v, decodeLeaf);
}

/** A wire number as a JS number, or undefined when it is neither a number nor one of the non-finite strings. */
export function wireToNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && NON_FINITE.has(v)) return NON_FINITE.get(v);
  return undefined;
}

/** One JSON line (no newline inside), with non-finite numbers encoded. */
export function toLine(v: unknown): string {
  return JSON.stringify(encodeNumbers(v));
}

/**
 * The JSON text of a value (non-finite numbers encoded as on the wire), in pieces of about `chunkChars` characters,
 * produced without recursion and without ever holding the whole text: a 600,000-step lstm.forward answer is far
 * longer than the longest string V8 can build. Undefined values are dropped from objects and written as null in
 * arrays, as JSON.stringify does.
 */
export function* jsonChunks(v: unknown, chunkChars = 1 << 16): Generator<string> {
  let buf = '';
  type Frame = { arr: unknown[]; i: number } | { obj: Record<string, unknown>; keys: string[]; i: number; any: boolean };
  const stack: Frame[] = [];
  const onPath = new Set<object>();
  const scalar = (x: unknown): string | undefined => {
    if (typeof x === 'number') return Number.isFinite(x) ? String(x) : JSON.stringify(encodeLeaf(x));
    if (x === undefined || typeof x === 'function' || typeof x === 'symbol') return undefined;
    if (typeof x === 'bigint') return JSON.stringify(String(x));
    return JSON.stringify(x);
  };
  // open(x): writes a scalar, or pushes a frame for a container (its opening bracket written).
  const open = (x: unknown, inArray: boolean): void => {
    if (x !== null && typeof x === 'object') {
      const toJSON = (x as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') x = (toJSON as () => unknown).call(x);
    }
    if (x !== null && typeof x === 'object') {
      if (onPath.has(x)) throw new TypeError('cannot serialise a cyclic structure');
      onPath.add(x);
    }
    if (Array.isArray(x)) {
      buf += '[';
      stack.push({ arr: x, i: 0 });
    } else if (x !== null && typeof x === 'object') {
      buf += '{';
      stack.push({ obj: x as Record<string, unknown>, keys: Object.keys(x), i: 0, any: false });
    } else buf += scalar(x) ?? (inArray ? 'null' : '');
  };
  open(v, true);
  while (stack.length) {
    if (buf.length >= chunkChars) {
      yield buf;
      buf = '';
    }
    const f = stack[stack.length - 1];
    if ('arr' in f) {
      if (f.i >= f.arr.length) {
        buf += ']';
        onPath.delete(f.arr);
        stack.pop();
        continue;
      }
      if (f.i > 0) buf += ',';
      open(f.arr[f.i++], true);
    } else {
      if (f.i >= f.keys.length) {
        buf += '}';
        onPath.delete(f.obj);
        stack.pop();
        continue;
      }
      const k = f.keys[f.i++];
      const x = f.obj[k];
      if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
      buf += `${f.any ? ',' : ''}${JSON.stringify(k)}:`;
      f.any = true;
      open(x, false);
    }
  }
  if (buf) yield buf;
}

/** A line that is not valid UTF-8 (ATN-8.1): refused, never decoded with replacement characters that alter an id. */
export interface BadUtf8 {
  badUtf8: string;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The text of one line (ATN-8.1): strict UTF-8, a leading byte-order mark dropped (editors on some systems write one
 * on the first line of a file), or why the bytes are not UTF-8.
 */
export function decodeLine(bytes: Uint8Array): string | BadUtf8 {
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  // isUtf8 (simdutf) is the fast test; Buffer's decoder then cannot meet a malformed sequence
  if (isUtf8(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return { badUtf8: `the line is not valid UTF-8 (a malformed sequence at byte ${firstBadUtf8(body)})` };
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence (a short scan). */
function firstBadUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const n = b[i] < 0x80 ? 1 : b[i] >= 0xc2 && b[i] <= 0xdf ? 2 : b[i] >= 0xe0 && b[i] <= 0xef ? 3 : b[i] >= 0xf0 && b[i] <= 0xf4 ? 4 : 0;
    if (n === 0 || i + n > b.length) return i;
    try {
      UTF8.decode(b.subarray(i, i + n));
    } catch {
      return i;
    }
    i += n;
  }
  return b.length;
}
