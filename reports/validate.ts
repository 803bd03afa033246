/**
 * JSON Schema validation (ajv) shared by report.json and the vector corpus. A document that fails its schema is
 * refused with every ajv error, each naming the JSON path of the field at fault.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

export class SchemaError extends Error {
  constructor(
    readonly what: string,
    readonly errors: ErrorObject[],
  ) {
    super(`${what} does not match its schema:\n${formatErrors(errors)}`);
    this.name = 'SchemaError';
  }
}

/** "at /checks/0/clause: must match pattern ..." lines, at most 20 (one bad array can produce thousands). */
export function formatErrors(errors: ErrorObject[], max = 20): string {
  const lines = errors.slice(0, max).map((e) => {
    const where = e.instancePath === '' ? '(top level)' : e.instancePath;
    const extra = e.keyword === 'additionalProperties' ? ` (${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)})` : '';
    const allowed = e.keyword === 'enum' || e.keyword === 'const' ? ` ${JSON.stringify(e.params)}` : '';
    return `  at ${where}: ${e.message}${extra}${allowed}`;
  });
  if (errors.length > max) lines.push(`  ... and ${errors.length - max} more`);
  return lines.join('\n');
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let ajv: Ajv | undefined;
function instance(): Ajv {
  if (!ajv) {
    // allErrors: report every bad field at once; no ajv-formats dependency, the one format we use is added here.
    ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    ajv.addFormat('date-time', DATE_TIME);
  }
  return ajv;
}

const compiled = new Map<object, ValidateFunction>();

/** Throws SchemaError (naming `what`) when `value` does not match `schema`. */
export function assertValid(schema: object, value: unknown, what: string): void {
  let v = compiled.get(schema);
  if (!v) {
    v = instance().compile(schema);
    compiled.set(schema, v);
  }
  if (!v(value)) throw new SchemaError(what, v.errors ?? []);
}

/** The ajv errors of `value` against `schema` (empty when valid), for callers that explain errors their own way. */
export function schemaErrors(schema: object, value: unknown): ErrorObject[] {
  try {
    assertValid(schema, value, 'value');
    return [];
  } catch (e) {
    if (e instanceof SchemaError) return e.errors;
    throw e;
  }
}
