/**
 * Serves a Target over stdin/stdout as protocol v1 (ATN-8.1): one JSON request per line, one response per line, in
 * order. A malformed line, an unknown op or bad arguments get an error response and the server keeps serving; a line
 * longer than LIMITS.maxLineBytes is refused without being held in memory; end of input ends it with exit 0.
 */
import type { Readable, Writable } from 'node:stream';
import { LIMITS } from '../spec/limits';
import { decodeLine, jsonChunks, type BadUtf8 } from './codec';
import { AtnError } from './errors';
import { checkEnvelope, type Target } from './target';
import type { Response } from './types';

/** Splits a byte stream into lines, replacing over-long lines by a marker instead of buffering them. */
export async function* lines(input: Readable, maxBytes: number = LIMITS.maxLineBytes): AsyncGenerator<string | BadUtf8 | { tooLong: number }> {
  let parts: Buffer[] = [];
  let size = 0;
  let discarding = false;
  let discarded = 0;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (;;) {
      const nl = buf.indexOf(10);
      const piece = nl < 0 ? buf : buf.subarray(0, nl);
      if (discarding) discarded += piece.length;
      else if (size + piece.length > maxBytes) {
        discarding = true;
        discarded = size + piece.length;
        parts = [];
        size = 0;
      } else {
        parts.push(piece);
        size += piece.length;
      }
      if (nl < 0) break;
      if (discarding) yield { tooLong: discarded };
      else yield decodeLine(Buffer.concat(parts));
      parts = [];
      size = 0;
      discarding = false;
      discarded = 0;
      buf = buf.subarray(nl + 1);
    }
  }
  if (discarding) yield { tooLong: discarded };
  else if (size > 0) yield decodeLine(Buffer.concat(parts));
}

/** Answers one raw line (never throws). Empty lines are skipped (returns undefined). */
export async function answerLine(target: Target, line: string): Promise<Response | undefined> {
  if (line.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { id: null, ok: false, error: { code: 'parse_error', clause: 'ATN-8.1', message: `line is not JSON: ${msg} (ATN-8.1)` } };
  }
  const env = checkEnvelope(parsed);
  if (env.error || !env.req) return { id: env.id, ok: false, error: (env.error as AtnError).toBody() };
  return target.handle(env.req);
}

/** Writes `line` and waits while the stream's buffer is full (backpressure). */
function write(out: Writable, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = out.write(line, (err) => (err ? reject(err) : undefined));
    if (ok) resolve();
    else out.once('drain', resolve);
  });
}

/**
 * One response line, written in pieces (codec.ts jsonChunks): an answer longer than the longest string V8 can build
 * (an lstm.forward of 600,000 steps) is still written whole, and memory holds one piece at a time besides the result.
 */
async function writeResponse(out: Writable, res: Response): Promise<void> {
  for (const piece of jsonChunks(res, 1 << 20)) await write(out, piece);
  await write(out, '\n');
}

export async function serve(target: Target, input: Readable = process.stdin, output: Writable = process.stdout): Promise<void> {
  for await (const item of lines(input)) {
    let res: Response | undefined;
    if (typeof item === 'string') res = await answerLine(target, item);
    else if ('badUtf8' in item) res = { id: null, ok: false, error: { code: 'parse_error', clause: 'ATN-8.1', message: `${item.badUtf8} (ATN-8.1)` } };
    else
      res = {
        id: null,
        ok: false,
        error: { code: 'too_large', clause: 'ATN-6.9', message: `line of ${item.tooLong} bytes exceeds the limit of ${LIMITS.maxLineBytes} bytes (ATN-6.9)` },
      };
    if (res) await writeResponse(output, res);
  }
  await target.close();
}
