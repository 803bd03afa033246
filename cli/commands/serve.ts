/** atn serve --target reference|impl|mutant:ID [--backend NAME]: protocol v1 on stdin/stdout (ATN-8). */
import { serve } from '../../protocol/server';
import { resolveTarget, TargetSpecError } from '../targets';
import { onlyFlags, parseFlags, str, UsageError } from '../flags';

export async function run(argv: string[]): Promise<number> {
  const p = parseFlags(argv, ['help']);
  if (p.flags.help) {
    process.stdout.write('usage: atn serve --target reference|impl|mutant:ID [--backend wasm|cpu|webgpu|tensorflow]\n');
    return 0;
  }
  onlyFlags(p, ['target', 'backend', 'help']);
  const target = str(p, 'target');
  if (!target) throw new UsageError('--target is required (reference, impl or mutant:ID)');
  let t;
  try {
    t = await resolveTarget({ target, backend: str(p, 'backend') });
  } catch (e) {
    if (e instanceof TargetSpecError) throw new UsageError(e.message);
    throw e;
  }
  await serve(t);
  return 0;
}
