#!/usr/bin/env node
'use strict';
/**
 * Fault injection for whole campaigns: `node flaky_proxy.js [--crash N] [--hang N] [--garbage N] [--state DIR] -- CMD`
 * runs CMD (a real protocol v1 target, e.g. `node bin/atn.js serve --target reference`) and relays lines both ways,
 * except that on the N-th non-hello request it crashes (exit 3 with a line on stderr), never answers (hang), or
 * prints a non-JSON line before the answer (garbage). With --state DIR each fault happens once per run (a marker file
 * in DIR), so a restarted proxy behaves — the campaign must record the fault, restart the port and go on.
 *
 * A request may also carry its own fault, in an extra envelope key `"inject"` that the proxy removes before relaying
 * (properties/faults.test.ts puts one in a request of every check): "crash" (exit 3), "stall" (never answered),
 * "garbage" (a non-JSON line before the answer) or "double" (the answer written twice, in one write).
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { onLines } = require('./lines');

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
if (sep < 0 || sep === argv.length - 1) {
  process.stderr.write('usage: flaky_proxy.js [--crash N] [--hang N] [--garbage N] [--state DIR] -- COMMAND...\n');
  process.exit(2);
}
const opts = {};
for (let i = 0; i < sep; i += 2) opts[argv[i].replace(/^--/, '')] = argv[i + 1];
const inner = spawn(argv.slice(sep + 1).join(' '), { shell: true, stdio: ['pipe', 'pipe', 'inherit'] });
inner.on('exit', (code) => process.exit(code ?? 1));

let doubleNext = false; // the next answer is written twice (one request is on the wire at a time)
onLines(inner.stdout, (line) => {
  process.stdout.write(doubleNext ? `${line}\n${line}\n` : `${line}\n`);
  doubleNext = false;
});

function due(fault, n) {
  if (opts[fault] === undefined || Number(opts[fault]) !== n) return false;
  if (!opts.state) return true;
  const marker = path.join(opts.state, `${fault}.done`);
  if (fs.existsSync(marker)) return false;
  fs.writeFileSync(marker, String(n));
  return true;
}

let n = 0;
onLines(process.stdin, (line) => {
  let op = '';
  let req;
  try {
    req = JSON.parse(line);
    op = req.op;
  } catch {
    /* relayed as is: the inner target answers parse errors */
  }
  const inject = req && typeof req === 'object' && Object.hasOwn(req, 'inject') ? req.inject : undefined;
  if (inject !== undefined) {
    delete req.inject;
    const relay = JSON.stringify(req) + '\n';
    if (inject === 'crash') {
      process.stderr.write(`flaky_proxy: injected crash on request ${JSON.stringify(req.id)}\n`);
      inner.kill('SIGKILL');
      process.exit(3);
    }
    if (inject === 'stall') return; // swallowed: never answered
    if (inject === 'garbage') process.stdout.write(`flaky_proxy: injected garbage before the answer to ${JSON.stringify(req.id)}\n`);
    if (inject === 'double') doubleNext = true;
    inner.stdin.write(relay);
    return;
  }
  if (op !== 'hello') {
    n++;
    if (due('crash', n)) {
      process.stderr.write(`flaky_proxy: injected crash on request ${n}\n`);
      inner.kill('SIGKILL');
      process.exit(3);
    }
    if (due('hang', n)) return; // swallowed: never answered
    if (due('garbage', n)) process.stdout.write(`flaky_proxy: injected garbage before request ${n}'s answer\n`);
  }
  inner.stdin.write(`${line}\n`);
});
process.stdin.on('end', () => inner.stdin.end());
