/**
 * report.json: the CampaignResult with non-finite numbers encoded as on the wire (ATN-8.3), validated against
 * reports/report.schema.json (schemaVersion 1) before anything is written: a result that breaks the schema is a bug of
 * the suite, not of the target, and is thrown with the ajv errors.
 */
import { readFileSync } from 'node:fs';
import { decodeNumbers, encodeNumbers } from '../protocol/codec';
import type { CampaignResult } from '../properties/lib/types';
import reportSchema from './report.schema.json';
import { assertValid } from './validate';

export const REPORT_SCHEMA: object = reportSchema;

/** The JSON value of a result: non-finite numbers as strings, undefined fields dropped. */
export function reportValue(result: CampaignResult): unknown {
  const v = JSON.parse(JSON.stringify(encodeNumbers(result))) as { target: { backend?: unknown } };
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
    throw new Error(`${path}: not a readable JSON report: ${e instanceof Error ? e.message : String(e)}`);
  }
  validateReport(v, path);
  return decodeNumbers(v) as CampaignResult;
}
