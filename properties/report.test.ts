/**
 * The report writers (reports/): a hand-made CampaignResult whose failure strings hold HTML/XML-special characters is
 * written as the four report files; report.json matches its schema, the HTML escapes everything from the target and
 * loads nothing from outside, junit.xml is well-formed XML with one testcase per check.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignResult } from './lib/types';
import { HOSTILE, sampleResult } from '../reports/fixture';
import { readReport, validateReport } from '../reports/json';
import { SchemaError } from '../reports/validate';
import { writePartial, writeReport, type WrittenReport } from '../reports/write';
import { pretty, replayCommand } from '../reports/format';

/**
 * A small XML 1.0 well-formedness checker (no XML parser is a dependency): balanced and properly nested elements,
 * quoted attributes without raw '<', only the five predefined entities or character references, no raw '&' or '<'
 * in text, no characters XML forbids. Returns the element names in document order.
 */
function checkXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  // eslint-disable-next-line no-control-regex
  if (/[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u.test(xml)) throw new Error('character XML 1.0 forbids');
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
  let i = 0;
  const text = (end: number) => {
    for (let j = i; j < end; j++) {
      if (xml[j] === '<') throw new Error(`raw < at ${j}`);
      if (xml[j] === '&') {
        entity.lastIndex = j;
        if (!entity.test(xml)) throw new Error(`bad entity at ${j}: ${xml.slice(j, j + 12)}`);
      }
    }
  };
  if (xml.startsWith('<?xml')) i = xml.indexOf('?>') + 2;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) {
      text(xml.length);
      break;
    }
    text(lt);
    i = lt;
    const gt = xml.indexOf('>', i);
    if (gt < 0) throw new Error('unclosed tag');
    const tag = xml.slice(i + 1, gt);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      if (stack.pop() !== name) throw new Error(`mismatched </${name}>`);
    } else {
      const self = tag.endsWith('/');
      const m = /^([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*\/?$/.exec(tag);
      if (!m) throw new Error(`malformed tag <${tag.slice(0, 80)}>`);
      const attrs = m[2];
      const save = i;
      // attribute values: entities must be valid too
      for (const v of attrs.matchAll(/="([^"]*)"/g)) {
        const s = v[1];
        for (let j = 0; j < s.length; j++)
          if (s[j] === '&' && !/^&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/.test(s.slice(j)))
            throw new Error(`bad entity in attribute: ${s.slice(j, j + 12)}`);
      }
      i = save;
      names.push(m[1]);
      if (!self) stack.push(m[1]);
    }
    i = gt + 1;
  }
  if (stack.length) throw new Error(`unclosed elements: ${stack.join(', ')}`);
  return names;
}

describe('reports: the four files of a campaign', () => {
  let dir: string;
  let result: CampaignResult;
  let written: WrittenReport;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atn-report-test-'));
    result = sampleResult();
    written = await writeReport(result, dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ATN-7.1 writeReport writes report.json, report.md, report.html and junit.xml, and no temporary file is left', () => {
    expect(readdirSync(dir).sort()).toEqual(['junit.xml', 'report.html', 'report.json', 'report.md']);
    for (const f of [written.json, written.md, written.html, written.junit]) expect(readFileSync(f, 'utf8').length).toBeGreaterThan(500);
  });

  it('ATN-8.3 report.json validates against report.schema.json, NaN/Infinity travel as strings, and it reads back equal', () => {
    const raw = JSON.parse(readFileSync(written.json, 'utf8'));
    expect(() => validateReport(raw)).not.toThrow();
    expect(raw.schemaVersion).toBe(1);
    const fail = raw.checks.find((c: { id: string }) => c.id === 'atn.forward.agrees-with-reference');
    expect(fail.counterexample.worst.got).toBe('NaN');
    expect(fail.counterexample.worst.ratio).toBe('Infinity');
    const back = readReport(written.json);
    expect(back.checks[0].counterexample?.worst?.ratio).toBe(Infinity);
    expect(Number.isNaN(back.checks[0].counterexample?.worst?.got)).toBe(true);
    expect(back.checks.map((c) => c.id)).toEqual(result.checks.map((c) => c.id));
  });

  it('ATN-8.6 report.html escapes every string from the target and is self-contained (no script, no external asset)', () => {
    const html = readFileSync(written.html, 'utf8');
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).not.toContain('\u0001');
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:|\/\/)/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toMatch(/<svg[^>]*class="marks"/); // the plots are inline SVG
    expect((html.match(/<svg\b/g) ?? []).length).toBeGreaterThanOrEqual(3); // error distribution, T2, gradient flow
    expect(html).toContain('DOES NOT CONFORM');
    expect(html).toContain('Behaves like:');
    expect(html).toContain('ATN-7.2');
    expect(html).toContain('Forward tolerance for ATN and LN'); // the clause title from spec/clauses.ts
  });

  it('ATN-8.6 report.md holds the verdict, the clause table and each failure with its replay command, target text defused', () => {
    const md = readFileSync(written.md, 'utf8');
    expect(md).toContain('DOES NOT CONFORM');
    expect(md).toContain('| FAIL | ATN-7.2 |');
    // Outside fenced code blocks (which Markdown shows verbatim) no raw HTML from the target survives.
    const prose = md.replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1$/gm, '');
    expect(prose).not.toContain('<script>');
    expect(prose).toContain('&lt;script&gt;');
    expect(md).toContain('ATN_SEED=42 npx atn report --port');
  });

  it('ATN-7.1 junit.xml is well-formed XML with one testcase per check (classname = clause) and a failure per failed check', () => {
    const xml = readFileSync(written.junit, 'utf8');
    const names = checkXml(xml);
    expect(names.filter((n) => n === 'testcase')).toHaveLength(result.checks.length);
    expect(names.filter((n) => n === 'failure')).toHaveLength(result.checks.filter((c) => c.status === 'fail').length);
    expect(names.filter((n) => n === 'error')).toHaveLength(1);
    expect(names.filter((n) => n === 'skipped')).toHaveLength(1);
    expect(xml).toContain('classname="ATN-7.2"');
    expect(xml).toContain('&lt;script&gt;');
    expect(xml).not.toContain('<script>');
  });

  it('ATN-7.1 the well-formedness checker itself rejects broken XML', () => {
    expect(() => checkXml('<a><b></a></b>')).toThrow();
    expect(() => checkXml('<a x="1">&bogus;</a>')).toThrow();
    expect(() => checkXml('<a>1 < 2</a>')).toThrow();
    expect(checkXml('<a x="&lt;"><b/>&amp;</a>')).toEqual(['a', 'b']);
  });
});

describe('reports: invalid results and partial writes', () => {
  it('ATN-7.1 a schema-invalid result is a bug: writeReport throws with the ajv errors and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atn-report-bad-'));
    try {
      const bad = sampleResult();
      (bad.checks[0] as { clause: string }).clause = 'ATN-99';
      (bad as { seed: unknown }).seed = 'forty-two';
      const err = await writeReport(bad, dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SchemaError);
      expect((err as Error).message).toContain('/checks/0/clause');
      expect((err as Error).message).toContain('/seed');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ATN-7.1 writePartial leaves a readable report marked complete = false, shown as partial', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atn-report-partial-'));
    try {
      const r = sampleResult();
      r.checks = r.checks.filter((c) => c.status === 'pass');
      r.summary = { passed: r.checks.length, failed: 0, skipped: 0, errors: 0, conforms: false };
      await writePartial(r, dir);
      expect(readReport(join(dir, 'report.json')).complete).toBe(false);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      expect(html).toContain('INCOMPLETE');
      expect(html).toContain('Partial report (complete = false)');
      expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('INCOMPLETE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ATN-8.7 a malformed hello from a port (numbers, objects, no ops) still gives a schema-valid, escaped report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atn-report-hello-'));
    try {
      const r = sampleResult();
      r.target.hello = { name: { html: HOSTILE }, version: 7, protocol: 2, ops: 'all', dtypes: [32] } as never;
      r.target.backend = { evil: true } as never;
      await writeReport(r, dir);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      expect(html).not.toMatch(/<script/i);
      expect(readReport(join(dir, 'report.json')).target.backend).toBe('{"evil":true}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ATN-8.3 pretty() cuts long arrays and spells non-finite numbers as on the wire; the replay command quotes the port', () => {
    const text = pretty({ a: Array.from({ length: 100 }, (_, i) => i), b: [NaN, Infinity, 1e-300] });
    expect(text).toContain('… 90 more');
    expect(text).toContain('"NaN"');
    expect(text).toContain('1e-300');
    const r = sampleResult();
    r.target.spec = `port:python3 x.py --name "it's"`;
    expect(replayCommand(r)).toBe(`ATN_SEED=42 npx atn report --port 'python3 x.py --name "it'\\''s"' --dtype float32 --runs 200 --seed 42`);
  });
});
