/**
 * A foreign port as a Target: a shell command that speaks protocol v1 (ATN-8) on its stdin/stdout. One request is on
 * the wire at a time. The port is untrusted: whatever it does (crash, hang, print garbage, answer with the wrong id),
 * handle() still answers every request, and what went wrong is recorded in `faults` for the report.
 *
 * Fault handling:
 * - timeout: the process group is killed; the request is answered with an "internal" error (ATN-8.6); the port is
 *   started again on the next request.
 * - crash (exit while a request is on the wire, or while idle): recorded with the exit code/signal and the last stderr
 *   lines; restarted lazily on the next request.
 * - garbage (a line that is not a JSON response envelope): recorded and skipped, so that a stray debug print does not
 *   cost a request; the request still ends by its response or by the timeout.
 * - wrong-id (a response whose id is not the request's, or a line that arrives while no request is on the wire):
 *   recorded; the request is answered with an error (the port's answer cannot be attributed).
 * - start: spawnPort rejects with PortStartError when the first start fails (exit, or no hello answer in time).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { LIMITS } from '../spec/limits';
import { decodeLine, decodeNumbers, isRecord, own, toLine, type BadUtf8 } from './codec';
import { newToken, reap, settle, TOKEN_VAR } from './reap';
import type { Target } from './target';
import type { ErrorBody, Fault, Hello, Id, Outgoing, Response, UncheckedResult } from './types';

export interface PortOptions {
  /** Per-request limit in ms (default 60 s). */
  timeoutMs?: number;
  /** Limit for the process to start and answer hello, in ms (default 60 s: Python + torch imports are slow). */
  startTimeoutMs?: number;
  /** Extra environment variables (over process.env). */
  env?: Record<string, string>;
  cwd?: string;
  /** Grace before SIGTERM, then SIGKILL, in close() (default 2 s). */
  graceMs?: number;
}

export type PortTarget = Target & { faults: Fault[]; hello?: Hello; readonly command: string };

/** The port could not be started: the CLI reports the message and exits with status 2. */
export class PortStartError extends Error {
  constructor(
    message: string,
    readonly faults: Fault[],
  ) {
    super(message);
    this.name = 'PortStartError';
  }
}

/** Memory bounds: what we keep of a misbehaving port. */
const STDERR_KEEP_BYTES = 16 << 10;
const STDERR_TAIL_LINES = 20;
const MAX_FAULTS = 1000;
const SHOWN_LINE_CHARS = 200;
/** Consecutive failed restarts after which the port is considered down (requests are answered at once). */
const MAX_RESTART_FAILURES = 3;
/** Consecutive timeouts after which the port is considered down (ATN-8.11): the rest is answered at once. */
export const MAX_CONSECUTIVE_TIMEOUTS = 3;
/** How long stdout may stay open after the port exited (or stay closed while it runs) before that is the end. */
const EXIT_DRAIN_MS = 300;

type LineEvent = { line: string } | { tooLong: number } | BadUtf8 | { exit: string };

/** Ports still running: killed when this process exits, so that a hung port never outlives the suite. */
const LIVE = new Set<Proc>();
let exitHook = false;
function track(p: Proc): void {
  LIVE.add(p);
  void p.closed.then(() => LIVE.delete(p));
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const q of LIVE) q.kill('SIGKILL');
  });
}

/** One running child process with a line reader; events are delivered to at most one waiter, else queued. */
class Proc {
  readonly child: ChildProcess;
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = 0;
  private queue: LineEvent[] = [];
  private waiter?: (e: LineEvent) => void;
  private stderr = '';
  exited?: string;
  /** Set when we ended it (timeout, close) or already reported its exit: no "crash while idle" then. */
  accounted = false;
  readonly closed: Promise<void>;

  /** Inherited by everything the port starts: found and killed by it when the port ends (protocol/reap.ts). */
  readonly token = newToken();

  constructor(command: string, opts: PortOptions) {
    // detached: the command runs in its own process group, so that a kill reaches what the shell started too.
    this.child = spawn(command, {
      shell: true,
      detached: true,
      cwd: opts.cwd,
      env: { ...process.env, ...(opts.env ?? {}), [TOKEN_VAR]: this.token },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdin!.on('error', () => {}); // EPIPE when the port died: seen as its exit instead
    this.child.stdout!.on('data', (b: Buffer) => this.onData(b));
    this.child.stderr!.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString('utf8')).slice(-STDERR_KEEP_BYTES);
    });
    this.closed = new Promise((resolve) => {
      const done = (how: string) => {
        if (this.exited !== undefined) return;
        this.exited = how;
        this.push({ exit: how });
        resolve();
      };
      this.child.on('error', (e) => done(`could not be spawned: ${e.message}`));
      // 'close' waits for stdout to drain, so a last response before exit is still read.
      this.child.on('close', (code, signal) => done(signal ? `was killed by ${signal}` : `exited with code ${code}`));
      // ...but a process the port left behind may hold stdout open for ever: after a short drain, the exit is the end.
      this.child.on('exit', (code, signal) =>
        setTimeout(() => {
          if (this.exited !== undefined) return;
          const left = reap(this.token);
          this.child.stdout?.destroy();
          this.child.stderr?.destroy();
          done(
            `${signal ? `was killed by ${signal}` : `exited with code ${code}`}, leaving ${left.length || 'a'} process${left.length > 1 ? 'es' : ''} behind that held its stdout (killed)`,
          );
        }, EXIT_DRAIN_MS).unref(),
      );
      // A port that closes its stdout but keeps running can never answer again: it is ended at once, not waited for.
      this.child.stdout!.on('end', () =>
        setTimeout(() => {
          if (this.exited !== undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
          this.kill('SIGKILL');
          done('closed its stdout but kept running (killed: it can never answer again)');
        }, EXIT_DRAIN_MS).unref(),
      );
    });
  }

  private onData(b: Buffer): void {
    const max = LIMITS.maxLineBytes;
    for (;;) {
      const nl = b.indexOf(10);
      const piece = nl < 0 ? b : b.subarray(0, nl);
      if (this.discarding) this.discarding += piece.length;
      else if (this.size + piece.length > max) {
        this.discarding = this.size + piece.length;
        this.parts = [];
        this.size = 0;
      } else {
        this.parts.push(piece);
        this.size += piece.length;
      }
      if (nl < 0) return;
      if (this.discarding) this.push({ tooLong: this.discarding });
      else {
        const text = decodeLine(Buffer.concat(this.parts));
        if (typeof text !== 'string') this.push(text);
        else {
          const line = text.replace(/\r$/, '');
          if (line.trim() !== '') this.push({ line });
        }
      }
      this.parts = [];
      this.size = 0;
      this.discarding = 0;
      b = b.subarray(nl + 1);
    }
  }

  private push(e: LineEvent): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(e);
    } else if (this.queue.length < 64 || 'exit' in e) this.queue.push(e); // a flood of unread lines is not kept
  }

  /** Lines that arrived while nobody waited (unsolicited output). */
  drain(): LineEvent[] {
    const q = this.queue.filter((e) => !('exit' in e));
    this.queue = this.queue.filter((e) => 'exit' in e);
    return q;
  }

  /** The next event, or undefined after `ms`. */
  next(ms: number): Promise<LineEvent | undefined> {
    const q = this.queue.shift();
    if (q) {
      if ('exit' in q) this.queue.unshift(q); // the exit stays visible to every later waiter
      return Promise.resolve(q);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, ms);
      this.waiter = (e) => {
        clearTimeout(timer);
        resolve(e);
      };
    });
  }

  write(line: string): void {
    if (this.exited === undefined && this.child.stdin!.writable) this.child.stdin!.write(line + '\n');
  }

  stderrTail(): string {
    const lines = this.stderr.split('\n').filter((l) => l.trim() !== '');
    return lines.slice(-STDERR_TAIL_LINES).join('\n');
  }

  kill(signal: NodeJS.Signals): void {
    this.accounted = true;
    if (this.child.pid === undefined) return;
    if (this.exited === undefined)
      try {
        process.kill(-this.child.pid, signal); // the whole group
      } catch {
        try {
          this.child.kill(signal);
        } catch {
          /* already gone */
        }
      }
    if (signal === 'SIGKILL') reap(this.token); // and what left the group (setsid), found by its token
  }

  /** Bytes of a line that has not ended yet (a port that never prints a newline). */
  pendingBytes(): number {
    return this.size + this.discarding;
  }

  /** stdin end, then SIGTERM and SIGKILL after a grace each. */
  async stop(graceMs: number): Promise<void> {
    this.accounted = true;
    if (this.exited !== undefined) return;
    this.child.stdin!.end();
    if (await within(this.closed, graceMs)) return;
    this.kill('SIGTERM');
    if (await within(this.closed, graceMs)) return;
    this.kill('SIGKILL');
    await within(this.closed, graceMs);
  }

  /** After the port ended: what it left behind (a detached grandchild) is killed too, and has ended on return. */
  async reapLeftovers(): Promise<void> {
    reap(this.token);
    await settle();
  }
}

function within(p: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(() => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

function shown(s: string): string {
  return s.length > SHOWN_LINE_CHARS ? `${JSON.stringify(s.slice(0, SHOWN_LINE_CHARS))}... (${s.length} chars)` : JSON.stringify(s);
}

function idText(id: unknown): string {
  return JSON.stringify(id) ?? String(id);
}

/**
 * The line with the bare tokens NaN, Infinity and -Infinity outside strings replaced by the wire strings of ATN-8.3,
 * or undefined when it has none. Python's json.dumps writes such tokens by default; they are not JSON, but the values
 * are unambiguous, so the answer is read (and failed citing ATN-8.3) instead of being skipped until the timeout.
 */
export function quoteBareNonFinite(line: string): string | undefined {
  let out = '';
  let last = 0;
  let found = false;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line.charCodeAt(i);
    if (inString) {
      if (ch === 92)
        i++; // backslash: skip the escaped character
      else if (ch === 34) inString = false;
      continue;
    }
    if (ch === 34) {
      inString = true;
      continue;
    }
    for (const tok of ['-Infinity', 'Infinity', 'NaN']) {
      if (line.startsWith(tok, i) && !/[A-Za-z0-9_]/.test(line[i + tok.length] ?? '') && !/[A-Za-z0-9_.]/.test(line[i - 1] ?? '')) {
        out += line.slice(last, i) + JSON.stringify(tok);
        i += tok.length - 1;
        last = i + 1;
        found = true;
        break;
      }
    }
  }
  return found ? out + line.slice(last) : undefined;
}

/** The sentence a check shows for an answer with bare non-finite tokens (ATN-8.3), with the fix. */
export const BARE_NON_FINITE =
  'the answer holds bare NaN/Infinity tokens, which are not JSON (ATN-8.3): send the strings "NaN", "Infinity", "-Infinity" instead (Python: json.dumps(..., allow_nan=False) after mapping non-finite floats to those strings)';

/** A parsed line: a response envelope, or why it is not one. */
function parseResponse(line: string): { res?: Response; hasId: boolean; id?: unknown; why?: string } {
  let v: unknown;
  let wire: string | undefined;
  try {
    v = JSON.parse(line);
  } catch {
    const quoted = quoteBareNonFinite(line);
    try {
      if (quoted === undefined) throw new Error('not JSON');
      v = JSON.parse(quoted);
      wire = BARE_NON_FINITE;
    } catch {
      return { hasId: false, why: 'not JSON' };
    }
  }
  if (!isRecord(v)) return { hasId: false, why: 'not a JSON object' };
  const o = v;
  if (!Object.hasOwn(o, 'id')) return { hasId: false, why: 'no id' };
  const mark = (res: Response): Response => (wire ? { ...res, wire } : res);
  const result = own(o, 'result');
  const error = own(o, 'error');
  if (own(o, 'ok') === true && isRecord(result))
    return { hasId: true, id: o.id, res: mark({ id: o.id as Id, ok: true, result: decodeNumbers(result) as UncheckedResult }) };
  if (own(o, 'ok') === false && isRecord(error)) {
    const e = error;
    const code = own(e, 'code'),
      clause = own(e, 'clause'),
      message = own(e, 'message'),
      arg = own(e, 'arg');
    const body: ErrorBody = {
      code: typeof code === 'string' ? code : 'internal',
      clause: typeof clause === 'string' ? clause : 'ATN-8.6',
      message: typeof message === 'string' ? message : (JSON.stringify(e) ?? '').slice(0, SHOWN_LINE_CHARS),
    };
    if (typeof arg === 'string') body.arg = arg;
    return { hasId: true, id: o.id, res: mark({ id: o.id as Id, ok: false, error: body }) };
  }
  return { hasId: true, id: o.id, why: 'not a response envelope (needs ok: true with a result object, or ok: false with an error object)' };
}

/**
 * Only name and ops are checked: the Hello kept from a port is untrusted beyond them (protocol.hello checks every
 * field; capabilitiesOf and skipReason read the others defensively).
 */
function looksLikeHello(v: Record<string, unknown>): boolean {
  return typeof v.name === 'string' && Array.isArray(v.ops);
}

class Port implements PortTarget {
  private readonly log: Fault[] = [];
  /** A request is on the wire (handleOne runs): lines that arrive now are its answer's business, not unsolicited. */
  private busy = false;
  /**
   * What went wrong so far. Reading it between requests first records the lines that arrived since the last answer
   * (a second copy of the campaign's very last answer arrives when no request follows to drain it).
   */
  get faults(): Fault[] {
    if (!this.busy && this.proc) this.drainUnsolicited(this.proc);
    return this.log;
  }
  hello?: Hello;
  private proc?: Proc;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly t0 = Date.now();
  private readonly timeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly graceMs: number;
  private restartFailures = 0;
  private timeoutsInARow = 0;
  private lastTimeoutWhy = '';
  private closing = false;
  private faultsDropped = 0;
  private helloSeq = 0;
  /** Processes that answered hello (only their later exits count as crashes). */
  private readonly started = new WeakSet<Proc>();

  constructor(
    readonly command: string,
    private readonly opts: PortOptions,
  ) {
    // ATN_PORT_TIMEOUT_MS: the per-request limit for every port of a run (CLI campaigns, tests of hanging ports).
    this.timeoutMs = opts.timeoutMs ?? envMs('ATN_PORT_TIMEOUT_MS') ?? 60_000;
    this.startTimeoutMs = opts.startTimeoutMs ?? 60_000;
    this.graceMs = opts.graceMs ?? 2_000;
  }

  fault(kind: Fault['kind'], message: string, request?: Outgoing): void {
    if (this.log.length < MAX_FAULTS) {
      const f: Fault = { kind, message, atMs: Date.now() - this.t0 };
      if (request) f.request = request;
      this.log.push(f);
    } else if (this.faultsDropped++ === 0) {
      this.log.push({ kind: 'other', message: `more than ${MAX_FAULTS} faults: later ones are not recorded`, atMs: Date.now() - this.t0 });
    }
  }

  /** "port exited with code 3 WHEN; last stderr lines: ..." */
  private exitMessage(p: Proc, when: string): string {
    const tail = p.stderrTail();
    return `port ${p.exited ?? 'exited'} ${when}${tail ? `; last stderr lines:\n${tail}` : ' (no stderr output)'}`;
  }

  /** Starts the process and waits for its hello answer; returns undefined or why it failed. */
  private async start(): Promise<string | undefined> {
    const p = new Proc(this.command, this.opts);
    this.proc = p;
    track(p);
    // An exit between requests is a crash too (noted when it happens, so its time is right).
    // setImmediate: a request waiting on this process sees the exit first and reports it as its own crash.
    void p.closed.then(() =>
      setImmediate(() => {
        if (!p.accounted && !this.closing && this.started.has(p)) {
          p.accounted = true;
          this.fault('crash', this.exitMessage(p, 'while no request was on the wire (it restarts on the next request)'));
        }
      }),
    );
    const id = `atn-kit-port-hello-${this.helloSeq++}`;
    p.write(toLine({ id, op: 'hello', args: {} }));
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      const e = await p.next(Math.max(0, deadline - Date.now()));
      if (e === undefined) {
        p.kill('SIGKILL');
        return `port did not answer hello within ${this.startTimeoutMs} ms${p.stderrTail() ? `; last stderr lines:\n${p.stderrTail()}` : ''}`;
      }
      if ('exit' in e) {
        p.accounted = true;
        return this.exitMessage(p, 'before answering hello');
      }
      if ('tooLong' in e) {
        this.fault('garbage', `port printed a line of ${e.tooLong} bytes (over ${LIMITS.maxLineBytes}) while starting`);
        continue;
      }
      if ('badUtf8' in e) {
        this.fault('garbage', `port printed a line while starting: ${e.badUtf8} (ATN-8.1)`);
        continue;
      }
      const r = parseResponse(e.line);
      if (r.hasId && r.id === id) {
        if (!r.res) this.fault('garbage', `port answered the start-up hello with a line that is ${r.why}: ${shown(e.line)}`);
        else if (r.res.ok && looksLikeHello(r.res.result)) this.hello = r.res.result as unknown as Hello;
        this.started.add(p);
        return undefined; // a port without hello (an error answer) still serves
      }
      if (r.hasId) this.fault('wrong-id', `port answered the start-up hello (id ${idText(id)}) with id ${idText(r.id)}: ${shown(e.line)}`);
      else this.fault('garbage', `port printed a line that is ${r.why} while starting: ${shown(e.line)}`);
    }
  }

  handle(req: Outgoing): Promise<Response> {
    const run = this.chain.then(() => this.handleOne(req));
    this.chain = run.catch(() => undefined);
    return run.catch((e) => this.errorResponse(req, `port wrapper failed: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** The runner's stand-in when the port gave no usable answer: marked byRunner, so no check grades it as the port's. */
  private errorResponse(req: Outgoing, message: string, clause = 'ATN-8.6'): Response {
    const id = req && (typeof req.id === 'string' || typeof req.id === 'number') ? req.id : null;
    return { id, ok: false, error: { code: 'internal', clause, message }, byRunner: true };
  }

  /** Records every line that arrived while no request was on the wire. */
  private drainUnsolicited(p: Proc): void {
    for (const e of p.drain()) {
      if ('line' in e) this.fault('wrong-id', `port printed a line while no request was on the wire: ${shown(e.line)}`);
      else if ('tooLong' in e) this.fault('garbage', `port printed a line of ${e.tooLong} bytes while no request was on the wire`);
      else if ('badUtf8' in e) this.fault('garbage', `port printed a line while no request was on the wire: ${e.badUtf8}`);
    }
  }

  private async handleOne(req: Outgoing): Promise<Response> {
    this.busy = true;
    try {
      return await this.exchangeOne(req);
    } finally {
      this.busy = false;
    }
  }

  private async exchangeOne(req: Outgoing): Promise<Response> {
    const what = `${typeof req?.op === 'string' ? req.op.slice(0, 60) : 'request'} (id ${idText(req?.id)})`;
    if (this.closing) return this.errorResponse(req, `port is closed; cannot answer ${what}`);
    let line: string;
    try {
      line = toLine(req);
    } catch (e) {
      return this.errorResponse(req, `request cannot be written as JSON: ${e instanceof Error ? e.message : String(e)}`, 'ATN-8.2');
    }
    // accounted: it exited, or we killed it (a killed process whose exit was not seen yet is not reused either)
    if (this.timeoutsInARow >= MAX_CONSECUTIVE_TIMEOUTS)
      return this.errorResponse(req, `port stopped answering (${this.timeoutsInARow} requests in a row timed out${this.lastTimeoutWhy}); not sent: ${what}`);
    if (!this.proc || this.proc.exited !== undefined || this.proc.accounted) {
      if (this.restartFailures >= MAX_RESTART_FAILURES)
        return this.errorResponse(req, `port is down (${MAX_RESTART_FAILURES} restarts failed); not sent: ${what}`);
      const why = await this.start();
      if (why) {
        this.restartFailures++;
        this.fault('start', `restart failed: ${why}`, req);
        return this.errorResponse(req, `port could not be restarted to answer ${what}: ${why}`);
      }
      this.restartFailures = 0;
    }
    const p = this.proc!;
    this.drainUnsolicited(p);
    p.write(line);
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const e = await p.next(Math.max(0, deadline - Date.now()));
      if (e === undefined) {
        const pending = p.pendingBytes();
        p.kill('SIGKILL');
        await within(p.closed, this.graceMs);
        this.timeoutsInARow++;
        this.lastTimeoutWhy = pending > 0 ? `; it wrote ${pending} bytes without a newline` : '';
        const msg = `port did not answer ${what} within ${this.timeoutMs} ms${pending > 0 ? ` (it wrote ${pending} bytes but no newline: every response must end with one, ATN-8.1)` : ''}; killed it, it restarts on the next request`;
        this.fault('timeout', msg, req);
        return this.errorResponse(req, msg);
      }
      if ('exit' in e) {
        p.accounted = true;
        const msg = this.exitMessage(p, `while answering ${what} (it restarts on the next request)`);
        this.fault('crash', msg, req);
        return this.errorResponse(req, msg);
      }
      if ('tooLong' in e) {
        const msg = `port answered ${what} with a line of ${e.tooLong} bytes, over the limit of ${LIMITS.maxLineBytes}`;
        this.fault('garbage', msg, req);
        return this.errorResponse(req, msg, 'ATN-6.9');
      }
      if ('badUtf8' in e) {
        // Decoding with replacement characters would alter the id or a string of the answer: it is not read.
        const msg = `port answered ${what} with a line that is not UTF-8: ${e.badUtf8} (ATN-8.1)`;
        this.fault('garbage', msg, req);
        return this.errorResponse(req, msg, 'ATN-8.1');
      }
      const r = parseResponse(e.line);
      const want = typeof req.id === 'string' || typeof req.id === 'number' ? req.id : null;
      if (!r.hasId) {
        this.fault('garbage', `port printed a line that is ${r.why} while answering ${what}: ${shown(e.line)}`, req);
        continue; // a stray print; the response may still come
      }
      if (r.id !== want) {
        const msg = `port answered ${what} with id ${idText(r.id)}: ${shown(e.line)}`;
        this.fault('wrong-id', msg, req);
        return this.errorResponse(req, msg, 'ATN-8.2');
      }
      if (!r.res) {
        const msg = `port answered ${what} with a line that is ${r.why}: ${shown(e.line)}`;
        this.fault('garbage', msg, req);
        return this.errorResponse(req, msg, 'ATN-8.2');
      }
      if (req.op === 'hello' && r.res.ok && looksLikeHello(r.res.result)) this.hello = r.res.result as unknown as Hello;
      this.timeoutsInARow = 0;
      return r.res;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.chain;
    if (this.proc) {
      await this.proc.stop(this.graceMs);
      await this.proc.reapLeftovers();
    }
  }

  async startFirst(): Promise<void> {
    const why = await this.start();
    if (why) {
      this.fault('start', why);
      throw new PortStartError(`could not start port \`${this.command}\`: ${why}`, this.log);
    }
  }
}

/**
 * Starts `command` (run by the shell) and checks it answers hello. Rejects with PortStartError when it does not start.
 * Fault times (atMs) count from this call.
 */
export async function spawnPort(command: string, opts: PortOptions = {}): Promise<PortTarget> {
  const port = new Port(command, opts);
  await port.startFirst();
  return port;
}

function envMs(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number of milliseconds, got ${JSON.stringify(v)}`);
  return n;
}
