/**
 * junit.xml for CI dashboards: one <testsuite> per campaign, one <testcase> per check (classname = clause id, name =
 * check id and title), <failure> for a failed check (message = the counterexample's one-line detail, body = the
 * minimal request, the answer and the replay command), <error> for a check that could not run, <skipped> with the
 * reason. Text from the target is escaped, and characters XML 1.0 forbids are replaced, so the file always parses.
 */
import type { CampaignResult, CheckResult } from '../properties/lib/types';
import { backendText, clauseTitle, pretty, requestText, targetName, shownReason, replayCommand, verdictSentence, worstText, levelsText } from './format';

/** Escapes text for XML 1.0 content and attribute values; characters XML 1.0 cannot hold become U+FFFD. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}

/** Escapes element text (newlines kept as newlines, for readable bodies). */
function xmlText(s: string): string {
  return xmlEscape(s).replace(/&#10;/g, '\n').replace(/&#9;/g, '\t');
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

function failureBody(r: CampaignResult, c: CheckResult): string {
  const lines = [`${c.clause}: ${clauseTitle(c.clause)}`];
  const ce = c.counterexample;
  if (ce) {
    lines.push(ce.detail);
    if (ce.worst) lines.push(`worst element: ${worstText(ce.worst)}`);
    ce.requests.forEach((req, i) => {
      lines.push(`request ${req.op}:`, requestText(req, 3000));
      const res = ce.responses?.[i];
      lines.push('answer:', res ? pretty(res, 2000) : '(none: the target crashed or timed out)');
    });
  }
  const reason = shownReason(c);
  if (reason) lines.push(reason);
  lines.push(`seed ${c.seed}`, `replay: ${replayCommand(r, c)}`, `exact replay: ${replayCommand(r, c, true)}`);
  return lines.join('\n');
}

function testcase(r: CampaignResult, c: CheckResult): string {
  const open = `    <testcase classname="${xmlEscape(c.clause)}" name="${xmlEscape(`${c.id}: ${c.title}`)}" time="${seconds(c.durationMs)}"`;
  switch (c.status) {
    case 'pass':
      return `${open}/>`;
    case 'skip':
      return `${open}>\n      <skipped message="${xmlEscape(c.reason ?? 'skipped')}"/>\n    </testcase>`;
    case 'fail': {
      const msg = c.counterexample?.detail ?? c.reason ?? 'failed';
      return `${open}>\n      <failure message="${xmlEscape(msg)}" type="${xmlEscape(c.clause)}">${xmlText(failureBody(r, c))}</failure>\n    </testcase>`;
    }
    case 'error': {
      const msg = c.reason ?? c.counterexample?.detail ?? 'the check could not run';
      return `${open}>\n      <error message="${xmlEscape(msg)}" type="error">${xmlText(failureBody(r, c))}</error>\n    </testcase>`;
    }
  }
}

export function renderJunit(r: CampaignResult): string {
  const s = r.summary;
  const name = `atn-kit conformance: ${targetName(r)} (${r.dtype})`;
  const props = [
    ['target', r.target.spec],
    ['backend', backendText(r)],
    ['dtype', r.dtype],
    ['seed', String(r.seed)],
    ['runs', String(r.runs)],
    ['suite', `${r.suite.version} ${r.suite.commit}`],
    ['complete', String(r.complete)],
    ['verdict', verdictSentence(r)],
    ...(r.levels ? [['levels', levelsText(r)]] : []),
    ...(r.coverage
      ? [
          ['ops.served', r.coverage.served.join(', ')],
          ['ops.not-served', r.coverage.notServed.join(', ')],
        ]
      : []),
    ...(r.problems ?? []).map((p) => [`problem.${p.id}`, `${p.summary}: ${p.checks.join(', ')}`]),
  ];
  const faults = r.faults.map((f) => `[${f.kind}] ${f.message}`).join('\n');
  const suite = [
    `  <testsuite name="${xmlEscape(name)}" tests="${r.checks.length}" failures="${s.failed}" errors="${s.errors}" skipped="${s.skipped}" time="${seconds(r.wallMs)}" timestamp="${xmlEscape(r.startedAt.replace(/Z$/, ''))}">`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`),
    '    </properties>',
    ...r.checks.map((c) => testcase(r, c)),
    ...(faults ? [`    <system-err>${xmlText(faults)}</system-err>`] : []),
    '  </testsuite>',
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="atn-kit" tests="${r.checks.length}" failures="${s.failed}" errors="${s.errors}" skipped="${s.skipped}" time="${seconds(r.wallMs)}">`,
    ...suite,
    '</testsuites>',
    '',
  ].join('\n');
}
