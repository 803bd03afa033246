/**
 * A target is anything that answers protocol v1 requests: the reference, the tfjs implementation, a mutant, or a
 * foreign port behind a process (protocol/port.ts). In process, numbers are plain JS numbers (NaN allowed in results);
 * the wire encoding (codec.ts) is applied only at process boundaries.
 */
import { AtnError, errorBody } from './errors';
import type { Envelope, Hello, Id, Outgoing, Response, UncheckedResult } from './types';

export interface Target {
  /** Answers one request, a broken envelope too. Never throws: every failure is an error response (ATN-8.6). */
  handle(req: Outgoing): Promise<Response>;
  /** Releases what the target holds (a child process, tfjs memory). */
  close(): Promise<void>;
}

export type OpHandler = (args: Record<string, unknown>) => Promise<UncheckedResult> | UncheckedResult;

/** Checks a parsed JSON value is a request envelope (ATN-8.2); returns the id to answer with either way. */
export function checkEnvelope(v: unknown): { id: Id; req?: Envelope; error?: AtnError } {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return { id: null, error: new AtnError('bad_request', 'ATN-8.2', 'request must be a JSON object {id, op, args} (ATN-8.2)') };
  const o = v as Record<string, unknown>;
  // A JSON number id beyond the double range (1e400) parses as Infinity: not an id we could echo faithfully.
  const validId = typeof o.id === 'string' || (typeof o.id === 'number' && Number.isFinite(o.id));
  const id: Id = validId ? (o.id as string | number) : null;
  if (!validId) return { id, error: new AtnError('bad_request', 'ATN-8.2', 'id: must be a string or a finite number (ATN-8.2)', 'id') };
  if (typeof o.op !== 'string') return { id, error: new AtnError('bad_request', 'ATN-8.2', 'op: must be a string (ATN-8.2)', 'op') };
  const args = o.args === undefined ? {} : o.args;
  if (args === null || typeof args !== 'object' || Array.isArray(args))
    return { id, error: new AtnError('bad_request', 'ATN-8.2', 'args: must be an object (ATN-8.2)', 'args') };
  return { id, req: { id, op: o.op, args: args as Record<string, unknown> } };
}

/** true for a well-formed envelope (op a string, args an object), false for a broken one (ATN-8.2). */
export function isEnvelope(req: Outgoing): req is Envelope {
  return typeof req.op === 'string' && req.args !== null && typeof req.args === 'object' && !Array.isArray(req.args);
}

/** A target made of one handler per op; `hello` is answered from the given Hello. */
export function targetFromHandlers(hello: Hello, handlers: Record<string, OpHandler>, close: () => Promise<void> = async () => {}): Target {
  return {
    async handle(req: Outgoing): Promise<Response> {
      const { id, req: ok, error } = checkEnvelope(req);
      if (error || !ok) return { id, ok: false, error: (error ?? new AtnError('bad_request', 'ATN-8.2', 'bad request')).toBody() };
      try {
        if (ok.op === 'hello') return { id, ok: true, result: { ...hello } };
        const h = Object.prototype.hasOwnProperty.call(handlers, ok.op) ? handlers[ok.op] : undefined;
        if (!h)
          throw new AtnError(
            'unknown_op',
            'ATN-8.5',
            `op: unknown op ${JSON.stringify(ok.op.slice(0, 60))}; this target serves ${['hello', ...Object.keys(handlers)].join(', ')} (ATN-8.5)`,
            'op',
          );
        return { id, ok: true, result: await h(ok.args) };
      } catch (e) {
        return { id, ok: false, error: errorBody(e) };
      }
    },
    close,
  };
}

/**
 * Sends one request and returns the result, throwing the error body as an AtnError-like Error on failure. R is the
 * caller's word for the result's type, not checked here: for our own targets (tests, hello); a check of a foreign
 * target reads results through Session.checked (properties/lib/checks/framework.ts), which checks them first.
 */
export async function call<R = Record<string, unknown>>(target: Target, op: string, args: Record<string, unknown>, id: Id = 1): Promise<R> {
  const res = await target.handle({ id, op, args });
  if (!res.ok) {
    const err = new Error(`${res.error.code} (${res.error.clause}): ${res.error.message}`);
    (err as Error & { body?: unknown }).body = res.error;
    throw err;
  }
  return res.result as R;
}
