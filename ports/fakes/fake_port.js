#!/usr/bin/env node
'use strict';
/**
 * A misbehaving protocol v1 port for the tests of protocol/port.ts: `node fake_port.js MODE [N]`.
 * It answers every op with {n, echo: args} (n counts the non-hello requests of this process, from 1), except that on
 * request N it misbehaves as MODE says:
 *   ok            never misbehaves
 *   crash         exits with code 3 (after a line on stderr) instead of answering
 *   hang          never answers
 *   garbage       prints a non-JSON line, then the answer
 *   garbage-only  prints a non-JSON line instead of the answer
 *   wrong-id      answers with id + 1000
 *   double        answers twice
 *   crash-idle    answers, then exits with code 4 shortly after
 *   huge          answers with a line over 64 MiB
 *   leak          never misbehaves, but n keeps counting: the same request gets a different answer each time
 *   die-at-start  exits with code 1 before reading anything
 *   no-hello      reads but never answers anything
 *   banner        prints a banner line at start (before hello), then behaves
 * With env FAKE_ONCE=FILE it misbehaves only while FILE does not exist, and creates it when it does (so that a
 * restarted port behaves: the count restarts with each process).
 */
const fs = require('node:fs');
const { onLines } = require('./lines');
const mode = process.argv[2] || 'ok';
const N = Number(process.argv[3] || 1);

if (mode === 'die-at-start') {
  process.stderr.write('fake_port: cannot load model weights\n');
  process.exit(1);
}
if (mode === 'banner') process.stdout.write('Loading fake port v0...\n');

let n = 0;
onLines(process.stdin, onLine);
process.stdin.on('end', () => process.exit(0));

function send(v) {
  process.stdout.write(JSON.stringify(v) + '\n');
}

function onLine(line) {
  if (mode === 'no-hello') return;
  const req = JSON.parse(line);
  if (req.op === 'hello') {
    send({ id: req.id, ok: true, result: { name: `fake-${mode}`, version: '0', protocol: 1, ops: ['hello', 'echo'], dtypes: ['float64'] } });
    return;
  }
  n++;
  const answer = { id: req.id, ok: true, result: { n, echo: req.args } };
  if (n !== N || mode === 'ok' || mode === 'leak' || mode === 'banner') return send(answer);
  const once = process.env.FAKE_ONCE;
  if (once) {
    if (fs.existsSync(once)) return send(answer);
    fs.writeFileSync(once, mode);
  }
  switch (mode) {
    case 'crash':
      process.stderr.write(`fake_port: segmentation fault on request ${n}\n`);
      process.exit(3);
      break;
    case 'hang':
      return;
    case 'garbage':
      process.stdout.write('debug: computing window statistics\n');
      return send(answer);
    case 'garbage-only':
      process.stdout.write('Traceback (most recent call last): nothing useful\n');
      return;
    case 'wrong-id':
      return send({ ...answer, id: typeof req.id === 'number' ? req.id + 1000 : `${req.id}-x` });
    case 'double':
      send(answer);
      return send(answer);
    case 'crash-idle':
      send(answer);
      setTimeout(() => {
        process.stderr.write('fake_port: background thread died\n');
        process.exit(4);
      }, 50);
      return;
    case 'huge':
      process.stdout.write('{"id":' + JSON.stringify(req.id) + ',"ok":true,"result":{"pad":"' + 'x'.repeat((64 << 20) + 10) + '"}}\n');
      return;
    default:
      return send(answer);
  }
}
