/**
 * Writes a campaign's four report files. Each file is written to a temporary name in the same folder and renamed over
 * the old one, so a reader (or a crash) never sees half a file. writePartial is for progress during a campaign: an
 * interrupted run leaves a readable report marked complete = false.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CampaignResult } from '../properties/lib/types';
import { renderHtml } from './html';
import { reportJson, safeResult } from './json';
import { renderJunit } from './junit';
import { renderMarkdown } from './markdown';

export const REPORT_FILES = { json: 'report.json', md: 'report.md', html: 'report.html', junit: 'junit.xml' } as const;

export interface WrittenReport {
  dir: string;
  json: string;
  md: string;
  html: string;
  junit: string;
}

let tmpCounter = 0;

/** Writes `text` to `path` atomically (same-folder temporary file + rename). */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}-${++tmpCounter}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** One write at a time per folder: partial writes from progress callbacks must not interleave with the final one. */
const queues = new Map<string, Promise<unknown>>();
function serialized<T>(dir: string, job: () => Promise<T>): Promise<T> {
  const prev = queues.get(dir) ?? Promise.resolve();
  const next = prev.then(job, job);
  queues.set(
    dir,
    next.catch(() => undefined),
  );
  return next;
}

async function writeAll(unsafe: CampaignResult, dir: string, plots: boolean): Promise<WrittenReport> {
  const abs = resolve(dir);
  const result = safeResult(unsafe); // what the target sent, bounded: the four files render from the same data
  // JSON first: it validates against the schema and throws before any file is touched when the result is malformed.
  const json = reportJson(result);
  const md = renderMarkdown(result);
  const junit = renderJunit(result);
  const html = await renderHtml(result, { plots });
  mkdirSync(abs, { recursive: true });
  const out: WrittenReport = {
    dir: abs,
    json: join(abs, REPORT_FILES.json),
    md: join(abs, REPORT_FILES.md),
    html: join(abs, REPORT_FILES.html),
    junit: join(abs, REPORT_FILES.junit),
  };
  writeAtomic(out.json, json);
  writeAtomic(out.md, md);
  writeAtomic(out.junit, junit);
  writeAtomic(out.html, html);
  return out;
}

/**
 * Makes sure `dir` can take the report (created if missing, a folder, writable), before a campaign starts: a file
 * system problem is one line then, not a stack trace after the campaign. Returns the problem, or undefined.
 */
export function outDirProblem(dir: string): string | undefined {
  const abs = resolve(dir);
  try {
    mkdirSync(abs, { recursive: true });
    const probe = join(abs, `.atn-write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? 'it (or a folder above it) is a file, not a folder'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'ENOSPC'
            ? 'the disk is full'
            : code === 'EROFS'
              ? 'the file system is read-only'
              : (e as Error).message;
    return `cannot write the report to ${abs}: ${why}${code ? ` (${code})` : ''}`;
  }
}

/** The final report: report.json (schema-validated), report.md, report.html (with plots), junit.xml. */
export function writeReport(result: CampaignResult, dir: string): Promise<WrittenReport> {
  return serialized(resolve(dir), () => writeAll(result, dir, true));
}

/** A progress snapshot: the same four files, complete = false, the HTML without plots (fast enough to call per check). */
export function writePartial(result: CampaignResult, dir: string): Promise<WrittenReport> {
  return serialized(resolve(dir), () => writeAll({ ...result, complete: false }, dir, false));
}
