'use strict';
// The entry of the device bundle (tools/device/pack.sh): the commands a GPU run needs, imported statically so that
// esbuild can bundle them (cli/main.ts loads commands by name at run time, which a bundle cannot resolve).
const commands = {
  report: () => require('../../dist/cli/commands/report.js'),
  bench: () => require('../../dist/cli/commands/bench.js'),
};
const [cmd, ...rest] = process.argv.slice(2);
if (!Object.hasOwn(commands, cmd)) {
  process.stderr.write(`atn (device bundle): the commands are ${Object.keys(commands).join(', ')}\n`);
  process.exit(2);
}
commands[cmd]()
  .run(rest)
  .then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`atn: ${e && e.stack ? e.stack : e}\n`);
      process.exit(2);
    },
  );
