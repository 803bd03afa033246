/**
 * Which Pythons the test files that drive ports can use, asked once per file: the stdlib port needs python3 >= 3.7;
 * the PyTorch adapter needs Debian's python3-torch, importable by /usr/bin/python3 only.
 *
 * Without them those tests are skipped with the reason in their names and a warning, so that a new machine still runs
 * the rest. CI sets ATN_REQUIRE_TORCH=1 (.ci/run installs python3-torch): there a missing torch fails the file instead
 * of skipping it, so a broken install can never pass as "skipped".
 */
import { execFileSync } from 'node:child_process';

export const TORCH_SKIP_REASON = '/usr/bin/python3 cannot import torch (install it with: apt-get install python3-torch)';

function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** torch.__version__ under /usr/bin/python3, or undefined (then: warned, or thrown under ATN_REQUIRE_TORCH=1). */
export function torchVersion(file: string): string | undefined {
  const v = run('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)']);
  if (v) return v;
  if (process.env.ATN_REQUIRE_TORCH === '1') throw new Error(`${file}: ATN_REQUIRE_TORCH=1 but ${TORCH_SKIP_REASON}`);
  console.warn(`${file}: the PyTorch tests are SKIPPED: ${TORCH_SKIP_REASON}`);
  return undefined;
}

/** python3 on PATH is 3.7 or newer (the stdlib port's floor). */
export function hasPython(file: string): boolean {
  if (run('python3', ['-c', 'import sys; assert sys.version_info >= (3, 7); print(1)']) === '1') return true;
  console.warn(`${file}: python3 (>= 3.7) not found: the Python port tests are skipped`);
  return false;
}
