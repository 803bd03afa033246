/** report.md: the same content as the HTML report, for terminals, pull requests and CI logs. */
import type { CampaignResult, CheckResult } from '../properties/lib/types';
import { termText } from './terminal';
import {
  backendText,
  targetName,
  VECTOR_PREFIX,
  runsText,
  argsSummary,
  clauseRows,
  failingChecks,
  shownReason,
  duration,
  machineText,
  pretty,
  replayCommand,
  short,
  STATUS_WORD,
  suiteText,
  targetText,
  requestText,
  uncoveredClauses,
  verdict,
  verdictSentence,
  worstText,
  levelsText,
  problemOf,
  diagnosisLines,
} from './format';

/** Inline text from a target: no raw HTML, no table breaks, no emphasis surprises, one line. */
export function mdText(s: string): string {
  return (
    termText(s)
      .replace(/\r?\n/g, ' ')
      // Only what can change the rendering mid-line: raw HTML, table cells, code spans, emphasis, links.
      .replace(/[\\`*[\]|<>&]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : '\\' + c))
  );
}

/** A fenced block that its content cannot close (the fence is longer than any backtick run inside). */
export function mdBlock(content: string, lang = ''): string {
  const longest = Math.max(0, ...(content.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${termText(content)}\n${fence}`;
}

function checkFailure(r: CampaignResult, c: CheckResult): string[] {
  const out: string[] = [`### ${c.clause} — ${mdText(c.title)}`, '', `Check \`${mdText(c.id)}\` — ${STATUS_WORD[c.status]}.`, ''];
  const reason = shownReason(c);
  if (reason) out.push(`Reason: ${mdText(reason)}`, '');
  const prob = problemOf(r, c);
  if (prob) out.push(`**${mdText(prob)}**`, '');
  const ce = c.counterexample;
  if (ce) {
    out.push(`**What went wrong:** ${mdText(ce.detail)}`, '');
    if (ce.worst) out.push(`**Worst element:** ${mdText(worstText(ce.worst))}`, '');
    if (ce.first)
      out.push(
        `**First failure found (before shrinking):** ${mdText(ce.first.detail)}${ce.first.worst ? ` — ${mdText(worstText(ce.first.worst))}` : ''} (\`${mdText(ce.first.requests.map((q) => `${q.op} ${argsSummary(q.args)}`).join('; '))}\`)`,
        '',
      );
    ce.requests.forEach((req, i) => {
      out.push(
        `Minimal counterexample${ce.requests.length > 1 ? ` ${i + 1} of ${ce.requests.length}` : ''}: \`${mdText(req.op)}\` (${mdText(argsSummary(req.args))})`,
        '',
      );
      out.push(mdBlock(requestText(req), 'json'), '');
      const res = ce.responses?.[i];
      out.push(
        'The target answered:',
        '',
        mdBlock(res === undefined || res === null ? '(no answer: the target crashed or timed out)' : pretty(res), 'json'),
        '',
      );
    });
  }
  out.push(`Seed ${c.seed}. Replay (the same seed finds and shrinks the same counterexample):`, '', mdBlock(replayCommand(r, c), 'sh'), '');
  if (c.path && !c.id.startsWith('vector:'))
    out.push('<details><summary>Exact replay (fast-check path)</summary>', '', mdBlock(replayCommand(r, c, true), 'sh'), '', '</details>', '');
  return out;
}

export function renderMarkdown(r: CampaignResult): string {
  const out: string[] = [];
  const v = verdict(r);
  out.push(`# ATN conformance report: ${mdText(targetName(r))}`, '');
  if (!r.complete) out.push('> **INCOMPLETE REPORT** — the campaign was interrupted or is still running; checks not listed did not run.', '');
  out.push(`**Verdict: ${mdText(verdictSentence(r))}**`, '');
  const lv = levelsText(r);
  if (lv) out.push(`Levels: ${mdText(lv)}${r.ftz ? ' (--ftz: subnormal inputs and results set aside, ATN-9.6)' : ''}`, '');
  if (r.problems?.length) {
    out.push(`## ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`, '');
    for (const p of r.problems)
      out.push(
        `- **${p.id}** (${p.level === 'extended' ? 'extended range' : p.level}): ${mdText(p.summary)}. Checks: ${p.checks.map((id) => `\`${mdText(id)}\``).join(', ')}. Regime: ${mdText(p.regime.text)}. Evidence: ${mdText(p.evidence)}`,
      );
    out.push('');
    if (r.outside) out.push(mdText(r.outside.text), '');
  }
  for (const line of diagnosisLines(r)) out.push(`**${mdText(line)}**`, '');
  out.push('| | |', '|---|---|');
  out.push(`| Target | ${mdText(targetText(r))} |`);
  out.push(`| Backend | ${mdText(backendText(r))} |`);
  out.push(`| dtype | ${r.dtype} |`);
  out.push(`| Suite | ${mdText(suiteText(r))} |`);
  out.push(`| Machine | ${mdText(machineText(r))} |`);
  out.push(`| Runs per property | ${r.runs} |`);
  out.push(`| Seed | ${r.seed} |`);
  out.push(`| Started | ${r.startedAt} |`);
  out.push(`| Wall time | ${duration(r.wallMs)} |`);
  out.push(`| Complete | ${r.complete ? 'yes' : '**no**'} |`, '');

  out.push('## Clauses', '', '| Status | Clause | Title | Checks |', '|---|---|---|---|');
  for (const row of clauseRows(r)) {
    const checks = row.checks
      .map((c) => `\`${mdText(c.id)}\` ${STATUS_WORD[c.status]}${c.runs && !c.id.startsWith(VECTOR_PREFIX) ? ` (${runsText(c.runs)})` : ''}`)
      .join('<br>');
    out.push(`| ${STATUS_WORD[row.status]} | ${row.clause} | ${mdText(row.title)} | ${checks} |`);
  }
  const unc = uncoveredClauses(r);
  if (unc.length) out.push('', `Not exercised by this campaign: ${unc.join(', ')}.`);
  out.push('');

  const failing = failingChecks(r);
  if (failing.length) {
    out.push('## Failures', '');
    for (const c of failing) out.push(...checkFailure(r, c));
  }
  const skipped = r.checks.filter((c) => c.status === 'skip');
  if (skipped.length) {
    out.push('## Skipped checks', '');
    for (const c of skipped) out.push(`- ${c.clause} \`${mdText(c.id)}\`: ${mdText(c.reason ?? 'no reason given')}`);
    out.push('');
  }
  if (r.faults.length) {
    out.push('## Faults of the target process', '');
    for (const f of r.faults)
      out.push(
        `- **${f.kind}** at ${duration(f.atMs)}: ${mdText(f.message)}${f.request ? ` (answering \`${mdText(String(f.request.op))}\` id ${mdText(String(f.request.id))})` : ''}`,
      );
    out.push('');
  }
  if (r.diagnosis && r.diagnosis.ranking.length) {
    out.push('## Mutant diagnosis', '', 'Known mistakes ranked by how closely they reproduce the target on its failing cases:', '');
    for (const m of r.diagnosis.ranking.slice(0, 5)) out.push(`- \`${mdText(m.id)}\` ${short(m.score)} — ${mdText(m.description)}`);
    out.push('');
  }
  out.push('---', '', 'Replay the whole campaign:', '', mdBlock(replayCommand(r), 'sh'), '');
  if (v === 'INCOMPLETE') out.push('This report is partial (complete = false).', '');
  return out.join('\n');
}
