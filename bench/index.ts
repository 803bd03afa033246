/**
 * `atn bench`: the tfjs implementation's speed on the active backend, printed (never asserted: a bench is not a test).
 * A table for people, then one JSON line for machines; each target is marked met / not met.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { benchCampaign, type CampaignBenchResult } from './campaign';
import { benchLstm, LSTM_SHAPE, round, type LstmBenchResult, type LstmCpu } from './lstm';
import { timeAtnVjp } from './reference-vjp';
import { benchOp, OP_SHAPE, type OpBenchResult } from './op';
import { benchMutants, type MutantBenchResult, type MutantRunner } from './mutants';

/** The JSON line's content. */
export interface BenchResult {
  backend: string;
  op: OpBenchResult;
  lstm: LstmBenchResult;
  /** The exact oracle's speed (reference atn.vjp, T=8 B=2 H=16 k=4, 64 digits): what the campaigns' run counts cost. */
  reference_vjp: { cold_ms: number; warm_ms: number; expect_ms: number };
  /** The campaign's own speed, exact oracle against the fast one (ATN-7.8). */
  campaign?: CampaignBenchResult;
  /** `atn mutants`' own speed, exact oracle against the fast one (ATN-7.8, ATN-7.9). */
  mutants?: MutantBenchResult;
}

/** Context for people reading the table: CPU time per step and the machine's load while the bench ran. */
export interface BenchContext {
  lstmCpu: LstmCpu;
  loadavg: number[];
  cpus: number;
}

export interface BenchOptions {
  /** Fewer rounds and runs (a smoke run, numbers noisier). */
  quick?: boolean;
  /** Runs per property of the campaign-speed part (0: skip it). */
  campaignRuns?: number;
  seed?: number;
  /** The mutant-campaign part: the catalogue ids to run (empty: skip it), the runner (cli/ passes runMutantCampaign), its seed. */
  mutants?: { ids: string[]; run: MutantRunner; seed: number };
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

/** The targets the bench reports against (the project brief: ATN costs little more than LN and nothing per k). */
export const TARGETS = {
  op_atn_over_ln: 1.3,
  op_k128_over_k4: 1.15,
  lstm_atn_over_ln: 1.25,
  lstm_atn_tokens_per_s: 9088,
  /** issue 13: the op on the CPU at LayerNorm's price, beside torch.nn.LayerNorm fwd+bwd (1 thread). */
  op_atn_over_torch_ln: 1.5,
} as const;

export interface TargetLine {
  name: string;
  value: number;
  target: string;
  met: boolean;
}

export function targetLines(r: BenchResult): TargetLine[] {
  const lines: TargetLine[] = [];
  for (const [k, v] of Object.entries(r.op.atn_over_ln))
    lines.push({ name: `op atn/ln k=${k}`, value: v, target: `<= ${TARGETS.op_atn_over_ln}`, met: v <= TARGETS.op_atn_over_ln });
  for (const [k, v] of Object.entries(r.op.atn_over_torch_ln ?? {}))
    lines.push({ name: `op atn/torch LN k=${k}`, value: v, target: `<= ${TARGETS.op_atn_over_torch_ln}`, met: v <= TARGETS.op_atn_over_torch_ln });
  lines.push({ name: 'op k128/k4', value: r.op.k128_over_k4, target: `<= ${TARGETS.op_k128_over_k4}`, met: r.op.k128_over_k4 <= TARGETS.op_k128_over_k4 });
  lines.push({
    name: 'lstm atn/ln step',
    value: r.lstm.atn_over_ln,
    target: `<= ${TARGETS.lstm_atn_over_ln}`,
    met: r.lstm.atn_over_ln <= TARGETS.lstm_atn_over_ln,
  });
  lines.push({
    name: 'lstm atn tokens/s',
    value: r.lstm.atn_tokens_per_s,
    target: `>= ${TARGETS.lstm_atn_tokens_per_s}`,
    met: r.lstm.atn_tokens_per_s >= TARGETS.lstm_atn_tokens_per_s,
  });
  return lines;
}

export async function runBench(backend: string, opts: BenchOptions = {}): Promise<{ result: BenchResult; context: BenchContext }> {
  const log = opts.log ?? (() => {});
  // quick: one timed run after one warm-up (a smoke run; on a software WebGPU adapter an LSTM step takes ~30 s).
  const [warmup, runs] = opts.quick ? [1, 1] : [2, 15];
  log(`bench: backend ${backend}, op shape [${OP_SHAPE}], ${warmup} warm-up + ${runs} timed runs each, interleaved`);
  const op = await benchOp(OP_SHAPE, warmup, runs);
  log(`bench: lstm T=${LSTM_SHAPE.T} B=${LSTM_SHAPE.B} I=${LSTM_SHAPE.I} H=${LSTM_SHAPE.H} k=${LSTM_SHAPE.k}`);
  const { cpu, ...lstm } = await benchLstm(LSTM_SHAPE, warmup, runs);
  log('bench: reference atn.vjp (the exact oracle)');
  const v = await timeAtnVjp(64, opts.quick ? 1 : 3);
  const reference_vjp = { cold_ms: round(v.coldMs), warm_ms: round(v.warmMs), expect_ms: round(v.expectMs) };
  const campaignRuns = opts.campaignRuns ?? (opts.quick ? 10 : 50);
  const campaign = campaignRuns > 0 ? await benchCampaign(campaignRuns, opts.seed ?? 1, backend, log) : undefined;
  const m = opts.mutants;
  const mutants = m && m.ids.length > 0 ? await benchMutants(m.ids, m.seed, m.run, log) : undefined;
  return {
    result: { backend, op, lstm, reference_vjp, ...(campaign ? { campaign } : {}), ...(mutants ? { mutants } : {}) },
    context: { lstmCpu: cpu, loadavg: os.loadavg(), cpus: os.cpus().length },
  };
}

export function formatTable(r: BenchResult, ctx?: BenchContext): string {
  const rows: string[][] = [['measure', 'value', 'target', '']];
  rows.push([`op [${r.op.shape}] LN fwd+bwd ms`, String(r.op.ln_ms), '', '']);
  for (const [k, v] of Object.entries(r.op.atn_ms)) rows.push([`op ATN k=${k} fwd+bwd ms (${r.op.paths.atn})`, String(v), '', '']);
  rows.push([`op tfjs LN (tf.moments + autodiff) fwd+bwd ms`, String(r.op.tfjs_ln_ms), '', '']);
  rows.push([`op ATN k=${r.op.opbyop_atn.k} fwd+bwd ms (${r.op.paths.opbyop_atn})`, String(r.op.opbyop_atn.ms), '', '']);
  rows.push([`op ATN k=${r.op.opbyop_atn.k}: fused / op-by-op`, String(r.op.opbyop_atn.fused_over_opbyop), '', '']);
  rows.push([
    'torch' in r.op.torch_ln
      ? `op torch ${r.op.torch_ln.torch} nn.LayerNorm fwd+bwd ms (1 thread), rounds between ATN's`
      : `op torch nn.LayerNorm: torch absent (${r.op.torch_ln.absent})`,
    'ms' in r.op.torch_ln ? (r.op.torch_ln.ms_rounds ?? [r.op.torch_ln.ms]).join(', ') : '-',
    '',
    '',
  ]);
  for (const [k, v] of Object.entries(r.op.atn_alone_ms)) rows.push([`op ATN k=${k} fwd+bwd ms, alone (timed as torch is)`, String(v), '', '']);
  for (const [k, v] of Object.entries(r.op.atn_over_tfjs_ln)) rows.push([`op atn/tfjs LN k=${k}`, String(v), '', '']);
  rows.push([`lstm LN-LSTM train step ms`, String(r.lstm.ln_step_ms), '', '']);
  rows.push([`lstm ATN-LSTM k=${r.lstm.k} train step ms (${r.lstm.paths.atn})`, String(r.lstm.atn_step_ms), '', '']);
  rows.push([`lstm ATN-LSTM k=${r.lstm.k} train step ms (${r.lstm.paths.opbyop_atn})`, String(r.lstm.opbyop_atn_step_ms), '', '']);
  rows.push([`lstm ATN-LSTM op-by-op tokens/s`, String(r.lstm.opbyop_atn_tokens_per_s), '', '']);
  if (ctx) {
    rows.push([`lstm LN-LSTM step, process CPU ms`, String(ctx.lstmCpu.ln_step_cpu_ms), '', '']);
    rows.push([`lstm ATN-LSTM step, process CPU ms`, String(ctx.lstmCpu.atn_step_cpu_ms), '', '']);
  }
  rows.push(['reference atn.vjp T=8 B=2 H=16 k=4, 64 digits, ms (warm)', String(r.reference_vjp.warm_ms), '', '']);
  if (r.campaign) {
    const c = r.campaign;
    const tag = `campaign ${c.runs} runs seed ${c.seed}`;
    for (const s of [c.exact, c.auto]) {
      const name = s.oracle === 'exact' ? 'ATN_ORACLE=exact' : 'default oracle';
      rows.push([`${tag}, ${name}: wall s`, String(s.wall_ms / 1000), '', '']);
      rows.push([`${tag}, ${name}: checks/s, requests/s`, `${s.checks_per_s}, ${s.requests_per_s}`, '', '']);
      rows.push([`${tag}, ${name}: expectations fast/exact`, `${s.fast}/${s.exact}`, '', '']);
    }
    rows.push([`${tag}: speedup (exact wall / default wall)`, String(c.speedup), '', '']);
    rows.push([`${tag}: same verdicts`, String(c.same_verdicts), 'true', c.same_verdicts ? 'met' : 'NOT MET']);
  }
  if (r.mutants) {
    const c = r.mutants;
    const tag = `atn mutants, ${c.mutants.length} mutants seed ${c.seed}`;
    for (const s of [c.exact, c.auto]) {
      const name = s.oracle === 'exact' ? 'ATN_ORACLE=exact' : 'default oracle';
      rows.push([`${tag}, ${name}: wall s`, String(s.wall_ms / 1000), '', '']);
      rows.push([`${tag}, ${name}: caught, diagnosed`, `${s.caught}, ${s.diagnosed}`, '', '']);
      rows.push([`${tag}, ${name}: expectations fast/exact`, `${s.fast}/${s.exact}`, '', '']);
    }
    rows.push([`${tag}: speedup (exact wall / default wall)`, String(c.speedup), '', '']);
    rows.push([`${tag}: same verdicts`, c.same_verdicts ? 'true' : `false (${c.differing.join(', ')})`, 'true', c.same_verdicts ? 'met' : 'NOT MET']);
  }
  for (const t of targetLines(r)) rows.push([t.name, String(t.value), t.target, t.met ? 'met' : 'NOT MET']);
  const w = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const fmt = (row: string[]) =>
    row
      .map((c, i) => (i === 1 ? c.padStart(w[i]) : c.padEnd(w[i])))
      .join('  ')
      .trimEnd();
  const load = ctx ? `; load average ${ctx.loadavg.map((x) => x.toFixed(1)).join(' ')} on ${ctx.cpus} CPUs (wall times grow with load; CPU times less so)` : '';
  return [`backend ${r.backend} (tfjs ${tf.version.tfjs})${load}`, fmt(rows[0]), w.map((n) => '-'.repeat(n)).join('  '), ...rows.slice(1).map(fmt)].join('\n');
}
