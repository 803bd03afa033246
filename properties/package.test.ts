/**
 * The installable package (issue 11): `npm pack` ships what `npx atn report` and the API need (compiled code with
 * .d.ts, the report and vector schemas, the frozen corpus, the ESM entry, the ports) and nothing else (no tests, no
 * CI, no TypeScript sources); package.json names the entries. (The install into an empty project is done by .ci/run.)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');

describe('npm pack', () => {
  it('contains the compiled code, schemas, vectors and entries, and no tests, CI or sources', () => {
    // --ignore-scripts: list what the current dist/ would ship, without prepack rebuilding dist/ under other tests.
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
    for (const f of [
      'bin/atn.js',
      'esm/index.mjs',
      'dist/api/index.js',
      'dist/api/index.d.ts',
      'dist/cli/main.js',
      'dist/reports/report.schema.json',
      'dist/reports/vectors.schema.json',
      'reports/vectors/corpus.json',
      'ports/torch/serve.py',
      'ports/python/atn_protocol.py',
      'package.json',
    ])
      expect(files, f).toContain(f);
    const unwanted = files.filter((f) => /\.test\.|^\.ci\/|^properties\/|\.ts$(?<!\.d\.ts)|^mutants\/|^node_modules\//.test(f));
    expect(unwanted).toEqual([]);
  }, 60_000);

  it('package.json: publishable, entries for ESM, CJS and types, the atn bin', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.private).toBeUndefined();
    expect(pkg.name).toBe('atn-kit');
    expect(pkg.bin).toEqual({ atn: 'bin/atn.js' });
    expect(pkg.exports).toEqual({
      '.': { types: './dist/api/index.d.ts', import: './esm/index.mjs', require: './dist/api/index.js' },
      './package.json': './package.json',
    });
    expect((pkg.scripts as Record<string, string>).prepack).toContain('tsc -p tsconfig.build.json');
  });

  it('atn --version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(execFileSync('node', [join(ROOT, 'bin/atn.js'), '--version'], { encoding: 'utf8' }).trim()).toBe(`atn-kit ${pkg.version}`);
  });
});
