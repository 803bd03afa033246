import type { ClauseId } from '../spec/clauses';
import type { ErrorBody, ErrorCode } from './types';

/** The one error type our targets throw; a server turns it into an error response (ATN-8.6). */
export class AtnError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly clause: ClauseId,
    message: string,
    readonly arg?: string,
  ) {
    super(message);
    this.name = 'AtnError';
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, clause: this.clause, message: this.message };
    if (this.arg !== undefined) body.arg = this.arg;
    return body;
  }
}

/** An argument breaks a clause: the message names the argument and the clause. */
export function badArgument(arg: string, clause: ClauseId, what: string): AtnError {
  return new AtnError('bad_argument', clause, `${arg}: ${what} (${clause})`, arg);
}

/** Any thrown value as an error body; unexpected exceptions become code "internal". */
export function errorBody(e: unknown): ErrorBody {
  if (e instanceof AtnError) return e.toBody();
  const msg = e instanceof Error ? e.message : String(e);
  return { code: 'internal', clause: 'ATN-8.6', message: `internal error: ${msg}` };
}
