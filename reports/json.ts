/**
 * report.json: the CampaignResult with non-finite numbers encoded as on the wire (ATN-8.3), validated against
 * reports/report.schema.json (schemaVersion 1) before anything is written: a result that breaks the schema is a bug of
 * the suite, not of the target, and is thrown with the ajv errors.
 */
import { readFileSync } from 'node:fs';
import { decodeNumbers, encodeNumbers, isRecord } from '../protocol/codec';
import { boundValue, recordRequest, recordResponse } from '../protocol/record';
import type { Hello } from '../protocol/types';
import type { CampaignResult } from '../properties/lib/types';
import reportSchema from './report.schema.json';
import { assertValid } from './validate';

export const REPORT_SCHEMA: object = reportSchema;

const MAX_TEXT = 8000;

function cutText(s: unknown): string {
  const t = typeof s === 'string' ? s : String(s);
  return t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT)}… (${t.length} characters)` : t;
}

/**
 * The result with everything that came from the target bounded (protocol/record.ts): hello, counterexample requests
 * and responses, details, reasons and fault messages. Writing a report then never depends on the target's data being
 * well-formed or small (ATN-8.10); what was cut says so, with a digest of the whole. Idempotent.
 */
export function safeResult(result: CampaignResult): CampaignResult {
  const checks = result.checks.map((c) => {
    const ce = c.counterexample;
    const out = { ...c };
    if (c.reason !== undefined) out.reason = cutText(c.reason);
    if (ce)
      out.counterexample = {
        ...ce,
        detail: cutText(ce.detail),
        requests: ce.requests.map(recordRequest),
        ...(ce.responses ? { responses: ce.responses.map((r) => recordResponse(r ?? undefined)) } : {}),
      };
    return out;
  });
  const faults = result.faults.map((f) => ({ ...f, message: cutText(f.message), ...(f.request ? { request: recordRequest(f.request) } : {}) }));
  const target = { ...result.target };
  if (target.hello !== undefined) target.hello = (isRecord(target.hello) ? boundValue(target.hello).value : { value: boundValue(target.hello).value }) as Hello;
  return { ...result, target, checks, faults };
}

/** The JSON value of a result: non-finite numbers as strings, undefined fields dropped. */
export function reportValue(result: CampaignResult): unknown {
  const v = JSON.parse(JSON.stringify(encodeNumbers(safeResult(result)))) as { target: { backend?: unknown } };
  // target.backend is copied from the target's hello: whatever a port sent there is kept, as text.
  if (v.target.backend !== undefined && typeof v.target.backend !== 'string') v.target.backend = JSON.stringify(v.target.backend);
  return v;
}

/** Throws SchemaError when the result does not match the schema. */
export function validateReport(value: unknown, what = 'report.json'): void {
  assertValid(REPORT_SCHEMA, value, what);
}

/** The text of report.json (validated). */
export function reportJson(result: CampaignResult): string {
  const v = reportValue(result);
  validateReport(v);
  return JSON.stringify(v, null, 2) + '\n';
}

/** Reads and validates a report.json (a file path), decoding the non-finite number strings. */
export function readReport(path: string): CampaignResult {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not a readable JSON report: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  validateReport(v, path);
  return decodeNumbers(v) as CampaignResult;
}
