/**
 * `atn COMMAND ...`: each command is a module in cli/commands exporting `run(argv): Promise<number>` (the exit status),
 * loaded only when named so that `atn serve --target reference` never loads tfjs.
 * Exit status convention: 0 success / conforms, 1 a clause failed / a mutant survived, 2 could not run (usage, start).
 */
import { termText } from '../reports/terminal';
import { UsageError } from './flags';

const COMMANDS: Record<string, string> = {
  serve: 'serve a target over protocol v1 on stdin/stdout: --target reference|impl|mutant:ID [--backend NAME]',
  report: 'run the conformance campaign and write report.{json,md,html} and junit.xml',
  mutants: 'run the default campaign against every catalogue mutant [--json]',
  vectors: 'write the frozen vector corpus: --out DIR [--add-from REPORT]',
  check: 'grade a port on the frozen vector corpus: --port "COMMAND" | --target NAME [--vectors DIR]',
  bench: 'benchmark the tfjs implementation (ATN against LN, ATN-LSTM) [--backend NAME]',
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([c, d]) => `  atn ${c.padEnd(8)} ${d}`);
  return ['usage: atn COMMAND [flags]   (atn --version: the suite version)', '', ...rows, '', 'atn COMMAND --help for the flags of one command.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { packageVersion } = require('../util/package') as typeof import('../util/package');
    process.stdout.write(`atn-kit ${packageVersion()}\n`);
    return 0;
  }
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage() + '\n');
    return cmd ? 0 : 2;
  }
  // Own keys only: "toString" or "constructor" is not a command (`in` would find them on Object.prototype).
  if (!Object.hasOwn(COMMANDS, cmd)) {
    process.stderr.write(`atn: unknown command ${termText(JSON.stringify(cmd))}; the commands are ${Object.keys(COMMANDS).join(', ')}\n\n${usage()}\n`);
    return 2;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(`./commands/${cmd}`) as { run(argv: string[]): Promise<number> };
  try {
    return await mod.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`atn ${cmd}: ${termText(e.message)}\n`);
      return 2;
    }
    throw e;
  }
}
