/**
 * report.html: one self-contained file (inline CSS and SVG, no script, no external asset) that a reader opens from a
 * CI artifact. Every string that comes from a target (its name, messages, values, the port command) is escaped: a
 * port may answer "<script>".
 */
import type { CampaignResult, CheckResult, Fault } from '../properties/lib/types';
import { termText } from './terminal';
import {
  backendText,
  helloList,
  helloText,
  targetName,
  VECTOR_PREFIX,
  runsText,
  argsSummary,
  clauseRows,
  duration,
  machineText,
  num,
  pretty,
  replayCommand,
  short,
  STATUS_WORD,
  suiteText,
  failingChecks,
  requestText,
  shownReason,
  uncoveredClauses,
  verdict,
  countsText,
  type Verdict,
  coverageText,
  levelsText,
  problemOf,
  diagnosisLines,
  worstText,
} from './format';
import { renderPlots, type Plot } from './plots';

/** Escapes text for HTML content and quoted attribute values; control characters become U+FFFD. */
export function esc(s: unknown): string {
  // termText: control characters and bidi overrides as visible \xNN / \uNNNN (a U+202E cannot reverse a row)
  return termText(String(s)).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSS = `
:root { --pass:#1a7f37; --fail:#cf222e; --skip:#6e7781; --error:#bc4c00; --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink); margin: 0; background: #fff; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 8px; overflow-wrap: anywhere; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; overflow: auto; max-height: 320px; margin: 4px 0 10px; white-space: pre; }
pre.cmd { max-height: none; white-space: pre-wrap; overflow-wrap: anywhere; }
.verdict { border-radius: 8px; padding: 12px 16px; margin: 12px 0 16px; font-size: 17px; font-weight: 600; color: #fff; }
.v-CONFORMS { background: var(--pass); } .v-DOES-NOT-CONFORM { background: var(--fail); } .v-INCOMPLETE, .v-COULD-NOT-RUN { background: var(--error); }
.verdict small { display: block; font-weight: 400; font-size: 13px; opacity: .95; }
.partial { border: 2px dashed var(--error); background: #fff8f0; padding: 10px 14px; border-radius: 8px; margin: 0 0 16px; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.summary dt { color: var(--muted); } dl.summary dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--bg); font-weight: 600; }
td.clause { white-space: nowrap; font-weight: 600; }
td.title { width: 32%; }
td, li { overflow-wrap: anywhere; }
.badge { display: inline-block; white-space: nowrap; overflow-wrap: normal; min-width: 44px; text-align: center; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; color: #fff; }
.b-pass { background: var(--pass); } .b-fail { background: var(--fail); } .b-skip { background: var(--skip); } .b-error { background: var(--error); }
ul.checks { list-style: none; margin: 0; padding: 0; } ul.checks li { margin: 1px 0; overflow-wrap: anywhere; }
.st-pass { color: var(--pass); } .st-fail { color: var(--fail); font-weight: 600; } .st-skip { color: var(--skip); } .st-error { color: var(--error); font-weight: 600; }
.muted { color: var(--muted); }
.card { border: 1px solid var(--line); border-left: 5px solid var(--fail); border-radius: 6px; padding: 12px 16px; margin: 14px 0; }
.card.error { border-left-color: var(--error); }
.detail { font-weight: 600; overflow-wrap: anywhere; }
table.worst td, table.worst th { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.behaves { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
figure { margin: 12px 0 24px; } figure svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; max-width: 760px; }
.plot-title { font-weight: 600; margin-bottom: 4px; }
details summary { cursor: pointer; color: var(--muted); margin: 2px 0 6px; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
`;

function badge(status: CheckResult['status']): string {
  return `<span class="badge b-${status}">${STATUS_WORD[status]}</span>`;
}

function summaryHtml(r: CampaignResult): string {
  const rows: Array<[string, string]> = [
    ['Target', `${esc(helloText(r))} <span class="muted">— ${esc(r.target.spec)}</span>`],
    ['Backend', esc(backendText(r))],
    ['dtype', esc(r.dtype)],
    ['Suite', esc(suiteText(r))],
    ['Machine', esc(machineText(r))],
    ['Runs per property', esc(r.runs)],
    ['Seed', `<span class="mono">${esc(r.seed)}</span>`],
    ['Started', esc(r.startedAt)],
    ['Wall time', esc(duration(r.wallMs))],
    ['Checks', esc(`${r.checks.length}: ${r.summary.passed} passed, ${r.summary.failed} failed, ${r.summary.errors} errors, ${r.summary.skipped} skipped`)],
  ];
  const ops = helloList(r, 'ops');
  const dtypes = helloList(r, 'dtypes');
  if (ops) rows.push(['Ops served', esc(ops.join(', '))]);
  if (dtypes) rows.push(['dtypes served', esc(dtypes.join(', '))]);
  return `<dl class="summary">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function clauseTable(r: CampaignResult): string {
  const rows = clauseRows(r).map((row) => {
    const checks = row.checks
      .map((c) => {
        const reason = shownReason(c);
        const why = reason ? ` <span class="muted">— ${esc(reason)}</span>` : '';
        const anchor = c.status === 'fail' || c.status === 'error' ? `<a href="#${esc(anchorId(c))}">${esc(c.id)}</a>` : esc(c.id);
        return `<li><span class="st-${c.status}">${STATUS_WORD[c.status]}</span> <code>${anchor}</code>${c.runs && !c.id.startsWith(VECTOR_PREFIX) ? ` <span class="muted">(${runsText(c.runs)})</span>` : ''}${why}</li>`;
      })
      .join('');
    return `<tr><td>${badge(row.status)}</td><td class="clause">${esc(row.clause)}</td><td class="title">${esc(row.title)}</td><td><ul class="checks">${checks}</ul></td></tr>`;
  });
  const unc = uncoveredClauses(r);
  const note = unc.length ? `<p class="muted">Clauses no check of this campaign cites: ${esc(unc.join(', '))}.</p>` : '';
  return `<table><thead><tr><th>Status</th><th>Clause</th><th>Title</th><th>Checks</th></tr></thead><tbody>${rows.join('')}</tbody></table>${note}`;
}

function anchorId(c: CheckResult): string {
  return 'check-' + c.id.replace(/[^A-Za-z0-9_.-]/g, '_');
}

function failureCard(r: CampaignResult, c: CheckResult): string {
  const parts: string[] = [];
  parts.push(`<h3>${esc(c.clause)} — ${esc(c.title)}</h3>`);
  parts.push(`<div class="muted">check <code>${esc(c.id)}</code> · ${badge(c.status)} · ${esc(runsText(c.runs))} · ${esc(duration(c.durationMs))}</div>`);
  const reason = shownReason(c);
  if (reason) parts.push(`<p class="detail">${esc(reason)}</p>`);
  const prob = problemOf(r, c);
  if (prob) parts.push(`<p class="problem"><strong>${esc(prob)}</strong></p>`);
  const ce = c.counterexample;
  if (ce) {
    parts.push(`<p class="detail">${esc(ce.detail)}</p>`);
    if (ce.first)
      parts.push(
        `<p class="detail">First failure found (before shrinking): ${esc(ce.first.detail)}${ce.first.worst ? ` — ${esc(worstText(ce.first.worst))}` : ''} <span class="muted">(${esc(ce.first.requests.map((q) => `${q.op} ${argsSummary(q.args)}`).join('; '))})</span></p>`,
      );
    if (ce.worst) {
      const w = ce.worst;
      parts.push(
        `<table class="worst"><thead><tr><th>worst element</th><th>got</th><th>want</th><th>tolerance</th><th>error / tolerance</th></tr></thead>` +
          `<tbody><tr><td>${esc(w.output + w.index.map((i) => `[${i}]`).join(''))}</td><td>${esc(num(w.got))}</td><td>${esc(num(w.want))}</td><td>${esc(short(w.tol))}</td><td class="st-fail">${esc(short(w.ratio))}</td></tr></tbody></table>`,
      );
    }
    ce.requests.forEach((req, i) => {
      const n = ce.requests.length > 1 ? ` ${i + 1} of ${ce.requests.length}` : '';
      parts.push(`<p>Minimal counterexample${n}: <code>${esc(req.op)}</code> <span class="muted">(${esc(argsSummary(req.args))})</span></p>`);
      parts.push(`<pre>${esc(requestText(req))}</pre>`);
      const res = ce.responses?.[i];
      parts.push(
        `<p>The target answered:</p><pre>${esc(res === undefined || res === null ? '(no answer: the target crashed or timed out)' : pretty(res))}</pre>`,
      );
    });
  }
  parts.push(`<p>Seed <span class="mono">${esc(c.seed)}</span>. Replay (the same seed finds and shrinks the same counterexample):</p>`);
  parts.push(`<pre class="cmd">${esc(replayCommand(r, c))}</pre>`);
  if (c.path && !c.id.startsWith('vector:'))
    parts.push(
      `<details><summary>Exact replay of this counterexample (fast-check path, ${esc(c.path.length)} characters)</summary><pre class="cmd">${esc(replayCommand(r, c, true))}</pre></details>`,
    );
  return `<section class="card${c.status === 'error' ? ' error' : ''}" id="${esc(anchorId(c))}">${parts.join('\n')}</section>`;
}

function faultsHtml(faults: Fault[]): string {
  const rows = faults.map(
    (f) =>
      `<tr><td><span class="badge b-error">${esc(f.kind)}</span></td><td class="mono">${esc(duration(f.atMs))}</td><td>${esc(f.message)}${f.request ? `<div class="muted">while answering <code>${esc(f.request.op)}</code> id ${esc(JSON.stringify(f.request.id))}</div>` : ''}</td></tr>`,
  );
  return `<table><thead><tr><th>Kind</th><th>At</th><th>Message</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function plotsHtml(plots: Plot[]): string {
  return plots.map((p) => `<figure><div class="plot-title">${esc(p.title)}</div>${p.svg}<figcaption>${esc(p.caption)}</figcaption></figure>`).join('\n');
}

export interface HtmlOptions {
  /** Skip the plots (vega) — for callers that need the HTML fast, e.g. partial writes during a campaign. */
  plots?: boolean;
}

export async function renderHtml(r: CampaignResult, opts: HtmlOptions = {}): Promise<string> {
  const v: Verdict = verdict(r);
  const name = targetName(r);
  const body: string[] = [];
  body.push(`<h1>ATN conformance report: ${esc(name)}</h1>`);
  const cov = coverageText(r);
  const lv = levelsText(r);
  body.push(
    `<div class="verdict v-${v.replace(/ /g, '-')}">${esc(v)}${cov ? ` ${esc(cov)}` : ''}<small>${esc(countsText(r))}</small>${lv ? `<small>${esc(lv)}${r.ftz ? ' (--ftz)' : ''}</small>` : ''}</div>`,
  );
  if (r.problems?.length) {
    const items = r.problems.map(
      (p) =>
        `<li><strong>${esc(p.id)}</strong> <span class="muted">(${esc(p.level === 'extended' ? 'extended range' : p.level)})</span>: ${esc(p.summary)}<div class="muted">checks: ${p.checks.map((id) => `<code>${esc(id)}</code>`).join(', ')} · regime: ${esc(p.regime.text)}</div><div class="muted">${esc(p.evidence)}</div></li>`,
    );
    body.push(`<h2>${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}</h2>`, `<ol class="problems">${items.join('')}</ol>`);
    if (r.outside) body.push(`<p>${esc(r.outside.text)}</p>`);
  }
  if (!r.complete)
    body.push(
      `<div class="partial"><strong>Partial report (complete = false).</strong> The campaign was interrupted or is still running: only the checks listed ran, and the verdict covers them only.</div>`,
    );
  body.push(summaryHtml(r));
  for (const line of diagnosisLines(r)) body.push(`<div class="behaves">${esc(line)}</div>`);

  body.push('<h2>Clauses</h2>', clauseTable(r));

  const failing = failingChecks(r);
  if (failing.length) body.push(`<h2>Failures (${failing.length})</h2>`, ...failing.map((c) => failureCard(r, c)));
  if (r.faults.length) body.push(`<h2>Faults of the target process (${r.faults.length})</h2>`, faultsHtml(r.faults));
  if (r.diagnosis && r.diagnosis.ranking.length) {
    const items = r.diagnosis.ranking
      .slice(0, 5)
      .map((m) => `<tr><td><code>${esc(m.id)}</code></td><td class="mono">${esc(short(m.score))}</td><td>${esc(m.description)}</td></tr>`);
    body.push('<h2>Mutant diagnosis</h2>', '<p class="muted">Known mistakes ranked by how closely they reproduce this target on its failing cases.</p>');
    body.push(`<table><thead><tr><th>Mutant</th><th>Score</th><th>Mistake</th></tr></thead><tbody>${items.join('')}</tbody></table>`);
  }
  if (opts.plots !== false) {
    const plots = await renderPlots(r);
    if (plots.length) body.push('<h2>Plots</h2>', plotsHtml(plots));
  }
  body.push('<h2>Replay</h2>', '<p>The whole campaign, with the same seed:</p>', `<pre class="cmd">${esc(replayCommand(r))}</pre>`);
  body.push(`<footer>report.json schemaVersion ${esc(r.schemaVersion)} · ${esc(suiteText(r))} · generated ${esc(new Date().toISOString())}</footer>`);

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(`ATN report: ${name} — ${v}`)}</title>
<style>${CSS}</style>
</head>
<body><main>
${body.join('\n')}
</main></body>
</html>
`;
}
