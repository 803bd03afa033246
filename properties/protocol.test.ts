/** protocol/server.ts over in-memory streams: JSON Lines in, one response per line, in order (ATN-8). */
import { PassThrough } from 'node:stream';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { lines, serve } from '../protocol/server';
import { targetFromHandlers, type Target } from '../protocol/target';
import type { Hello, Response } from '../protocol/types';
import { LIMITS } from '../spec/limits';

const HELLO: Hello = { name: 'test-target', version: '0.0.0', protocol: 1, ops: ['hello', 'echo', 'slow', 'nan'], dtypes: ['float64'] };

function testTarget(log: string[] = []): Target {
  return targetFromHandlers(
    HELLO,
    {
      echo: (args) => ({ args }),
      // Answers after a delay that shrinks with n: a server that did not wait would reorder the responses.
      slow: async (args) => {
        await new Promise((r) => setTimeout(r, Math.max(0, 20 - 4 * Number(args.n))));
        return { n: args.n };
      },
      nan: () => ({ y: [NaN, Infinity, -Infinity, 1] }),
    },
    async () => {
      log.push('closed');
    },
  );
}

/** Runs serve() on the given input chunks; returns the parsed response lines once the input has ended. */
async function session(chunks: (string | Buffer)[], target: Target = testTarget()): Promise<Response[]> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (d: Buffer) => (text += d.toString('utf8')));
  const done = serve(target, input, output);
  for (const c of chunks) input.write(c);
  input.end();
  await done;
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Response);
}

describe('protocol v1 server', () => {
  it('ATN-8.1 a malformed line gets parse_error with id null, and serving continues', async () => {
    const out = await session(['{"id":1,"op":"hello"\n', 'not json at all\n', '{"id":2,"op":"hello","args":{}}\n']);
    expect(out).toHaveLength(3);
    for (const r of out.slice(0, 2)) {
      expect(r).toMatchObject({ id: null, ok: false, error: { code: 'parse_error', clause: 'ATN-8.1' } });
      expect((r as { error: { message: string } }).error.message).toMatch(/not JSON/);
    }
    expect(out[2]).toMatchObject({ id: 2, ok: true, result: { name: 'test-target', protocol: 1 } });
  });

  it('ATN-8.5 an unknown op gets unknown_op naming the op, with the request id', async () => {
    const out = await session([
      '{"id":"a","op":"atn.backward","args":{}}\n',
      '{"id":"b","op":"constructor","args":{}}\n',
      '{"id":"c","op":"echo","args":{"x":1}}\n',
    ]);
    expect(out[0]).toMatchObject({ id: 'a', ok: false, error: { code: 'unknown_op', clause: 'ATN-8.5' } });
    expect((out[0] as { error: { message: string } }).error.message).toContain('atn.backward');
    expect(out[1]).toMatchObject({ id: 'b', ok: false, error: { code: 'unknown_op' } });
    expect(out[2]).toMatchObject({ id: 'c', ok: true, result: { args: { x: 1 } } });
  });

  it('ATN-8.2 bad envelopes get bad_request (id echoed when it is valid, else null) and serving continues', async () => {
    const bad = [
      '[1,2]',
      '42',
      '{"op":"hello"}',
      '{"id":{"x":1},"op":"hello"}',
      '{"id":3,"op":7}',
      '{"id":4,"op":"echo","args":[1]}',
      '{"id":5,"op":"echo","args":null}',
    ];
    const out = await session([...bad.map((l) => l + '\n'), '{"id":6,"op":"echo"}\n']);
    expect(out.map((r) => r.id)).toEqual([null, null, null, null, 3, 4, 5, 6]);
    for (const r of out.slice(0, -1)) expect(r).toMatchObject({ ok: false, error: { code: 'bad_request', clause: 'ATN-8.2' } });
    expect(out[7]).toMatchObject({ ok: true, result: { args: {} } });
  });

  it('ATN-8.1 responses come one per request line, in order, even when later requests answer faster', async () => {
    const reqs = Array.from({ length: 6 }, (_, n) => JSON.stringify({ id: n, op: 'slow', args: { n } }) + '\n');
    // Split the lines across chunk boundaries, and put blank lines between them (skipped, not answered).
    const joined = reqs.join('\n');
    const chunks = [joined.slice(0, 7), joined.slice(7, 50), joined.slice(50)];
    const out = await session(chunks);
    expect(out.map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(out.map((r) => (r as unknown as { result: { n: number } }).result.n)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('ATN-8.3 non-finite results travel as the strings NaN, Infinity, -Infinity', async () => {
    const out = await session(['{"id":1,"op":"nan"}\n']);
    expect(out[0]).toEqual({ id: 1, ok: true, result: { y: ['NaN', 'Infinity', '-Infinity', 1] } });
  });

  it('ATN-8.1 end of input ends serving: the last line without a newline is answered, then the target is closed', async () => {
    const log: string[] = [];
    const out = await session(['{"id":1,"op":"hello"}\n{"id":2,"op":"echo","args":{"k":2}}'], testTarget(log));
    expect(out.map((r) => r.id)).toEqual([1, 2]);
    expect(log).toEqual(['closed']);
    expect(await session([])).toEqual([]);
  });

  it('ATN-6.9 an over-long line is refused with too_large and serving continues', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => (text += d.toString('utf8')));
    const done = serve(testTarget(), input, output);
    const chunk = Buffer.alloc(1 << 20, 0x20); // 1 MiB of spaces: the line would be blank if it were ever parsed
    const write = (b: Buffer | string) => new Promise<void>((resolve) => (input.write(b) ? resolve() : input.once('drain', () => resolve())));
    for (let i = 0; i <= LIMITS.maxLineBytes / chunk.length; i++) await write(chunk);
    await write('\n{"id":9,"op":"hello"}\n');
    input.end();
    await done;
    const out = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Response);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ id: null, ok: false, error: { code: 'too_large', clause: 'ATN-6.9' } });
    expect((out[0] as { error: { message: string } }).error.message).toContain(String(LIMITS.maxLineBytes + chunk.length));
    expect(out[1]).toMatchObject({ id: 9, ok: true });
  });

  it('ATN-6.9 lines() holds at most the limit of an over-long line, however long it grows', async () => {
    // A collectable garbage collector makes retained memory measurable (without it nothing is ever freed in a test).
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const limit = 1 << 20;
    const input = new PassThrough();
    const got: unknown[] = [];
    const reading = (async () => {
      for await (const l of lines(input, limit)) got.push(l);
    })();
    const write = (b: Buffer | string) => new Promise<void>((resolve) => (input.write(b) ? resolve() : input.once('drain', () => resolve())));
    gc();
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    for (let i = 0; i < 32; i++) {
      await write(Buffer.alloc(1 << 20, 0x61)); // fresh memory each time: kept chunks would add up
      if (i % 4 === 3) {
        gc();
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
      }
    }
    await write('\nok\n');
    input.end();
    await reading;
    expect(got).toEqual([{ tooLong: 32 << 20 }, 'ok']);
    // 32 MiB went through; a reader that kept the line would retain all of it.
    expect(peak).toBeLessThan(8 * limit);
  });

  it('ATN-6.9 lines() marks over-long lines with their size and keeps splitting after them', async () => {
    const input = new PassThrough();
    const got: unknown[] = [];
    const reading = (async () => {
      for await (const l of lines(input, 8)) got.push(l);
    })();
    input.write('short\n0123');
    input.write('456789abc');
    input.write('def\nok\nlast');
    input.end();
    await reading;
    expect(got).toEqual(['short', { tooLong: 16 }, 'ok', 'last']);
  });
});
