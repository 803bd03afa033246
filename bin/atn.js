#!/usr/bin/env node
'use strict';
// The `atn` command. The TypeScript sources are compiled to dist/ by `npm install` (the prepare script).
let main;
try {
  ({ main } = require('../dist/cli/main.js'));
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('dist/cli/main.js')) {
    process.stderr.write('atn: dist/ is missing; run `npm install` (or `npm run build`) in the atn-kit folder first\n');
    process.exit(2);
  }
  throw e;
}
// A reader that closes early (`atn report --json | head`) is not an error of ours.
process.stdout.on('error', (e) => {
  if (e && e.code === 'EPIPE') process.exit(process.exitCode || 0);
  else throw e;
});
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`atn: ${e && e.stack ? e.stack : e}\n`);
    process.exitCode = 2;
  },
);
