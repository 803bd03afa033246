/**
 * The report's plots as inline SVG: vega-lite specs compiled to vega and rendered headless with View.toSVG() (no
 * canvas, no browser). vega and vega-lite are ESM-only packages: they are loaded with import(), which the CommonJS
 * build (module node16) keeps as a real dynamic import.
 */
import type { CampaignResult, CheckResult } from '../properties/lib/types';
import { short } from './format';

export interface Plot {
  title: string;
  caption: string;
  svg: string;
}

type VlSpec = Record<string, unknown>;

/** Ratios are clamped into this band on the log axis (0 and Infinity have no place on it); the caption says so. */
const RATIO_FLOOR = 1e-6;
const RATIO_CEIL = 1e6;
/** Points per check in the distribution plot: quantiles of the sorted ratios keep its shape at a bounded size. */
const MAX_POINTS = 300;

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
};

/** The little of vega and vega-lite we use (typed here: their types are ESM-only, and this module compiles to CJS). */
interface VegaView {
  toSVG(): Promise<string>;
  finalize(): void;
}
interface VegaModules {
  vega: {
    View: new (runtime: unknown, opts: { renderer: string; logLevel?: number }) => VegaView;
    parse(spec: unknown): unknown;
    logger(level: number): unknown;
    None: number;
  };
  vl: { compile(spec: unknown, opts?: { logger?: unknown }): { spec: unknown } };
}

let modules: Promise<VegaModules> | undefined;
function load(): Promise<VegaModules> {
  modules ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({ vega, vl }) as unknown as VegaModules);
  return modules;
}

let plotCounter = 0;

/** Renders one vega-lite spec to an SVG string whose ids cannot collide with another plot's in the same page. */
export async function renderSvg(spec: VlSpec): Promise<string> {
  const { vega, vl } = await load();
  // Silent loggers: vega-lite's warnings about merged legends are noise on a CLI's stderr.
  const compiled = vl.compile({ config: CONFIG, ...spec }, { logger: vega.logger(vega.None) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.None });
  try {
    const svg = await view.toSVG();
    const prefix = `p${++plotCounter}-`;
    return svg
      .replace(/\bid="([^"]+)"/g, `id="${prefix}$1"`)
      .replace(/url\(#([^)]+)\)/g, `url(#${prefix}$1)`)
      .replace(/href="#([^"]+)"/g, `href="#${prefix}$1"`);
  } finally {
    view.finalize();
  }
}

function clampRatio(r: number): number {
  if (Number.isNaN(r) || r > RATIO_CEIL) return RATIO_CEIL;
  return Math.max(RATIO_FLOOR, r);
}

/** Up to n values at evenly spaced quantiles of xs (min and max always kept). */
export function quantileSample(xs: number[], n = MAX_POINTS): number[] {
  const sorted = xs.map((x) => (Number.isNaN(x) ? Infinity : x)).sort((a, b) => a - b);
  if (sorted.length <= n) return sorted;
  return Array.from({ length: n }, (_, i) => sorted[Math.round((i * (sorted.length - 1)) / (n - 1))]);
}

function rowLabel(c: CheckResult): string {
  return `${c.clause}  ${c.id}`;
}

/** Per-check error distribution in units of the derived tolerance (ATN-7): every tick is one case's worst element. */
export function errorDistributionSpec(checks: CheckResult[]): VlSpec | undefined {
  const withRatios = checks.filter((c) => c.errorRatios && c.errorRatios.length > 0);
  if (withRatios.length === 0) return undefined;
  const values = withRatios.flatMap((c) =>
    quantileSample(c.errorRatios!).map((r) => ({ check: rowLabel(c), ratio: clampRatio(r), over: r > 1 || Number.isNaN(r) ? 'over the tolerance' : 'within' })),
  );
  const rows = withRatios.map(rowLabel);
  // The worst case of each check, printed at the right edge: most rows sit far below 1, and exact rows sit on the floor.
  const maxima = withRatios.map((c) => {
    const m = c.errorRatios!.reduce((a, r) => (Number.isNaN(r) || r > a ? (Number.isNaN(r) ? Infinity : r) : a), 0);
    return { check: rowLabel(c), label: m === 0 ? 'all exact' : `max ${short(m)}`, over: m > 1 };
  });
  return {
    width: 640,
    height: { step: 26 },
    layer: [
      {
        data: { values },
        mark: { type: 'tick', thickness: 1.5, opacity: 0.55 },
        encoding: {
          x: {
            field: 'ratio',
            type: 'quantitative',
            title: '|got − want| / tol (worst element of each case)',
            scale: { type: 'log', domain: [RATIO_FLOOR, RATIO_CEIL], clamp: true },
            axis: { format: '.0e', values: [1e-6, 1e-4, 1e-2, 1, 1e2, 1e4, 1e6] },
          },
          y: { field: 'check', type: 'nominal', title: null, sort: rows, axis: { labelLimit: 0 } },
          color: {
            field: 'over',
            type: 'nominal',
            title: null,
            scale: { domain: ['within', 'over the tolerance'], range: ['#3b6fb6', '#d62728'] },
            legend: { orient: 'top' },
          },
        },
      },
      {
        data: { values: [{ x: 1 }] },
        mark: { type: 'rule', color: '#d62728', strokeDash: [4, 3] },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
      {
        data: { values: maxima },
        mark: { type: 'text', align: 'left', dx: 6, fontSize: 11 },
        encoding: {
          x: { value: 'width' },
          y: { field: 'check', type: 'nominal', sort: rows },
          text: { field: 'label' },
          color: { condition: { test: 'datum.over', value: '#d62728' }, value: '#59636e' },
        },
      },
      {
        data: { values: [{ x: 1, label: 'tolerance' }] },
        mark: { type: 'text', color: '#d62728', align: 'left', dx: 4, baseline: 'top', y: 2, fontSize: 11 },
        encoding: { x: { field: 'x', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
  };
}

interface Point {
  x: number;
  y: number;
  group?: string;
}

function finite(p: Point): boolean {
  return Number.isFinite(p.x) && Number.isFinite(p.y);
}

function spansDecades(xs: number[]): boolean {
  const pos = xs.filter((x) => x > 0);
  if (pos.length !== xs.length || pos.length < 2) return false;
  return Math.max(...pos) / Math.min(...pos) >= 1e3;
}

interface SeriesKind {
  match: RegExp;
  title: string;
  x: string;
  y: string;
  /** Maps the stored x to the plotted one (T2 stores m, the plot shows d = 2^m). */
  xMap?: (x: number) => number;
  /** Scattered cases (one point each) or one line per group. */
  mark: 'point' | 'line';
  /** A horizontal rule (the tolerance, in tolerance units). */
  rule?: number;
}

/** The series the campaign's checks emit; an unknown series is drawn as a line chart titled by its key. */
const KNOWN_SERIES: SeriesKind[] = [
  {
    match: /^invariance$/,
    title: 'T2: invariance error |y(d·a, eps·d²) − y(a, eps)| against the scale d',
    x: 'scale d = 2^m',
    y: '|Δy| / tolerance',
    xMap: (m) => 2 ** m,
    mark: 'point',
    rule: 1,
  },
  { match: /flow/i, title: 'Gradient flow: max_h |∂y_T/∂a_(T−lag)| against the lag t − s', x: 't − s (lag, steps)', y: 'max_h |da|', mark: 'line' },
];

export interface SeriesPlotSpec {
  title: string;
  caption: string;
  spec: VlSpec;
}

/** A chart of one CheckResult series; log axes where the values span decades, zeros pinned to the floor. */
export function seriesSpec(c: CheckResult, key: string): SeriesPlotSpec | undefined {
  const kind = KNOWN_SERIES.find((k) => k.match.test(key));
  const pts = (c.series?.[key] ?? []).map((p) => ({ ...p, x: kind?.xMap ? kind.xMap(p.x) : p.x })).filter(finite);
  if (pts.length === 0) return undefined;
  const mark = kind?.mark ?? 'line';
  const xLog = spansDecades(pts.map((p) => p.x));
  const xInt = pts.every((p) => Number.isInteger(p.x));
  const ys = pts.map((p) => Math.abs(p.y));
  const posY = ys.filter((y) => y > 0);
  const yLog = posY.length > 0 && Math.max(...posY, kind?.rule ?? 0) / Math.min(...posY) >= 1e3;
  const floor = posY.length ? Math.min(...posY) / 10 : 1;
  const zeros = yLog ? pts.filter((p) => p.y <= 0).length : 0;
  const values = pts.map((p) => ({ x: p.x, y: yLog ? Math.max(p.y, floor) : p.y, group: p.group ?? key, zero: yLog && p.y <= 0 }));
  const groups = new Set(values.map((v) => v.group));
  const multi = groups.size > 1;
  const notes: string[] = [];
  if (mark === 'point') notes.push(`One point per generated case (${pts.length}).`);
  if (kind?.rule !== undefined) notes.push('The dashed line is the tolerance; points above it are failures.');
  if (zeros > 0) notes.push(`${zeros} exact zero${zeros > 1 ? 's' : ''} drawn hollow at ${short(floor)} (a log axis has no 0).`);
  const exact = pts.filter((p) => p.y === 0).length;
  if (!yLog && mark === 'point' && exact > 0) notes.push(`${exact === pts.length ? 'All' : exact} of the ${pts.length} points are exactly 0.`);
  const x = {
    field: 'x',
    type: 'quantitative',
    title: kind?.x ?? 'x',
    scale: xLog ? { type: 'log' } : { zero: false, nice: false },
    axis: xLog ? { format: '.0e' } : xInt ? { format: 'd', tickMinStep: 1 } : {},
  };
  const y = { field: 'y', type: 'quantitative', title: kind?.y ?? key, scale: yLog ? { type: 'log' } : {}, axis: yLog ? { format: '.0e' } : {} };
  const color = multi ? { field: 'group', type: 'nominal', title: null, legend: { orient: 'right' } } : { value: '#3b6fb6' };
  const layers: VlSpec[] = [];
  if (mark === 'line') layers.push({ mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color } });
  layers.push({
    mark: { type: 'point', size: mark === 'line' ? 28 : 22, opacity: mark === 'line' ? 1 : 0.6, filled: false },
    encoding: {
      x,
      y,
      color,
      fill: { condition: { test: 'datum.zero', value: 'white' }, ...(multi ? { field: 'group', type: 'nominal', legend: null } : { value: '#3b6fb6' }) },
    },
  });
  if (kind?.rule !== undefined)
    layers.push({
      data: { values: [{ r: kind.rule }] },
      mark: { type: 'rule', color: '#d62728', strokeDash: [4, 3] },
      encoding: { y: { field: 'r', type: 'quantitative' } },
    });
  return {
    title: `${c.clause} ${kind?.title ?? key} — ${c.id}`,
    caption: [`From check ${c.id}.`, ...notes].join(' '),
    spec: { width: 640, height: 260, data: { values }, layer: layers },
  };
}

/** Every plot this result has data for, rendered; a plot that fails to render becomes a caption saying why. */
export async function renderPlots(r: CampaignResult): Promise<Plot[]> {
  const plots: Plot[] = [];
  const dist = errorDistributionSpec(r.checks);
  const tasks: Array<{ title: string; caption: string; spec: VlSpec }> = [];
  if (dist)
    tasks.push({
      title: 'Error distribution in units of the derived tolerance (ATN-7)',
      caption: `One tick per generated case: its worst element's |got − want| / tol. The dashed line is the tolerance (1); ticks right of it are failures. Ratios below ${short(RATIO_FLOOR)} (exact answers included) sit at ${short(RATIO_FLOOR)}; above ${short(RATIO_CEIL)}, NaN and Infinity at ${short(RATIO_CEIL)}. At most ${MAX_POINTS} quantiles per check.`,
      spec: dist,
    });
  for (const c of r.checks)
    for (const key of Object.keys(c.series ?? {})) {
      const s = seriesSpec(c, key);
      if (s) tasks.push(s);
    }
  for (const t of tasks) {
    try {
      plots.push({ title: t.title, caption: t.caption, svg: await renderSvg(t.spec) });
    } catch (e) {
      plots.push({ title: t.title, caption: `${t.caption} (The plot could not be drawn: ${e instanceof Error ? e.message : String(e)})`, svg: '' });
    }
  }
  return plots;
}
