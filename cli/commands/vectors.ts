/**
 * atn vectors --out DIR [--add-from REPORT]: writes the frozen vector corpus (DIR/corpus.json, schema beside it).
 * The hand-picked cases are recomputed by the reference; cases added earlier from reports are kept. --add-from adds
 * the shrunk counterexamples of a report.json's failed checks.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createReference } from '../../reference';
import { readReport } from '../../reports/json';
import { suiteInfo } from '../../properties/lib/campaign';
import { SchemaError } from '../../reports/validate';
import { buildCorpus, casesFromReport, CORPUS_FILE, CorpusError, loadCorpus, mergeCases, writeCorpus } from '../../reports/vectors';
import { onlyFlags, parseFlags, str, UsageError } from '../flags';

const USAGE = `usage: atn vectors --out DIR [--add-from REPORT.json]

Writes DIR/corpus.json: hand-picked requests (float32 and float64) with the answers of the reference (want and the
derived tolerance) or the error a conforming target answers with. --add-from adds the shrunk counterexamples of a
report.json (written by atn report); cases added earlier are kept when the corpus is rewritten.
Grade a port on it with: atn check --vectors DIR --port "COMMAND"`;

export async function run(argv: string[]): Promise<number> {
  const p = parseFlags(argv, ['help']);
  if (p.flags.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  onlyFlags(p, ['out', 'add-from', 'help']);
  if (p.positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positional[0])}`);
  const out = str(p, 'out');
  if (!out) throw new UsageError('--out DIR is required');
  const addFrom = str(p, 'add-from');

  try {
    const reference = createReference();
    const started = Date.now();
    const corpus = await buildCorpus(reference, suiteInfo());
    const handPicked = corpus.cases.length;
    let kept = 0;
    if (existsSync(join(out, CORPUS_FILE))) {
      const old = loadCorpus(out).corpus;
      kept = mergeCases(
        corpus,
        old.cases.filter((c) => c.source !== 'hand-picked'),
      );
    }
    let added = 0;
    if (addFrom) {
      const report = readReport(addFrom);
      added = mergeCases(corpus, await casesFromReport(reference, report, addFrom));
    }
    const file = writeCorpus(corpus, out);
    const by = (d: string) => corpus.cases.filter((c) => c.dtype === d).length;
    const bad = corpus.cases.filter((c) => c.expect.kind === 'error').length;
    process.stdout.write(
      `atn vectors: wrote ${corpus.cases.length} vectors (${by('float32')} float32, ${by('float64')} float64; ${bad} must be refused) to ${file}\n` +
        `  ${handPicked} hand-picked, ${kept} kept from the previous corpus, ${added} added from ${addFrom ?? '(no report)'}; ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof CorpusError || e instanceof SchemaError) {
      process.stderr.write(`atn vectors: ${e.message}\n`);
      return 2;
    }
    if (e instanceof Error && /not a readable JSON report/.test(e.message)) {
      process.stderr.write(`atn vectors: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
