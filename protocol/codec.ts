/**
 * ATN-8.3: numbers on the wire. JSON numbers are the exact doubles they denote; NaN and the infinities travel as
 * the strings "NaN", "Infinity", "-Infinity". With dtype "decimal" (reference only) numbers may be decimal strings.
 */

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** Replace non-finite numbers by their strings, deeply (for writing a response or request line). */
export function encodeNumbers(v: unknown): unknown {
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return v;
    return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  }
  if (Array.isArray(v)) return v.map(encodeNumbers);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = encodeNumbers(x);
    return out;
  }
  return v;
}

/** Replace the strings "NaN", "Infinity", "-Infinity" by numbers, deeply (for reading results). */
export function decodeNumbers(v: unknown): unknown {
  if (typeof v === 'string' && v in NON_FINITE) return NON_FINITE[v];
  if (Array.isArray(v)) return v.map(decodeNumbers);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = decodeNumbers(x);
    return out;
  }
  return v;
}

/** A wire number as a JS number, or undefined when it is neither a number nor one of the non-finite strings. */
export function wireToNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v in NON_FINITE) return NON_FINITE[v];
  return undefined;
}

/** One JSON line (no newline inside), with non-finite numbers encoded. */
export function toLine(v: unknown): string {
  return JSON.stringify(encodeNumbers(v));
}
