#!/usr/bin/env node
'use strict';
/**
 * A hostile port for properties/hostile.test.ts: `node hostile_proxy.js MODE -- CMD` runs CMD (a real protocol v1
 * target, e.g. `node bin/atn.js serve --target reference`) and relays its answers, altered as an attacker (or a
 * careless port author) would:
 *   proto         every result wrapped as {"__proto__": result} (a forged pass, if the runner assigned keys)
 *   proto-extra   every result gets an extra own key "__proto__": {} beside its right keys
 *   tostring      the first number of every result replaced by "toString" ("constructor" for the second)
 *   deep          every result nested 100,000 arrays deep (a few hundred KB line)
 *   huge          every result holds 2,000,000 numbers (about 4 MB per line)
 *   bare-nan      the strings "NaN"/"Infinity" of every line written as bare tokens (Python's json.dumps default),
 *                 and the first number of every result replaced by a bare NaN (so that every answer has one)
 *   lenient       a request whose op is not a string or whose args is not an object is answered ok (as
 *                 `req.get("args") or {}` does), with the answer to the same request with args {}
 *   ansi          hello.name and hello.version carry ANSI/OSC escapes and a bidi override; every error message an
 *                 escape that would erase the line and print a green CONFORMS
 *   bad-hello     hello.dtypes is the number 3
 *   stale         from the 2nd request on, answers each request with the previous request's answer (its id too)
 *   all-internal  answers every non-hello request with the same internal error (a module that cannot be built)
 *   close-stdout  after hello, closes its stdout but stays alive (reads and ignores requests)
 *   no-newline    after hello, writes its answers without a newline
 *   bad-utf8      after hello, every answer carries a byte that is not UTF-8 (0xff) inside its id string
 *   grandchild    starts a grandchild in its own session holding stdout (`sleep 45`, pid written to
 *                 $HOSTILE_PID_FILE), then crashes on request 3
 */
const { spawn } = require('node:child_process');
const { onLines } = require('./lines');

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const mode = argv[0];
if (sep !== 1 || sep === argv.length - 1) {
  process.stderr.write('usage: hostile_proxy.js MODE -- COMMAND...\n');
  process.exit(2);
}
const inner = spawn(argv.slice(sep + 1).join(' '), { shell: true, stdio: ['pipe', 'pipe', 'inherit'] });
inner.on('exit', (code) => {
  if (mode !== 'close-stdout' && mode !== 'grandchild') process.exit(code ?? 1);
});

const ESC = '\u001b';
const ATTACK = `${ESC}]0;pwned${'\u0007'}${ESC}[2K\r${ESC}[32mCONFORMS${ESC}[0m`;

let seen = 0; // non-hello requests
let previous; // the previous answer line (stale)
let helloDone = false;
const lenient = new Set(); // ids of requests sent on with args {} (lenient)

function out(line, afterHello) {
  if (mode === 'no-newline' && afterHello) return void process.stdout.write(line);
  const at = line.indexOf('{"id":"') + 7;
  if (mode === 'bad-utf8' && afterHello && at >= 7)
    return void process.stdout.write(Buffer.concat([Buffer.from(line.slice(0, at)), Buffer.from([0xff]), Buffer.from(line.slice(at) + '\n')]));
  process.stdout.write(line + '\n');
}

function nested(v, depth) {
  let s = JSON.stringify(v);
  return '['.repeat(depth) + s + ']'.repeat(depth);
}

function alter(line) {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return line;
  }
  const isHello = msg.ok && msg.result && Array.isArray(msg.result.ops) && typeof msg.result.name === 'string';
  if (isHello) {
    helloDone = helloDone || msg.id === 'hello' || String(msg.id).startsWith('atn-kit-port-hello');
    if (mode === 'ansi') {
      msg.result.name = `evil${ATTACK}`;
      msg.result.version = `1.0\u202Egnp.exe`;
    }
    if (mode === 'bad-hello') msg.result.dtypes = 3;
    return JSON.stringify(msg);
  }
  if (mode === 'ansi' && msg.ok === false) msg.error.message += ATTACK;
  if (mode === 'all-internal')
    return JSON.stringify({
      id: msg.id,
      ok: false,
      error: { code: 'internal', clause: 'ATN-8.6', message: "AttributeError: module 'atn' has no attribute 'ATNLayer'" },
    });
  if (!msg.ok) return JSON.stringify(msg);
  const r = JSON.stringify(msg.result);
  const head = `{"id":${JSON.stringify(msg.id)},"ok":true,"result":`;
  switch (mode) {
    case 'proto':
      return `${head}{"__proto__":${r}}}`;
    case 'proto-extra':
      return `${head}${r.slice(0, -1)},"__proto__":{}}}`;
    case 'tostring': {
      let k = 0;
      return head + r.replace(/-?\d[\d.eE+-]*/g, (m) => (k++ === 0 ? '"toString"' : k === 2 ? '"constructor"' : m)) + '}';
    }
    case 'deep':
      return `${head}{"y":${nested(0, 100000)}}}`;
    case 'huge':
      return `${head}{"y":[${new Array(2000000).fill('1.5').join(',')}]}}`;
    default:
      return JSON.stringify(msg);
  }
}

onLines(inner.stdout, (raw) => {
  const afterHello = helloDone; // the misbehaviour starts after the start-up hello has been answered
  let line = alter(raw);
  if (mode === 'bare-nan' && line.includes('"result":') && !line.includes('"name"')) line = line.replace(/("result":[^0-9-]*)-?\d[\d.eE+-]*/, '$1"NaN"');
  if (mode === 'bare-nan') line = line.replace(/"(-?Infinity|NaN)"/g, '$1');
  if (mode === 'stale' && seen >= 2 && previous !== undefined) {
    const now = line;
    line = previous;
    previous = now;
  } else if (!line.includes('"name"')) previous = line;
  if (mode === 'close-stdout' && afterHello) {
    process.stdout.end();
    return;
  }
  out(line, afterHello);
});

onLines(process.stdin, (raw) => {
  let line = raw;
  let req;
  try {
    req = JSON.parse(line);
  } catch {
    req = undefined;
  }
  if (req && req.op !== 'hello') {
    seen++;
    if (mode === 'grandchild' && seen === 1) {
      // detached: its own session (setsid), out of the port's process group; it holds the port's stdout
      const g = spawn('sleep', ['45'], { stdio: ['ignore', 'inherit', 'ignore'], detached: true });
      g.unref();
      if (process.env.HOSTILE_PID_FILE) require('node:fs').writeFileSync(process.env.HOSTILE_PID_FILE, String(g.pid));
    }
    if (mode === 'grandchild' && seen === 3) process.exit(3);
    if (mode === 'lenient' && (typeof req.op !== 'string' || req.args === null || typeof req.args !== 'object' || Array.isArray(req.args)))
      line = JSON.stringify({ id: req.id, op: typeof req.op === 'string' ? req.op : 'atn.forward', args: {} });
  }
  void lenient;
  inner.stdin.write(line + '\n');
});
process.stdin.on('end', () => {
  inner.stdin.end();
  if (mode === 'close-stdout') process.exit(0);
});
