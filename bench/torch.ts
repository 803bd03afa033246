/**
 * The PyTorch baseline of the op bench: torch.nn.LayerNorm forward + backward, single-threaded, run by
 * /usr/bin/python3 (bench/torch_ln.py) on the same shape in the same bench run. "absent" (with the reason) where that
 * python has no torch; the bench never fails for it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const TORCH_PYTHON = process.env.ATN_BENCH_PYTHON || '/usr/bin/python3';

export type TorchLn = { torch: string; ms: number; threads: number } | { absent: string };

/** The script beside this file in sources (bench/) or, when built, in ../../bench from dist/bench. */
function script(): string {
  for (const p of [path.join(__dirname, 'torch_ln.py'), path.join(__dirname, '..', '..', 'bench', 'torch_ln.py')]) if (fs.existsSync(p)) return p;
  return path.join(__dirname, 'torch_ln.py');
}

export function torchLayerNorm(shape: [number, number, number], warmup: number, runs: number): TorchLn {
  if (!fs.existsSync(TORCH_PYTHON)) return { absent: `${TORCH_PYTHON} not found` };
  const r = spawnSync(TORCH_PYTHON, [script(), ...shape.map(String), String(warmup), String(runs)], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return { absent: `${TORCH_PYTHON} failed: ${(r.stderr || String(r.error ?? '')).trim().split('\n').pop()}` };
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() as string) as TorchLn;
  } catch {
    return { absent: `unreadable output from ${TORCH_PYTHON}` };
  }
}
