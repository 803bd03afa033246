/**
 * The PyTorch baseline of the op bench: torch.nn.LayerNorm forward + backward, single-threaded, run by
 * /usr/bin/python3 (bench/torch_ln.py) on the same shape in the same bench run. "absent" (with the reason) where that
 * python has no torch; the bench never fails for it.
 *
 * The python process stays up for the whole op bench and times a round of torch runs whenever asked (torchLnSession),
 * so that the bench can alternate rounds of torch and of ATN: on a machine whose speed drifts (a shared VM), a ratio
 * of two numbers taken minutes apart measures the drift as much as the code.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';

export const TORCH_PYTHON = process.env.ATN_BENCH_PYTHON || '/usr/bin/python3';

export type TorchLn = { torch: string; ms: number; threads: number } | { absent: string };

/** An open torch_ln.py: time(runs) is the median ms of `runs` torch fwd+bwd, back to back on hot data. */
export interface TorchLnSession {
  torch: string;
  threads: number;
  time(runs: number): Promise<number>;
  close(): void;
}

/** The script beside this file in sources (bench/) or, when built, in ../../bench from dist/bench. */
function script(): string {
  for (const p of [path.join(__dirname, 'torch_ln.py'), path.join(__dirname, '..', '..', 'bench', 'torch_ln.py')]) if (fs.existsSync(p)) return p;
  return path.join(__dirname, 'torch_ln.py');
}

/** Starts torch_ln.py (set-up and warm-up included); { absent } when it cannot (no python, no torch, a crash). */
export async function torchLnSession(shape: [number, number, number], warmup: number, python = TORCH_PYTHON): Promise<TorchLnSession | { absent: string }> {
  if (!fs.existsSync(python)) return { absent: `${python} not found` };
  const child = spawn(python, [script(), ...shape.map(String), String(warmup)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const lines = readline.createInterface({ input: child.stdout });
  const waiting: ((line: string | undefined) => void)[] = [];
  const queued: string[] = [];
  let ended = false;
  lines.on('line', (l) => (waiting.length ? waiting.shift()!(l) : queued.push(l)));
  const end = () => {
    ended = true;
    while (waiting.length) waiting.shift()!(undefined);
  };
  lines.on('close', end);
  child.on('error', (e) => {
    stderr += String(e);
    end();
  });
  const next = (): Promise<string | undefined> =>
    queued.length ? Promise.resolve(queued.shift()) : ended ? Promise.resolve(undefined) : new Promise((r) => waiting.push(r));
  const why = () => `${python} failed: ${stderr.trim().split('\n').pop() || 'no output'}`;
  const parse = (l: string | undefined): Record<string, unknown> | undefined => {
    try {
      return l === undefined ? undefined : (JSON.parse(l) as Record<string, unknown>);
    } catch {
      return undefined;
    }
  };
  const hello = parse(await next());
  if (!hello || typeof hello.torch !== 'string') {
    child.kill();
    return { absent: hello && typeof hello.absent === 'string' ? hello.absent : why() };
  }
  return {
    torch: hello.torch,
    threads: Number(hello.threads),
    async time(runs: number) {
      child.stdin.write(`${runs}\n`);
      const r = parse(await next());
      if (!r || typeof r.ms !== 'number') throw new Error(why());
      return r.ms;
    },
    close() {
      child.stdin.end();
    },
  };
}
