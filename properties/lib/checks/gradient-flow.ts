/**
 * How far back a gradient reaches (ATN-4.1): with dy one-hot at the last step, da_s is nonzero only inside that step's
 * window. The check compares the target's atn.vjp with the reference for k in {1, 2, 4, 8} and records max_h |da_{t-lag}|
 * against the lag for the report's gradient-flow plot.
 */
import fc from 'fast-check';
import { atnVjpArgs, build3, rounder, unit } from '../arbitraries';
import type { Check } from '../types';
import { agree, propertyCheck, type Outcome, type Point } from './framework';

export const FLOW_KS = [1, 2, 4, 8];
const T = 12;
const H = 3;

export const gradientFlow: Check = propertyCheck<number[]>({
  id: 'atn.vjp.gradient-flow',
  clause: 'ATN-4.1',
  needs: { k: [...FLOW_KS], eps: [1e-5] },
  title: `atn.vjp with dy one-hot at t = T sends gradient to exactly the k steps of its window (T = ${T}, k in ${FLOW_KS.join(', ')}); series: |da_(t-lag)| against lag`,
  ops: ['atn.vjp'],
  kind: 'agreement',
  runs: () => 1,
  arb: () => fc.array(unit, { minLength: T * H, maxLength: T * H }),
  async run(u, s, ctx) {
    const r = rounder(ctx.dtype);
    const a = build3(T, 1, H, (_t, _b, _h, i) => r(2 * u[i] + (i % H)));
    const dy = build3(T, 1, H, (t, _b, h) => (t === T - 1 && h === 0 ? 1 : 0));
    const points: Point[] = [];
    let worst: Outcome = { ok: true, ratio: 0, detail: '' };
    for (const k of FLOW_KS) {
      const o = await agree(ctx, s, 'atn.vjp', atnVjpArgs(ctx.dtype, { k, eps: r(1e-5), a, dy, regime: 'flow' }));
      // Read before the verdict, as the target sent it (its structure is checked only by agree's comparison).
      const da: unknown = o.result.da;
      if (Array.isArray(da) && da.length === T)
        for (let lag = 0; lag < T; lag++) {
          const row = da[T - 1 - lag]?.[0];
          const y = Array.isArray(row) ? Math.max(...row.map((v) => Math.abs(v))) : NaN;
          points.push({ x: lag, y, group: `k=${k}` });
        }
      if (!o.ok) return { ...o, detail: `k = ${k}: ${o.detail}`, points: { gradientFlow: points } };
      if ((o.ratio ?? 0) >= (worst.ratio ?? 0)) worst = { ok: true, ratio: o.ratio, detail: o.detail };
    }
    return { ...worst, points: { gradientFlow: points } };
  },
});
